// Trading performance from an equity curve and from closed-trade P&Ls. The per-account wiring
// comes with the order manager; these are the pure functions it will call.
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

import { mean, stdev } from "./stats.ts";

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
