// Live portfolio risk over the risk region of the shared memory (assembly/layout.ts): marks,
// implied vols and greeks per position row, then per account market value, exposure, dollar
// greeks, daily P&L, delta-normal VaR, stress, concentration, buying power, limit utilisation and
// the risk score. Also the row helpers the pre-trade check (risk-check.ts) shares. Nothing here
// allocates; every loop is bounded by RISK_MAX_POSITIONS or the instrument count.

import {
  PRICE_SCALE, Q_BID, Q_ASK, Q_LAST, Q_VAR_RATE, Q_VOL_WEIGHT, QUOTE_STRIDE, G_PRICE, G_DELTA, G_GAMMA, G_VEGA,
  G_THETA, riskMaxAccounts, RISK_MAX_POSITIONS, RP_RATE, RP_DIV, RP_CORR, RP_DEFAULT_VOL, RP_DAY_MS,
  RP_YEAR_MS, RP_TRADING_DAYS, A_USED, A_CASH_MODE, A_MAX_OPEN, A_MAX_GROSS, A_MAX_NET, A_MAX_CONC,
  A_MAX_DELTA, A_LOSS_LIMIT, A_VAR_LIMIT, A_CASH, A_OPEN_ORDERS, A_ROWS, A_OPEN_EQUITY, A_MV, A_EQUITY,
  A_GROSS, A_NET, A_DDELTA, A_DGAMMA, A_VEGA, A_THETA, A_UNREAL, A_DAILY_PNL, A_VAR95, A_VAR99, A_ST_DN10,
  A_ST_DN20, A_ST_DN40, A_ST_UP10, A_ST_VOL50, A_CONC_MAX, A_CONC_UND, A_HHI, A_REQUIRED, A_AVAILABLE, A_SCORE,
  A_UNPRICED, A_TS, A_U_GROSS, A_U_NET, A_U_DELTA, A_U_CONC, A_U_LOSS, A_U_VAR, A_U_BP, A_U_ORDERS, A_U_MAX,
  ACC_STRIDE, PR_INST, PR_UND, PR_KIND, PR_MULT, PR_STRIKE, PR_EXPIRY_MS, PR_QTY, PR_WBUY, PR_WSELL,
  PR_WBUY_COST, PR_COST, PR_MARK, PR_SPOT, PR_IV, PR_DELTA, PR_GAMMA, PR_VEGA, PR_THETA, PR_MV, PR_DDELTA,
  PR_UNIT_DD, PR_UNREAL, PR_STATUS, PR_MODEL, POS_STRIDE, PS_OK, PS_NO_MARK, PS_NO_GREEKS, PS_STALE, PS_NOT_VALUED, U_DD, U_SIGMA,
  U_MARK, U_STRIDE, E_NOT_INITIALISED, quotesOffset, maxInstruments, riskParamsOffset, riskAccountsOffset,
  riskPositionsOffset, riskGreeksOffset, riskUndOffset, riskTouchedOffset,
} from "./layout";
import { priceRow, solveVol } from "./greeks";
import { rebaseAccount } from "./risk-sums";

const Z95: f64 = 1.6448536269514722;
const Z99: f64 = 2.3263478740408408;
/** Reg-T: stock 50 %; short options premium + max(20 % of the underlying - OTM, 10 % of strike). */
const REGT_STOCK: f64 = 0.5;
const REGT_OPT_UND: f64 = 0.2;
const REGT_OPT_MIN: f64 = 0.1;
/** Stress moves of the underlyings, and the relative implied-vol shock. */
const VOL_SHOCK: f64 = 1.5;

@inline export function ld(base: usize, f: i32): f64 { return load<f64>(base + (<usize>f << 3)); }
@inline export function st(base: usize, f: i32, v: f64): void { store<f64>(base + (<usize>f << 3), v); }
@inline export function rp(f: i32): f64 { return ld(riskParamsOffset, f); }
@inline export function accRow(a: u32): usize { return riskAccountsOffset + ((<usize>a * <usize>ACC_STRIDE) << 3); }
@inline export function posRow(a: u32, i: u32): usize {
  return riskPositionsOffset + (((<usize>a * <usize>RISK_MAX_POSITIONS + <usize>i) * <usize>POS_STRIDE) << 3);
}
@inline export function quoteRow(idx: u32): usize { return quotesOffset + ((<usize>idx * <usize>QUOTE_STRIDE) << 3); }
@inline function undSlot(idx: u32): usize { return riskUndOffset + ((<usize>idx * <usize>U_STRIDE) << 3); }
@inline export function posInf(v: f64): f64 { return v > 0 ? v : 0; }

/** Mid of a two-sided quote, else the last trade, in dollars; NaN when there is neither. */
export function markOf(inst: u32): f64 {
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
 * its greeks. Without a live mark a row falls back to the last live mark of this run
 * (PS_NO_MARK); a row that has had none in this run falls back to the durable last mark the host
 * seeded into PR_MARK (PS_STALE), else it is not valued at all (PS_NOT_VALUED, PR_MARK NaN):
 * never 0, and never a model price, because a restart must not invent a loss or a gain. An
 * option without its own implied vol uses the previous (or default) vol and says PS_NO_GREEKS.
 */
export function valueRow(row: usize, now: f64): void {
  const inst = <u32>ld(row, PR_INST);
  const kind = ld(row, PR_KIND);
  // The row's status of the last pass says whether it has had a live mark in this run (a new or
  // re-initialised row has NaN): the fallback differs.
  const prev = ld(row, PR_STATUS);
  const liveBefore = prev == <f64>PS_OK || prev == <f64>PS_NO_MARK || prev == <f64>PS_NO_GREEKS;
  let status = PS_OK;
  let mark = markOf(inst);
  if (isNaN(mark)) {
    mark = ld(row, PR_MARK);
    status = liveBefore ? PS_NO_MARK : isNaN(mark) ? PS_NOT_VALUED : PS_STALE;
  }
  if (kind == 0) {
    st(row, PR_MARK, mark); st(row, PR_SPOT, mark); st(row, PR_MODEL, mark); st(row, PR_IV, NaN);
    st(row, PR_DELTA, 1); st(row, PR_GAMMA, 0); st(row, PR_VEGA, 0); st(row, PR_THETA, 0);
    st(row, PR_UNIT_DD, mark * ld(row, PR_MULT));
    st(row, PR_STATUS, <f64>status);
    return;
  }
  let spot = markOf(<u32>ld(row, PR_UND));
  if (isNaN(spot)) { spot = ld(row, PR_SPOT); if (status == PS_OK) status = PS_NO_MARK; }
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
  } else {
    if (status == PS_OK || status == PS_NO_GREEKS) status = PS_NO_MARK;
    st(row, PR_DELTA, NaN); st(row, PR_GAMMA, NaN); st(row, PR_VEGA, NaN); st(row, PR_THETA, NaN); st(row, PR_MODEL, NaN);
  }
  st(row, PR_MARK, mark); st(row, PR_SPOT, spot); st(row, PR_IV, iv);
  st(row, PR_UNIT_DD, ld(row, PR_DELTA) * spot * ld(row, PR_MULT));
  st(row, PR_STATUS, <f64>status);
}

/** Dollar delta of one unit, falling back to the whole underlying notional (|delta| = 1) when unknown. */
export function unitDD(row: usize): f64 {
  const u = ld(row, PR_UNIT_DD);
  if (!isNaN(u)) return u;
  const kind = ld(row, PR_KIND);
  let spot = kind == 0 ? markOf(<u32>ld(row, PR_INST)) : markOf(<u32>ld(row, PR_UND));
  if (isNaN(spot)) spot = 0;
  return (kind == 2 ? -spot : spot) * ld(row, PR_MULT);
}

/** Reg-T requirement of holding `q` units of a row at its mark. */
export function regT(row: usize, q: f64, mark: f64): f64 {
  const mult = ld(row, PR_MULT);
  const kind = ld(row, PR_KIND);
  if (kind == 0) return REGT_STOCK * Math.abs(q) * mark * mult;
  if (q >= 0) return q * mark * mult;
  const spot = ld(row, PR_SPOT), k = ld(row, PR_STRIKE);
  // A row not valued yet has no spot: the 10 %-of-strike floor alone, never NaN (a NaN would
  // silence every buying-power check of the account until the next recompute).
  const und = spot > 0 ? REGT_OPT_UND * spot - (kind == 1 ? posInf(k - spot) : posInf(spot - k)) : 0;
  return (mark + Math.max(und, REGT_OPT_MIN * k)) * -q * mult;
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
  for (let a: u32 = 0; a < riskMaxAccounts; a++) {
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
    // A position not valued counts at its cost basis: no unrealised P&L rather than a loss of its
    // whole value (docs/risk.md, "Marks"). The host holds the loss policy until it is marked.
    const pmv = isNaN(mark) ? (qty != 0 ? ld(row, PR_COST) : 0) : qty * mark * mult;
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
  // Every row was just valued: re-base the pre-trade check's running sums on the new marks.
  rebaseAccount(a, rows);
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
