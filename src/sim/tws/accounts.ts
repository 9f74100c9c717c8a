// The simulator's accounts: positions, cash, realized P&L and commissions per account, booked
// from the executions of the order book, and their marks for reqPnL and the account summary.
// Split from orders.ts, which handles the orders themselves; it books each execution here.

import type { SimMarketData } from "./marketdata.ts";
import type { SimContract, Universe } from "./universe.ts";

/** One position of one account. */
export interface SimPosition {
  contract: SimContract;
  qty: number;
  /** Cost of the open quantity, currency units (multiplier included). */
  cost: number;
}

/** Positions, cash and P&L of every account; see the file comment. */
export class SimAccounts {
  private readonly positions = new Map<string, Map<number, SimPosition>>();
  private readonly cash = new Map<string, number>();
  private readonly realized = new Map<string, number>();
  private readonly commissions = new Map<string, number>();

  constructor(private readonly universe: Universe, private readonly marketData: SimMarketData, private readonly now: () => number,
    private readonly startingCash: number) {}

  /** Non-zero positions of every account. */
  allPositions(): { account: string; position: SimPosition }[] {
    const out = [];
    for (const [account, m] of this.positions) for (const p of m.values()) if (p.qty !== 0) out.push({ account, position: p });
    return out;
  }

  /** Cash of an account, currency units. */
  cashOf(account: string): number {
    return this.cash.get(account) ?? this.startingCash;
  }

  /** Mark price of a contract: the mid, else the last trade, else the model's value. */
  markOf(c: SimContract): number {
    const q = this.marketData.quote(c.number);
    if (q.bid !== null && q.ask !== null) return (q.bid + q.ask) / 2;
    if (q.last !== null) return q.last;
    const m = this.universe.market, spot = m.underlyingMid(c.symbol);
    return c.secType === "STK" ? spot : m.theoreticalValue(c.ourSymbol, spot, this.now());
  }

  /** Applies a signed quantity at a per-unit value (price × multiplier) to an account's position and cash. */
  book(account: string, c: SimContract, qty: number, unitValue: number, commission: number): void {
    let m = this.positions.get(account);
    if (!m) this.positions.set(account, (m = new Map()));
    const p = m.get(c.conId) ?? { contract: c, qty: 0, cost: 0 };
    if (p.qty === 0 || Math.sign(p.qty) === Math.sign(qty)) p.cost += qty * unitValue;
    else {
      const closing = Math.min(Math.abs(qty), Math.abs(p.qty)), avg = p.cost / p.qty;
      this.realized.set(account, this.realizedOf(account) + closing * (unitValue - avg) * Math.sign(p.qty));
      p.cost -= avg * Math.sign(p.qty) * closing;
      const opening = Math.abs(qty) - closing;
      if (opening > 0) p.cost = Math.sign(qty) * opening * unitValue;
    }
    p.qty += qty;
    if (p.qty === 0) p.cost = 0;
    m.set(c.conId, p);
    this.cash.set(account, this.cashOf(account) - qty * unitValue - commission);
    this.commissions.set(account, (this.commissions.get(account) ?? 0) + commission);
  }

  /** Realized P&L of an account since the simulator started (before commissions), currency units. */
  realizedOf(account: string): number {
    return this.realized.get(account) ?? 0;
  }

  /**
   * P&L of an account as reqPnL reports it: unrealized (positions at mark less their cost),
   * realized, and "daily" as their sum less commissions, the simulator's day being its lifetime.
   */
  pnlOf(account: string): { daily: number; unrealized: number; realized: number } {
    let unrealized = 0;
    for (const { account: a, position: p } of this.allPositions()) {
      if (a !== account) continue;
      const mult = p.contract.secType === "OPT" ? Number(p.contract.multiplier) : 1;
      unrealized += p.qty * this.markOf(p.contract) * mult - p.cost;
    }
    const realized = this.realizedOf(account);
    return { daily: unrealized + realized - (this.commissions.get(account) ?? 0), unrealized, realized };
  }
}
