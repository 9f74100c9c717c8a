// Quantiles from cumulative histogram buckets, the way Prometheus's histogram_quantile() does it:
// find the bucket the rank falls in and interpolate linearly inside it, assuming values spread
// evenly there. The answer is never more precise than the bucket bounds. Used for "latency
// percentiles over time" from the difference of two scrapes of a histogram.

/** A bucket: upper bound (Infinity for +Inf) and cumulative count. */
export interface CumulativeBucket {
  le: number;
  count: number;
}

/**
 * The q-quantile (0..1) of a histogram given as cumulative buckets sorted by `le` and ending at
 * +Inf. Null for no observations. A rank in the +Inf bucket answers the highest finite bound (as
 * Prometheus does); the lowest bucket interpolates from 0 when its bound is positive.
 */
export function histogramQuantile(q: number, buckets: readonly CumulativeBucket[]): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`);
  const last = buckets.at(-1);
  if (!last || last.le !== Infinity) throw new Error("buckets must end with le = +Inf");
  const total = last.count;
  if (total === 0) return null;
  const rank = q * total;
  let i = 0;
  while (i < buckets.length - 1 && buckets[i]!.count < rank) i++;
  if (i === buckets.length - 1) return buckets.length >= 2 ? buckets[buckets.length - 2]!.le : null;
  const upper = buckets[i]!.le;
  const lower = i === 0 ? (upper > 0 ? 0 : upper) : buckets[i - 1]!.le;
  const below = i === 0 ? 0 : buckets[i - 1]!.count;
  const inBucket = buckets[i]!.count - below;
  if (inBucket === 0) return upper;
  return lower + (upper - lower) * ((rank - below) / inBucket);
}

/** Bucket-wise difference of two scrapes of one histogram (later − earlier): the window between them. */
export function bucketDelta(later: readonly CumulativeBucket[], earlier: readonly CumulativeBucket[]): CumulativeBucket[] {
  if (later.length !== earlier.length) throw new Error("scrapes of one histogram must have the same buckets");
  return later.map((b, i) => {
    if (b.le !== earlier[i]!.le) throw new Error("scrapes of one histogram must have the same buckets");
    return { le: b.le, count: b.count - earlier[i]!.count };
  });
}
