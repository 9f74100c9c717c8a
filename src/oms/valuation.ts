// Marks positions to market and computes an account's equity, P&L and buying power. Marks are
// the mid when both sides are quoted, else the last trade, else nothing (the position is then
// valued at its cost, so unrealised P&L is 0 rather than invented).
//
// Buying power, cash account: cash minus what open buy orders would spend and minus the cash
// securing short puts (strike × multiplier × contracts), and for sell-put orders the same.
// Reg-T (simplified, documented in docs/architecture.md): twice the excess of equity over the
// initial requirement — 50 % of stock market value, and for each short option the Cboe rule
// max(20 % of the underlying − out-of-the-money amount, 10 % of strike for puts or of the
// underlying for calls) plus the option's value; long options are paid in full.

import type { Instrument } from "../domain/instrument.ts";
import { fromMicros, notionalMicros } from "../domain/money.ts";
import { fromUnits, toUnits } from "../domain/price.ts";
import type { Order } from "../domain/order.ts";
import type { MarginMode } from "./accounts.ts";
import type { Portfolio, Position } from "./portfolio.ts";

/** The mark of a symbol in price units, or undefined when there is none. */
export type MarkFn = (symbol: string) => number | undefined;

/** A position as the API shows it (decimal money). */
export interface PositionView {
  account: string;
  symbol: string;
  qty: number;
  multiplier: number;
  /** Average cost per share (or per option share) including commissions, as IBKR shows it; 0 when flat. */
  avgCost: number;
  costBasis: number;
  mark: number | null;
  marketValue: number;
  unrealizedPnl: number;
  realizedPnl: number;
  commissions: number;
}

/** An account as the API shows it (decimal money). */
export interface AccountView {
  id: string;
  mode: MarginMode;
  cash: number;
  deposits: number;
  marketValue: number;
  equity: number;
  realizedPnl: number;
  unrealizedPnl: number;
  commissions: number;
  /** Realised + unrealised: both already net of commissions (average cost includes them). */
  netPnl: number;
  buyingPower: number;
  openOrders: number;
  positions: number;
}

/** Market value of a position in micros at its mark (cost basis when unmarked). */
function valueMicros(p: Position, mark: number | undefined): number {
  return mark === undefined ? p.costMicros : notionalMicros(mark, p.qty, p.multiplier);
}

/** A position with its mark applied. */
export function positionView(p: Position, marks: MarkFn): PositionView {
  const mark = p.qty === 0 ? undefined : marks(p.symbol);
  const mv = p.qty === 0 ? 0 : valueMicros(p, mark);
  return {
    account: p.account, symbol: p.symbol, qty: p.qty, multiplier: p.multiplier,
    avgCost: p.qty === 0 ? 0 : Math.round((p.costMicros / (p.qty * p.multiplier)) * 1e4) / 1e10,
    costBasis: fromMicros(p.costMicros), mark: mark === undefined ? null : fromUnits(mark),
    marketValue: fromMicros(mv), unrealizedPnl: fromMicros(mv - p.costMicros),
    realizedPnl: fromMicros(p.realizedMicros), commissions: fromMicros(p.commissionsMicros),
  };
}

/** Initial requirement of a short option under the simplified Reg-T rule, micros. */
function shortOptionRequirement(p: Position, inst: Instrument, optionMark: number | undefined, underlying: number | undefined): number {
  const contracts = Math.abs(p.qty);
  const strike = toUnits(inst.strike ?? 0);
  const u = underlying ?? strike;
  const otm = inst.right === "C" ? Math.max(0, strike - u) : Math.max(0, u - strike);
  const broad = Math.max(0, Math.round(0.2 * u) - otm);
  const floor = Math.round(0.1 * (inst.right === "P" ? strike : u));
  const premium = optionMark === undefined ? -p.costMicros : notionalMicros(optionMark, contracts, p.multiplier);
  return notionalMicros(Math.max(broad, floor), contracts, p.multiplier) + premium;
}

/** What an open order would consume in a cash account, micros. */
function orderReserve(o: Order, inst: Instrument | undefined, marks: MarkFn, position: Position | undefined): number {
  const leaves = o.qty - o.filledQty;
  if (leaves <= 0) return 0;
  if (o.side === "buy") {
    const price = o.limitPriceUnits ?? o.stopPriceUnits ?? marks(o.symbol) ?? 0;
    return notionalMicros(price, leaves, o.multiplier);
  }
  // A put sold beyond a long position opens a short put that cash must secure.
  if (inst?.kind === "option" && inst.right === "P") {
    const opening = Math.max(0, leaves - Math.max(0, position?.qty ?? 0));
    return notionalMicros(toUnits(inst.strike ?? 0), opening, o.multiplier);
  }
  return 0;
}

/** Values an account: cash, marks, P&L and buying power. */
export function accountView(portfolio: Portfolio, id: string, mode: MarginMode, marks: MarkFn,
  instrument: (symbol: string) => Instrument | undefined, openOrders: readonly Order[]): AccountView {
  const l = portfolio.ledger(id)!;
  let mv = 0, unrealized = 0, held = 0, requirement = 0, securedPuts = 0;
  for (const p of portfolio.positionsOf(id)) {
    if (p.qty === 0) continue;
    held++;
    const mark = marks(p.symbol);
    const value = valueMicros(p, mark);
    mv += value;
    unrealized += value - p.costMicros;
    const inst = instrument(p.symbol);
    if (inst?.kind === "option" && p.qty < 0) {
      if (inst.right === "P") securedPuts += notionalMicros(toUnits(inst.strike ?? 0), -p.qty, p.multiplier);
      requirement += shortOptionRequirement(p, inst, mark, inst.underlying ? marks(inst.underlying) : undefined);
    } else if (inst?.kind !== "option") requirement += Math.round(0.5 * Math.abs(value));
  }
  const equity = l.cashMicros + mv;
  let bp: number;
  if (mode === "cash") {
    let reserved = 0;
    for (const o of openOrders) reserved += orderReserve(o, instrument(o.symbol), marks, portfolio.position(id, o.symbol));
    bp = l.cashMicros - securedPuts - reserved;
  } else bp = 2 * (equity - requirement);
  return {
    id, mode, cash: fromMicros(l.cashMicros), deposits: fromMicros(l.depositsMicros), marketValue: fromMicros(mv),
    equity: fromMicros(equity), realizedPnl: fromMicros(l.realizedMicros), unrealizedPnl: fromMicros(unrealized),
    commissions: fromMicros(l.commissionsMicros), netPnl: fromMicros(l.realizedMicros + unrealized),
    buyingPower: fromMicros(Math.max(0, bp)), openOrders: openOrders.length, positions: held,
  };
}
