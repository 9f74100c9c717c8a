// Option settlement at expiry. An option still held after the close of its expiry date is
// closed at zero; if it finished in the money by at least $0.01 against the underlying's mark,
// it is exercised (long) or assigned (short) into 100 shares per contract at the strike. Both
// legs are ordinary fills, so positions remain the sum of fills and a restart replays them.
//
// IBKR may prohibit the exercise of long options whose exercise would put the account in
// deficit, letting them lapse, and a cash account may hold no short stock (docs/orders.md,
// "Option expiry"). A cash account here exercises only the long calls its cash pays for at the
// strike, and only the long puts whose shares it holds to deliver; the rest lapse: closed at
// zero with fill kind "lapse", which the API shows like any fill.

import type { Instrument } from "../domain/instrument.ts";
import type { Fill } from "../domain/order.ts";
import { notionalMicros } from "../domain/money.ts";
import { toUnits } from "../domain/price.ts";
import type { Position } from "./portfolio.ts";

/** Least in-the-money amount that is exercised or assigned (OCC's threshold is $0.01). */
export const ITM_THRESHOLD_UNITS = toUnits(0.01);

/** True when a long option position would take delivery of shares paid at the strike (a long call). */
export function exercisePays(p: Position, inst: Instrument): boolean {
  return p.qty > 0 && inst.right === "C";
}

/**
 * Where an expiring position settles in an account's sequence: assignments first (a covered
 * call delivers its shares, a cash-secured put takes them), then long puts (which deliver the
 * shares held, those an assigned short put just brought included, and bring cash), then long
 * calls (which spend the cash left).
 */
export function settlementRank(p: Position, inst: Instrument): number {
  return p.qty < 0 ? 0 : inst.right === "P" ? 1 : 2;
}

/** What a cash account may use to settle: cash for long calls, shares of the underlying for long puts. */
export interface SettlementLimits {
  cashMicros?: number;
  sharesHeld?: number;
}

/**
 * The settlement fills of one expiring option position, given the underlying's mark in price
 * units; fill ids derive from account and symbol, so settling twice yields the same ids (and
 * the order manager applies each id once). Limits (a cash account's) bound a long exercise:
 * `cashMicros` is what long calls may spend at the strike, `sharesHeld` what long puts may
 * deliver (a cash account holds no short stock); contracts beyond them lapse instead.
 */
export function settlementFills(p: Position, inst: Instrument, underlyingUnits: number, ts: number, limits: SettlementLimits = {}): Fill[] {
  const contracts = Math.abs(p.qty);
  const long = p.qty > 0;
  const strike = toUnits(inst.strike ?? 0);
  const intrinsic = inst.right === "C" ? underlyingUnits - strike : strike - underlyingUnits;
  const itm = intrinsic >= ITM_THRESHOLD_UNITS;
  const kind = !itm ? "expiry" : long ? "exercise" : "assignment";
  let settled = contracts;
  if (itm && long && limits.cashMicros !== undefined && exercisePays(p, inst)) {
    const perContract = notionalMicros(strike, 1, p.multiplier);
    settled = perContract > 0 ? Math.max(0, Math.min(contracts, Math.floor(limits.cashMicros / perContract))) : contracts;
  }
  if (itm && long && limits.sharesHeld !== undefined && inst.right === "P") {
    settled = Math.max(0, Math.min(contracts, Math.floor(limits.sharesHeld / p.multiplier)));
  }
  const base = { seq: 0, account: p.account, commissionMicros: 0, ts } as const;
  const close = { ...base, symbol: p.symbol, side: long ? "sell" : "buy", priceUnits: 0, multiplier: p.multiplier } as const;
  const fills: Fill[] = [];
  if (settled > 0) fills.push({ ...close, fillId: `X:${p.account}:${p.symbol}`, qty: settled, kind });
  if (settled < contracts) fills.push({ ...close, fillId: `X:${p.account}:${p.symbol}:lapse`, qty: contracts - settled, kind: "lapse" });
  if (itm && settled > 0 && inst.underlying) {
    // Long call or short put takes delivery of shares; long put or short call delivers them.
    const buysShares = (inst.right === "C") === long;
    fills.push({
      ...base, kind, fillId: `X:${p.account}:${p.symbol}:${inst.underlying}`, symbol: inst.underlying, side: buysShares ? "buy" : "sell",
      qty: settled * p.multiplier, priceUnits: strike, multiplier: 1,
    });
  }
  return fills;
}
