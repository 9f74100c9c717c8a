// Positions as IBKR holds them against positions as our journal holds them. After each
// reconciliation the broker compares the two and reports every difference (logged, counted,
// kept for inspection); it never changes either side, because a difference can be legitimate
// (a trade entered in TWS by hand, a transfer, an exercise IBKR booked first) and only a person
// can tell. Several of our accounts may trade in one IB account: their quantities add up.

import type { IbPosition } from "../ib/account.ts";
import { symbolOf } from "./ib-map.ts";

/** One position of ours: our account, our symbol, signed quantity. */
export interface OurPosition {
  account: string;
  symbol: string;
  qty: number;
}

/** A symbol whose quantity differs between IBKR and our journal in one IB account. */
export interface PositionDiff {
  ibAccount: string;
  symbol: string;
  ibQty: number;
  ourQty: number;
}

/**
 * The differences, sorted by IB account and symbol. `ibAccountOf` maps our account to its IB
 * account; "" (the login's default) stands for the one account IBKR reports when it reports
 * exactly one, and such positions are skipped otherwise (the default account is then unknown).
 */
export function positionDiffs(ib: readonly IbPosition[], ours: readonly OurPosition[], ibAccountOf: (ours: string) => string): PositionDiff[] {
  const ibAccounts = new Set(ib.map((p) => p.account));
  const only = ibAccounts.size === 1 ? [...ibAccounts][0]! : undefined;
  const table = new Map<string, { ibQty: number; ourQty: number }>();
  const at = (account: string, symbol: string) => {
    const k = `${account}\u0000${symbol}`;
    let row = table.get(k);
    if (!row) table.set(k, (row = { ibQty: 0, ourQty: 0 }));
    return row;
  };
  for (const p of ib) {
    const symbol = symbolOf(p.contract);
    if (symbol && p.qty !== 0) at(p.account, symbol).ibQty += p.qty;
  }
  for (const p of ours) {
    const mapped = ibAccountOf(p.account), account = mapped === "" ? only : mapped;
    if (account !== undefined && p.qty !== 0) at(account, p.symbol).ourQty += p.qty;
  }
  const out: PositionDiff[] = [];
  for (const [k, row] of table) {
    if (row.ibQty === row.ourQty) continue;
    const [ibAccount, symbol] = k.split("\u0000") as [string, string];
    out.push({ ibAccount, symbol, ...row });
  }
  return out.sort((a, b) => (a.ibAccount === b.ibAccount ? a.symbol.localeCompare(b.symbol) : a.ibAccount.localeCompare(b.ibAccount)));
}
