// The options calculator behind POST /v1/greeks/calc: rows of {spot, strike, expiry | tYears,
// right, rate?, divYield?, vol? | price?}; a row with a vol is priced at it, a row with a price is
// solved for its implied vol and priced at that. Rows of each kind go to WASM in one batch (one
// greeksBatch and at most one impliedVolBatch per request), bounded by CALC_MAX_ROWS, the
// greeks region's capacity.

import { z } from "zod";
import { expiryMs } from "../domain/instrument.ts";
import type { GreeksEngine, GreeksInput, GreeksStatus } from "../risk/greeks.ts";
import { compactDate, type ChainMarket } from "./chains.ts";

/** Most rows one request may carry: the WASM greeks region holds 1,024, so a request is one batch per kind. */
export const CALC_MAX_ROWS = 1024;

const YEAR_MS = 365 * 86_400_000;
const positive = z.number().finite().positive().max(1e9);

/** One calculator row as a client sends it. */
const calcRowSchema = z.strictObject({
  spot: positive,
  strike: positive,
  expiry: z.string().refine((s) => compactDate(s) !== undefined, "must be a date YYYY-MM-DD").optional(),
  tYears: z.number().finite().min(0).max(100).optional(),
  right: z.enum(["C", "P", "call", "put"]),
  rate: z.number().finite().min(-1).max(1).optional(),
  divYield: z.number().finite().min(-1).max(1).optional(),
  vol: z.number().finite().positive().max(20).optional(),
  price: z.number().finite().positive().max(1e9).optional(),
}).superRefine((r, ctx) => {
  if ((r.expiry === undefined) === (r.tYears === undefined)) {
    ctx.addIssue({ code: "custom", path: ["expiry"], message: "give exactly one of expiry (YYYY-MM-DD) and tYears" });
  }
  if ((r.vol === undefined) === (r.price === undefined)) {
    ctx.addIssue({ code: "custom", path: ["vol"], message: "give exactly one of vol (to price) and price (to solve the implied vol)" });
  }
});

/** The body of POST /v1/greeks/calc; the row bound is checked before this schema runs (413). */
export const calcBodySchema = z.strictObject({ rows: z.array(calcRowSchema).min(1) });

/** A validated request. */
export type CalcBody = z.infer<typeof calcBodySchema>;

/** One answered row: price and greeks (vega and rho per 1.00 of vol / rate, theta per year); null unless status is ok. */
export interface CalcResult {
  status: GreeksStatus;
  /** Years to expiry used (from expiry at the request time, or as given). */
  tYears: number;
  /** The vol used: the given one, or the solved implied vol. */
  iv: number | null;
  price: number | null;
  delta: number | null;
  gamma: number | null;
  vega: number | null;
  theta: number | null;
  rho: number | null;
}

/** Prices a validated request: one WASM batch for the rows with a vol, one for those with a price. */
export function calculate(greeks: GreeksEngine, body: CalcBody, defaults: ChainMarket, nowMs: number): CalcResult[] {
  const byVol: GreeksInput[] = [], byPrice: GreeksInput[] = [];
  const where: { solve: boolean; at: number; tYears: number }[] = [];
  for (const r of body.rows) {
    const tYears = r.tYears ?? Math.max((expiryMs(compactDate(r.expiry!)!) - nowMs) / YEAR_MS, 0);
    const input: GreeksInput = {
      spot: r.spot, strike: r.strike, tYears, rate: r.rate ?? defaults.rate, divYield: r.divYield ?? defaults.divYield,
      right: r.right === "C" || r.right === "call" ? "C" : "P",
    };
    if (r.vol !== undefined) {
      where.push({ solve: false, at: byVol.length, tYears });
      byVol.push({ ...input, vol: r.vol });
    } else {
      where.push({ solve: true, at: byPrice.length, tYears });
      byPrice.push({ ...input, price: r.price! });
    }
  }
  const priced = byVol.length > 0 ? greeks.greeks(byVol) : [];
  const solved = byPrice.length > 0 ? greeks.impliedVols(byPrice) : [];
  return where.map((w) => {
    const g = (w.solve ? solved : priced)[w.at]!;
    const ok = g.status === "ok";
    const num = (v: number) => (ok ? v : null);
    return {
      status: g.status, tYears: w.tYears, iv: num(g.vol), price: num(g.price), delta: num(g.delta), gamma: num(g.gamma),
      vega: num(g.vega), theta: num(g.theta), rho: num(g.rho),
    };
  });
}
