// The HTTP API (hono): instruments, quotes, bars, health and readiness. Every reply is JSON;
// every error is {"error":{"code","message","field?"}} with a 4xx/5xx status. Every list is
// bounded by maxRestRows. The server only reads what the engine computed.

import { Hono, type Context, type MiddlewareHandler } from "hono";
import type { Instrument } from "../domain/instrument.ts";
import { Engine } from "../engine/engine.ts";
import type { QuoteSource } from "./quote-source.ts";
import type { Page, Quote, RestErrorBody, RestErrorCode } from "../client/protocol.ts";
import type { ServerLimits } from "./limits.ts";
import { HOME_PAGE } from "./home.ts";
import { greeksRoutes } from "./greeks.ts";
import type { Logger } from "../log.ts";
import { chainRoutes, type ChainRoutesDeps } from "./chains-routes.ts";
import { z } from "zod";
import { barSchema, instrumentSchema, pageFields, quoteSchema } from "../client/protocol-schemas.ts";
import type { RouteDoc } from "./openapi-registry.ts";

/** Whether the process should receive traffic, and why not. */
export interface Readiness {
  ready: boolean;
  reasons: string[];
}

/** The body of /readyz. */
const readinessSchema = z.object({ ready: z.boolean(), reasons: z.array(z.string()) });

/** What the REST app reads. */
export interface RestDeps {
  /** The engine; or an edge's quote cache, which serves instruments and quotes only (no bars, greeks, chains). */
  engine: Engine | QuoteSource;
  limits: ServerLimits;
  readiness: () => Readiness;
  startedAtMs: number;
  /** Handler failures (error), client aborts (info) and readiness changes (warn / info). */
  log: Logger;
  /** Middleware run before every route, in order (request ids, metrics, logs). */
  middleware?: MiddlewareHandler[];
  /** Route modules added by other parts (metrics, analytics, orders…), before the 404 handler. */
  routes?: ((app: Hono) => void)[];
  /** What the chain routes read beside the engine (the IV history). */
  chains?: Omit<ChainRoutesDeps, "engine">;
}

/** Builds the JSON error reply. */
export function errorResponse(status: number, code: RestErrorCode, message: string, field?: string): Response {
  const body: RestErrorBody = { error: field === undefined ? { code, message } : { code, message, field } };
  return Response.json(body, { status });
}

/**
 * Status recorded for a request whose client went away before sending its whole body (nginx's
 * 499): nobody reads the reply, and it is not a server error, so it must not count as a 5xx.
 */
export const CLIENT_CLOSED_STATUS = 499;

/** Requests whose outcome, a failure included, a request logger writes (observeRequests in metrics-http.ts). */
const loggedByRequestLogger = new WeakSet<Request>();

/** Called by a request logger for each request it will log, so that a handler failure is logged once, by it. */
export function markRequestLogged(req: Request): void {
  loggedByRequestLogger.add(req);
}

/** Requests answered 5xx on purpose for a condition that is logged once when it starts (readiness). */
const expectedFailures = new WeakSet<Request>();

/**
 * Marks a request whose 5xx answer is expected and already reported elsewhere (an edge with no
 * core: /readyz and its "not ready" log line say so once), so the request logger does not write
 * an error line for every request while the condition lasts.
 */
export function markExpectedFailure(req: Request): void {
  expectedFailures.add(req);
}

/** True for a request marked with markExpectedFailure. */
export function isExpectedFailure(req: Request): boolean {
  return expectedFailures.has(req);
}

/** True when a handler failed because the client closed the connection, not because of a bug. */
function isClientAbort(err: unknown, req: Request): boolean {
  return req.signal.aborted || (err instanceof DOMException && err.name === "AbortError");
}

/** Reads an optional integer query parameter within [min, max]; a string is the error message. */
function intParam(raw: string | undefined, fallback: number, min: number, max: number): number | string {
  if (raw === undefined) return fallback;
  if (!/^\d{1,9}$/.test(raw)) return `must be an integer from ${min} to ${max}`;
  const n = Number(raw);
  return n < min || n > max ? `must be an integer from ${min} to ${max}` : n;
}

/** One page of `rows` from ?offset= and ?limit= (limit at most maxRestRows). */
function page<T>(c: Context, rows: readonly T[], maxRows: number): { items: T[]; page: Page } | Response {
  const offset = intParam(c.req.query("offset"), 0, 0, Math.max(0, rows.length));
  if (typeof offset === "string") return errorResponse(400, "BAD_REQUEST", `offset ${offset}`, "offset");
  const limit = intParam(c.req.query("limit"), maxRows, 1, maxRows);
  if (typeof limit === "string") return errorResponse(400, "BAD_REQUEST", `limit ${limit}`, "limit");
  const items = rows.slice(offset, offset + limit);
  const end = offset + items.length;
  return { items, page: { total: rows.length, offset, next: end < rows.length ? end : null } };
}

/** An instrument as REST shows it: everything but the engine row, which is internal. */
function publicInstrument(i: Instrument): Omit<Instrument, "index"> {
  const { index: _row, ...rest } = i;
  return rest;
}

/** Builds the hono app for every HTTP route except /ws. */
export function createRestApp(deps: RestDeps): Hono {
  const { engine, limits } = deps;
  const app = new Hono();
  const quoteOf = (row: number): Quote => engine.quote(row);
  for (const m of deps.middleware ?? []) app.use(m);

  app.get("/", (c) => c.html(HOME_PAGE));
  app.get("/healthz", (c) => c.json({ status: "ok", uptimeMs: Math.round(performance.now() - deps.startedAtMs) }));
  // Probes ask every few seconds: log when readiness changes, not once per 503.
  let lastReadiness = "";
  app.get("/readyz", (c) => {
    const r = deps.readiness();
    const summary = r.reasons.join("; ");
    if (summary !== lastReadiness) {
      lastReadiness = summary;
      if (r.ready) deps.log.info("ready");
      else deps.log.warn("not ready", { reasons: r.reasons });
    }
    return c.json(r, r.ready ? 200 : 503);
  });

  app.get("/v1/instruments", (c) => {
    const kind = c.req.query("kind");
    if (kind !== undefined && kind !== "stock" && kind !== "option") {
      return errorResponse(400, "BAD_REQUEST", "kind must be stock or option", "kind");
    }
    const underlying = c.req.query("underlying");
    const rows = engine.instruments.filter((i) =>
      (kind === undefined || i.kind === kind) &&
      (underlying === undefined || i.underlying === underlying || (i.kind === "stock" && i.symbol === underlying)));
    const p = page(c, rows, limits.maxRestRows);
    if (p instanceof Response) return p;
    return c.json({ instruments: p.items.map(publicInstrument), ...p.page });
  });

  app.get("/v1/quotes", (c) => {
    const list = c.req.query("symbols");
    if (list === undefined) {
      const p = page(c, engine.instruments, limits.maxRestRows);
      if (p instanceof Response) return p;
      return c.json({ quotes: p.items.map((i) => quoteOf(i.index)), ...p.page });
    }
    const symbols = list.split(",").filter((s) => s !== "");
    if (symbols.length === 0) return errorResponse(400, "BAD_REQUEST", "symbols is empty", "symbols");
    if (symbols.length > limits.maxRestRows) {
      return errorResponse(400, "TOO_MANY_ROWS", `${symbols.length} symbols asked; at most ${limits.maxRestRows} per request`, "symbols");
    }
    const quotes: Quote[] = [];
    for (let k = 0; k < symbols.length; k++) {
      const inst = engine.instrument(symbols[k]!);
      if (!inst) return errorResponse(404, "NOT_FOUND", `unknown symbol ${JSON.stringify(symbols[k])}`, `symbols[${k}]`);
      quotes.push(quoteOf(inst.index));
    }
    return c.json({ quotes });
  });

  app.get("/v1/quotes/:symbol", (c) => {
    const symbol = c.req.param("symbol");
    const inst = engine.instrument(symbol);
    if (!inst) return errorResponse(404, "NOT_FOUND", `unknown symbol ${JSON.stringify(symbol)}`, "symbol");
    return c.json(quoteOf(inst.index));
  });

  // Bars, greeks and chains need the engine itself; an edge answers them itself (src/cluster/edge-app.ts).
  if (engine instanceof Engine) {
    app.get("/v1/bars/:symbol", (c) => {
      const symbol = c.req.param("symbol");
      const inst = engine.instrument(symbol);
      if (!inst) return errorResponse(404, "NOT_FOUND", `unknown symbol ${JSON.stringify(symbol)}`, "symbol");
      const history = engine.layout.barHistory;
      const limit = intParam(c.req.query("limit"), history, 1, history);
      if (typeof limit === "string") return errorResponse(400, "BAD_REQUEST", `limit ${limit}`, "limit");
      const { closed, current } = engine.bars(inst.index, limit);
      return c.json({ symbol, barMs: engine.layout.BAR_MS, closed, current });
    });

    greeksRoutes(engine)(app);
    chainRoutes({ ...deps.chains, engine })(app);
  }
  for (const add of deps.routes ?? []) add(app);

  app.notFound((c) => errorResponse(404, "NOT_FOUND", `no route ${c.req.method} ${c.req.path}`));
  app.onError((err, c) => {
    if (isClientAbort(err, c.req.raw)) {
      deps.log.info("client closed the request", { method: c.req.method, path: c.req.path, reason: err.message });
      return new Response(null, { status: CLIENT_CLOSED_STATUS });
    }
    if (!loggedByRequestLogger.has(c.req.raw)) deps.log.error("rest handler failed", { method: c.req.method, path: c.req.path, err });
    return errorResponse(500, "INTERNAL", "internal error");
  });
  return app;
}

const symbolParam = z.object({ symbol: z.string().describe("A symbol the engine serves, e.g. AAPL or an option symbol") });
const pageQuery = {
  offset: z.number().int().min(0).optional().describe("First row (default 0)"),
  limit: z.number().int().min(1).optional().describe("Most rows (default and most: maxRestRows, 1,000 by default)"),
};

/** The routes of this file, for the OpenAPI document. */
export const restRouteDocs: RouteDoc[] = [
  { method: "get", path: "/", tag: "meta", auth: "public", summary: "The operator dashboard (HTML)", replies: { 200: { description: "HTML page", contentType: "text/html" } } },
  { method: "get", path: "/healthz", tag: "meta", auth: "public", summary: "Liveness",
    replies: { 200: { description: "The process answers", schema: z.object({ status: z.literal("ok"), uptimeMs: z.number() }) } } },
  { method: "get", path: "/readyz", tag: "meta", auth: "public", summary: "Readiness: 200 when ready, 503 with the reasons when not",
    replies: {
      200: { description: "Ready", schema: readinessSchema },
      503: { description: "Not ready; `reasons` says why", schema: readinessSchema },
    } },
  { method: "get", path: "/v1/instruments", tag: "market data", auth: "market", summary: "Instruments, one page",
    query: z.object({ kind: z.enum(["stock", "option"]).optional(), underlying: z.string().optional().describe("An underlying: the stock and its options"), ...pageQuery }),
    replies: { 200: { description: "One page of instruments", schema: z.object({ instruments: z.array(instrumentSchema), ...pageFields }) } },
    errors: { 400: ["BAD_REQUEST"] } },
  { method: "get", path: "/v1/quotes", tag: "market data", auth: "market", summary: "Quotes: every instrument (paged) or ?symbols=",
    description: "Without `symbols`, one page of every instrument's quote (with total, offset, next); with it, those quotes in order (no page fields).",
    query: z.object({ symbols: z.string().optional().describe("Comma-separated symbols, at most maxRestRows"), ...pageQuery }),
    replies: { 200: { description: "Quotes", schema: z.object({ quotes: z.array(quoteSchema), total: pageFields.total.optional(), offset: pageFields.offset.optional(), next: pageFields.next.optional() }) } },
    errors: { 400: ["BAD_REQUEST", "TOO_MANY_ROWS"], 404: ["NOT_FOUND"] } },
  { method: "get", path: "/v1/quotes/:symbol", tag: "market data", auth: "market", summary: "One quote", params: symbolParam,
    replies: { 200: { description: "The quote", schema: quoteSchema } }, errors: { 404: ["NOT_FOUND"] } },
  { method: "get", path: "/v1/bars/:symbol", tag: "market data", auth: "market", summary: "One-minute bars of the session", params: symbolParam,
    query: z.object({ limit: z.number().int().min(1).optional().describe("Most closed bars (default and most: the engine's bar history, 390)") }),
    replies: { 200: { description: "Closed bars, oldest first, and the open bar", schema: z.object({ symbol: z.string(), barMs: z.number(), closed: z.array(barSchema), current: barSchema.nullable() }) } },
    errors: { 400: ["BAD_REQUEST"], 404: ["NOT_FOUND"] } },
];
