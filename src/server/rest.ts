// The HTTP API (hono): instruments, quotes, bars, health and readiness. Every reply is JSON;
// every error is {"error":{"code","message","field?"}} with a 4xx/5xx status. Every list is
// bounded by maxRestRows. The server only reads what the engine computed.

import { Hono, type Context, type MiddlewareHandler } from "hono";
import type { Instrument } from "../domain/instrument.ts";
import type { Engine } from "../engine/engine.ts";
import type { Page, Quote, RestErrorBody, RestErrorCode } from "../client/protocol.ts";
import type { ServerLimits } from "./limits.ts";
import { HOME_PAGE } from "./home.ts";
import { greeksRoutes } from "./greeks.ts";
import { chainRoutes } from "./chains-routes.ts";

/** Whether the process should receive traffic, and why not. */
export interface Readiness {
  ready: boolean;
  reasons: string[];
}

/** What the REST app reads. */
export interface RestDeps {
  engine: Engine;
  limits: ServerLimits;
  readiness: () => Readiness;
  startedAtMs: number;
  /** Middleware run before every route, in order (request ids, metrics, logs). */
  middleware?: MiddlewareHandler[];
  /** Route modules added by other parts (metrics, analytics, orders…), before the 404 handler. */
  routes?: ((app: Hono) => void)[];
}

/** Builds the JSON error reply. */
export function errorResponse(status: number, code: RestErrorCode, message: string, field?: string): Response {
  const body: RestErrorBody = { error: field === undefined ? { code, message } : { code, message, field } };
  return Response.json(body, { status });
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
  app.get("/readyz", (c) => {
    const r = deps.readiness();
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
  chainRoutes({ engine })(app);
  for (const add of deps.routes ?? []) add(app);

  app.notFound((c) => errorResponse(404, "NOT_FOUND", `no route ${c.req.method} ${c.req.path}`));
  app.onError((err, c) => {
    console.error(JSON.stringify({ level: "error", msg: "rest handler failed", path: c.req.path, error: String(err) }));
    return errorResponse(500, "INTERNAL", "internal error");
  });
  return app;
}
