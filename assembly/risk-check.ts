// The pre-trade check over the risk region (assembly/layout.ts): one order, described in the
// check row, against its account's limits, positions and working orders.
//
// Worst case: a position row's quantity can end anywhere between qty - working sells and
// qty + working buys, so every exposure is taken at whichever end is worse. A check denies an
// order only when the result is beyond the limit AND the order makes it worse, so an order that
// reduces risk always passes even when the account is already over a limit.
//
// The account-wide figures come from the running sums of risk-sums.ts in O(1);
// preTradeCheckWalk() is the same check computing them by walking every row (the reference).

import {
  PRICE_SCALE, F_STALE, Q_BID, Q_ASK, Q_FLAGS, Q_INGEST_TS, I_TICK_UNITS, I_DEFINED, INSTR_STRIDE,
  riskMaxAccounts, RISK_MAX_POSITIONS, RP_GLOBAL_STATE, TS_REDUCING, TS_HALTED, A_USED, A_STATE, A_CASH_MODE,
  A_MAX_NOTIONAL, A_MIN_QTY, A_MAX_QTY, A_BAND, A_QUOTE_AGE_MS, A_MAX_OPEN, A_MAX_POS_QTY, A_MAX_GROSS,
  A_MAX_NET, A_MAX_CONC, A_MAX_DELTA, A_DBAND_LO, A_DBAND_HI, A_DBAND_MODE, A_SUBMIT_RATE, A_MODIFY_RATE,
  A_CASH, A_OPEN_ORDERS, A_ROWS, A_SUB_TOKENS, A_SUB_TS, A_MOD_TOKENS, A_MOD_TS, A_OPT_BAND, PR_INST,
  PR_KIND, PR_MULT, PR_STRIKE, PR_QTY, PR_WBUY, PR_WSELL, PR_DELTA, PR_STATUS, PS_OK,
  CK_ACCOUNT, CK_ROW, CK_SIDE, CK_QTY, CK_TOTAL, CK_LIMIT, CK_STOP, CK_MODIFY, CK_PREV, CK_NOW, CK_CODE,
  CK_VALUE, CK_BOUND, CK_WARN, CK_WARN_VALUE, CK_PRICE, CK_DELTA, CK_GROSS, CK_NET, CK_CONC, CK_DDELTA, CK_REQUIRED,
  CK_EQUITY, RK_OK, RK_HALTED, RK_REDUCE_ONLY,
  RK_UNKNOWN_INSTRUMENT, RK_BAD_PRICE, RK_BAD_QTY, RK_SUBMIT_RATE, RK_MODIFY_RATE, RK_NO_QUOTE, RK_PRICE_BAND,
  RK_NOTIONAL, RK_MAX_OPEN_ORDERS, RK_POSITION_LIMIT, RK_GROSS_EXPOSURE, RK_NET_EXPOSURE, RK_CONCENTRATION,
  RK_DELTA_LIMIT, RK_BUYING_POWER, RK_UNCOVERED_CALL, RK_SHORT_SALE, RK_DELTA_BAND, RK_NO_GREEKS,
  RK_BAD_ACCOUNT, instrumentsOffset, maxInstruments, riskCheckOffset,
} from "./layout";
import { accRow, ld, posInf, posRow, quoteRow, regT, rp, st, valueRow } from "./risk-value";
import {
  MICRO, hiOf, loOf, micros, rowTerms, sumsByWalk, sumsOf, syncRow, worstAbs, tMark, tUnit, tGross, tNetHi, tNetLo,
  tDdHi, tDdLo, tReq, tUq, sEq, sGross, sNetHi, sNetLo, sDdHi, sDdLo, sReq, sUHi, sULo, sCalls, sShares,
} from "./risk-sums";

@inline function instrRow(idx: u32): usize { return instrumentsOffset + ((<usize>idx * <usize>INSTR_STRIDE) << 3); }

@inline function deny(code: i32, value: f64, bound: f64): i32 {
  st(riskCheckOffset, CK_CODE, <f64>code);
  st(riskCheckOffset, CK_VALUE, value);
  st(riskCheckOffset, CK_BOUND, bound);
  return code;
}

@inline function warn(code: i32, value: f64): void {
  st(riskCheckOffset, CK_WARN, <f64>code);
  st(riskCheckOffset, CK_WARN_VALUE, value);
}

/** Takes a token from a bucket refilled at `ratePerS` (burst: one second's worth); false when empty. */
function takeToken(acc: usize, tokensField: i32, tsField: i32, ratePerS: f64, now: f64): bool {
  if (!(ratePerS < Infinity)) return true;
  const tokens = Math.min(ratePerS, ld(acc, tokensField) + Math.max(now - ld(acc, tsField), 0) * ratePerS / 1000);
  st(acc, tsField, now);
  if (tokens < 1) { st(acc, tokensField, tokens); return false; }
  st(acc, tokensField, tokens - 1);
  return true;
}

@inline function share(x: f64, equity: f64): f64 { return x == 0 ? 0 : equity > 0 ? x / equity : Infinity; }

/**
 * Checks the order described by the check row against its account: trading state, rates,
 * instrument, quantity, prices, quote freshness and the fat-finger band, notional, open
 * orders, reduce-only, position, gross / net exposure, concentration, portfolio delta, buying
 * power (cash-secured puts, covered calls, no short stock in a cash account) and the option-sale
 * delta band. Returns RK_OK or the first failing RK_* code, with the value and the bound in the
 * check row; a warning (delta band in warn mode) is left in CK_WARN, and the account's worst-case
 * figures with the order in CK_GROSS..CK_EQUITY once the check has reached them.
 */
export function preTradeCheck(): i32 { return check(false); }

/** preTradeCheck() with the account-wide figures from a walk over every position row: the reference for tests and benchmarks. */
export function preTradeCheckWalk(): i32 { return check(true); }

function check(walk: bool): i32 {
  const ck = riskCheckOffset;
  st(ck, CK_WARN, 0); st(ck, CK_WARN_VALUE, 0); st(ck, CK_PRICE, NaN); st(ck, CK_DELTA, NaN);
  st(ck, CK_GROSS, NaN); st(ck, CK_NET, NaN); st(ck, CK_CONC, NaN); st(ck, CK_DDELTA, NaN); st(ck, CK_REQUIRED, NaN); st(ck, CK_EQUITY, NaN);
  if (maxInstruments == 0) return deny(RK_BAD_ACCOUNT, 0, 0);
  const af = ld(ck, CK_ACCOUNT);
  if (!(af >= 0 && af < <f64>riskMaxAccounts)) return deny(RK_BAD_ACCOUNT, af, 0);
  const a = <u32>af;
  const acc = accRow(a);
  const rows = ld(acc, A_ROWS);
  const rf = ld(ck, CK_ROW);
  if (ld(acc, A_USED) != 1 || !(rf >= 0 && rf < rows && rows <= <f64>RISK_MAX_POSITIONS)) return deny(RK_BAD_ACCOUNT, af, 0);
  const orow = posRow(a, <u32>rf);
  const inst = <u32>ld(orow, PR_INST);
  const side = ld(ck, CK_SIDE), add = ld(ck, CK_QTY), total = ld(ck, CK_TOTAL);
  const lim = ld(ck, CK_LIMIT), stp = ld(ck, CK_STOP), modify = ld(ck, CK_MODIFY) == 1, now = ld(ck, CK_NOW);
  const state = Math.max(ld(acc, A_STATE), rp(RP_GLOBAL_STATE));
  if (state >= <f64>TS_HALTED) return deny(RK_HALTED, state, <f64>TS_HALTED);
  if (modify) {
    if (!takeToken(acc, A_MOD_TOKENS, A_MOD_TS, ld(acc, A_MODIFY_RATE), now)) return deny(RK_MODIFY_RATE, 0, ld(acc, A_MODIFY_RATE));
  } else if (!takeToken(acc, A_SUB_TOKENS, A_SUB_TS, ld(acc, A_SUBMIT_RATE), now)) {
    return deny(RK_SUBMIT_RATE, 0, ld(acc, A_SUBMIT_RATE));
  }
  if (inst >= maxInstruments || ld(instrRow(inst), I_DEFINED) != 1) return deny(RK_UNKNOWN_INSTRUMENT, <f64>inst, 0);
  if (!(total >= 1) || total != Math.floor(total)) return deny(RK_BAD_QTY, total, 1);
  if (total < ld(acc, A_MIN_QTY)) return deny(RK_BAD_QTY, total, ld(acc, A_MIN_QTY));
  if (total > ld(acc, A_MAX_QTY)) return deny(RK_BAD_QTY, total, ld(acc, A_MAX_QTY));
  const tick = ld(instrRow(inst), I_TICK_UNITS);
  if (!isNaN(lim) && (!(lim > 0) || lim % tick != 0)) return deny(RK_BAD_PRICE, lim / PRICE_SCALE, tick / PRICE_SCALE);
  if (!isNaN(stp) && (!(stp > 0) || stp % tick != 0)) return deny(RK_BAD_PRICE, stp / PRICE_SCALE, tick / PRICE_SCALE);

  const q = quoteRow(inst);
  const bid = ld(q, Q_BID), ask = ld(q, Q_ASK);
  const twoSided = bid > 0 && ask > 0;
  const fresh = twoSided && (<i32>ld(q, Q_FLAGS) & F_STALE) == 0 && now - ld(q, Q_INGEST_TS) <= ld(acc, A_QUOTE_AGE_MS);
  if (isNaN(lim) && isNaN(stp) && !fresh) return deny(RK_NO_QUOTE, now - ld(q, Q_INGEST_TS), ld(acc, A_QUOTE_AGE_MS));
  if (!isNaN(lim)) {
    if (!twoSided) return deny(RK_NO_QUOTE, 0, 0);
    const mid = (bid + ask) * 0.5;
    const dev = Math.abs(lim - mid) / mid;
    const band = ld(orow, PR_KIND) == 0 ? ld(acc, A_BAND) : ld(acc, A_OPT_BAND);
    if (dev > band) return deny(RK_PRICE_BAND, dev, band);
  }
  const ref = !isNaN(lim) ? lim / PRICE_SCALE : !isNaN(stp) ? stp / PRICE_SCALE : (side > 0 ? ask : bid) / PRICE_SCALE;
  st(ck, CK_PRICE, ref);
  const mult = ld(orow, PR_MULT);
  const notional = total * ref * mult;
  if (notional > ld(acc, A_MAX_NOTIONAL)) return deny(RK_NOTIONAL, notional, ld(acc, A_MAX_NOTIONAL));
  if (!modify && ld(acc, A_OPEN_ORDERS) + 1 > ld(acc, A_MAX_OPEN)) return deny(RK_MAX_OPEN_ORDERS, ld(acc, A_OPEN_ORDERS) + 1, ld(acc, A_MAX_OPEN));

  // The order's own instrument is valued now; the rest of the book at its last recompute.
  valueRow(orow, now);
  const delta = ld(orow, PR_DELTA);
  st(ck, CK_DELTA, delta);
  const dW = modify ? add - ld(ck, CK_PREV) : add;
  const qty = ld(orow, PR_QTY), wb = ld(orow, PR_WBUY), ws = ld(orow, PR_WSELL);
  const hi = qty + wb, lo = qty - ws;
  const hiW = side > 0 ? hi + dW : hi, loW = side < 0 ? lo - dW : lo;
  if (state >= <f64>TS_REDUCING) {
    const reduces = (modify && dW <= 0) || (side < 0 ? qty > 0 && loW >= 0 : qty < 0 && hiW <= 0);
    if (!reduces) return deny(RK_REDUCE_ONLY, qty, 0);
  }
  const p0 = Math.max(Math.abs(hi), Math.abs(lo)), pW = Math.max(Math.abs(hiW), Math.abs(loW));
  if (pW > ld(acc, A_MAX_POS_QTY) && pW > p0) return deny(RK_POSITION_LIMIT, pW, ld(acc, A_MAX_POS_QTY));

  const kind0 = ld(orow, PR_KIND);
  const cashMode = ld(acc, A_CASH_MODE) == 1;
  const cash = ld(acc, A_CASH);
  // The order's row was just valued: bring its terms in the sums up to date, then read the
  // account's figures (micro-dollars) and take the row's own terms out to put the order's in.
  syncRow(a, <u32>rf);
  if (walk) sumsByWalk(a, orow, <u32>rows); else sumsOf(a, orow);
  rowTerms(orow, cashMode, false);
  const m0 = tMark, u0 = tUnit, v0 = m0 * mult;
  const equity = cash + sEq / MICRO;
  const gross = sGross, grossW = gross - tGross + micros(worstAbs(hiW, loW, u0));
  const net0 = Math.max(Math.abs(sNetHi), Math.abs(sNetLo));
  const netW = Math.max(Math.abs(sNetHi - tNetHi + micros(hiOf(hiW, loW, v0))), Math.abs(sNetLo - tNetLo + micros(loOf(hiW, loW, v0))));
  const uNewHi = micros(hiOf(hiW, loW, u0)), uNewLo = micros(loOf(hiW, loW, u0));
  const c0 = share(Math.max(Math.abs(sUHi), Math.abs(sULo)) / MICRO, equity);
  const cW = share(Math.max(Math.abs(sUHi - tDdHi + uNewHi), Math.abs(sULo - tDdLo + uNewLo)) / MICRO, equity);
  const d0 = Math.max(Math.abs(sDdHi), Math.abs(sDdLo));
  const dWorst = Math.max(Math.abs(sDdHi - tDdHi + uNewHi), Math.abs(sDdLo - tDdLo + uNewLo));
  st(ck, CK_GROSS, grossW / MICRO); st(ck, CK_NET, netW / MICRO); st(ck, CK_CONC, cW); st(ck, CK_DDELTA, dWorst / MICRO);
  st(ck, CK_EQUITY, equity);
  if (grossW / MICRO > ld(acc, A_MAX_GROSS) && grossW > gross) return deny(RK_GROSS_EXPOSURE, grossW / MICRO, ld(acc, A_MAX_GROSS));
  if (netW / MICRO > ld(acc, A_MAX_NET) && netW > net0) return deny(RK_NET_EXPOSURE, netW / MICRO, ld(acc, A_MAX_NET));
  if (cW > ld(acc, A_MAX_CONC) && cW > c0) return deny(RK_CONCENTRATION, cW, ld(acc, A_MAX_CONC));
  if (dWorst / MICRO > ld(acc, A_MAX_DELTA) && dWorst > d0) return deny(RK_DELTA_LIMIT, dWorst / MICRO, ld(acc, A_MAX_DELTA));

  const req = sReq, shortCalls = sCalls, shares = sShares;
  if (cashMode) {
    if (kind0 == 0 && loW < 0 && loW < lo) return deny(RK_SHORT_SALE, -loW, 0);
    let reqW = req + (side > 0 ? micros(dW * ref * mult) : 0);
    if (kind0 == 2) {
      // A sale may add a short put to secure; a buy that fills closes part of one and frees its cash.
      const shortAfter = side > 0 ? posInf(-(lo + dW)) : posInf(-loW);
      reqW += micros((shortAfter - posInf(-lo)) * ld(orow, PR_STRIKE) * mult);
    }
    st(ck, CK_REQUIRED, reqW / MICRO);
    if (reqW / MICRO > cash && reqW > req) return deny(RK_BUYING_POWER, reqW / MICRO, cash);
    if (side < 0 && (kind0 == 1 || kind0 == 0)) {
      const callsW = kind0 == 1 ? shortCalls - tUq + posInf(-loW) * mult : shortCalls;
      const sharesW = kind0 == 0 ? posInf(loW) : shares;
      if (callsW > sharesW && callsW - sharesW > shortCalls - shares) return deny(RK_UNCOVERED_CALL, callsW, sharesW);
    }
  } else {
    const reqW = req - tReq + micros(Math.max(regT(orow, hiW, m0), regT(orow, loW, m0)));
    st(ck, CK_REQUIRED, reqW / MICRO);
    if (reqW / MICRO > equity && reqW > req) return deny(RK_BUYING_POWER, reqW / MICRO, equity);
  }

  const bandMode = ld(acc, A_DBAND_MODE);
  if (bandMode > 0 && kind0 != 0 && side < 0 && loW < 0 && loW < lo) {
    if (ld(orow, PR_STATUS) != <f64>PS_OK || isNaN(delta)) {
      if (bandMode >= 2) return deny(RK_NO_GREEKS, 0, 0);
      warn(RK_NO_GREEKS, 0);
    } else {
      const points = Math.abs(delta) * 100;
      const bLo = ld(acc, A_DBAND_LO), bHi = ld(acc, A_DBAND_HI);
      if (points < bLo || points > bHi) {
        if (bandMode >= 2) return deny(RK_DELTA_BAND, points, points < bLo ? bLo : bHi);
        warn(RK_DELTA_BAND, points);
      }
    }
  }
  return deny(RK_OK, 0, 0);
}
