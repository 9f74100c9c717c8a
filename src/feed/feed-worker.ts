// Worker entry of WorkerFeed (worker-feed.ts): builds the feed from its recipe and runs it into
// a RingWriter over the engine's shared tick ring. Nothing but the feed runs on this thread.

import type { TickSink } from "./feed.ts";
import { RingWriter, WriterStat } from "./ring-writer.ts";
import { buildFeed, type FromWorker, type ToWorker } from "./worker-feed.ts";
import type { ReplayFeed } from "./replay.ts";
import type { SyntheticFeed } from "./synthetic.ts";

declare const self: Worker;

/** How often the worker checks whether its feed stopped by itself. */
const LIVENESS_CHECK_MS = 250;

let feed: SyntheticFeed | ReplayFeed | null = null;
let writer: RingWriter | null = null;
let liveness: ReturnType<typeof setInterval> | null = null;
let shared: Float64Array | null = null;

function post(m: FromWorker): void {
  self.postMessage(m);
}

/** Copies the feed's own counters into the shared stats after each publication. */
function withStats(w: RingWriter, stats: Float64Array): TickSink {
  return {
    write: (i, k, p, s, t) => w.write(i, k, p, s, t),
    flush: () => {
      const r = w.flush();
      copyStats(stats);
      return r;
    },
  };
}

function copyStats(stats: Float64Array | null): void {
  if (!feed || !stats) return;
  stats[WriterStat.BadTicks] = feed.stats.badTicks;
  if ("shortfallTicks" in feed) stats[WriterStat.Shortfall] = feed.shortfallTicks;
}

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  try {
    if (m.type === "start") {
      feed = buildFeed(m.recipe);
      shared = m.stats;
      writer = new RingWriter(m.ring, m.stats);
      const rows = new Map(feed.instruments().map((s, i) => [s.symbol, m.rows[i]!]));
      await feed.start(withStats(writer, m.stats), (symbol) => rows.get(symbol));
      const running = feed, stats = m.stats;
      liveness = setInterval(() => {
        if (running.live) return;
        clearInterval(liveness!);
        copyStats(stats);
        writer?.flush();
        post({ type: "ended", error: running.error?.message ?? null });
      }, LIVENESS_CHECK_MS);
      post({ type: "started" });
    } else if (m.type === "stop") {
      if (liveness) clearInterval(liveness);
      await feed?.stop();
      // Publishes anything written after the feed's last flush (a stop in mid-batch).
      writer?.flush();
      copyStats(shared);
      post({ type: "stopped", error: feed?.error?.message ?? null });
    }
  } catch (err) {
    post({ type: "error", error: err instanceof Error ? err.message : String(err) });
  }
};
