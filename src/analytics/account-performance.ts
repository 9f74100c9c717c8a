// Trading performance of one account from its durable history: cash entries and fills are
// replayed in journal order through the order manager's own Portfolio arithmetic, so realised
// P&L, cash and commissions agree with GET /v1/accounts/{id}. Conventions are those of
// performance.ts, plus:
// - The equity curve has one point per cash entry and fill. No quote history is stored, so
//   between fills each position is marked at the last price it filled at; the final point is
//   the account's equity now, at live marks.
// - A trade is a fill that reduces a position; its P&L is the realised P&L of that fill, net of
//   the commissions that opened and closed it (average cost includes commissions, as at IBKR).
//   An option closed by exercise or assignment is not one: its premium went into the shares'
//   basis, and the trade that sells (or buys back) those shares realises it.
// - Fill latency is fill time − order creation time; slippage is measured against the mid at
//   the order's arrival (ArrivalMids), for orders placed since the process started.

import { fromMicros, notionalMicros } from "../domain/money.ts";
import type { CashEntry, Fill } from "../domain/order.ts";
import { fromUnits, toUnits } from "../domain/price.ts";
import { QualityFlag } from "../domain/tick.ts";
import { carriesIntoShares, Portfolio } from "../oms/portfolio.ts";
import type { MarketView } from "../oms/manager.ts";
import type { JournalRecord } from "../store/journal.ts";
import {
  dailyPnl, DAILY_PERIODS_PER_YEAR, drawdown, latencyStats, slippageStats, sharpe, sortino, tradeStats,
  type DailyPnl, type EquityPoint, type ExecutionFill, type LatencyStats, type SlippageStats, type TradeStats,
} from "./performance.ts";

/** Orders whose arrival mid is remembered; the oldest are forgotten first (about 100 bytes each). */
export const ARRIVAL_MIDS_CAPACITY = 100_000;

/**
 * The mid of each order's instrument when its submission became durable: within one journal
 * commit (normally well under a millisecond) of its arrival, since the order manager does not
 * record the mid itself. Kept in memory, bounded by `capacity`; empty after a restart.
 */
export class ArrivalMids {
  private readonly mids = new Map<string, number>();

  constructor(journal: { onCommit(l: (records: readonly JournalRecord[]) => void): void }, private readonly market: MarketView,
    readonly capacity = ARRIVAL_MIDS_CAPACITY) {
    journal.onCommit((records) => {
      for (const r of records) if (r.t === "order" && r.kind === "submitted") this.record(r.order.id, r.order.symbol);
    });
  }

  /** The arrival mid of an order (price per share), undefined when unknown. */
  get(orderId: string): number | undefined {
    return this.mids.get(orderId);
  }

  private record(orderId: string, symbol: string): void {
    const inst = this.market.instrument(symbol);
    if (!inst || this.mids.has(orderId)) return;
    const q = this.market.quote(inst.index);
    if (q.bid === null || q.ask === null || (q.flags & (QualityFlag.Crossed | QualityFlag.NoBid | QualityFlag.NoAsk)) !== 0) return;
    if (this.mids.size >= this.capacity) this.mids.delete(this.mids.keys().next().value!);
    // Halving in price units keeps the mid an exact decimal of the tick grid's precision.
    this.mids.set(orderId, fromUnits(Math.round((toUnits(q.bid) + toUnits(q.ask)) / 2)));
  }
}

/** What one account's performance is computed from. */
export interface AccountHistory {
  account: string;
  /** The account's cash entries and fills (any order; they are sorted by journal seq). */
  cash: readonly CashEntry[];
  fills: readonly Fill[];
  orderCreatedTs(orderId: string): number | undefined;
  arrivalMid(orderId: string): number | undefined;
  /** The account's equity now, at live marks, and the time of "now". */
  equityNow: number;
  nowMs: number;
  days: { dateOf(ms: number): string; isTradingDay(date: string): boolean };
}

/** The performance report of an account. */
export interface AccountPerformance {
  account: string;
  asOfTs: number;
  deposits: number;
  equity: number;
  /** equity − deposits. */
  netPnl: number;
  realizedPnl: number;
  commissions: number;
  /** netPnl / deposits; null without deposits. */
  returnOnDeposits: number | null;
  curve: { ts: number; equity: number }[];
  daily: DailyPnl[];
  periodsPerYear: number;
  /** From the daily returns. */
  sharpe: number | null;
  sortino: number | null;
  /** Over the event curve; peak and trough as times. */
  drawdown: { maxDrawdown: number; peakTs: number; troughTs: number; longestPoints: number; recovered: boolean } | null;
  trades: TradeStats;
  slippage: SlippageStats;
  fillLatencyMs: LatencyStats;
}

/** Computes an account's performance from its history; see the file comment. */
export function accountPerformance(h: AccountHistory): AccountPerformance {
  const events = [...h.cash.map((c) => ({ seq: c.seq, cash: c })), ...h.fills.map((f) => ({ seq: f.seq, fill: f }))].sort((a, b) => a.seq - b.seq);
  const pf = new Portfolio();
  pf.addAccount(h.account);
  const lastPrice = new Map<string, number>();
  const points: EquityPoint[] = [];
  const pnls: number[] = [];
  const execution: ExecutionFill[] = [];
  const latencies: number[] = [];
  for (const e of events) {
    if ("cash" in e) {
      pf.applyCash(e.cash);
      points.push({ ts: e.cash.ts, equity: equityMicros(pf, h.account, lastPrice) / 1e6, flow: fromMicros(e.cash.amountMicros) });
      continue;
    }
    const f = e.fill!;
    const before = pf.position(h.account, f.symbol);
    const qtyBefore = before?.qty ?? 0, realizedBefore = before?.realizedMicros ?? 0;
    const after = pf.applyFill(f);
    lastPrice.set(f.symbol, f.priceUnits);
    // An exercised or assigned option ends no trade: its P&L went into the delivered shares.
    const reduces = (qtyBefore > 0 && f.side === "sell") || (qtyBefore < 0 && f.side === "buy");
    if (reduces && !carriesIntoShares(f)) pnls.push(fromMicros(after.realizedMicros - realizedBefore));
    points.push({ ts: f.ts, equity: equityMicros(pf, h.account, lastPrice) / 1e6, flow: 0 });
    if (f.orderId === undefined) continue;
    execution.push({ side: f.side, qty: f.qty, multiplier: f.multiplier, price: fromUnits(f.priceUnits), arrivalMid: h.arrivalMid(f.orderId) ?? null });
    const created = h.orderCreatedTs(f.orderId);
    if (created !== undefined) latencies.push(f.ts - created);
  }
  points.push({ ts: h.nowMs, equity: h.equityNow, flow: 0 });
  const ledger = pf.ledger(h.account)!;
  const deposits = fromMicros(ledger.depositsMicros);
  const daily = dailyPnl(points, h.days);
  const returns = daily.flatMap((d) => (d.return === null ? [] : [d.return]));
  const dd = drawdown(points.map((p) => p.equity));
  return {
    account: h.account, asOfTs: h.nowMs, deposits, equity: h.equityNow, netPnl: h.equityNow - deposits,
    realizedPnl: fromMicros(ledger.realizedMicros), commissions: fromMicros(ledger.commissionsMicros),
    returnOnDeposits: deposits > 0 ? (h.equityNow - deposits) / deposits : null,
    curve: points.map((p) => ({ ts: p.ts, equity: p.equity })),
    daily, periodsPerYear: DAILY_PERIODS_PER_YEAR,
    sharpe: sharpe(returns), sortino: sortino(returns),
    drawdown: dd && {
      maxDrawdown: dd.maxDrawdown, peakTs: points[dd.peakIndex]!.ts, troughTs: points[dd.troughIndex]!.ts,
      longestPoints: dd.longestPeriods, recovered: dd.recovered,
    },
    trades: tradeStats(pnls),
    slippage: slippageStats(execution),
    fillLatencyMs: latencyStats(latencies),
  };
}

/** Cash plus every position at the last price it filled at, in micros. */
function equityMicros(pf: Portfolio, account: string, lastPrice: Map<string, number>): number {
  let e = pf.ledger(account)!.cashMicros;
  for (const p of pf.positionsOf(account)) if (p.qty !== 0) e += notionalMicros(lastPrice.get(p.symbol)!, p.qty, p.multiplier);
  return e;
}
