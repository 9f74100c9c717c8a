// One Bun.serve: raw websocket handlers on /ws (hono's Bun websocket adapter drops send()
// results and has no drain, which slow-client handling needs) and hono for every other route.

import type { Server } from "bun";
import type { Engine } from "../engine/engine.ts";
import type { QuoteSource } from "./quote-source.ts";
import type { WireFormat } from "../client/protocol.ts";
import { codecFor } from "./codec.ts";
import { Hub, type ConnData, type ServerStats } from "./hub.ts";
import { resolveLimits, type ServerLimits } from "./limits.ts";
import { createRestApp, errorResponse, type Readiness, type RestDeps } from "./rest.ts";
import { handleMessage } from "./session.ts";
import type { WsExtension } from "./orders-ws.ts";
import { beginTrace, STAGE_TIMING } from "../oms/stages.ts";
import type { ClientEnv } from "../auth/market-gate.ts";
import { SymbolIndex } from "./symbols.ts";
import { createLogger, type Logger } from "../log.ts";

// The app and tests import the server's whole surface from this file.
export { DEFAULT_LIMITS, type ServerLimits } from "./limits.ts";
export type { Readiness } from "./rest.ts";
export type { ServerStats } from "./hub.ts";

/** Where to listen and what to enforce. */
export interface ServerOptions {
  host: string;
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  limits?: Partial<ServerLimits>;
  /** Readiness for /readyz; always ready when absent. */
  readiness?: () => Readiness;
  /** Extra REST middleware and route modules (see RestDeps). */
  rest?: Pick<RestDeps, "middleware" | "routes" | "chains">;
  /** WebSocket extensions (order entry, src/server/orders-ws.ts), built once the hub exists. */
  ws?: ((hub: Hub) => WsExtension)[];
  /** Where handler failures, client aborts and readiness changes are logged; warnings and errors on stdout when absent. */
  log?: Logger;
  /** Who may read market data (src/auth/market-gate.ts); everyone when absent. */
  marketDataGate?: (ip: string | undefined, authorization: string | null) => { status: 401 | 403; message: string } | undefined;
  /** Builds the fan-out (an edge's tracks interest in each symbol, src/cluster/edge-hub.ts); a plain Hub when absent. */
  hub?: (source: QuoteSource, limits: ServerLimits) => Hub;
}

/** A listening server. */
export interface RunningServer {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:8080. */
  url: string;
  /** URL of the WebSocket endpoint, without the format parameter. */
  wsUrl: string;
  port: number;
  /** A copy of the fan-out counters. */
  stats(): ServerStats;
  /** The REST routes served (hono's table, middleware excluded): the OpenAPI test compares it with the document. */
  routes(): { method: string; path: string }[];
  /** Answers one HTTP request with the REST routes, as if it came from clientIp (a core answers its edges' forwarded requests with it). */
  fetch(req: Request, clientIp: string | undefined): Response | Promise<Response>;
  /** The fan-out and the WebSocket extensions (a core runs its edges' clients' ops on them, src/cluster/core-ws.ts). */
  readonly hub: Hub;
  readonly extensions: readonly WsExtension[];
  /** Stops listening, closes every connection and detaches from the engine. */
  stop(): Promise<void>;
}

/**
 * Seconds without inbound traffic before Bun closes a socket; with sendPings a live client is
 * pinged first and its automatic pong keeps it open, so only dead peers hit this. Ten heartbeat
 * intervals, within Bun's 8 to 960 s range.
 */
function idleTimeoutS(limits: ServerLimits): number {
  return Math.min(960, Math.max(8, Math.ceil((10 * limits.heartbeatMs) / 1000)));
}

/** The server could not listen; the message says why in an operator's terms (address, port, permission). */
export class ListenError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
    this.name = "ListenError";
  }
}

/**
 * Explains a failed listen. Bun reports EADDRINUSE for some addresses that are not the port's
 * fault, so a port in use is confirmed by listening on the same host with a free port.
 */
function listenError(err: unknown, host: string, port: number): ListenError {
  const code = (err as { code?: unknown } | null)?.code;
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  let hostListens = true;
  if (code === "EADDRINUSE" && port !== 0) {
    try {
      Bun.serve({ hostname: host, port: 0, fetch: () => new Response(null) }).stop(true);
    } catch {
      hostListens = false;
    }
  }
  const why =
    code === "EADDRINUSE" && hostListens ? `port ${port} is in use (another alluse-market?); choose another --port` :
    code === "EADDRNOTAVAIL" || (code === "EADDRINUSE" && !hostListens) ? `${host} is not an address of this machine (or a name that does not resolve to one); use 127.0.0.1, 0.0.0.0 or one of its addresses` :
    code === "EINVAL" ? `${host} is not a valid address to listen on` :
    code === "EACCES" ? `permission denied (ports below 1024 need privileges)` :
    (err as Error).message;
  return new ListenError(`cannot listen on ${where}: ${why}`, typeof code === "string" ? code : undefined);
}

/**
 * Starts the HTTP + WebSocket server over an engine (or an edge's quote cache) and publishes
 * every batch it ingests; throws ListenError when it cannot listen.
 */
export async function startServer(engine: Engine | QuoteSource, opts: ServerOptions): Promise<RunningServer> {
  const limits = resolveLimits(opts.limits);
  const log = opts.log ?? createLogger("warn", "server");
  const hub = opts.hub ? opts.hub(engine, limits) : new Hub(engine, limits);
  const symbols = new SymbolIndex(engine);
  const extensions = (opts.ws ?? []).map((make) => make(hub));
  const readiness = opts.readiness ?? (() => ({ ready: true, reasons: [] }));
  const app = createRestApp({ engine, limits, readiness, startedAtMs: performance.now(), log, ...opts.rest });

  const upgrade = (req: Request, server: Server<ConnData>, url: URL): Response | undefined => {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse(426, "UPGRADE_REQUIRED", "/ws is a WebSocket endpoint; send an Upgrade: websocket request");
    }
    const format = url.searchParams.get("format") ?? "json";
    if (format !== "json" && format !== "msgpack") {
      return errorResponse(400, "BAD_REQUEST", "format must be json or msgpack", "format");
    }
    if (hub.full()) {
      hub.stats.connectionsRejected++;
      return errorResponse(503, "TOO_MANY_CONNECTIONS", `connection limit ${limits.maxConnections} reached; retry later`);
    }
    const refusal = opts.marketDataGate?.(server.requestIP(req)?.address, req.headers.get("authorization"));
    // A browser cannot send the header: it may connect, but subscribes only after an auth message.
    const needsKey = refusal !== undefined && refusal.status === 401 && !req.headers.get("authorization");
    if (refusal && !needsKey) return errorResponse(refusal.status, refusal.status === 401 ? "UNAUTHORIZED" : "FORBIDDEN", refusal.message);
    const data = hub.newConnData(codecFor(format as WireFormat));
    if (needsKey) data.needsKey = true;
    if (server.upgrade(req, { data })) return undefined;
    return errorResponse(400, "BAD_REQUEST", "WebSocket handshake failed");
  };

  let server: Server<ConnData>;
  /** Cheap pre-test for "/ws" (with or without a query): true for every URL whose path could be it. */
  const isWsPath = (url: string) => url.includes("/ws") || url.includes("\\ws");
  try {
    server = Bun.serve<ConnData>({
      hostname: opts.host,
      port: opts.port,
      fetch(req, srv) {
        if (STAGE_TIMING) beginTrace();
        // Only the WebSocket path needs the parsed URL; other requests go to hono, which parses its own.
        if (isWsPath(req.url)) {
          const url = new URL(req.url);
          if (url.pathname === "/ws") return upgrade(req, srv, url);
        }
        // The client's address is looked up only by the routes that read it (the market-data gate, the edge forwarder).
        const env = {
          get clientIp() {
            return srv.requestIP(req)?.address;
          },
        } satisfies ClientEnv;
        return app.fetch(req, env);
      },
      websocket: {
        maxPayloadLength: limits.maxPayloadBytes,
        backpressureLimit: limits.backpressureLimitBytes,
        closeOnBackpressureLimit: false,
        idleTimeout: idleTimeoutS(limits),
        sendPings: true,
        perMessageDeflate: false,
        open: (ws) => hub.open(ws),
        message: (ws, message) => handleMessage(hub, symbols, ws, message, extensions),
        drain: (ws) => hub.drain(ws),
        close: (ws) => {
          hub.closed(ws);
          for (const x of extensions) x.closed(ws);
        },
        error(err, ws) {
          // A throw here is a bug in our handlers; keep serving everyone else.
          log.error("websocket handler failed", { conn: ws.data.id, err });
          ws.close(1011, "internal error");
        },
      },
    });
  } catch (err) {
    for (const x of extensions) x.stop();
    throw listenError(err, opts.host, opts.port);
  }
  hub.attach(server);
  const detach = engine.onBatch(hub.onBatch);

  const port = server.port!;
  const host = opts.host === "0.0.0.0" || opts.host === "::" || opts.host === "" ? "127.0.0.1" : opts.host;
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${hostPart}:${port}`,
    wsUrl: `ws://${hostPart}:${port}/ws`,
    port,
    stats: () => hub.snapshotStats(),
    routes: () => app.routes.filter((r) => r.method !== "ALL").map((r) => ({ method: r.method, path: r.path })),
    hub, extensions,
    fetch: (req, clientIp) => app.fetch(req, { clientIp } satisfies ClientEnv),
    async stop() {
      detach();
      for (const x of extensions) x.stop();
      hub.stop();
      await server.stop(true);
    },
  };
}
