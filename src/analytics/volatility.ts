// Realised volatility and true range from OHLC bars. Annualisation uses the engine's trading
// year (252 sessions of 6.5 hours, domain/time.ts), so a 1-minute bar is 1/98 280 of a year and a
// daily bar 1/252: every annualised figure here is comparable with the quote's EWMA `vol`.

import { TRADING_YEAR_MS } from "../domain/time.ts";
import { stdev } from "./stats.ts";

/** The OHLC part of a bar. */
export interface Ohlc {
  open: number;
  high: number;
  low: number;
  close: number;
}

/** Bars of `barMs` in one trading year (98 280 one-minute bars; 252 for daily bars, barMs = 6.5 h). */
export function barsPerYear(barMs: number): number {
  return TRADING_YEAR_MS / barMs;
}

/** Log returns ln(c[i] / c[i−1]); non-positive prices are a bug in the caller. */
export function logReturns(closes: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < closes.length; i++) {
    const a = closes[i - 1]!, b = closes[i]!;
    if (!(a > 0 && b > 0)) throw new RangeError(`prices must be positive, got ${a} and ${b}`);
    out.push(Math.log(b / a));
  }
  return out;
}

/** Close-to-close volatility: sample stdev of log returns × √(periods per year); null for < 3 closes. */
export function closeToCloseVol(closes: readonly number[], periodsPerYear: number): number | null {
  const s = stdev(logReturns(closes));
  return s === null ? null : s * Math.sqrt(periodsPerYear);
}

/**
 * Parkinson (1980) volatility from high/low ranges: σ² = mean(ln(H/L)²) / (4 ln 2) per bar,
 * × periods per year. About five times as efficient as close-to-close for a driftless diffusion,
 * and biased low when trading is discrete (few trades per bar); null for no bars.
 */
export function parkinsonVol(bars: readonly Ohlc[], periodsPerYear: number): number | null {
  if (bars.length === 0) return null;
  let s = 0;
  for (const b of bars) {
    if (!(b.low > 0 && b.high >= b.low)) throw new RangeError(`bad bar high ${b.high} low ${b.low}`);
    const r = Math.log(b.high / b.low);
    s += r * r;
  }
  return Math.sqrt((s / bars.length / (4 * Math.LN2)) * periodsPerYear);
}

/** True range of each bar: max(H − L, |H − previous C|, |L − previous C|); the first bar's is H − L. */
export function trueRanges(bars: readonly Ohlc[]): number[] {
  return bars.map((b, i) => {
    if (i === 0) return b.high - b.low;
    const pc = bars[i - 1]!.close;
    return Math.max(b.high - b.low, Math.abs(b.high - pc), Math.abs(b.low - pc));
  });
}

/**
 * Wilder's average true range over `period` bars: the mean of the first `period` true ranges,
 * then ATR ← (ATR × (period − 1) + TR) / period for each later bar. Null with fewer than
 * `period` bars.
 */
export function atr(bars: readonly Ohlc[], period: number): number | null {
  if (!(Number.isInteger(period) && period >= 1)) throw new RangeError(`ATR period must be a positive integer, got ${period}`);
  const tr = trueRanges(bars);
  if (tr.length < period) return null;
  let a = 0;
  for (let i = 0; i < period; i++) a += tr[i]!;
  a /= period;
  for (let i = period; i < tr.length; i++) a = (a * (period - 1) + tr[i]!) / period;
  return a;
}
