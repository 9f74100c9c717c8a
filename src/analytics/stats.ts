// Descriptive statistics on plain number arrays. Conventions (stated because libraries differ):
// variance and standard deviation are the sample versions (divide by n − 1); skewness is the
// adjusted Fisher–Pearson coefficient G1 and kurtosis is the sample excess kurtosis G2, the
// estimators of Excel's SKEW/KURT and of SAS/SPSS; quantiles interpolate linearly between order
// statistics (Hyndman–Fan type 7, the default of R and NumPy). Anything undefined for the sample
// size (a stdev of one value, a skew of two) is null rather than NaN, so JSON carries it.

/** Arithmetic mean; null for no values. */
export function mean(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Central moments m2, m3, m4 (divided by n) around the mean. */
function centralMoments(xs: readonly number[], m: number): [number, number, number] {
  let m2 = 0, m3 = 0, m4 = 0;
  for (const x of xs) {
    const d = x - m, d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  const n = xs.length;
  return [m2 / n, m3 / n, m4 / n];
}

/** Sample variance (n − 1); null for fewer than 2 values. */
export function variance(xs: readonly number[]): number | null {
  const n = xs.length;
  if (n < 2) return null;
  const m = mean(xs)!;
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return s / (n - 1);
}

/** Sample standard deviation (n − 1); null for fewer than 2 values. */
export function stdev(xs: readonly number[]): number | null {
  const v = variance(xs);
  return v === null ? null : Math.sqrt(v);
}

/** Adjusted Fisher–Pearson skewness G1; null for n < 3 or zero variance. */
export function skewness(xs: readonly number[]): number | null {
  const n = xs.length;
  if (n < 3) return null;
  const [m2, m3] = centralMoments(xs, mean(xs)!);
  if (m2 === 0) return null;
  const g1 = m3 / m2 ** 1.5;
  return (g1 * Math.sqrt(n * (n - 1))) / (n - 2);
}

/** Sample excess kurtosis G2 (0 for a normal population); null for n < 4 or zero variance. */
export function excessKurtosis(xs: readonly number[]): number | null {
  const n = xs.length;
  if (n < 4) return null;
  const [m2, , m4] = centralMoments(xs, mean(xs)!);
  if (m2 === 0) return null;
  const g2 = m4 / (m2 * m2) - 3;
  return ((n - 1) / ((n - 2) * (n - 3))) * ((n + 1) * g2 + 6);
}

/** Quantile q ∈ [0, 1] of already sorted values, type 7; null for no values. */
export function quantileSorted(s: ArrayLike<number>, q: number): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`);
  const n = s.length;
  if (n === 0) return null;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

/** Quantile q ∈ [0, 1], type 7; null for no values. */
export function quantile(xs: readonly number[], q: number): number | null {
  return quantileSorted(Float64Array.from(xs).sort(), q);
}

/** Median; null for no values. */
export function median(xs: readonly number[]): number | null {
  return quantile(xs, 0.5);
}

/** Median absolute deviation from the median (unscaled); null for no values. */
export function mad(xs: readonly number[]): number | null {
  const m = median(xs);
  if (m === null) return null;
  return median(xs.map((x) => Math.abs(x - m)));
}

/** The quantiles every summary reports. */
export const SUMMARY_QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] as const;

/** A summary of a sample. */
export interface Summary {
  n: number;
  mean: number | null;
  stdev: number | null;
  skew: number | null;
  /** Excess kurtosis. */
  kurtosis: number | null;
  min: number | null;
  max: number | null;
  /** Keyed "p1", "p5", "p25", "p50", "p75", "p95", "p99". */
  quantiles: Record<string, number | null>;
}

/** Count, moments, extremes and SUMMARY_QUANTILES of a sample. */
export function summarize(xs: readonly number[]): Summary {
  const s = Float64Array.from(xs).sort();
  const quantiles: Record<string, number | null> = {};
  for (const q of SUMMARY_QUANTILES) quantiles[`p${Math.round(q * 100)}`] = quantileSorted(s, q);
  return {
    n: xs.length, mean: mean(xs), stdev: stdev(xs), skew: skewness(xs), kurtosis: excessKurtosis(xs),
    min: s.length ? s[0]! : null, max: s.length ? s[s.length - 1]! : null, quantiles,
  };
}
