// Positions, cash and P&L per account, as a pure fold over fills and cash entries: a restart
// replays the journal through the same code, so positions always equal the sum of fills.
// Average cost, as IBKR computes it, includes commissions: buying into a long (or selling into
// a short) adds the fill's value and its commission to the cost basis (a short's basis is the
// credit less commission); reducing removes the reduced share of the basis and realises the
// difference less the fill's commission; crossing zero closes at the old basis and opens the
// rest at the fill price, the commission split by quantity. So realised + unrealised P&L is
// already net of every commission. All money is integer micros.
//
// An option exercised or assigned realises nothing: as at IBKR, its premium (and commissions)
// goes into the delivered shares — the basis of shares bought (long call, short put) or the
// proceeds of shares sold (long put, short call). The option's closing fill stashes what it
// would have realised, and the delivery fill that follows it in the journal (same account,
// the underlying, kind exercise or assignment) takes it; cash is not touched twice.

import type { CashEntry, Fill } from "../domain/order.ts";
import { parseOptionSymbol } from "../domain/instrument.ts";
import { notionalMicros } from "../domain/money.ts";

/** True for a settlement fill whose P&L moves into the delivered shares (an exercise or assignment). */
function isDelivery(f: Fill): boolean {
  return f.kind === "exercise" || f.kind === "assignment";
}

/**
 * True for the option leg of an exercise or assignment: it closes the option without realising
 * P&L, which goes into the delivered shares instead (analytics counts no trade for it).
 */
export function carriesIntoShares(f: Fill): boolean {
  return isDelivery(f) && parseOptionSymbol(f.symbol) !== undefined;
}

/** One account's holding of one instrument. */
export interface Position {
  account: string;
  symbol: string;
  /** Signed: positive long, negative short. */
  qty: number;
  multiplier: number;
  /** Signed cost basis of the open quantity including its commissions, micros (negative for a short: the credit received less commissions). */
  costMicros: number;
  /** P&L realised by reducing the position, net of the commissions that opened and closed it, micros. */
  realizedMicros: number;
  /** Commissions paid on this instrument, micros. */
  commissionsMicros: number;
}

/** Cash and totals of one account. */
export interface Ledger {
  account: string;
  cashMicros: number;
  /** Net of commissions (see Position.realizedMicros). */
  realizedMicros: number;
  /** Commissions paid, micros: already inside realised P&L and cost bases, shown on their own. */
  commissionsMicros: number;
  /** Deposits and withdrawals, micros. */
  depositsMicros: number;
}

/** The wheel's running figures of one account's underlying (see the file comment). */
export interface UnderlyingBasis {
  account: string;
  underlying: string;
  /** Shares held (signed); 0 when flat. */
  shares: number;
  /** Cost basis of the shares, micros: the stock position's (assigned puts' premium included). */
  costMicros: number;
  /** Realised P&L of the underlying's options since the shares were last flat, micros (net premium collected). */
  premiumMicros: number;
}

/** All accounts' positions and ledgers. */
export class Portfolio {
  private readonly ledgers = new Map<string, Ledger>();
  private readonly positions = new Map<string, Map<string, Position>>();
  /** Account + underlying → P&L of an exercised or assigned option waiting for its delivery fill, micros. */
  private readonly carried = new Map<string, number>();
  /** Symbol → its underlying for an option, itself for a stock: parsed once per symbol. */
  private readonly underlyingOf = new Map<string, string>();
  /** Account → underlying → option premium realised in the current wheel cycle, micros (insertion = first traded). */
  private readonly premiums = new Map<string, Map<string, number>>();

  /** Adds an account with nothing in it (idempotent). */
  addAccount(account: string): Ledger {
    let l = this.ledgers.get(account);
    if (!l) {
      l = { account, cashMicros: 0, realizedMicros: 0, commissionsMicros: 0, depositsMicros: 0 };
      this.ledgers.set(account, l);
      this.positions.set(account, new Map());
      this.premiums.set(account, new Map());
    }
    return l;
  }

  /** Applies a deposit or withdrawal. */
  applyCash(e: CashEntry): void {
    const l = this.addAccount(e.account);
    l.cashMicros += e.amountMicros;
    l.depositsMicros += e.amountMicros;
  }

  /** Applies a fill to cash and the position; returns the position after it. */
  applyFill(f: Fill): Position {
    const l = this.addAccount(f.account);
    const book = this.positions.get(f.account)!;
    let p = book.get(f.symbol);
    if (!p) {
      p = { account: f.account, symbol: f.symbol, qty: 0, multiplier: f.multiplier, costMicros: 0, realizedMicros: 0, commissionsMicros: 0 };
      book.set(f.symbol, p);
    }
    let underlying = this.underlyingOf.get(f.symbol);
    if (underlying === undefined) this.underlyingOf.set(f.symbol, (underlying = parseOptionSymbol(f.symbol)?.underlying ?? f.symbol));
    const premiums = this.premiums.get(f.account)!;
    if (!premiums.has(underlying)) premiums.set(underlying, 0);
    const signed = f.side === "buy" ? f.qty : -f.qty;
    const value = notionalMicros(f.priceUnits, f.qty, f.multiplier);
    l.cashMicros += (f.side === "buy" ? -value : value) - f.commissionMicros;
    l.commissionsMicros += f.commissionMicros;
    p.commissionsMicros += f.commissionMicros;
    // A delivery takes the option's P&L: shares bought cost less by what it made, shares sold
    // bring in more (a premium received) or less (a premium paid).
    const key = `${f.account}\u0000${f.symbol}`;
    const carried = isDelivery(f) ? this.carried.get(key) ?? 0 : 0;
    if (carried !== 0) this.carried.delete(key);
    const basisValue = f.side === "buy" ? value - carried : value + carried;
    /** What `qty` of this fill is worth for the basis: at the fill price, or its share of the adjusted value. */
    const valueOf = (qty: number) => carried === 0 ? notionalMicros(f.priceUnits, qty, f.multiplier) : Math.round((basisValue * qty) / f.qty);
    if (p.qty === 0 || Math.sign(p.qty) === Math.sign(signed)) {
      p.qty += signed;
      p.costMicros += (f.side === "buy" ? basisValue : -basisValue) + f.commissionMicros;
      return p;
    }
    const closeQty = Math.min(Math.abs(signed), Math.abs(p.qty));
    const removed = Math.round((p.costMicros * closeQty) / Math.abs(p.qty));
    const closeValue = valueOf(closeQty);
    const closeCommission = Math.round((f.commissionMicros * closeQty) / f.qty);
    // Long: proceeds minus basis. Short: credit (−basis) minus the cost to buy back. Both less the commission.
    const realized = (p.qty > 0 ? closeValue - removed : -removed - closeValue) - closeCommission;
    const isOption = underlying !== f.symbol;
    if (carriesIntoShares(f)) {
      const to = `${f.account}\u0000${underlying}`;
      this.carried.set(to, (this.carried.get(to) ?? 0) + realized);
    } else {
      p.realizedMicros += realized;
      l.realizedMicros += realized;
      if (isOption) premiums.set(underlying, premiums.get(underlying)! + realized);
    }
    p.costMicros -= removed;
    p.qty += Math.sign(signed) * closeQty;
    const rest = Math.abs(signed) - closeQty;
    if (rest > 0) {
      p.qty += Math.sign(signed) * rest;
      const restValue = carried === 0 ? notionalMicros(f.priceUnits, rest, f.multiplier) : basisValue - closeValue;
      p.costMicros = (f.side === "buy" ? restValue : -restValue) + f.commissionMicros - closeCommission;
    }
    if (p.qty === 0) p.costMicros = 0;
    // Shares back to zero (or through it): the wheel's cycle on this underlying is over.
    if (!isOption && (p.qty === 0 || rest > 0)) premiums.set(underlying, 0);
    return p;
  }

  /** The ledger of an account, undefined for an unknown one. */
  ledger(account: string): Ledger | undefined {
    return this.ledgers.get(account);
  }

  /** Accounts known, in the order they were added. */
  accounts(): string[] {
    return [...this.ledgers.keys()];
  }

  /** Positions of an account, including flat ones that carry realised P&L. */
  positionsOf(account: string): Position[] {
    return [...(this.positions.get(account)?.values() ?? [])];
  }

  /** The wheel's figures of every underlying the account has traded (stock or options), in the order first traded. */
  basesOf(account: string): UnderlyingBasis[] {
    const out: UnderlyingBasis[] = [];
    for (const [underlying, premiumMicros] of this.premiums.get(account) ?? []) {
      const stock = this.positions.get(account)?.get(underlying);
      out.push({ account, underlying, shares: stock?.qty ?? 0, costMicros: stock?.costMicros ?? 0, premiumMicros });
    }
    return out;
  }

  /** One position, undefined if never traded. */
  position(account: string, symbol: string): Position | undefined {
    return this.positions.get(account)?.get(symbol);
  }
}
