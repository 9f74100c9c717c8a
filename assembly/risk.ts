// Pre-trade checks and live portfolio risk over the risk region of the shared memory
// (assembly/layout.ts): account rows hold limits and results, each account's position rows
// hold what it holds and has working, and prices come straight from the quote table. The host
// keeps positions and working orders current; nothing here allocates, and every loop is bounded
// by RISK_MAX_POSITIONS or the instrument count.
//
// Worst case: a position row's quantity can end anywhere between qty - working sells and
// qty + working buys, so every exposure is taken at whichever end is worse. A check denies an
// order only when the result is beyond the limit AND the order makes it worse, so an order that
// reduces risk always passes even when the account is already over a limit.

import {
  PRICE_SCALE, F_STALE, Q_BID, Q_ASK, Q_LAST, Q_FLAGS, Q_INGEST_TS, Q_VAR_RATE, Q_VOL_WEIGHT, QUOTE_STRIDE,
  I_TICK_UNITS, I_DEFINED, INSTR_STRIDE, G_PRICE, G_DELTA, G_GAMMA, G_VEGA, G_THETA,
  RISK_MAX_ACCOUNTS, RISK_MAX_POSITIONS, RP_RATE, RP_DIV, RP_CORR, RP_DEFAULT_VOL, RP_DAY_MS, RP_YEAR_MS,
  RP_GLOBAL_STATE, RP_TRADING_DAYS, TS_REDUCING, TS_HALTED,
  A_USED, A_STATE, A_CASH_MODE, A_MAX_NOTIONAL, A_MIN_QTY, A_MAX_QTY, A_BAND, A_QUOTE_AGE_MS, A_MAX_OPEN,
  A_MAX_POS_QTY, A_MAX_GROSS, A_MAX_NET, A_MAX_CONC, A_MAX_DELTA, A_DBAND_LO, A_DBAND_HI, A_DBAND_MODE,
  A_SUBMIT_RATE, A_MODIFY_RATE, A_LOSS_LIMIT, A_VAR_LIMIT, A_CASH, A_OPEN_ORDERS, A_ROWS, A_OPEN_EQUITY,
  A_SUB_TOKENS, A_SUB_TS, A_MOD_TOKENS, A_MOD_TS, A_MV, A_EQUITY, A_GROSS, A_NET, A_DDELTA, A_DGAMMA, A_VEGA,
  A_THETA, A_UNREAL, A_DAILY_PNL, A_VAR95, A_VAR99, A_ST_DN10, A_ST_DN20, A_ST_DN40, A_ST_UP10, A_ST_VOL50,
  A_CONC_MAX, A_CONC_UND, A_HHI, A_REQUIRED, A_AVAILABLE, A_SCORE, A_UNPRICED, A_TS, A_U_GROSS, A_U_NET,
  A_U_DELTA, A_U_CONC, A_U_LOSS, A_U_VAR, A_U_BP, A_U_ORDERS, A_U_MAX, A_OPT_BAND, ACC_STRIDE,
  PR_INST, PR_UND, PR_KIND, PR_MULT, PR_STRIKE, PR_EXPIRY_MS, PR_QTY, PR_WBUY, PR_WSELL, PR_WBUY_COST, PR_COST,
  PR_MARK, PR_SPOT, PR_IV, PR_DELTA, PR_GAMMA, PR_VEGA, PR_THETA, PR_MV, PR_DDELTA, PR_UNIT_DD, PR_UNREAL,
  PR_STATUS, PR_MODEL, POS_STRIDE, PS_OK, PS_NO_MARK, PS_NO_GREEKS,
  CK_ACCOUNT, CK_ROW, CK_SIDE, CK_TYPE, CK_QTY, CK_TOTAL, CK_LIMIT, CK_STOP, CK_MODIFY, CK_PREV, CK_NOW,
  CK_CODE, CK_VALUE, CK_BOUND, CK_WARN, CK_WARN_VALUE, CK_PRICE, CK_DELTA,
  RK_OK, RK_HALTED, RK_REDUCE_ONLY, RK_UNKNOWN_INSTRUMENT, RK_BAD_PRICE, RK_BAD_QTY, RK_SUBMIT_RATE,
  RK_MODIFY_RATE, RK_NO_QUOTE, RK_PRICE_BAND, RK_NOTIONAL, RK_MAX_OPEN_ORDERS, RK_POSITION_LIMIT,
  RK_GROSS_EXPOSURE, RK_NET_EXPOSURE, RK_CONCENTRATION, RK_DELTA_LIMIT, RK_BUYING_POWER, RK_UNCOVERED_CALL,
  RK_SHORT_SALE, RK_DELTA_BAND, RK_NO_GREEKS, RK_BAD_ACCOUNT, U_DD, U_SIGMA, U_MARK, U_STRIDE,
  E_NOT_INITIALISED, quotesOffset, instrumentsOffset, maxInstruments, riskParamsOffset, riskAccountsOffset,
  riskPositionsOffset, riskCheckOffset, riskGreeksOffset, riskUndOffset, riskTouchedOffset,
} from "./layout";
import { priceRow, solveVol } from "./greeks";

const Z95: f64 = 1.6448536269514722;
const Z99: f64 = 2.3263478740408408;
/** Reg-T: stock 50 %; short options premium + max(20 % of the underlying - OTM, 10 % of strike). */
const REGT_STOCK: f64 = 0.5;
const REGT_OPT_UND: f64 = 0.2;
const REGT_OPT_MIN: f64 = 0.1;
/** Stress moves of the underlyings, and the relative implied-vol shock. */
const VOL_SHOCK: f64 = 1.5;

@inline function ld(base: usize, f: i32): f64 { return load<f64>(base + (<usize>f << 3)); }
@inline function st(base: usize, f: i32, v: f64): void { store<f64>(base + (<usize>f << 3), v); }
@inline function rp(f: i32): f64 { return ld(riskParamsOffset, f); }
@inline function accRow(a: u32): usize { return riskAccountsOffset + ((<usize>a * <usize>ACC_STRIDE) << 3); }
@inline function posRow(a: u32, i: u32): usize {
  return riskPositionsOffset + (((<usize>a * <usize>RISK_MAX_POSITIONS + <usize>i) * <usize>POS_STRIDE) << 3);
}
@inline function quoteRow(idx: u32): usize { return quotesOffset + ((<usize>idx * <usize>QUOTE_STRIDE) << 3); }
@inline function undSlot(idx: u32): usize { return riskUndOffset + ((<usize>idx * <usize>U_STRIDE) << 3); }
@inline function posInf(v: f64): f64 { return v > 0 ? v : 0; }

/** Mid of a two-sided quote, else the last trade, in dollars; NaN when there is neither. */
function markOf(inst: u32): f64 {
  const q = quoteRow(inst);
  const bid = ld(q, Q_BID), ask = ld(q, Q_ASK);
  if (bid > 0 && ask > 0) return (bid + ask) * 0.5 / PRICE_SCALE;
  const last = ld(q, Q_LAST);
  return last > 0 ? last / PRICE_SCALE : NaN;
}

/** Mid of a two-sided quote in dollars, NaN otherwise (implied vol needs both sides). */
function midOf(inst: u32): f64 {
  const q = quoteRow(inst);
  const bid = ld(q, Q_BID), ask = ld(q, Q_ASK);
  return bid > 0 && ask > 0 ? (bid + ask) * 0.5 / PRICE_SCALE : NaN;
}

/** One-day return volatility of an underlying: the engine's bias-corrected EWMA, else the default. */
function dailySigma(und: u32): f64 {
  const q = quoteRow(und);
  const w = ld(q, Q_VOL_WEIGHT), v = ld(q, Q_VAR_RATE);
  if (w > 0 && v >= 0) return Math.sqrt(v / w * rp(RP_DAY_MS));
  return rp(RP_DEFAULT_VOL) / Math.sqrt(rp(RP_TRADING_DAYS));
}

/** Model price of an option row at spot `s` and vol `vol`, via the scratch greeks row. */
function modelPrice(row: usize, s: f64, vol: f64, now: f64): f64 {
  const t = Math.max((ld(row, PR_EXPIRY_MS) - now) / rp(RP_YEAR_MS), 0);
  priceRow(riskGreeksOffset, s, ld(row, PR_STRIKE), t, rp(RP_RATE), rp(RP_DIV), vol, ld(row, PR_KIND) == 1);
  return ld(riskGreeksOffset, G_PRICE);
}

/**
 * Marks one position row and, for an option, solves its implied vol from the mid and prices
 * its greeks. Falls back to the previous mark, then to the previous (or default) vol, and says
 * so in PR_STATUS.
 */
function valueRow(row: usize, now: f64): void {
  const inst = <u32>ld(row, PR_INST);
  const kind = ld(row, PR_KIND);
  let status = PS_OK;
  let mark = markOf(inst);
  if (isNaN(mark)) { mark = ld(row, PR_MARK); status = PS_NO_MARK; }
  if (kind == 0) {
    st(row, PR_MARK, mark); st(row, PR_SPOT, mark); st(row, PR_MODEL, mark); st(row, PR_IV, NaN);
    st(row, PR_DELTA, 1); st(row, PR_GAMMA, 0); st(row, PR_VEGA, 0); st(row, PR_THETA, 0);
    st(row, PR_UNIT_DD, mark * ld(row, PR_MULT));
    st(row, PR_STATUS, <f64>(isNaN(mark) ? PS_NO_MARK : status));
    return;
  }
  let spot = markOf(<u32>ld(row, PR_UND));
  if (isNaN(spot)) { spot = ld(row, PR_SPOT); status = PS_NO_MARK; }
  const t = Math.max((ld(row, PR_EXPIRY_MS) - now) / rp(RP_YEAR_MS), 0);
  const isCall = kind == 1;
  const k = ld(row, PR_STRIKE), r = rp(RP_RATE), q = rp(RP_DIV);
  let iv: f64 = NaN;
  const mid = midOf(inst);
  if (t > 0 && spot > 0 && mid > 0) iv = solveVol(riskGreeksOffset, spot, k, t, r, q, mid, isCall);
  if (isNaN(iv)) {
    if (status == PS_OK) status = PS_NO_GREEKS;
    iv = ld(row, PR_IV);
    if (!(iv > 0)) iv = rp(RP_DEFAULT_VOL);
  }
  if (spot > 0) {
    priceRow(riskGreeksOffset, spot, k, t, r, q, iv, isCall);
    st(row, PR_DELTA, ld(riskGreeksOffset, G_DELTA)); st(row, PR_GAMMA, ld(riskGreeksOffset, G_GAMMA));
    st(row, PR_VEGA, ld(riskGreeksOffset, G_VEGA)); st(row, PR_THETA, ld(riskGreeksOffset, G_THETA));
    st(row, PR_MODEL, ld(riskGreeksOffset, G_PRICE));
    if (isNaN(mark)) mark = ld(riskGreeksOffset, G_PRICE);
  } else {
    status = PS_NO_MARK;
    st(row, PR_DELTA, NaN); st(row, PR_GAMMA, NaN); st(row, PR_VEGA, NaN); st(row, PR_THETA, NaN); st(row, PR_MODEL, NaN);
  }
  st(row, PR_MARK, mark); st(row, PR_SPOT, spot); st(row, PR_IV, iv);
  st(row, PR_UNIT_DD, ld(row, PR_DELTA) * spot * ld(row, PR_MULT));
  st(row, PR_STATUS, <f64>status);
}

/** Dollar delta of one unit, falling back to the whole underlying notional (|delta| = 1) when unknown. */
function unitDD(row: usize): f64 {
  const u = ld(row, PR_UNIT_DD);
  if (!isNaN(u)) return u;
  const kind = ld(row, PR_KIND);
  let spot = kind == 0 ? markOf(<u32>ld(row, PR_INST)) : markOf(<u32>ld(row, PR_UND));
  if (isNaN(spot)) spot = 0;
  return (kind == 2 ? -spot : spot) * ld(row, PR_MULT);
}

/** Reg-T requirement of holding `q` units of a row at its mark. */
function regT(row: usize, q: f64, mark: f64): f64 {
  const mult = ld(row, PR_MULT);
  const kind = ld(row, PR_KIND);
  if (kind == 0) return REGT_STOCK * Math.abs(q) * mark * mult;
  if (q >= 0) return q * mark * mult;
  const spot = ld(row, PR_SPOT), k = ld(row, PR_STRIKE);
  const otm = kind == 1 ? posInf(k - spot) : posInf(spot - k);
  return (mark + Math.max(REGT_OPT_UND * spot - otm, REGT_OPT_MIN * k)) * -q * mult;
}

@inline function clamp01(x: f64): f64 { return Math.min(Math.max(x, 0), 1); }

@inline function util(v: f64, limit: f64): f64 {
  if (!(limit > 0) || limit == Infinity) return 0;
  return v / limit;
}

let pass: f64 = 0;

/**
 * Recomputes every used account: marks and greeks per position, then market value, exposure,
 * dollar greeks, daily P&L, delta-normal VaR, stress, concentration, buying power, limit
 * utilisation and the risk score. Returns the accounts computed, or an E_* code.
 */
export function riskRecompute(now: f64): i32 {
  if (maxInstruments == 0) return E_NOT_INITIALISED;
  let done: i32 = 0;
  for (let a: u32 = 0; a < RISK_MAX_ACCOUNTS; a++) {
    const acc = accRow(a);
    if (ld(acc, A_USED) != 1) continue;
    recomputeAccount(a, acc, now);
    done++;
  }
  return done;
}

function recomputeAccount(a: u32, acc: usize, now: f64): void {
  pass += 1;
  const rows = <u32>Math.min(ld(acc, A_ROWS), <f64>RISK_MAX_POSITIONS);
  const cashMode = ld(acc, A_CASH_MODE) == 1;
  let mv: f64 = 0, gross: f64 = 0, ddelta: f64 = 0, dgamma: f64 = 0, vega: f64 = 0, theta: f64 = 0, unreal: f64 = 0;
  let dn10: f64 = 0, dn20: f64 = 0, dn40: f64 = 0, up10: f64 = 0, vol50: f64 = 0, required: f64 = 0, unpriced: f64 = 0;
  let touched: u32 = 0;
  for (let i: u32 = 0; i < rows; i++) {
    const row = posRow(a, i);
    valueRow(row, now);
    const qty = ld(row, PR_QTY), mult = ld(row, PR_MULT), mark = ld(row, PR_MARK), kind = ld(row, PR_KIND);
    if (ld(row, PR_STATUS) != <f64>PS_OK && qty != 0) unpriced += 1;
    const m = isNaN(mark) ? 0 : mark;
    const pmv = qty * m * mult;
    const dd = qty * unitDD(row);
    st(row, PR_MV, pmv); st(row, PR_DDELTA, dd); st(row, PR_UNREAL, pmv - ld(row, PR_COST));
    mv += pmv; gross += Math.abs(dd); ddelta += dd; unreal += pmv - ld(row, PR_COST);
    const spot = ld(row, PR_SPOT);
    if (kind != 0 && spot > 0 && qty != 0) {
      dgamma += ld(row, PR_GAMMA) * spot * spot * 0.01 * mult * qty;
      vega += ld(row, PR_VEGA) * mult * qty * 0.01;
      theta += ld(row, PR_THETA) * mult * qty / 365;
      const base = ld(row, PR_MODEL), iv = ld(row, PR_IV);
      dn10 += (modelPrice(row, spot * 0.9, iv, now) - base) * qty * mult;
      dn20 += (modelPrice(row, spot * 0.8, iv, now) - base) * qty * mult;
      dn40 += (modelPrice(row, spot * 0.6, iv, now) - base) * qty * mult;
      up10 += (modelPrice(row, spot * 1.1, iv, now) - base) * qty * mult;
      vol50 += (modelPrice(row, spot, iv * VOL_SHOCK, now) - base) * qty * mult;
    } else if (kind == 0 && m > 0) {
      dn10 -= 0.1 * pmv; dn20 -= 0.2 * pmv; dn40 -= 0.4 * pmv; up10 += 0.1 * pmv;
    }
    const lo = qty - ld(row, PR_WSELL), hi = qty + ld(row, PR_WBUY);
    if (cashMode) {
      required += ld(row, PR_WBUY_COST);
      if (kind == 2) required += posInf(-lo) * ld(row, PR_STRIKE) * mult;
    } else {
      required += Math.max(regT(row, hi, m), regT(row, lo, m));
    }
    // Per-underlying net dollar delta, for VaR and concentration.
    const und = <u32>ld(row, PR_UND);
    const slot = undSlot(und);
    if (ld(slot, U_MARK) != pass) {
      st(slot, U_MARK, pass); st(slot, U_DD, 0); st(slot, U_SIGMA, dailySigma(und));
      store<u32>(riskTouchedOffset + (<usize>touched << 2), und);
      touched++;
    }
    st(slot, U_DD, ld(slot, U_DD) + dd);
  }
  const equity = ld(acc, A_CASH) + mv;
  let sumSq: f64 = 0, sumLin: f64 = 0, absTotal: f64 = 0, absMax: f64 = 0, maxUnd: f64 = -1;
  for (let j: u32 = 0; j < touched; j++) {
    const und = load<u32>(riskTouchedOffset + (<usize>j << 2));
    const slot = undSlot(und);
    const d = ld(slot, U_DD), s = ld(slot, U_SIGMA);
    sumSq += (s * d) * (s * d);
    sumLin += s * d;
    absTotal += Math.abs(d);
    if (Math.abs(d) > absMax) { absMax = Math.abs(d); maxUnd = <f64>und; }
  }
  let hhi: f64 = 0;
  for (let j: u32 = 0; j < touched; j++) {
    const d = ld(undSlot(load<u32>(riskTouchedOffset + (<usize>j << 2))), U_DD);
    if (absTotal > 0) hhi += (Math.abs(d) / absTotal) * (Math.abs(d) / absTotal);
  }
  const rho = rp(RP_CORR);
  const sigmaPnl = Math.sqrt(Math.max((1 - rho) * sumSq + rho * sumLin * sumLin, 0));
  const openEq = ld(acc, A_OPEN_EQUITY);
  const pnl = isNaN(openEq) ? 0 : equity - openEq;
  const conc = absMax == 0 ? 0 : equity > 0 ? absMax / equity : Infinity;
  const available = cashMode ? ld(acc, A_CASH) : equity;
  st(acc, A_MV, mv); st(acc, A_EQUITY, equity); st(acc, A_GROSS, gross); st(acc, A_NET, mv); st(acc, A_DDELTA, ddelta);
  st(acc, A_DGAMMA, dgamma); st(acc, A_VEGA, vega); st(acc, A_THETA, theta); st(acc, A_UNREAL, unreal);
  st(acc, A_DAILY_PNL, pnl); st(acc, A_VAR95, Z95 * sigmaPnl); st(acc, A_VAR99, Z99 * sigmaPnl);
  st(acc, A_ST_DN10, dn10); st(acc, A_ST_DN20, dn20); st(acc, A_ST_DN40, dn40); st(acc, A_ST_UP10, up10);
  st(acc, A_ST_VOL50, vol50); st(acc, A_CONC_MAX, conc); st(acc, A_CONC_UND, maxUnd); st(acc, A_HHI, hhi);
  st(acc, A_REQUIRED, required); st(acc, A_AVAILABLE, available); st(acc, A_UNPRICED, unpriced); st(acc, A_TS, now);
  const uG = util(gross, ld(acc, A_MAX_GROSS)), uN = util(Math.abs(mv), ld(acc, A_MAX_NET));
  const uD = util(Math.abs(ddelta), ld(acc, A_MAX_DELTA)), uC = util(conc, ld(acc, A_MAX_CONC));
  const uL = util(posInf(-pnl), ld(acc, A_LOSS_LIMIT)), uV = util(Z99 * sigmaPnl, ld(acc, A_VAR_LIMIT));
  const uB = required == 0 ? 0 : available > 0 ? required / available : 1;
  const uO = util(ld(acc, A_OPEN_ORDERS), ld(acc, A_MAX_OPEN));
  st(acc, A_U_GROSS, uG); st(acc, A_U_NET, uN); st(acc, A_U_DELTA, uD); st(acc, A_U_CONC, uC);
  st(acc, A_U_LOSS, uL); st(acc, A_U_VAR, uV); st(acc, A_U_BP, uB); st(acc, A_U_ORDERS, uO);
  const uMax = Math.max(Math.max(Math.max(uG, uN), Math.max(uD, uC)), Math.max(Math.max(uL, uV), Math.max(uB, uO)));
  st(acc, A_U_MAX, uMax);
  // Score: 60 % the worst utilisation, 40 % their mean, each capped at 1, scaled to 0-100.
  const mean = (clamp01(uG) + clamp01(uN) + clamp01(uD) + clamp01(uC) + clamp01(uL) + clamp01(uV) + clamp01(uB) + clamp01(uO)) / 8;
  st(acc, A_SCORE, Math.round(100 * (0.6 * clamp01(uMax) + 0.4 * mean)));
}

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

/**
 * A row's mark for a check: the last recompute's (at most one publish interval old), else the
 * live mark, else 0. Only the order's own row is valued live, so the account loop reads the
 * position block sequentially and never touches the quote table.
 */
function rowMark(row: usize): f64 {
  let m = ld(row, PR_MARK);
  if (isNaN(m)) m = markOf(<u32>ld(row, PR_INST));
  return isNaN(m) ? 0 : m;
}

/** A row's dollar delta per unit for a check, from the last recompute (fallbacks in unitDD). */
@inline function rowUnit(row: usize, mark: f64): f64 {
  return ld(row, PR_KIND) == 0 ? mark * ld(row, PR_MULT) : unitDD(row);
}

@inline function worstAbs(h: f64, l: f64, u: f64): f64 { return Math.max(Math.abs(h * u), Math.abs(l * u)); }
@inline function hiOf(h: f64, l: f64, u: f64): f64 { return Math.max(h * u, l * u); }
@inline function loOf(h: f64, l: f64, u: f64): f64 { return Math.min(h * u, l * u); }
@inline function share(x: f64, equity: f64): f64 { return x == 0 ? 0 : equity > 0 ? x / equity : Infinity; }

/**
 * Checks the order described by the check row against its account: trading state, rates,
 * instrument, quantity, prices, quote freshness and the fat-finger band, notional, open
 * orders, reduce-only, position, gross / net exposure, concentration, portfolio delta, buying
 * power (cash-secured puts, covered calls, no short stock in a cash account) and the option-sale
 * delta band. Returns RK_OK or the first failing RK_* code, with the value and the bound in the
 * check row; a warning (delta band in warn mode) is left in CK_WARN.
 */
export function preTradeCheck(): i32 {
  const ck = riskCheckOffset;
  st(ck, CK_WARN, 0); st(ck, CK_WARN_VALUE, 0); st(ck, CK_PRICE, NaN); st(ck, CK_DELTA, NaN);
  if (maxInstruments == 0) return deny(RK_BAD_ACCOUNT, 0, 0);
  const af = ld(ck, CK_ACCOUNT);
  if (!(af >= 0 && af < <f64>RISK_MAX_ACCOUNTS)) return deny(RK_BAD_ACCOUNT, af, 0);
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

  const und = ld(orow, PR_UND), kind0 = ld(orow, PR_KIND);
  const cashMode = ld(acc, A_CASH_MODE) == 1;
  const cash = ld(acc, A_CASH);
  let equity = cash, gross: f64 = 0, netHi: f64 = 0, netLo: f64 = 0, ddHi: f64 = 0, ddLo: f64 = 0;
  let uHi: f64 = 0, uLo: f64 = 0, req: f64 = 0, shortCalls: f64 = 0, shares: f64 = 0;
  const n = <u32>rows;
  for (let i: u32 = 0; i < n; i++) {
    const row = posRow(a, i);
    const rq = ld(row, PR_QTY), rm = ld(row, PR_MULT), kind = ld(row, PR_KIND);
    const mark = rowMark(row);
    const u = rowUnit(row, mark);
    const h = rq + ld(row, PR_WBUY), l = rq - ld(row, PR_WSELL);
    equity += rq * mark * rm;
    gross += worstAbs(h, l, u);
    netHi += hiOf(h, l, mark * rm); netLo += loOf(h, l, mark * rm);
    ddHi += hiOf(h, l, u); ddLo += loOf(h, l, u);
    if (ld(row, PR_UND) == und) {
      uHi += hiOf(h, l, u); uLo += loOf(h, l, u);
      if (kind == 1) shortCalls += posInf(-l) * rm;
      else if (kind == 0) shares = posInf(l);
    }
    if (cashMode) {
      req += ld(row, PR_WBUY_COST);
      if (kind == 2) req += posInf(-l) * ld(row, PR_STRIKE) * rm;
    } else {
      req += Math.max(regT(row, h, mark), regT(row, l, mark));
    }
  }
  const m0 = rowMark(orow), u0 = rowUnit(orow, m0), v0 = m0 * mult;
  const grossW = gross - worstAbs(hi, lo, u0) + worstAbs(hiW, loW, u0);
  if (grossW > ld(acc, A_MAX_GROSS) && grossW > gross) return deny(RK_GROSS_EXPOSURE, grossW, ld(acc, A_MAX_GROSS));
  const net0 = Math.max(Math.abs(netHi), Math.abs(netLo));
  const netW = Math.max(Math.abs(netHi - hiOf(hi, lo, v0) + hiOf(hiW, loW, v0)), Math.abs(netLo - loOf(hi, lo, v0) + loOf(hiW, loW, v0)));
  if (netW > ld(acc, A_MAX_NET) && netW > net0) return deny(RK_NET_EXPOSURE, netW, ld(acc, A_MAX_NET));
  const c0 = share(Math.max(Math.abs(uHi), Math.abs(uLo)), equity);
  const cW = share(Math.max(Math.abs(uHi - hiOf(hi, lo, u0) + hiOf(hiW, loW, u0)), Math.abs(uLo - loOf(hi, lo, u0) + loOf(hiW, loW, u0))), equity);
  if (cW > ld(acc, A_MAX_CONC) && cW > c0) return deny(RK_CONCENTRATION, cW, ld(acc, A_MAX_CONC));
  const d0 = Math.max(Math.abs(ddHi), Math.abs(ddLo));
  const dWorst = Math.max(Math.abs(ddHi - hiOf(hi, lo, u0) + hiOf(hiW, loW, u0)), Math.abs(ddLo - loOf(hi, lo, u0) + loOf(hiW, loW, u0)));
  if (dWorst > ld(acc, A_MAX_DELTA) && dWorst > d0) return deny(RK_DELTA_LIMIT, dWorst, ld(acc, A_MAX_DELTA));

  if (cashMode) {
    if (kind0 == 0 && loW < 0 && loW < lo) return deny(RK_SHORT_SALE, -loW, 0);
    let reqW = req + (side > 0 ? dW * ref * mult : 0);
    if (kind0 == 2) {
      // A sale may add a short put to secure; a buy that fills closes part of one and frees its cash.
      const shortAfter = side > 0 ? posInf(-(lo + dW)) : posInf(-loW);
      reqW += (shortAfter - posInf(-lo)) * ld(orow, PR_STRIKE) * mult;
    }
    if (reqW > cash && reqW > req) return deny(RK_BUYING_POWER, reqW, cash);
    if (side < 0 && (kind0 == 1 || kind0 == 0)) {
      const callsW = kind0 == 1 ? shortCalls - posInf(-lo) * mult + posInf(-loW) * mult : shortCalls;
      const sharesW = kind0 == 0 ? posInf(loW) : shares;
      if (callsW > sharesW && callsW - sharesW > shortCalls - shares) return deny(RK_UNCOVERED_CALL, callsW, sharesW);
    }
  } else {
    const reqW = req - Math.max(regT(orow, hi, m0), regT(orow, lo, m0)) + Math.max(regT(orow, hiW, m0), regT(orow, loW, m0));
    if (reqW > equity && reqW > req) return deny(RK_BUYING_POWER, reqW, equity);
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
