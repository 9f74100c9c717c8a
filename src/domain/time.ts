// Wall-clock time with sub-millisecond resolution. performance.timeOrigin + performance.now()
// is epoch milliseconds with microsecond precision, comparable across processes on one host,
// which is what tick-to-client latency measurements need.

/** Current epoch time in milliseconds, with a fractional part. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Milliseconds in a trading year (252 sessions of 6.5 hours): the annualisation convention. */
export const TRADING_YEAR_MS = 252 * 6.5 * 3600 * 1000;
