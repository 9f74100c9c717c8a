// The edge (role edge): WebSocket and REST market data for clients, fed by a core over NATS. No
// feed, no engine, no store, no trading, no key material. It listens at once; /readyz says not
// ready until NATS is connected and the core has sent its instrument table, and while either the
// bus is down or the core stops answering (asked once a second). Every other /v1 REST route is
// forwarded to the core over request/reply (edge-forward.ts), and so are the order, account,
// alert, session and chain WebSocket ops, whose frames come back on a subject per connection (edge-ws.ts).

import type { Hono } from "hono";
import type { Config } from "../config.ts";
import { isLoopback } from "../auth/market-gate.ts";
import { DEFAULT_ENGINE_OPTIONS } from "../engine/engine.ts";
import type { Logger } from "../log.ts";
import { HealthChecks } from "../monitor/health.ts";
import { registerServer } from "../monitor/metrics.ts";
import { MetricsRegistry } from "../monitor/registry.ts";
import { metricsRoutes, observeRequests, registerHttpMetrics } from "../server/metrics-http.ts";
import { errorResponse } from "../server/rest.ts";
import { startServer, type RunningServer } from "../server/server.ts";
import { resolveLimits } from "../server/limits.ts";
import { EdgeHub } from "./edge-hub.ts";
import { EdgeWs } from "./edge-ws.ts";
import { EDGE_GONE_MS } from "./core-ws.ts";
import { EdgeQuotes } from "./edge-quotes.ts";
import { FORWARD_DEFAULTS, Forwarder, forwardRoutes, type ForwardOptions } from "./edge-forward.ts";
import { NatsLink } from "./nats.ts";
import { RPC_INSTRUMENTS, type InstrumentsReply } from "./wire.ts";

/** How often an edge retries what waits on the core: the instrument table, cold rows' snapshots. */
const RETRY_MS = 1000;
/** How long one instruments request waits for the core. */
const INSTRUMENTS_TIMEOUT_MS = 2000;

/** A running edge. */
export interface Edge {
  readonly server: RunningServer;
  readonly quotes: EdgeQuotes;
  readonly hub: EdgeHub;
  readonly link: NatsLink;
  readonly health: HealthChecks;
  /** Forwarding to the core (REST and WebSocket account ops). */
  readonly forwarder: Forwarder;
  /** WebSocket ops forwarded to the core and their frames relayed. */
  readonly ws: EdgeWs;
  /** The core's HTTP URL, once it answered. */
  coreUrl(): string | undefined;
  /** Stops the server and the NATS connection. */
  stop(): Promise<void>;
}

/**
 * Who may read market data from an edge, which holds no keys to check: everyone ("open"), clients
 * on its host ("loopback"), nobody ("key": every reader must show a key, and only the core can
 * check one, so an edge refuses rather than let anyone through).
 */
export function edgeGate(mode: Config["trading"]["api"]["marketData"]): (ip: string | undefined) => { status: 401; message: string } | undefined {
  return (ip) =>
    mode === "open" || (mode === "loopback" && isLoopback(ip)) ? undefined :
      { status: 401, message: `market data on an edge is ${mode === "key" ? "refused to everyone" : "for clients on its host only"} (trading.api.marketData ${mode}): an edge cannot check API keys yet; use the core` };
}

/** Rows a REST quotes request will read (its own validation answers anything malformed). */
function quoteRows(quotes: EdgeQuotes, path: string, query: URLSearchParams, maxRows: number): number[] {
  const rowOf = (s: string) => quotes.instrument(s)?.index;
  const one = /^\/v1\/quotes\/(.+)$/.exec(path);
  if (one) {
    const row = rowOf(decodeURIComponent(one[1]!));
    return row === undefined ? [] : [row];
  }
  const list = query.get("symbols");
  if (list !== null) return list.split(",").slice(0, maxRows).map(rowOf).filter((r) => r !== undefined);
  const offset = Math.max(0, Number(query.get("offset")) || 0);
  const limit = Math.min(maxRows, Math.max(1, Number(query.get("limit")) || maxRows));
  return quotes.instruments.slice(offset, offset + limit).map((i) => i.index);
}

/** Starts an edge; see the file comment. */
export async function startEdge(config: Config, log: Logger, opts: { forward?: Partial<ForwardOptions> } = {}): Promise<Edge> {
  const capacity = config.engine.maxInstruments ?? DEFAULT_ENGINE_OPTIONS.maxInstruments;
  const quotes = new EdgeQuotes(capacity, log.child("edge"));
  const link = new NatsLink(config.nats!, "alluse-edge", log.child("nats"));
  const health = new HealthChecks();
  const forwarder = new Forwarder(() => (link.up ? link.nc : undefined), { ...FORWARD_DEFAULTS, ...opts.forward });
  const registry = new MetricsRegistry();
  let coreUrl: string | undefined;
  let loaded = false;
  let full = false;
  /** Why the core's last answer failed (no responders, timeout), or undefined while it answers. */
  let coreDown: string | undefined;
  health.register("nats", () => (link.up ? null : "NATS is not connected"));
  health.register("core", () => (full ? `the core lists more than engine.maxInstruments ${capacity} instruments; raise it on this edge` :
    !loaded ? "the core has not sent its instruments yet" : coreDown !== undefined ? `the core does not answer: ${coreDown}` : null));
  let hub: EdgeHub | undefined;
  let edgeWs: EdgeWs | undefined;
  const edgeId = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
  /** The core's boot id and when it last answered: a new boot id or a long silence means the core forgot this edge's sessions. */
  let coreBoot: string | undefined;
  let lastAnswerMs = 0;
  const maxRows = resolveLimits(config.limits).maxRestRows;
  const gate = edgeGate(config.trading.api.marketData);
  const server = await startServer(quotes, {
    host: config.host, port: config.port, limits: config.limits, readiness: () => health.readiness(), log: log.child("server"),
    hub: (_source, limits) => (hub = new EdgeHub(quotes, limits)),
    rest: {
      middleware: [observeRequests({ metrics: registerHttpMetrics(registry), log: log.child("http") }), async (c, next) => {
        const refusal = /^\/v1\/(instruments|quotes)(\/|$)/.test(c.req.path) ? gate((c.env as { clientIp?: string } | undefined)?.clientIp) : undefined;
        if (!refusal) return next();
        return errorResponse(401, "UNAUTHORIZED", refusal.message);
      }, async (c, next) => {
        if (c.req.method !== "GET" || !c.req.path.startsWith("/v1/quotes")) return next();
        if (await quotes.refresh(quoteRows(quotes, c.req.path, new URL(c.req.url).searchParams, maxRows))) return next();
        return errorResponse(503, "INTERNAL", "the core did not answer for these quotes; retry shortly (see /readyz)");
      }],
      routes: [metricsRoutes(registry), forwardRoutes(forwarder)],
    },
    ws: [(h) => (edgeWs = new EdgeWs(h, forwarder, () => link.nc, edgeId, log.child("edge-ws")))],
    marketDataGate: (ip) => gate(ip),
  });
  registerServer(registry, () => server.stats());
  registerEdgeMetrics(registry, quotes, link, forwarder);
  const ews = edgeWs!;
  registry.scrape({ name: "alluse_edge_ws_sessions", help: "Client connections that sent the core an op (the core holds a session for each).", type: "gauge", collect: (e) => e(ews.count) });
  registry.scrape({ name: "alluse_edge_ws_frames_relayed_total", help: "Frames from the core (op answers, account, alert, session and chain pushes) relayed to clients.", type: "counter", collect: (e) => e(ews.stats.relayed) });
  registry.scrape({ name: "alluse_edge_ws_pending_closes", help: "Closed connections the core has not confirmed dropping yet (retried each second).", type: "gauge", collect: (e) => e(ews.pendingCloses) });

  let stopped = false;
  let syncing = false;
  /** The core's instrument count at the last answer: the next request asks from there. */
  let coreTotal = 0;
  // Once a second (and when the bus returns): the instruments the core added since the last
  // answer — usually none, so this is also the probe that tells a live core from a gone one.
  const syncWithCore = async (): Promise<void> => {
    const nc = link.nc;
    if (!nc || stopped || syncing) return;
    syncing = true;
    try {
      let offset: number | null = coreTotal;
      const pages: InstrumentsReply[] = [];
      while (offset !== null) {
        const reply = (await nc.request(RPC_INSTRUMENTS, JSON.stringify({ offset, edge: edgeId }), { timeout: INSTRUMENTS_TIMEOUT_MS })).json() as InstrumentsReply;
        if (!Array.isArray(reply.instruments)) throw new Error(`the core refused the request: ${JSON.stringify(reply).slice(0, 200)}`);
        // A restarted core may list fewer: ask again from the start (instruments are kept by symbol).
        if (reply.total < offset) { offset = 0; pages.length = 0; continue; }
        pages.push(reply);
        offset = reply.next;
      }
      for (const p of pages) if (!quotes.addInstruments(p.instruments)) full = true;
      coreTotal = pages.at(-1)!.total;
      coreUrl = pages[0]!.coreUrl;
      const boot = pages[0]!.bootId;
      const now = Date.now();
      // Margin below the core's EDGE_GONE_MS: a core that may have dropped this edge is taken as having done so.
      if (coreBoot !== undefined && boot !== coreBoot) edgeWs?.resetSessions("the core restarted");
      else if (lastAnswerMs > 0 && now - lastAnswerMs > EDGE_GONE_MS * 2 / 3) edgeWs?.resetSessions("the core was out of reach too long");
      coreBoot = boot;
      lastAnswerMs = now;
      if (!loaded) log.info("instruments loaded from the core", { instruments: quotes.instruments.length, core: coreUrl });
      if (coreDown !== undefined) {
        log.info("the core answers again; resnapshotting", { core: coreUrl });
        quotes.resnapshot(quotes.wantedRows());
      }
      loaded = true;
      coreDown = undefined;
    } catch (err) {
      const reason = (err as Error).message;
      if (coreDown === undefined) log.warn(loaded ? "the core does not answer" : "the core has not answered the instruments request; retrying", { reason });
      if (loaded) coreDown = reason;
    } finally {
      syncing = false;
    }
  };
  link.onChange((up) => {
    // Subscriptions come back with the connection; what changed meanwhile comes from snapshots.
    if (!up) return;
    void syncWithCore();
    quotes.resnapshot(quotes.wantedRows());
  });
  link.start((nc) => {
    quotes.attach(nc);
    edgeWs?.attach(nc);
  });
  const retry = setInterval(() => {
    if (!link.up) return;
    void syncWithCore();
    quotes.retryFailed();
    edgeWs?.flushCloses();
  }, RETRY_MS);

  return {
    server, quotes, hub: hub!, link, health, forwarder, ws: edgeWs!,
    coreUrl: () => coreUrl,
    async stop() {
      stopped = true;
      clearInterval(retry);
      await server.stop();
      await link.stop();
      log.info("stopped");
    },
  };
}

function registerEdgeMetrics(registry: MetricsRegistry, quotes: EdgeQuotes, link: NatsLink, forwarder: Forwarder): void {
  const f = forwarder.stats;
  registry.scrape({ name: "alluse_edge_forwarded_total", help: "Requests and ops the edge forwarded to the core and got an answer to.", type: "counter", collect: (e) => e(f.forwarded) });
  registry.scrape({ name: "alluse_edge_forward_in_flight", help: "Forwards waiting for the core now.", type: "gauge", collect: (e) => e(f.inFlight) });
  registry.scrape({ name: "alluse_edge_forward_failures_total", help: "Forwards refused or unanswered, by reason (core_unavailable, core_timeout, edge_busy).", type: "counter",
    labelNames: ["reason"], collect: (e) => { e(f.unavailable, "core_unavailable"); e(f.timeouts, "core_timeout"); e(f.busy, "edge_busy"); } });
  const s = quotes.stats;
  registry.scrape({ name: "alluse_nats_connected", help: "1 while this node is connected to NATS.", type: "gauge", collect: (e) => e(link.up ? 1 : 0) });
  registry.scrape({ name: "alluse_edge_quotes_received_total", help: "Quote messages the edge applied from NATS.", type: "counter", collect: (e) => e(s.received) });
  registry.scrape({ name: "alluse_edge_seq_gaps_total", help: "Seq jumps on a quote subject (a lost message; the symbol is resnapshotted).", type: "counter", collect: (e) => e(s.gaps) });
  registry.scrape({ name: "alluse_edge_resnapshots_total", help: "Snapshot requests the edge sent to the core.", type: "counter", collect: (e) => e(s.resnapshots) });
  registry.scrape({ name: "alluse_edge_snapshot_failures_total", help: "Snapshot requests the core did not answer in time.", type: "counter", collect: (e) => e(s.snapshotFailures) });
  registry.scrape({ name: "alluse_edge_subjects", help: "Quote subjects the edge subscribes now (symbols its clients hold).", type: "gauge", collect: (e) => e(s.subjects) });
}
