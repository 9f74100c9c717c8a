// REST routes of the options workflow's market side: option chains with live IV and greeks,
// and the greeks calculator. Both are market data (read scope where keys are required, see
// src/auth/market-gate.ts); the pricing is src/options/, in WASM, one batch per request.
//
//   GET  /v1/chains/{underlying}                 expiries of an underlying
//   GET  /v1/chains/{underlying}/{expiry}        one chain: ?right=put|call&minDelta=&maxDelta=
//   POST /v1/greeks/calc                         {"rows":[…]} → price and greeks, or IV then greeks

import type { Context, Hono } from "hono";
import type { Engine } from "../engine/engine.ts";
import { GreeksEngine } from "../risk/greeks.ts";
import { calcBodySchema, calculate, CALC_MAX_ROWS } from "../options/calc.ts";
import { ChainBook, compactDate, isoDate, priceChain, type ChainFilter, type ChainMarket, type ModelGreeksSource } from "../options/chains.ts";
import type { IvStats } from "../options/iv-history.ts";
import { parseBody } from "../oms/validate.ts";
import { DEFAULT_GREEKS_CONFIG } from "./greeks.ts";
import { jsonBody } from "./key-auth.ts";
import { errorResponse } from "./rest.ts";
import { z } from "zod";
import { calcResultSchema, chainExpiriesSchema, chainReplySchema } from "../client/protocol-schemas.ts";
import type { RouteDoc } from "./openapi-registry.ts";

/** What the routes need. */
export interface ChainRoutesDeps {
  engine: Engine;
  /** Rate and dividend yield (GET /v1/greeks uses the same defaults, so the two agree). */
  market?: ChainMarket;
  now?: () => number;
  /** IV rank and percentile of an underlying (src/options/iv-history.ts); absent: those fields are null. */
  ivStats?: (underlying: string, nowMs: number) => Promise<IvStats>;
  /** IBKR's model greeks (--feed ib) for each leg's ibDelta / ibIv; absent: those fields are null. */
  modelGreeks?: ModelGreeksSource;
}

/** The IV fields of the chain replies: null without an IV history. */
async function ivFields(deps: ChainRoutesDeps, underlying: string, nowMs: number): Promise<{
  ivRank: number | null; ivPercentile: number | null; ivWindowDays: number | null; ivHistoryDays: number;
}> {
  const s = deps.ivStats ? await deps.ivStats(underlying, nowMs) : undefined;
  return { ivRank: s?.ivRank ?? null, ivPercentile: s?.ivPercentile ?? null, ivWindowDays: s?.ivWindowDays ?? null, ivHistoryDays: s?.ivHistoryDays ?? 0 };
}

/** A calculator body of 1,024 full rows is ~200 KB; anything much larger is refused unread. */
const CALC_MAX_BODY_BYTES = 512 * 1024;

/** Reads ?right=&minDelta=&maxDelta=, or the 400 reply naming the field. */
function chainFilter(c: Context): ChainFilter | Response {
  const f: ChainFilter = {};
  const right = c.req.query("right");
  if (right !== undefined) {
    if (right !== "put" && right !== "call") return errorResponse(400, "BAD_REQUEST", "right must be put or call", "right");
    f.right = right;
  }
  for (const name of ["minDelta", "maxDelta"] as const) {
    const raw = c.req.query(name);
    if (raw === undefined) continue;
    const v = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(v) || v < 0 || v > 1) {
      return errorResponse(400, "BAD_REQUEST", `${name} must be a number from 0 to 1 (an absolute delta, e.g. 0.40)`, name);
    }
    f[name] = v;
  }
  if (f.minDelta !== undefined && f.maxDelta !== undefined && f.minDelta > f.maxDelta) {
    return errorResponse(400, "BAD_REQUEST", `minDelta ${f.minDelta} is above maxDelta ${f.maxDelta}`, "minDelta");
  }
  return f;
}

/** Adds the chain and calculator routes; the WASM greeks region is bound on first use. */
export function chainRoutes(deps: ChainRoutesDeps): (app: Hono) => void {
  const { engine } = deps;
  const market = deps.market ?? DEFAULT_GREEKS_CONFIG;
  const now = deps.now ?? Date.now;
  const book = new ChainBook(engine);
  let calc: Promise<GreeksEngine> | undefined;
  const greeks = () => (calc ??= GreeksEngine.create(engine));

  return (app) => {
    app.get("/v1/chains/:underlying", async (c) => {
      const underlying = c.req.param("underlying");
      const expiries = book.expiries(underlying);
      if (!expiries) return errorResponse(404, "NOT_FOUND", `unknown underlying ${JSON.stringify(underlying)}`, "underlying");
      const u = engine.instrument(underlying);
      const q = u ? engine.quote(u.index) : undefined;
      const spot = q && q.bid !== null && q.ask !== null ? (q.bid + q.ask) / 2 : null;
      return c.json({ underlying, spot, expiries: expiries.map(isoDate), ...(await ivFields(deps, underlying, now())) });
    });

    app.get("/v1/chains/:underlying/:expiry", async (c) => {
      const underlying = c.req.param("underlying");
      const expiryParam = c.req.param("expiry");
      const expiries = book.expiries(underlying);
      if (!expiries) return errorResponse(404, "NOT_FOUND", `unknown underlying ${JSON.stringify(underlying)}`, "underlying");
      const expiry = compactDate(expiryParam);
      if (!expiry) return errorResponse(400, "BAD_REQUEST", `expiry ${JSON.stringify(expiryParam)} is not a date YYYY-MM-DD`, "expiry");
      const strikes = book.strikes(underlying, expiry);
      if (!strikes) {
        return errorResponse(404, "NOT_FOUND", `${underlying} has no options expiring ${expiryParam}; expiries: ${expiries.map(isoDate).join(", ") || "none"}`, "expiry");
      }
      const filter = chainFilter(c);
      if (filter instanceof Response) return filter;
      const g = await greeks();
      const t = now();
      const chain = priceChain(engine, g, market, underlying, expiry, strikes, t, filter, deps.modelGreeks);
      return c.json({ ...chain, ...(await ivFields(deps, underlying, t)) });
    });

    app.post("/v1/greeks/calc", async (c) => {
      const body = await jsonBody(c, CALC_MAX_BODY_BYTES);
      if (body instanceof Response) return body;
      const rows = (body as { rows?: unknown } | null)?.rows;
      if (Array.isArray(rows) && rows.length > CALC_MAX_ROWS) {
        return errorResponse(413, "TOO_MANY_ROWS", `${rows.length} rows sent; at most ${CALC_MAX_ROWS} per request`, "rows");
      }
      const parsed = parseBody(calcBodySchema, body);
      if (!parsed.ok) return errorResponse(400, "BAD_REQUEST", parsed.error.message, parsed.error.field);
      const g = await greeks();
      return c.json({ rows: calculate(g, parsed.value, market, now()) });
    });
  };
}

const underlyingParam = z.string().describe("A stock with listed options, e.g. AAPL");

/** The routes of this file, for the OpenAPI document. */
export const chainRouteDocs: RouteDoc[] = [
  { method: "get", path: "/v1/chains/:underlying", tag: "options", auth: "market", summary: "Expiries of an underlying",
    params: z.object({ underlying: underlyingParam }),
    replies: { 200: { description: "Expiries, ascending", schema: chainExpiriesSchema } }, errors: { 404: ["NOT_FOUND"] } },
  { method: "get", path: "/v1/chains/:underlying/:expiry", tag: "options", auth: "market", summary: "One option chain with IV and greeks",
    params: z.object({ underlying: underlyingParam, expiry: z.string().describe("YYYY-MM-DD") }),
    query: z.object({
      right: z.enum(["put", "call"]).optional(),
      minDelta: z.number().min(0).max(1).optional().describe("Keep legs with |delta| at least this"),
      maxDelta: z.number().min(0).max(1).optional().describe("Keep legs with |delta| at most this"),
    }),
    replies: { 200: { description: "The chain, sorted by strike, with the underlying's IV rank", schema: chainReplySchema } }, errors: { 400: ["BAD_REQUEST"], 404: ["NOT_FOUND"] } },
  { method: "post", path: "/v1/greeks/calc", tag: "options", auth: "market", summary: "Greeks calculator: price and greeks from a vol, or IV then greeks from a price",
    body: calcBodySchema,
    replies: { 200: { description: "One result per row, in order", schema: z.object({ rows: z.array(calcResultSchema) }) } },
    errors: { 413: ["TOO_MANY_ROWS"] } },
];
