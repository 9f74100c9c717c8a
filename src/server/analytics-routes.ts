// REST routes of the analytics (src/analytics computes; this file only parses parameters and
// encodes). Every window is bounded by the engine's bar history, every horizon by MAX_HORIZON.
//
//   GET /v1/analytics/{symbol}            ?bars=N                         statistics, volatility, ATR, VWAP, spreads, trend, EMA
//   GET /v1/analytics/{symbol}/forecast   ?bars=N&horizon=H&level=L&test=T  Holt forecast with intervals and backtest
//   GET /v1/analytics/{symbol}/anomalies  ?bars=N&threshold=Z             robust z-score anomalies

import type { Context, Hono } from "hono";
import type { SpreadSampler } from "../analytics/spread.ts";
import { symbolAnomalies, symbolForecast, symbolSummary } from "../analytics/report.ts";
import type { Instrument } from "../domain/instrument.ts";
import type { Engine } from "../engine/engine.ts";
import { errorResponse } from "./rest.ts";

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
