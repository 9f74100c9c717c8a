// REST routes of the analytics (src/analytics computes; this file only parses parameters and
// encodes). Every window is bounded by the engine's bar history, every horizon by MAX_HORIZON.
//
//   GET /v1/analytics/{symbol}            ?bars=N                         statistics, volatility, ATR, VWAP, spreads, trend, EMA
//   GET /v1/analytics/{symbol}/forecast   ?bars=N&horizon=H&level=L&test=T  Holt forecast with intervals and backtest
//   GET /v1/analytics/{symbol}/anomalies  ?bars=N&threshold=Z             robust z-score anomalies

import type { Context, Hono } from "hono";
import type { SpreadSampler } from "../analytics/spread.ts";
import { symbolAnomalies, symbolForecast, symbolSummary, type SymbolAnomalies, type SymbolForecast, type SymbolSummary } from "../analytics/report.ts";
import type { Instrument } from "../domain/instrument.ts";
import type { Engine } from "../engine/engine.ts";
import { errorResponse } from "./rest.ts";
import { z } from "zod";
import type { RouteDoc } from "./openapi-registry.ts";

/** Default window: the last hour of 1-minute bars. */
export const DEFAULT_ANALYTICS_BARS = 60;
/** Longest forecast horizon, in bars. */
export const MAX_HORIZON = 120;
/** Interval levels accepted for forecasts. */
const LEVELS = new Set(["0.8", "0.9", "0.95", "0.99"]);

/** A parsed parameter, or the error reply. */
type Parsed<T> = T | Response;

function intQuery(c: Context, name: string, fallback: number, min: number, max: number): Parsed<number> {
  const raw = c.req.query(name);
  if (raw === undefined) return fallback;
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= min && n <= max)) return errorResponse(400, "BAD_REQUEST", `${name} must be an integer from ${min} to ${max}`, name);
  return n;
}

function instrumentOf(c: Context, engine: Engine): Parsed<Instrument> {
  const symbol = c.req.param("symbol") ?? "";
  return engine.instrument(symbol) ?? errorResponse(404, "NOT_FOUND", `unknown symbol ${JSON.stringify(symbol)}`, "symbol");
}

/** Adds the /v1/analytics routes. */
export function analyticsRoutes(engine: Engine, spreads?: SpreadSampler): (app: Hono) => void {
  const history = engine.layout.barHistory;
  const bars = (c: Context) => intQuery(c, "bars", Math.min(DEFAULT_ANALYTICS_BARS, history), 2, history);
  return (app) => {
    app.get("/v1/analytics/:symbol", (c) => {
      const inst = instrumentOf(c, engine);
      if (inst instanceof Response) return inst;
      const n = bars(c);
      if (n instanceof Response) return n;
      return c.json(symbolSummary(engine, inst, n, spreads));
    });

    app.get("/v1/analytics/:symbol/forecast", (c) => {
      const inst = instrumentOf(c, engine);
      if (inst instanceof Response) return inst;
      const n = bars(c);
      if (n instanceof Response) return n;
      const horizon = intQuery(c, "horizon", 10, 1, MAX_HORIZON);
      if (horizon instanceof Response) return horizon;
      const test = intQuery(c, "test", 20, 1, history);
      if (test instanceof Response) return test;
      const level = c.req.query("level") ?? "0.95";
      if (!LEVELS.has(level)) return errorResponse(400, "BAD_REQUEST", `level must be one of ${[...LEVELS].join(", ")}`, "level");
      return c.json(symbolForecast(engine, inst, { bars: n, horizon, level: Number(level), testBars: test }));
    });

    app.get("/v1/analytics/:symbol/anomalies", (c) => {
      const inst = instrumentOf(c, engine);
      if (inst instanceof Response) return inst;
      const n = bars(c);
      if (n instanceof Response) return n;
      const raw = c.req.query("threshold");
      const threshold = raw === undefined ? undefined : Number(raw);
      if (threshold !== undefined && !(threshold >= 1 && threshold <= 20)) {
        return errorResponse(400, "BAD_REQUEST", "threshold must be a number from 1 to 20", "threshold");
      }
      return c.json(symbolAnomalies(engine, inst, { bars: n, threshold }, spreads));
    });
  };
}

const symbolParam = z.object({ symbol: z.string() });
const barsQuery = z.number().int().min(2).optional().describe("Bars in the window (default 60, at most the bar history, 390)");
const n = z.number();
const nn = z.number().nullable();
/** The window an analytics reply covers. */
const windowSchema = z.object({ bars: z.number().int(), barMs: n, from: nn, to: nn });
const anomalySchema = z.object({ at: n, value: n, z: n });
const summarySchema = z.object({
  n: z.number().int(), mean: nn, stdev: nn, skew: nn, kurtosis: nn, min: nn, max: nn,
  quantiles: z.record(z.string(), nn).describe("p1, p5, p25, p50, p75, p95, p99"),
}).meta({ id: "Summary" });
const holtParams = z.object({ alpha: n, beta: n });

/** GET /v1/analytics/{symbol}. */
const summaryReplySchema = z.object({
  symbol: z.string(), window: windowSchema, returns: summarySchema,
  volatility: z.object({ closeToClose: nn, parkinson: nn, ewma: nn }),
  atr: z.object({ period: n, oneMinute: nn, daily: nn, dailyNote: z.string() }),
  vwap: z.object({ vwap: nn, last: nn, deviation: nn, deviationBps: nn }),
  spread: z.object({ samples: n, intervalMs: n, absolute: summarySchema, relativeBps: summarySchema }).nullable(),
  trend: z.object({ direction: z.enum(["up", "down", "none"]), slopePerBar: n, t: n, p: n, r2: n, alpha: n, n }).nullable(),
  ema: z.object({
    fastPeriod: n, slowPeriod: n, fast: n, slow: n, state: z.enum(["bullish", "bearish", "flat"]),
    lastCross: z.object({ direction: z.enum(["bullish", "bearish"]), barsAgo: n }).nullable(),
  }).nullable(),
});
/** GET /v1/analytics/{symbol}/forecast. */
const forecastReplySchema = z.object({
  symbol: z.string(), window: windowSchema, params: holtParams.nullable(), level: n,
  points: z.array(z.object({ h: n, mean: n, lower: n, upper: n, start: n })),
  backtest: z.object({ n, mae: n, mape: n, naiveMae: n, params: holtParams }).nullable(),
});
/** GET /v1/analytics/{symbol}/anomalies. */
const anomaliesReplySchema = z.object({
  symbol: z.string(), window: windowSchema, threshold: n, returns: z.array(anomalySchema), volume: z.array(anomalySchema),
  spreadBps: z.array(anomalySchema).nullable(),
});

// Compile-time: the documented replies are exactly what src/analytics/report.ts returns.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _replies: [Same<z.infer<typeof summaryReplySchema>, SymbolSummary>, Same<z.infer<typeof forecastReplySchema>, SymbolForecast>,
  Same<z.infer<typeof anomaliesReplySchema>, SymbolAnomalies>] = [true, true, true];
void _replies;

/** The routes of this file, for the OpenAPI document. */
export const analyticsRouteDocs: RouteDoc[] = [
  { method: "get", path: "/v1/analytics/:symbol", tag: "analytics", auth: "market", summary: "Statistics, volatility, ATR, VWAP, spreads, trend and EMA of a symbol",
    params: symbolParam, query: z.object({ bars: barsQuery }),
    replies: { 200: { description: "The summary", schema: summaryReplySchema } },
    errors: { 400: ["BAD_REQUEST"], 404: ["NOT_FOUND"] } },
  { method: "get", path: "/v1/analytics/:symbol/forecast", tag: "analytics", auth: "market", summary: "Holt forecast of the next closes, with intervals and a backtest",
    params: symbolParam,
    query: z.object({
      bars: barsQuery, horizon: z.number().int().min(1).max(MAX_HORIZON).optional().describe("Bars ahead (default 10)"),
      level: z.enum(["0.8", "0.9", "0.95", "0.99"]).optional().describe("Interval level (default 0.95)"),
      test: z.number().int().min(1).optional().describe("Backtest bars (default 20)"),
    }),
    replies: { 200: { description: "The forecast", schema: forecastReplySchema } },
    errors: { 400: ["BAD_REQUEST"], 404: ["NOT_FOUND"] } },
  { method: "get", path: "/v1/analytics/:symbol/anomalies", tag: "analytics", auth: "market", summary: "Robust z-score anomalies of returns, volume and spreads",
    params: symbolParam, query: z.object({ bars: barsQuery, threshold: z.number().min(1).max(20).optional().describe("|z| at least this (default 3.5)") }),
    replies: { 200: { description: "The anomalies", schema: anomaliesReplySchema } },
    errors: { 400: ["BAD_REQUEST"], 404: ["NOT_FOUND"] } },
];
