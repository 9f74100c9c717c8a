// Robust anomaly flags: the modified z-score of Iglewicz and Hoaglin (1993),
// z = 0.6745 (x − median) / MAD, flagged when |z| > 3.5. Median and MAD are not dragged by the
// outliers they are looking for, as a mean and stdev would be. When more than half the values are
// equal MAD is 0; then the mean absolute deviation stands in, z = (x − median) / (1.253314 × MeanAD)
// (the same scaling for a normal sample), and when that is 0 too nothing can be an outlier.

import { median } from "./stats.ts";

/** Iglewicz and Hoaglin's cut-off. */
export const DEFAULT_Z_THRESHOLD = 3.5;

/** Modified z-scores of every value; all 0 when the sample has no spread. */
export function robustZ(xs: readonly number[]): number[] {
  const m = median(xs);
  if (m === null) return [];
  const dev = xs.map((x) => Math.abs(x - m));
  const madValue = median(dev)!;
  if (madValue > 0) return xs.map((x) => (0.6745 * (x - m)) / madValue);
  const meanAd = dev.reduce((a, b) => a + b, 0) / xs.length;
  if (meanAd > 0) return xs.map((x) => (x - m) / (1.253314 * meanAd));
  return xs.map(() => 0);
}

/** A value flagged as anomalous. */
export interface Flagged {
  /** Position in the input. */
  index: number;
  value: number;
  z: number;
}

/** Values whose |modified z| exceeds `threshold`. */
export function flagAnomalies(xs: readonly number[], threshold = DEFAULT_Z_THRESHOLD): Flagged[] {
  const z = robustZ(xs);
  const out: Flagged[] = [];
  for (let i = 0; i < xs.length; i++) if (Math.abs(z[i]!) > threshold) out.push({ index: i, value: xs[i]!, z: z[i]! });
  return out;
}
