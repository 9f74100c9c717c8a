// Holt's linear exponential smoothing: a level and a trend, each smoothed, forecasting
// ŷ(n + h) = level + h × trend. Parameters are chosen by grid search on the one-step squared
// error. Prediction intervals are those of the equivalent state-space model ETS(A,A,N)
// (Hyndman & Athanasopoulos, Forecasting: Principles and Practice, §8.7):
//   var(h) = σ² [1 + (h − 1)(α² + αβh + β²h(2h − 1)/6)],  with β = α·β* (β* is Holt's trend weight),
// and σ² the mean squared one-step error. The backtest is honest: α and β* are fitted on the
// bars before the test window only, and each test bar is forecast from the bars before it.

import { mean } from "./stats.ts";

/** Holt's smoothing weights: alpha for the level, beta for the trend (β*), both in (0, 1). */
export interface HoltParams {
  alpha: number;
  beta: number;
}

/** The state after smoothing a series, and its one-step errors. */
export interface HoltState extends HoltParams {
  level: number;
  trend: number;
  /** One-step-ahead errors y[t] − ŷ[t|t−1] for t = 2 … n − 1 (the first two points initialise). */
  errors: number[];
}

/** Runs the smoother over `y` (at least 3 points): level₁ = y₁, trend₁ = y₁ − y₀. */
export function holtSmooth(y: readonly number[], p: HoltParams): HoltState {
  if (y.length < 3) throw new RangeError("Holt smoothing needs at least 3 points");
  const { alpha, beta } = p;
  let level = y[1]!, trend = y[1]! - y[0]!;
  const errors: number[] = [];
  for (let t = 2; t < y.length; t++) {
    const f = level + trend;
    errors.push(y[t]! - f);
    const prev = level;
    level = alpha * y[t]! + (1 - alpha) * f;
    trend = beta * (level - prev) + (1 - beta) * trend;
  }
  return { alpha, beta, level, trend, errors };
}

/** Grids searched for alpha and beta: coarse enough to be cheap (19 × 10 runs), fine enough for bars. */
const ALPHAS = Array.from({ length: 19 }, (_, i) => (i + 1) / 20);
const BETAS = [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7];

/** The (alpha, beta) on the grid with the smallest one-step squared error over `y`. */
export function fitHolt(y: readonly number[]): HoltState {
  let best: HoltState | undefined;
  let bestSse = Infinity;
  for (const alpha of ALPHAS) {
    for (const beta of BETAS) {
      const s = holtSmooth(y, { alpha, beta });
      let sse = 0;
      for (const e of s.errors) sse += e * e;
      if (sse < bestSse) { bestSse = sse; best = s; }
    }
  }
  return best!;
}

/** z of a two-sided normal interval for the levels offered. */
const Z: Record<string, number> = { "0.8": 1.2815515655446004, "0.9": 1.6448536269514722, "0.95": 1.959963984540054, "0.99": 2.5758293035489004 };

/** One forecast step with its interval. */
export interface ForecastPoint {
  h: number;
  mean: number;
  lower: number;
  upper: number;
}

/** Forecasts `horizon` steps from a smoothed state with `level` (0.8, 0.9, 0.95 or 0.99) intervals. */
export function holtForecast(s: HoltState, horizon: number, level = 0.95): ForecastPoint[] {
  const z = Z[String(level)];
  if (z === undefined) throw new RangeError(`interval level must be one of ${Object.keys(Z).join(", ")}`);
  const sigma2 = mean(s.errors.map((e) => e * e)) ?? 0;
  const a = s.alpha, b = s.alpha * s.beta;
  const out: ForecastPoint[] = [];
  for (let h = 1; h <= horizon; h++) {
    const m = s.level + h * s.trend;
    const v = sigma2 * (1 + (h - 1) * (a * a + a * b * h + (b * b * h * (2 * h - 1)) / 6));
    const w = z * Math.sqrt(v);
    out.push({ h, mean: m, lower: m - w, upper: m + w });
  }
  return out;
}

/** One-step forecast errors over a test window, beside the random walk's. */
export interface Backtest {
  /** Bars forecast (the test window). */
  n: number;
  mae: number;
  /** Mean absolute percentage error, in percent. */
  mape: number;
  /** MAE of the naive forecast ŷ(t) = y(t − 1) on the same bars: Holt is worth it only below this. */
  naiveMae: number;
  params: HoltParams;
}

/** Fits on all but the last `testBars` values, then forecasts each test value one step ahead; null when too short. */
export function backtestHolt(y: readonly number[], testBars: number): Backtest | null {
  const trainN = y.length - testBars;
  if (testBars < 1 || trainN < 5) return null;
  const fit = fitHolt(y.slice(0, trainN));
  const run = holtSmooth(y, fit);
  // errors[k] is for y[k + 2]: the test values are the last testBars errors.
  const errs = run.errors.slice(-testBars);
  let mae = 0, mape = 0, naive = 0;
  for (let k = 0; k < testBars; k++) {
    const t = y.length - testBars + k;
    mae += Math.abs(errs[k]!);
    mape += Math.abs(errs[k]! / y[t]!);
    naive += Math.abs(y[t]! - y[t - 1]!);
  }
  return { n: testBars, mae: mae / testBars, mape: (100 * mape) / testBars, naiveMae: naive / testBars, params: { alpha: fit.alpha, beta: fit.beta } };
}
