// REST route GET /v1/greeks/:symbol: the implied volatility of an option from its mid and its
// Black-Scholes-Merton greeks at that vol, computed in the engine's WASM module
// (src/risk/greeks.ts). Spot is the underlying's mid; rate and dividend yield are configured.

import type { Hono } from "hono";
import type { Engine } from "../engine/engine.ts";
import { expiryMs } from "../domain/instrument.ts";
import { GreeksEngine } from "../risk/greeks.ts";
import { errorResponse } from "./rest.ts";
import { z } from "zod";
import type { RouteDoc } from "./openapi-registry.ts";
import { quoteMid } from "../domain/quote.ts";

/** Market parameters the greeks route assumes. */
export interface GreeksConfig {
  /** Continuously compounded risk-free rate, per year. */
  rate: number;
  /** Continuous dividend yield, per year. */
  divYield: number;
}

/** Default market parameters: r = 4 %, no dividends. */
export const DEFAULT_GREEKS_CONFIG: GreeksConfig = { rate: 0.04, divYield: 0 };

const YEAR_MS = 365 * 86_400_000;

/** Years (ACT/365) from `nowMs` to the close of expiry day YYYYMMDD; negative once expired. */
export function yearsToExpiry(expiry: string, nowMs: number): number {
  return (expiryMs(expiry) - nowMs) / YEAR_MS;
}


/** Adds GET /v1/greeks/:symbol over `engine`; the WASM greeks region is bound on first use. */
export function greeksRoutes(engine: Engine, config: GreeksConfig = DEFAULT_GREEKS_CONFIG, now: () => number = Date.now) {
  let calc: Promise<GreeksEngine> | undefined;
  return (app: Hono): void => {
    app.get("/v1/greeks/:symbol", async (c) => {
      const symbol = c.req.param("symbol");
      const inst = engine.instrument(symbol);
      if (!inst) return errorResponse(404, "NOT_FOUND", `unknown symbol ${JSON.stringify(symbol)}`, "symbol");
      if (inst.kind !== "option" || !inst.underlying || !inst.expiry || inst.strike === undefined || !inst.right) {
        return errorResponse(400, "BAD_REQUEST", `${symbol} is not an option`, "symbol");
      }
      const und = engine.instrument(inst.underlying);
      if (!und) return errorResponse(404, "NOT_FOUND", `underlying ${inst.underlying} of ${symbol} is unknown`, "symbol");
      const oq = engine.quote(inst.index);
      const uq = engine.quote(und.index);
      const spot = quoteMid(uq.bid, uq.ask);
      const optionMid = quoteMid(oq.bid, oq.ask);
      if (spot === null) return errorResponse(503, "INTERNAL", `no two-sided quote for the underlying ${und.symbol}`, "symbol");
      if (optionMid === null) return errorResponse(503, "INTERNAL", `no two-sided quote for ${symbol}`, "symbol");
      const tYears = yearsToExpiry(inst.expiry, now());
      calc ??= GreeksEngine.create(engine);
      const [r] = (await calc).impliedVols([{
        spot, strike: inst.strike, tYears: Math.max(tYears, 0), rate: config.rate, divYield: config.divYield,
        right: inst.right, price: optionMid,
      }]);
      const ok = r!.status === "ok";
      const num = (v: number) => (ok ? v : null);
      return c.json({
        symbol, underlying: und.symbol, right: inst.right, strike: inst.strike, expiry: inst.expiry,
        spot, mid: optionMid, tYears, rate: config.rate, divYield: config.divYield,
        status: r!.status, iv: num(r!.vol), price: num(r!.price), delta: num(r!.delta), gamma: num(r!.gamma),
        vega: num(r!.vega), theta: num(r!.theta), rho: num(r!.rho),
      });
    });
  };
}

const nullableNum = z.number().nullable();

/** The reply of GET /v1/greeks/{symbol}: the inputs used, then IV and greeks (null unless status is ok). */
export const greeksReplySchema = z.object({
  symbol: z.string(), underlying: z.string(), right: z.enum(["C", "P"]), strike: z.number(), expiry: z.string().describe("YYYYMMDD"),
  spot: z.number(), mid: z.number(), tYears: z.number(), rate: z.number(), divYield: z.number(),
  status: z.enum(["ok", "bad_input", "no_time", "below_bound", "above_bound", "no_convergence"]),
  iv: nullableNum, price: nullableNum, delta: nullableNum, gamma: nullableNum, vega: nullableNum, theta: nullableNum, rho: nullableNum,
});

/** The route of this file, for the OpenAPI document. */
export const greeksRouteDocs: RouteDoc[] = [{
  method: "get", path: "/v1/greeks/:symbol", tag: "options", auth: "market", summary: "Implied volatility and greeks of an option from its mid",
  params: z.object({ symbol: z.string().describe("An option symbol") }),
  replies: { 200: { description: "IV and greeks; vega and rho per 1.00, theta per year", schema: greeksReplySchema } },
  errors: { 400: ["BAD_REQUEST"], 404: ["NOT_FOUND"], 503: ["INTERNAL"] },
}];
