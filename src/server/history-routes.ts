// Historical bars over REST, from IBKR (only with --feed ib): GET /v1/history/:symbol for the
// stocks the feed serves, paced by IBKR's historical rules (src/ib/historical-pacer.ts). A REST
// caller should not hang for IBKR's ten-minute window, so a request waits for pacing at most
// `maxWaitMs` and then gets 429. An identical query within 15 s would have to wait out IBKR's
// identical-request rule, so answers are kept that long and served again from memory.
//
//   GET /v1/history/AAPL?barSize=1d&duration=1M[&what=TRADES][&rth=1][&end=2026-11-20T21:00:00Z]
//   → {"symbol","barSize","duration","what","rth","end","bars":[{"time","open","high","low","close","volume","wap","count"}]}

import { type Contract, SecType } from "@stoqey/ib";
import type { Hono } from "hono";
import { type HistoricalBar, type HistoricalQuery, requestHistoricalBars } from "../ib/historical.ts";
import { IbRequestError } from "../ib/requests.ts";
import type { IbSession } from "../ib/session.ts";
import { keyAuthenticator, type KeyAuthOptions } from "./key-auth.ts";
import { errorResponse } from "./rest.ts";
import { z } from "zod";
import type { RouteDoc } from "./openapi-registry.ts";

/** What the history routes need; without a session (another feed) every request is 409. */
export interface HistoryRoutesDeps extends KeyAuthOptions {
  session: IbSession | undefined;
  /** True for the stock symbols the feed serves. */
  isStock: (symbol: string) => boolean;
  /** Longest wait for IBKR's pacing, ms (default 30 000). */
  maxWaitMs?: number;
  /** Most bars in one answer (default 10 000). */
  maxBars?: number;
}

/** Our bar sizes → IBKR's. */
export const BAR_SIZES: Readonly<Record<string, string>> = {
  "1m": "1 min", "5m": "5 mins", "15m": "15 mins", "30m": "30 mins", "1h": "1 hour", "1d": "1 day", "1w": "1 week",
};
const WHAT = ["TRADES", "MIDPOINT", "BID", "ASK"];
const CACHE_MS = 15_000;
const CACHE_ENTRIES = 64;

/** Adds GET /v1/history/:symbol (read scope). */
export function historyRoutes(deps: HistoryRoutesDeps): (app: Hono) => void {
  const auth = keyAuthenticator(deps);
  const cache = new Map<string, { atMs: number; bars: HistoricalBar[] }>();
  return (app) => {
    app.get("/v1/history/:symbol", async (c) => {
      const key = auth(c, "read");
      if (key instanceof Response) return key;
      if (!deps.session) return errorResponse(409, "BAD_REQUEST", "historical bars come from IBKR: start the server with --feed ib");
      const symbol = c.req.param("symbol").toUpperCase();
      if (!deps.isStock(symbol)) return errorResponse(404, "UNKNOWN_INSTRUMENT", `${symbol} is not a stock this server serves`, "symbol");
      const q = parseQuery(c.req.query());
      if (typeof q === "string") return errorResponse(400, "BAD_REQUEST", q.slice(q.indexOf(":") + 1), q.slice(0, q.indexOf(":")));
      const id = `${symbol}|${q.endDateTime}|${q.duration}|${q.barSize}|${q.whatToShow}|${q.useRTH}`;
      const now = performance.now();
      for (const [k, v] of cache) if (now - v.atMs >= CACHE_MS) cache.delete(k);
      let bars = cache.get(id)?.bars;
      if (!bars) {
        const contract: Contract = { symbol, secType: SecType.STK, exchange: "SMART", currency: "USD" };
        try {
          bars = await requestHistoricalBars(deps.session, contract, q, { maxWaitMs: deps.maxWaitMs ?? 30_000, maxBars: deps.maxBars ?? 10_000 });
        } catch (err) {
          return historyError(err as Error);
        }
        if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
        cache.set(id, { atMs: performance.now(), bars });
      }
      return c.json({ symbol, barSize: c.req.query("barSize") ?? "1d", duration: c.req.query("duration") ?? "1M", what: q.whatToShow, rth: q.useRTH,
        end: q.endDateTime === "" ? null : c.req.query("end"), bars });
    });
  };
}

/** The IBKR query of the URL's parameters, or "field:message". */
export function parseQuery(p: Record<string, string>): HistoricalQuery | string {
  const barSize = BAR_SIZES[p.barSize ?? "1d"];
  if (!barSize) return `barSize:barSize must be one of ${Object.keys(BAR_SIZES).join(", ")}`;
  const d = /^([1-9]\d{0,2})([DWMY])$/.exec(p.duration ?? "1M");
  if (!d) return "duration:duration must be a count and a unit D, W, M or Y, e.g. 5D or 1M";
  const what = (p.what ?? "TRADES").toUpperCase();
  if (!WHAT.includes(what)) return `what:what must be one of ${WHAT.join(", ")}`;
  if (p.rth !== undefined && p.rth !== "0" && p.rth !== "1") return "rth:rth must be 0 or 1";
  let endDateTime = "";
  if (p.end !== undefined) {
    const ms = Date.parse(p.end);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(p.end) || Number.isNaN(ms)) return "end:end must be an ISO 8601 instant, e.g. 2026-11-20T21:00:00Z";
    const iso = new Date(ms).toISOString();
    endDateTime = `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19)}`;
  }
  return { endDateTime, duration: `${d[1]} ${d[2]}`, barSize, whatToShow: what, useRTH: p.rth !== "0" };
}

/** The REST reply to a failed historical request. */
function historyError(err: Error): Response {
  if (!(err instanceof IbRequestError)) throw err;
  switch (err.code) {
    case "IB_TOO_MANY":
      // The pacing queue is full (try later), or the range holds more bars than we return (ask for less).
      return err.message.includes("pacing") ? errorResponse(429, "RATE_LIMITED", err.message) : errorResponse(422, "TOO_MANY_ROWS", err.message);
    case "IB_TIMEOUT":
      return errorResponse(429, "RATE_LIMITED", `${err.message}; IBKR allows 60 historical requests per 10 minutes`);
    case "IB_DISCONNECTED":
      return errorResponse(503, "INTERNAL", `IBKR is not connected: ${err.message}`);
    case 200:
      return errorResponse(404, "UNKNOWN_INSTRUMENT", err.message, "symbol");
    default:
      // 162 and friends: IBKR refused the query (no data for the range, a bar size it does not serve for that duration).
      return errorResponse(422, "BAD_REQUEST", err.message);
  }
}

/** One bar as IBKR reports it; time is the bar's start, epoch ms. */
const historicalBarSchema = z.object({
  time: z.number(), open: z.number(), high: z.number(), low: z.number(), close: z.number(), volume: z.number(), wap: z.number(), count: z.number(),
});
const _barMatches: [z.infer<typeof historicalBarSchema>] extends [HistoricalBar] ? ([HistoricalBar] extends [z.infer<typeof historicalBarSchema>] ? true : false) : false = true;
void _barMatches;

/** The route of this file, for the OpenAPI document. */
export const historyRouteDocs: RouteDoc[] = [{
  method: "get", path: "/v1/history/:symbol", tag: "market data", auth: "read", summary: "Historical bars from IBKR (--feed ib only)",
  params: z.object({ symbol: z.string().describe("A stock the feed serves") }),
  query: z.object({
    barSize: z.enum(Object.keys(BAR_SIZES) as [string, ...string[]]).optional().describe("Default 1d"),
    duration: z.string().regex(/^[1-9]\d{0,2}[DWMY]$/).optional().describe("A count and a unit D, W, M or Y (default 1M)"),
    what: z.enum(["TRADES", "MIDPOINT", "BID", "ASK"]).optional().describe("Default TRADES"),
    rth: z.enum(["0", "1"]).optional().describe("1 (default): regular trading hours only"),
    end: z.string().optional().describe("ISO 8601 instant; default now"),
  }),
  replies: { 200: { description: "The bars", schema: z.object({
    symbol: z.string(), barSize: z.string(), duration: z.string(), what: z.string(), rth: z.boolean(), end: z.string().nullable(),
    bars: z.array(historicalBarSchema),
  }) } },
  errors: { 400: ["BAD_REQUEST"], 404: ["UNKNOWN_INSTRUMENT"], 409: ["BAD_REQUEST"], 422: ["BAD_REQUEST", "TOO_MANY_ROWS"], 429: ["RATE_LIMITED"], 503: ["INTERNAL"] },
}];
