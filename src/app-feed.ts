// The feed side of the composition root (split out of app.ts): which feed the config asks for
// and on which IB session, how its readiness reads on /readyz, what is logged when it stops by
// itself, and the sink that lets the IB feed set host quality flags on the engine's rows.

import { mkdirSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import type { Config } from "./config.ts";
import type { Engine } from "./engine/engine.ts";
import type { Feed, TickSink } from "./feed/feed.ts";
import { IbFeed } from "./feed/ib.ts";
import { ReplayFeed } from "./feed/replay.ts";
import { SyntheticFeed } from "./feed/synthetic.ts";
import { WorkerFeed } from "./feed/worker-feed.ts";
import { IbSession } from "./ib/session.ts";
import type { Logger } from "./log.ts";

/** Where a recording goes: a relative path is taken inside the data directory, which is created. */
function recordPath(config: Config): string | undefined {
  const path = config.feed.record;
  if (path === undefined) return undefined;
  const full = isAbsolute(path) ? path : join(config.dataDir, path);
  mkdirSync(dirname(full), { recursive: true });
  return full;
}

/** One IB session for feed and broker when either uses IBKR: one connection under the fixed client id. */
export function makeIbSession(config: Config, log: Logger): IbSession | undefined {
  if (config.feed.kind !== "ib" && config.trading.broker !== "ib") return undefined;
  const ib = config.ib;
  return new IbSession({ host: ib.host, port: ib.port, clientId: ib.clientId, clientIdInUse: ib.clientIdInUse, log: log.child("ib") });
}

/** The feed the config asks for: IBKR (on the shared session), a replay, or the synthetic market, in-thread or in a worker. */
export function makeFeed(config: Config, log: Logger, ibSession?: IbSession): Feed {
  const f = config.feed;
  const record = recordPath(config);
  if (f.kind === "ib") {
    const ib = config.ib;
    // With the IB broker on the same session, trading owns it and stops it after the broker.
    return new IbFeed({
      session: ibSession!, ownsSession: config.trading.broker !== "ib", symbols: f.symbols, optionExpiries: f.optionExpiries, strikesPerSide: f.strikesPerSide,
      maxLines: ib.maxLines, connectTimeoutMs: ib.connectTimeoutMs, log: log.child("feed.ib"),
    });
  }
  if (f.kind === "replay") {
    const options = { speed: f.replaySpeed, loop: f.replayLoop, strict: f.replayStrict };
    if (f.thread === "worker") return new WorkerFeed({ kind: "replay", path: f.replayFile!, options });
    return new ReplayFeed(f.replayFile!, { ...options, keepTime: f.replayKeepTime });
  }
  // The worker's market must list the same instruments as the probe built here: fix its clock.
  const options = {
    symbols: f.symbols, seed: f.seed, tickRatePerS: f.tickRatePerS, badTickRate: f.badTickRate, startMs: Date.now(),
    optionExpiries: f.optionExpiries, strikesPerSide: f.strikesPerSide, ...(record ? { record } : {}),
  };
  return f.thread === "worker" ? new WorkerFeed({ kind: "synthetic", options }) : new SyntheticFeed(options);
}

/** What ended a feed early (a damaged replay file, a throwing sink), when the feed keeps it. */
function feedError(feed: Feed): Error | null {
  return "error" in feed && feed.error instanceof Error ? feed.error : null;
}

/** The feed's readiness: why it is not live, telling a failed replay from a finished one. */
export function feedReadiness(feed: Feed, started: boolean): string | null {
  if (feed.live) return null;
  if (!started) return `${feed.name} is starting`;
  const err = feedError(feed);
  if (err) return `${feed.name} failed: ${err.message}`;
  return feed.name === "replay" ? "replay finished" : `${feed.name} is not live`;
}

/**
 * Logs, once each, what an operator must hear about a feed without asking /readyz: that it
 * stopped by itself (an error with its reason, or info at the end of a replay), and the first
 * damaged rows a lenient replay skipped (a looping replay never ends, so not only at the end).
 */
export function feedWatcher(feed: Feed, log: Logger): () => void {
  let endLogged = false, skipLogged = false;
  return () => {
    if (!skipLogged && feed instanceof ReplayFeed && feed.skipped > 0) {
      skipLogged = true;
      log.warn("replay skipped damaged rows", { skipped: feed.skipped, first: feed.firstSkip?.message });
    }
    if (endLogged || feed.live) return;
    endLogged = true;
    const err = feedError(feed);
    const skipped = feed instanceof ReplayFeed ? { skipped: feed.skipped } : {};
    if (err) log.error("feed failed", { feed: feed.name, reason: err.message, ...skipped });
    else log.info("feed ended", { feed: feed.name, ticks: feed.stats.ticks, ...skipped });
  };
}

/** A sink that also lets the feed set host quality flags (delayed data) on the engine's rows. */
export function withHostFlags(sink: TickSink, engine: Engine): TickSink {
  return {
    write: (i, kind, price, size, ts) => sink.write(i, kind, price, size, ts),
    flush: (now) => sink.flush(now),
    setHostFlag: (i, bit, on) => engine.setHostFlag(i, bit, on),
  };
}
