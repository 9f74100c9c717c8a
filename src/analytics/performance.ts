// Trading performance from an equity curve and from closed-trade P&Ls, plus execution quality
// (slippage, fill latency). account-performance.ts feeds them an account's durable history.
//
// Conventions:
// - Returns are simple period returns r_t = E_t / E_{t−1} − 1 of the equity curve's sampling
//   period (daily by default: 252 periods a year, the same trading year as the engine).
// - Sharpe = (mean(r) − r_f) / stdev(r) × √(periods per year), stdev the sample one (n − 1),
//   r_f the risk-free rate per period (default 0).
// - Sortino = (mean(r) − target) / DD × √(periods per year), with the downside deviation
//   DD = √(Σ min(0, r − target)² / N) over all N periods (Sortino & Price), target default 0.
// - Drawdown is measured from the running peak as a fraction of the peak; its duration counts
//   periods from the peak until equity is back at the peak (or until the end if it never is).
// - Win rate counts wins over decided trades (P&L ≠ 0); break-even trades are reported apart.
// - Profit factor = gross profit / gross loss; null when there is no loss.
// - Daily P&L = change of the day's closing equity net of that day's deposits and withdrawals;
//   the day's return is that P&L over the previous close (none for the first day).
// - Slippage is a cost: (fill − arrival mid) for a buy, (arrival mid − fill) for a sell, so a
//   positive number is worse than the mid; averages are weighted by quantity (per share) and by
//   notional at the mid (basis points).

import { mean, quantileSorted, stdev } from "./stats.ts";

/** Periods a year for daily equity samples. */
export const DAILY_PERIODS_PER_YEAR = 252;

/** Simple returns of an equity curve; equity must stay positive. */
export function equityReturns(equity: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < equity.length; i++) {
    if (!(equity[i - 1]! > 0)) throw new RangeError(`equity must be positive, got ${equity[i - 1]} at ${i - 1}`);
    out.push(equity[i]! / equity[i - 1]! - 1);
  }
  return out;
}

/** Annualised Sharpe ratio; null for fewer than 2 returns or zero variance. */
export function sharpe(returns: readonly number[], periodsPerYear = DAILY_PERIODS_PER_YEAR, riskFreePerPeriod = 0): number | null {
  const s = stdev(returns);
  if (s === null || s === 0) return null;
  return ((mean(returns)! - riskFreePerPeriod) / s) * Math.sqrt(periodsPerYear);
}

/** Annualised Sortino ratio; null for no returns or no downside. */
export function sortino(returns: readonly number[], periodsPerYear = DAILY_PERIODS_PER_YEAR, targetPerPeriod = 0): number | null {
  if (returns.length === 0) return null;
  let down = 0;
  for (const r of returns) {
    const d = Math.min(0, r - targetPerPeriod);
    down += d * d;
  }
  const dd = Math.sqrt(down / returns.length);
  if (dd === 0) return null;
  return ((mean(returns)! - targetPerPeriod) / dd) * Math.sqrt(periodsPerYear);
}

/** The worst drawdown and the longest time under water. */
export interface Drawdown {
  /** Largest fall from a running peak, as a fraction of that peak (0.25 = −25 %). */
  maxDrawdown: number;
  /** Indexes of the peak and the trough of that fall. */
  peakIndex: number;
  troughIndex: number;
  /** Longest run of periods below a previous peak. */
  longestPeriods: number;
  /** False when the curve ends below its peak. */
  recovered: boolean;
}

/** Drawdown statistics of an equity curve; null for an empty one. */
export function drawdown(equity: readonly number[]): Drawdown | null {
  if (equity.length === 0) return null;
  let peak = equity[0]!, peakAt = 0;
  let best: Drawdown = { maxDrawdown: 0, peakIndex: 0, troughIndex: 0, longestPeriods: 0, recovered: true };
  for (let i = 1; i < equity.length; i++) {
    const e = equity[i]!;
    if (e >= peak) {
      peak = e;
      peakAt = i;
      continue;
    }
    const dd = (peak - e) / peak;
    if (dd > best.maxDrawdown) best = { ...best, maxDrawdown: dd, peakIndex: peakAt, troughIndex: i };
    best.longestPeriods = Math.max(best.longestPeriods, i - peakAt);
  }
  best.recovered = equity[equity.length - 1]! >= peak;
  return best;
}

/** Statistics of closed trades. */
export interface TradeStats {
  trades: number;
  wins: number;
  losses: number;
  breakeven: number;
  /** wins / (wins + losses); null when no trade was decided. */
  winRate: number | null;
  /** Gross profit / gross loss; null when there was no loss. */
  profitFactor: number | null;
  grossProfit: number;
  grossLoss: number;
  /** Mean P&L per trade. */
  expectancy: number | null;
}

/** Win rate, profit factor and expectancy of closed-trade P&Ls. */
export function tradeStats(pnls: readonly number[]): TradeStats {
  let wins = 0, losses = 0, grossProfit = 0, grossLoss = 0;
  for (const p of pnls) {
    if (p > 0) { wins++; grossProfit += p; } else if (p < 0) { losses++; grossLoss -= p; }
  }
  const decided = wins + losses;
  return {
    trades: pnls.length, wins, losses, breakeven: pnls.length - decided,
    winRate: decided === 0 ? null : wins / decided,
    profitFactor: grossLoss === 0 ? null : grossProfit / grossLoss,
    grossProfit, grossLoss, expectancy: mean(pnls),
  };
}

/** Everything above for one equity curve. */
export interface PerformanceReport {
  periods: number;
  totalReturn: number | null;
  sharpe: number | null;
  sortino: number | null;
  drawdown: Drawdown | null;
}

/** Total return, Sharpe, Sortino and drawdown of an equity curve sampled `periodsPerYear` times a year. */
export function performance(equity: readonly number[], periodsPerYear = DAILY_PERIODS_PER_YEAR): PerformanceReport {
  const r = equityReturns(equity);
  return {
    periods: r.length,
    totalReturn: equity.length >= 2 ? equity[equity.length - 1]! / equity[0]! - 1 : null,
    sharpe: sharpe(r, periodsPerYear),
    sortino: sortino(r, periodsPerYear),
    drawdown: drawdown(equity),
  };
}

/** One point of an equity curve: equity after the event at `ts`, and money deposited (+) or withdrawn (−) by it. */
export interface EquityPoint {
  ts: number;
  equity: number;
  flow: number;
}

/** A day's close. */
export interface DailyPnl {
  date: string;
  equity: number;
  pnl: number;
  /** pnl / previous close; null on the first day. */
  return: number | null;
}

/**
 * Closing equity and P&L per day from the first point's day to the last one's: every trading
 * day in between (flat days carry the close forward, so they count as zero returns), plus any
 * other day that has points. Points must be in time order.
 */
export function dailyPnl(points: readonly EquityPoint[], days: { dateOf(ms: number): string; isTradingDay(date: string): boolean }): DailyPnl[] {
  if (points.length === 0) return [];
  const byDay = new Map<string, { equity: number; flow: number }>();
  for (const p of points) {
    const d = days.dateOf(p.ts);
    const cur = byDay.get(d);
    byDay.set(d, { equity: p.equity, flow: (cur?.flow ?? 0) + p.flow });
  }
  const first = days.dateOf(points[0]!.ts), last = days.dateOf(points.at(-1)!.ts);
  const out: DailyPnl[] = [];
  let prev = 0;
  for (let d = first; d <= last; d = nextDate(d)) {
    const day = byDay.get(d);
    if (!day && !days.isTradingDay(d)) continue;
    const equity = day?.equity ?? prev;
    const pnl = equity - prev - (day?.flow ?? 0);
    out.push({ date: d, equity, pnl, return: out.length === 0 || !(prev > 0) ? null : pnl / prev });
    prev = equity;
  }
  return out;
}

function nextDate(d: string): string {
  return new Date(Date.parse(`${d}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** One fill for execution quality: prices per share, `arrivalMid` null when unknown. */
export interface ExecutionFill {
  side: "buy" | "sell";
  qty: number;
  multiplier: number;
  price: number;
  arrivalMid: number | null;
}

/** Slippage against the arrival mid over the fills whose arrival mid is known. */
export interface SlippageStats {
  fills: number;
  /** Fills with a known arrival mid (the others are left out). */
  measured: number;
  /** Total cost in money: Σ slippage × qty × multiplier. */
  cost: number;
  /** Quantity-weighted mean slippage per share; null when nothing was measured. */
  avgPerShare: number | null;
  /** Cost over the notional at the mid, in basis points; null when nothing was measured. */
  avgBps: number | null;
}

/** Slippage of fills against their orders' arrival mids. */
export function slippageStats(fills: readonly ExecutionFill[]): SlippageStats {
  let measured = 0, cost = 0, shares = 0, notional = 0;
  for (const f of fills) {
    if (f.arrivalMid === null) continue;
    measured++;
    const perShare = f.side === "buy" ? f.price - f.arrivalMid : f.arrivalMid - f.price;
    cost += perShare * f.qty * f.multiplier;
    shares += f.qty * f.multiplier;
    notional += f.arrivalMid * f.qty * f.multiplier;
  }
  return {
    fills: fills.length, measured, cost,
    avgPerShare: shares === 0 ? null : cost / shares,
    avgBps: notional === 0 ? null : (cost / notional) * 1e4,
  };
}

/** Percentiles of a latency sample (type 7 quantiles), in the sample's unit. */
export interface LatencyStats {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** p50 / p90 / p99 / max of latencies. */
export function latencyStats(values: readonly number[]): LatencyStats {
  const s = Float64Array.from(values).sort();
  return { count: s.length, p50: quantileSorted(s, 0.5), p90: quantileSorted(s, 0.9), p99: quantileSorted(s, 0.99), max: s.length ? s[s.length - 1]! : null };
}
