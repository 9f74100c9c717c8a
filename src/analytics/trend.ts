// Trend detection: an OLS line through log prices, called a trend only when its slope is
// significant under Student's t, and the state of a fast/slow EMA crossover.
//
// Caveat, stated so nobody over-reads the t-statistic: OLS assumes independent residuals, and
// residuals around a price path are autocorrelated, which overstates t. The default level (1 %)
// is stricter than the textbook 5 % for that reason; treat "up"/"down" as a screen, not a test.

/** An ordinary least squares fit of y on x = 0, 1, …, n − 1. */
export interface OlsFit {
  n: number;
  slope: number;
  intercept: number;
  /** Standard error of the slope. */
  slopeSe: number;
  /** slope / slopeSe. */
  t: number;
  /** Two-sided p-value of t with n − 2 degrees of freedom. */
  p: number;
  r2: number;
}

/** OLS of `y` on its index; null for fewer than 3 points or constant y. */
export function olsOnIndex(y: readonly number[]): OlsFit | null {
  const n = y.length;
  if (n < 3) return null;
  const mx = (n - 1) / 2;
  let my = 0;
  for (const v of y) my += v;
  my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = i - mx, dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (syy === 0) return null;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const sse = Math.max(0, syy - slope * sxy);
  const slopeSe = Math.sqrt(sse / (n - 2) / sxx);
  const t = slopeSe === 0 ? (slope > 0 ? Infinity : -Infinity) : slope / slopeSe;
  return { n, slope, intercept, slopeSe, t, p: studentTwoSidedP(t, n - 2), r2: 1 - sse / syy };
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error below 1e-15). */
export function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta (modified Lentz), converging for x < (a + 1) / (a + b + 2). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1, d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  // 300 terms is far more than the fraction needs for the arguments used here; the bound keeps it finite.
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d; h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b). */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(a, b, x)) / a : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(|T| ≥ |t|) for Student's t with `df` degrees of freedom. */
export function studentTwoSidedP(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be positive, got ${df}`);
  if (!Number.isFinite(t)) return t !== t ? NaN : 0;
  return regularizedBeta(df / (df + t * t), df / 2, 0.5);
}

/** The trend call on a window of prices. */
export interface Trend {
  direction: "up" | "down" | "none";
  /** Slope of ln(price) per bar (≈ fractional change per bar). */
  slopePerBar: number;
  t: number;
  p: number;
  r2: number;
  /** Significance level the call used. */
  alpha: number;
  n: number;
}

/** OLS of log price on time; "up"/"down" only when p < alpha. Null for fewer than 3 prices or a flat window. */
export function detectTrend(prices: readonly number[], alpha = 0.01): Trend | null {
  const fit = olsOnIndex(prices.map((p) => Math.log(p)));
  if (!fit) return null;
  const direction = fit.p < alpha ? (fit.slope > 0 ? "up" : "down") : "none";
  return { direction, slopePerBar: fit.slope, t: fit.t, p: fit.p, r2: fit.r2, alpha, n: fit.n };
}

/** EMA with smoothing 2 / (period + 1), seeded by the simple mean of the first `period` values; index i < period − 1 is NaN. */
export function ema(xs: readonly number[], period: number): number[] {
  if (!(Number.isInteger(period) && period >= 1)) throw new RangeError(`EMA period must be a positive integer, got ${period}`);
  const out = new Array<number>(xs.length).fill(NaN);
  if (xs.length < period) return out;
  let e = 0;
  for (let i = 0; i < period; i++) e += xs[i]!;
  e /= period;
  out[period - 1] = e;
  const k = 2 / (period + 1);
  for (let i = period; i < xs.length; i++) out[i] = e = e + k * (xs[i]! - e);
  return out;
}

/** Where a fast EMA stands against a slow one, and the last time they crossed. */
export interface Crossover {
  fastPeriod: number;
  slowPeriod: number;
  fast: number;
  slow: number;
  state: "bullish" | "bearish" | "flat";
  /** Direction of the most recent cross in the window, and how many bars ago it happened. */
  lastCross: { direction: "bullish" | "bearish"; barsAgo: number } | null;
}

/** EMA crossover state on closes; null until there are `slowPeriod` closes. */
export function emaCrossover(closes: readonly number[], fastPeriod = 12, slowPeriod = 26): Crossover | null {
  if (!(fastPeriod < slowPeriod)) throw new RangeError("the fast EMA period must be shorter than the slow one");
  if (closes.length < slowPeriod) return null;
  const f = ema(closes, fastPeriod), s = ema(closes, slowPeriod);
  const sign = (i: number) => Math.sign(f[i]! - s[i]!);
  const last = closes.length - 1;
  let lastCross: Crossover["lastCross"] = null;
  let prev = sign(slowPeriod - 1);
  for (let i = slowPeriod; i <= last; i++) {
    const cur = sign(i);
    if (cur !== 0 && prev !== 0 && cur !== prev) lastCross = { direction: cur > 0 ? "bullish" : "bearish", barsAgo: last - i };
    if (cur !== 0) prev = cur;
  }
  const d = sign(last);
  return { fastPeriod, slowPeriod, fast: f[last]!, slow: s[last]!, state: d > 0 ? "bullish" : d < 0 ? "bearish" : "flat", lastCross };
}
