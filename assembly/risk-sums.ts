// Running sums for the pre-trade check (risk-check.ts), so that a check reads its account's
// exposure, delta, buying power and the order's underlying in O(1) instead of walking every
// position row.
//
// Each position row keeps its own terms (PR_C_*) as of its last sync; the account row keeps their
// sums (A_S_*) and a per-account block keeps them per underlying (US_*). A sync takes a row's old
// terms out and puts its new ones in. The host syncs a row after each change it makes to it
// (position, working quantities, a new row, a seeded mark) and drops it before compacting it
// away; the check syncs the order's own row after valuing it live; the recompute re-bases every
// row of the account after valuing them all.
//
// Money terms are integer micro-dollars held in f64: integer sums below 2^53 are exact, so a sum
// kept by adding and taking away terms in any order equals, bit for bit, the sum a fresh walk over
// the rows makes of the same terms (sumsByWalk, the reference the equivalence test compares with).
// Above about $9e9 in one sum it degrades to ordinary f64 rounding.
//
// Marks: a row's terms use its mark and unit dollar delta from its last valuation (the recompute,
// at most one publish interval old, or the check of an order on it). A row never valued yet (a
// new row, PR_MARK NaN) takes the live mark at its sync and keeps it until it is valued: before
// running sums the check re-read the quote table for such rows on every check; the walking
// reference reads the same captured mark (PR_CK_MARK), so both see the same, equally stale book.

import {
  A_CASH_MODE, A_S_EQ, A_S_GROSS, A_S_NET_HI, A_S_NET_LO, A_S_DD_HI, A_S_DD_LO, A_S_REQ, A_S_USLOTS, A_ROWS,
  PR_INST, PR_UND, PR_KIND, PR_MULT, PR_STRIKE, PR_QTY, PR_WBUY, PR_WSELL, PR_WBUY_COST, PR_MARK, PR_UNIT_DD,
  PR_CK_MARK, PR_CK_UNIT, PR_C_EQ, PR_C_GROSS, PR_C_NET_HI, PR_C_NET_LO, PR_C_DD_HI, PR_C_DD_LO, PR_C_REQ, PR_C_UQ,
  PR_U_SLOT, US_UND, US_REFS, US_DD_HI, US_DD_LO, US_CALLS, US_SHARES, US_STRIDE, riskMaxAccounts,
  RISK_MAX_POSITIONS, riskUndSumsOffset, maxInstruments,
} from "./layout";
import { accRow, ld, markOf, posInf, posRow, regT, st, unitDD } from "./risk-value";

/** Micro-dollars per dollar. */
export const MICRO: f64 = 1e6;

/** Dollars to whole micro-dollars. */
@inline export function micros(x: f64): f64 { return Math.round(x * MICRO); }

@inline export function hiOf(h: f64, l: f64, u: f64): f64 { return Math.max(h * u, l * u); }
@inline export function loOf(h: f64, l: f64, u: f64): f64 { return Math.min(h * u, l * u); }
@inline export function worstAbs(h: f64, l: f64, u: f64): f64 { return Math.max(Math.abs(h * u), Math.abs(l * u)); }

@inline function undSum(a: u32, s: u32): usize {
  return riskUndSumsOffset + (((<usize>a * <usize>RISK_MAX_POSITIONS + <usize>s) * <usize>US_STRIDE) << 3);
}

// A row's terms, as computed by rowTerms(): module globals, so nothing is allocated.
/** Mark of the row rowTerms() last computed, dollars. */
export let tMark: f64 = 0;
/** Its dollar delta of one unit. */
export let tUnit: f64 = 0;
let tEq: f64 = 0;
/** Its worst-case |dollar delta|, micro-dollars. */
export let tGross: f64 = 0;
/** The higher / lower end of its market value, micro-dollars. */
export let tNetHi: f64 = 0;
/** See tNetHi. */
export let tNetLo: f64 = 0;
/** The higher / lower end of its dollar delta, micro-dollars. */
export let tDdHi: f64 = 0;
/** See tDdHi. */
export let tDdLo: f64 = 0;
/** What it requires (cash or Reg-T), micro-dollars. */
export let tReq: f64 = 0;
/** Its long shares (stock) or short calls' shares (call). */
export let tUq: f64 = 0;

// An account's sums, as read by sumsOf() or sumsByWalk(): micro-dollars, except calls and shares.
/** Σ market value. */
export let sEq: f64 = 0;
/** Σ worst-case |dollar delta|. */
export let sGross: f64 = 0;
/** Σ the higher end of market value. */
export let sNetHi: f64 = 0;
/** Σ the lower end of market value. */
export let sNetLo: f64 = 0;
/** Σ the higher end of dollar delta. */
export let sDdHi: f64 = 0;
/** Σ the lower end of dollar delta. */
export let sDdLo: f64 = 0;
/** Σ requirement. */
export let sReq: f64 = 0;
/** Σ the higher end of dollar delta over the order's underlying. */
export let sUHi: f64 = 0;
/** Σ the lower end of dollar delta over the order's underlying. */
export let sULo: f64 = 0;
/** Short calls' shares on the order's underlying. */
export let sCalls: f64 = 0;
/** Shares of the order's underlying held long (net of working sells). */
export let sShares: f64 = 0;

/**
 * Computes a row's terms from its fields. `live`: a row without a valuation takes the live mark
 * (a sync); otherwise the mark captured at its last sync (the walking reference, which must see
 * what the sums saw).
 */
export function rowTerms(row: usize, cashMode: bool, live: bool): void {
  const rq = ld(row, PR_QTY), rm = ld(row, PR_MULT), kind = ld(row, PR_KIND);
  let mark = ld(row, PR_MARK);
  if (isNaN(mark)) {
    mark = live ? markOf(<u32>ld(row, PR_INST)) : ld(row, PR_CK_MARK);
    if (isNaN(mark)) mark = 0;
  }
  let u: f64;
  if (kind == 0) u = mark * rm;
  else if (!isNaN(ld(row, PR_UNIT_DD)) || live) u = unitDD(row);
  else u = ld(row, PR_CK_UNIT);
  const h = rq + ld(row, PR_WBUY), l = rq - ld(row, PR_WSELL);
  tMark = mark; tUnit = u;
  tEq = micros(rq * mark * rm);
  tGross = micros(worstAbs(h, l, u));
  tNetHi = micros(hiOf(h, l, mark * rm)); tNetLo = micros(loOf(h, l, mark * rm));
  tDdHi = micros(hiOf(h, l, u)); tDdLo = micros(loOf(h, l, u));
  if (cashMode) {
    let req = ld(row, PR_WBUY_COST);
    if (kind == 2) req += posInf(-l) * ld(row, PR_STRIKE) * rm;
    tReq = micros(req);
  } else {
    tReq = micros(Math.max(regT(row, h, mark), regT(row, l, mark)));
  }
  tUq = kind == 1 ? posInf(-l) * rm : kind == 0 ? posInf(l) : 0;
}

/** Adds (sign 1) or takes away (sign -1) the row's stored terms in its account and underlying sums. */
function apply(acc: usize, us: usize, row: usize, sign: f64): void {
  st(acc, A_S_EQ, ld(acc, A_S_EQ) + sign * ld(row, PR_C_EQ));
  st(acc, A_S_GROSS, ld(acc, A_S_GROSS) + sign * ld(row, PR_C_GROSS));
  st(acc, A_S_NET_HI, ld(acc, A_S_NET_HI) + sign * ld(row, PR_C_NET_HI));
  st(acc, A_S_NET_LO, ld(acc, A_S_NET_LO) + sign * ld(row, PR_C_NET_LO));
  st(acc, A_S_DD_HI, ld(acc, A_S_DD_HI) + sign * ld(row, PR_C_DD_HI));
  st(acc, A_S_DD_LO, ld(acc, A_S_DD_LO) + sign * ld(row, PR_C_DD_LO));
  st(acc, A_S_REQ, ld(acc, A_S_REQ) + sign * ld(row, PR_C_REQ));
  st(us, US_DD_HI, ld(us, US_DD_HI) + sign * ld(row, PR_C_DD_HI));
  st(us, US_DD_LO, ld(us, US_DD_LO) + sign * ld(row, PR_C_DD_LO));
  const kind = ld(row, PR_KIND);
  if (kind == 1) st(us, US_CALLS, ld(us, US_CALLS) + sign * ld(row, PR_C_UQ));
  else if (kind == 0) st(us, US_SHARES, ld(us, US_SHARES) + sign * ld(row, PR_C_UQ));
}

/** Stores the terms last computed by rowTerms() in the row. */
function storeTerms(row: usize): void {
  st(row, PR_CK_MARK, tMark); st(row, PR_CK_UNIT, tUnit);
  st(row, PR_C_EQ, tEq); st(row, PR_C_GROSS, tGross); st(row, PR_C_NET_HI, tNetHi); st(row, PR_C_NET_LO, tNetLo);
  st(row, PR_C_DD_HI, tDdHi); st(row, PR_C_DD_LO, tDdLo); st(row, PR_C_REQ, tReq); st(row, PR_C_UQ, tUq);
}

/** The account's slot for underlying `und`: the one in use, else the first free one (taken). Bounded by RISK_MAX_POSITIONS. */
function slotFor(a: u32, acc: usize, und: f64): u32 {
  const n = <u32>ld(acc, A_S_USLOTS);
  let free: i64 = -1;
  for (let s: u32 = 0; s < n; s++) {
    const us = undSum(a, s);
    if (ld(us, US_REFS) > 0) {
      if (ld(us, US_UND) == und) return s;
    } else if (free < 0) {
      free = <i64>s;
    }
  }
  // Every row holds at most one slot, so a free one always exists below RISK_MAX_POSITIONS.
  const s = free >= 0 ? <u32>free : n;
  assert(s < RISK_MAX_POSITIONS);
  if (s == n) st(acc, A_S_USLOTS, <f64>(n + 1));
  const us = undSum(a, s);
  st(us, US_UND, und); st(us, US_REFS, 0); st(us, US_DD_HI, 0); st(us, US_DD_LO, 0); st(us, US_CALLS, 0); st(us, US_SHARES, 0);
  return s;
}

/** Brings one row's terms in its account's sums up to date with its fields (internal: no bounds checks). */
export function syncRow(a: u32, i: u32): void {
  const acc = accRow(a);
  const row = posRow(a, i);
  const slot = ld(row, PR_U_SLOT);
  let us: usize;
  if (isNaN(slot)) {
    const s = slotFor(a, acc, ld(row, PR_UND));
    us = undSum(a, s);
    st(us, US_REFS, ld(us, US_REFS) + 1);
    st(row, PR_U_SLOT, <f64>s);
  } else {
    us = undSum(a, <u32>slot);
    apply(acc, us, row, -1);
  }
  rowTerms(row, ld(acc, A_CASH_MODE) == 1, true);
  storeTerms(row);
  apply(acc, us, row, 1);
}

@inline function validRow(a: u32, i: u32): bool {
  return maxInstruments != 0 && a < riskMaxAccounts && i < RISK_MAX_POSITIONS && <f64>i < ld(accRow(a), A_ROWS);
}

/** Host: re-syncs a row after changing its fields. Returns 0, or -1 for a row not in use. */
export function riskRowSync(a: u32, i: u32): i32 {
  if (!validRow(a, i)) return -1;
  syncRow(a, i);
  return 0;
}

/** Host: takes a row out of its account's sums before the row is freed. Returns 0, or -1 for a row not in use. */
export function riskRowDrop(a: u32, i: u32): i32 {
  if (!validRow(a, i)) return -1;
  const row = posRow(a, i);
  const slot = ld(row, PR_U_SLOT);
  if (isNaN(slot)) return 0;
  const us = undSum(a, <u32>slot);
  apply(accRow(a), us, row, -1);
  st(us, US_REFS, ld(us, US_REFS) - 1);
  st(row, PR_U_SLOT, NaN);
  return 0;
}

/** Recomputes every row's terms and the account's sums from scratch (the recompute, after valuing the rows). */
export function rebaseAccount(a: u32, rows: u32): void {
  const acc = accRow(a);
  st(acc, A_S_EQ, 0); st(acc, A_S_GROSS, 0); st(acc, A_S_NET_HI, 0); st(acc, A_S_NET_LO, 0);
  st(acc, A_S_DD_HI, 0); st(acc, A_S_DD_LO, 0); st(acc, A_S_REQ, 0);
  const n = <u32>ld(acc, A_S_USLOTS);
  for (let s: u32 = 0; s < n; s++) {
    const us = undSum(a, s);
    st(us, US_DD_HI, 0); st(us, US_DD_LO, 0); st(us, US_CALLS, 0); st(us, US_SHARES, 0);
  }
  const cashMode = ld(acc, A_CASH_MODE) == 1;
  for (let i: u32 = 0; i < rows; i++) {
    const row = posRow(a, i);
    if (isNaN(ld(row, PR_U_SLOT))) { syncRow(a, i); continue; }
    rowTerms(row, cashMode, true);
    storeTerms(row);
    apply(acc, undSum(a, <u32>ld(row, PR_U_SLOT)), row, 1);
  }
}

/** Reads the account's sums and those of the underlying of row `orow` (synced) into s*: O(1). */
export function sumsOf(a: u32, orow: usize): void {
  const acc = accRow(a);
  sEq = ld(acc, A_S_EQ); sGross = ld(acc, A_S_GROSS); sNetHi = ld(acc, A_S_NET_HI); sNetLo = ld(acc, A_S_NET_LO);
  sDdHi = ld(acc, A_S_DD_HI); sDdLo = ld(acc, A_S_DD_LO); sReq = ld(acc, A_S_REQ);
  const us = undSum(a, <u32>ld(orow, PR_U_SLOT));
  sUHi = ld(us, US_DD_HI); sULo = ld(us, US_DD_LO); sCalls = ld(us, US_CALLS); sShares = ld(us, US_SHARES);
}

/**
 * The same sums by walking every row and computing its terms afresh from its fields (the
 * reference for the equivalence test and the benchmark's yardstick): O(rows).
 */
export function sumsByWalk(a: u32, orow: usize, rows: u32): void {
  const cashMode = ld(accRow(a), A_CASH_MODE) == 1;
  const und = ld(orow, PR_UND);
  sEq = 0; sGross = 0; sNetHi = 0; sNetLo = 0; sDdHi = 0; sDdLo = 0; sReq = 0; sUHi = 0; sULo = 0; sCalls = 0; sShares = 0;
  for (let i: u32 = 0; i < rows; i++) {
    const row = posRow(a, i);
    rowTerms(row, cashMode, false);
    sEq += tEq; sGross += tGross; sNetHi += tNetHi; sNetLo += tNetLo; sDdHi += tDdHi; sDdLo += tDdLo; sReq += tReq;
    if (ld(row, PR_UND) == und) {
      sUHi += tDdHi; sULo += tDdLo;
      const kind = ld(row, PR_KIND);
      if (kind == 1) sCalls += tUq;
      else if (kind == 0) sShares += tUq;
    }
  }
}
