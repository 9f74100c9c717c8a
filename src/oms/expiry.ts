// Option settlement at expiry. An option still held after the close of its expiry date is
// closed at zero; if it finished in the money by at least $0.01 against the underlying's mark,
// it is exercised (long) or assigned (short) into 100 shares per contract at the strike. Both
// legs are ordinary fills, so positions remain the sum of fills and a restart replays them.

import type { Instrument } from "../domain/instrument.ts";
import type { Fill } from "../domain/order.ts";
import { toUnits } from "../domain/price.ts";
import type { Position } from "./portfolio.ts";

/** Least in-the-money amount that is exercised or assigned (OCC's threshold is $0.01). */
export const ITM_THRESHOLD_UNITS = toUnits(0.01);

/**
 * The settlement fills of one expiring option position, given the underlying's mark in price
 * units; fill ids derive from account and symbol, so settling twice yields the same ids (and
 * the order manager applies each id once).
 */
export function settlementFills(p: Position, inst: Instrument, underlyingUnits: number, ts: number): Fill[] {
  const contracts = Math.abs(p.qty);
  const long = p.qty > 0;
  const strike = toUnits(inst.strike ?? 0);
  const intrinsic = inst.right === "C" ? underlyingUnits - strike : strike - underlyingUnits;
  const itm = intrinsic >= ITM_THRESHOLD_UNITS;
  const kind = !itm ? "expiry" : long ? "exercise" : "assignment";
  const base = { seq: 0, account: p.account, commissionMicros: 0, ts, kind } as const;
  const fills: Fill[] = [{
    ...base, fillId: `X:${p.account}:${p.symbol}`, symbol: p.symbol, side: long ? "sell" : "buy", qty: contracts,
    priceUnits: 0, multiplier: p.multiplier,
  }];
  if (itm && inst.underlying) {
    // Long call or short put takes delivery of shares; long put or short call delivers them.
    const buysShares = (inst.right === "C") === long;
    fills.push({
      ...base, fillId: `X:${p.account}:${p.symbol}:${inst.underlying}`, symbol: inst.underlying, side: buysShares ? "buy" : "sell",
      qty: contracts * p.multiplier, priceUnits: strike, multiplier: 1,
    });
  }
  return fills;
}
