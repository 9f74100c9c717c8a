// Option settlement at expiry. An option still held after the close of its expiry date is
// closed at zero; if it finished in the money by at least $0.01 against the underlying's mark,
// it is exercised (long) or assigned (short) into 100 shares per contract at the strike. Both
// legs are ordinary fills, so positions remain the sum of fills and a restart replays them.
//
// IBKR may prohibit the exercise of long options whose exercise would put the account in
// deficit, letting them lapse (docs/orders.md, "Option expiry"). A cash account here exercises
// only the long calls its cash pays for at the strike; the rest lapse: closed at zero with fill
// kind "lapse", which the API shows like any fill.

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
 * The settlement fills of one expiring option position, given the underlying's mark in price
 * units; fill ids derive from account and symbol, so settling twice yields the same ids (and
 * the order manager applies each id once). `cashMicros`, when given, is what a long call's
 * exercise may spend: contracts it cannot pay for at the strike lapse instead.
 */
export function settlementFills(p: Position, inst: Instrument, underlyingUnits: number, ts: number, cashMicros?: number): Fill[] {
  const contracts = Math.abs(p.qty);
  const long = p.qty > 0;
  const strike = toUnits(inst.strike ?? 0);
  const intrinsic = inst.right === "C" ? underlyingUnits - strike : strike - underlyingUnits;
  const itm = intrinsic >= ITM_THRESHOLD_UNITS;
  const kind = !itm ? "expiry" : long ? "exercise" : "assignment";
  let settled = contracts;
  if (itm && cashMicros !== undefined && exercisePays(p, inst)) {
    const perContract = notionalMicros(strike, 1, p.multiplier);
    settled = perContract > 0 ? Math.max(0, Math.min(contracts, Math.floor(cashMicros / perContract))) : contracts;
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
