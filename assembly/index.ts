// The quote engine's hot path: validates and normalises batches of ticks from the tick ring,
// updates the quote table, 1-minute bars, VWAP and EWMA volatility, and writes the change
// list. src/engine/reference.ts is the same algorithm in plain TypeScript; the two must agree
// bit for bit (test/unit/engine-equivalence.test.ts), so any change here is made there too.

export * from "./layout";
export { greeksBatch, impliedVolBatch, normCdf } from "./greeks";
export { riskRecompute } from "./risk-value";
export { preTradeCheck, preTradeCheckWalk } from "./risk-check";
export { riskRowSync, riskRowDrop } from "./risk-sums";
import {
  PRICE_SCALE, K_BID, K_ASK, K_TRADE, K_BID_SIZE, K_ASK_SIZE, K_BID_PRICE, K_ASK_PRICE, K_VOLUME, K_CLOSE,
  KIND_COUNT, R_UNKNOWN_INSTRUMENT, R_UNKNOWN_KIND, R_NOT_FINITE, R_SENTINEL, R_NON_POSITIVE_PRICE, R_BAD_SIZE,
  R_STALE, R_OUT_OF_ORDER, R_FUTURE, R_CROSSED, R_JUMP, R_VOLUME_DECREASE,
  F_CROSSED, F_LOCKED, F_STALE, F_JUMP_REJECTED, F_REANCHORED, F_NO_BID, F_NO_ASK,
  Q_BID, Q_BID_SZ, Q_ASK, Q_ASK_SZ, Q_LAST, Q_LAST_SZ, Q_VOLUME, Q_TURNOVER, Q_VWAP, Q_OPEN, Q_HIGH, Q_LOW,
  Q_PREV_CLOSE, Q_VAR_RATE, Q_EXCH_TS, Q_INGEST_TS, Q_SEQ, Q_FLAGS, Q_VOL_MID, Q_VOL_TS, Q_BAR_START, Q_BAR_O,
  Q_BAR_H, Q_BAR_L, Q_BAR_C, Q_BAR_V, Q_BAR_COUNT, Q_STREAK, Q_REJECTS, Q_MARK, Q_TICKS, Q_VWAP_VOL, Q_VOL_WEIGHT, QUOTE_STRIDE,
  I_TICK_UNITS, I_BAND, I_DEFINED, I_BAND_FLOOR_UNITS, INSTR_STRIDE, B_START, B_OPEN, B_HIGH, B_LOW, B_CLOSE, B_VOLUME, BAR_STRIDE,
  BAR_MS, T_PRICE, T_SIZE, T_TS, T_INSTRUMENT, T_KIND, TICK_STRIDE_BYTES, C_TICKS, C_ACCEPTED, C_REJECTED,
  C_BATCHES, C_CHANGED, C_REASON_BASE, CTL_HEAD, CTL_TAIL, CTL_CHANGE_COUNT, P_STALE_AFTER_MS, P_MAX_TICK_AGE_MS,
  P_MAX_FUTURE_MS, P_VOL_TAU_MS, P_REANCHOR_AFTER, P_BATCH, P_VOL_SAMPLE_MS, E_RING_UNDERFLOW, E_NOT_INITIALISED,
  E_BAD_INSTRUMENT, ctlOffset, paramsOffset, countersOffset, instrumentsOffset, quotesOffset, barsOffset,
  changeListOffset, ringOffset, maxInstruments, ringMask, barHistory,
} from "./layout";

/** IBKR's "unset" double. */
const IB_UNSET_DOUBLE: f64 = 1.7976931348623157e308;
/** IBKR's "unset" integer. */
const IB_UNSET_INT: f64 = 2147483647;

let changeCount: u32 = 0;
let instrumentHigh: u32 = 0;
// Set by anomaly() when the tick being processed re-anchored the price level.
let reanchoredNow: bool = false;
// Per-batch copies of hot parameters and the accepted count, kept in globals rather than
// loaded from and stored to the tables on every tick; endBatch() writes the count back.
let batchNo: f64 = 0;
let maxTickAgeMs: f64 = 0;
let maxFutureMs: f64 = 0;
let reanchorAfter: f64 = 0;
let volSampleMs: f64 = 0;
let volTauMs: f64 = 0;
let acceptedInBatch: f64 = 0;

@inline function q(row: usize, f: i32): f64 { return load<f64>(row + (<usize>f << 3)); }
@inline function setQ(row: usize, f: i32, v: f64): void { store<f64>(row + (<usize>f << 3), v); }
@inline function rowOf(idx: u32): usize { return quotesOffset + ((<usize>idx * <usize>QUOTE_STRIDE) << 3); }
@inline function instrOf(idx: u32): usize { return instrumentsOffset + ((<usize>idx * <usize>INSTR_STRIDE) << 3); }
@inline function param(p: i32): f64 { return load<f64>(paramsOffset + (<usize>p << 3)); }
@inline function setParam(p: i32, v: f64): void { store<f64>(paramsOffset + (<usize>p << 3), v); }
@inline function bump(c: i32, by: f64): void {
  const a = countersOffset + (<usize>c << 3);
  store<f64>(a, load<f64>(a) + by);
}
@inline function ctl(w: i32): u32 { return load<u32>(ctlOffset + (<usize>w << 2)); }
@inline function setCtl(w: i32, v: u32): void { store<u32>(ctlOffset + (<usize>w << 2), v); }

/** Sets the validation and volatility parameters. */
export function configure(staleAfterMs: f64, maxTickAgeMs: f64, maxFutureMs: f64, volTauMs: f64,
  volSampleMs: f64, reanchorAfter: f64): i32 {
  if (maxInstruments == 0) return E_NOT_INITIALISED;
  setParam(P_STALE_AFTER_MS, staleAfterMs);
  setParam(P_MAX_TICK_AGE_MS, maxTickAgeMs);
  setParam(P_MAX_FUTURE_MS, maxFutureMs);
  setParam(P_VOL_TAU_MS, volTauMs);
  setParam(P_VOL_SAMPLE_MS, volSampleMs);
  setParam(P_REANCHOR_AFTER, reanchorAfter);
  return 0;
}

/**
 * Defines instrument `idx`: tick size in price units, and the jump band: a price further than
 * band * reference + bandFloorUnits from the reference price is a jump.
 */
export function defineInstrument(idx: u32, tickUnits: f64, band: f64, bandFloorUnits: f64): i32 {
  if (maxInstruments == 0) return E_NOT_INITIALISED;
  if (idx >= maxInstruments) return E_BAD_INSTRUMENT;
  if (!(tickUnits >= 1) || tickUnits != Math.floor(tickUnits) || !(band > 0) || !(bandFloorUnits >= 0)) {
    return E_BAD_INSTRUMENT;
  }
  const ins = instrOf(idx);
  store<f64>(ins + (<usize>I_TICK_UNITS << 3), tickUnits);
  store<f64>(ins + (<usize>I_BAND << 3), band);
  store<f64>(ins + (<usize>I_BAND_FLOOR_UNITS << 3), bandFloorUnits);
  store<f64>(ins + (<usize>I_DEFINED << 3), 1);
  const row = rowOf(idx);
  setQ(row, Q_FLAGS, <f64>(F_NO_BID | F_NO_ASK));
  if (idx + 1 > instrumentHigh) instrumentHigh = idx + 1;
  return 0;
}

function beginBatch(): void {
  batchNo = param(P_BATCH) + 1;
  setParam(P_BATCH, batchNo);
  maxTickAgeMs = param(P_MAX_TICK_AGE_MS);
  maxFutureMs = param(P_MAX_FUTURE_MS);
  reanchorAfter = param(P_REANCHOR_AFTER);
  volSampleMs = param(P_VOL_SAMPLE_MS);
  volTauMs = param(P_VOL_TAU_MS);
  acceptedInBatch = 0;
  changeCount = 0;
}

function endBatch(): void {
  bump(C_ACCEPTED, acceptedInBatch);
  setCtl(CTL_CHANGE_COUNT, changeCount);
  bump(C_BATCHES, 1);
  bump(C_CHANGED, <f64>changeCount);
}

@inline function markChanged(row: usize, idx: u32, now: f64): void {
  if (q(row, Q_MARK) != batchNo) {
    setQ(row, Q_MARK, batchNo);
    store<u32>(changeListOffset + (<usize>changeCount << 2), idx);
    changeCount++;
    setQ(row, Q_SEQ, q(row, Q_SEQ) + 1);
  }
  setQ(row, Q_INGEST_TS, now);
}

@inline function flagsOf(row: usize): u32 { return <u32>q(row, Q_FLAGS); }

@inline function setFlags(row: usize, idx: u32, flags: u32, now: f64): void {
  if (flags != flagsOf(row)) {
    setQ(row, Q_FLAGS, <f64>flags);
    markChanged(row, idx, now);
  }
}

function rejectUnknown(): void {
  bump(C_REJECTED, 1);
  bump(C_REASON_BASE + <i32>R_UNKNOWN_INSTRUMENT, 1);
}

@inline function reject(row: usize, reason: u32): void {
  bump(C_REJECTED, 1);
  bump(C_REASON_BASE + <i32>reason, 1);
  setQ(row, Q_REJECTS, q(row, Q_REJECTS) + 1);
}

@inline function isSentinel(v: f64): bool {
  return v == -1 || v == IB_UNSET_DOUBLE || v == IB_UNSET_INT;
}

/** Rounds a raw price to the nearest multiple of the tick, in price units. */
@inline function toTickUnits(price: f64, tickUnits: f64): f64 {
  return Math.floor(price * PRICE_SCALE / tickUnits + 0.5) * tickUnits;
}

/** The price a new price is checked against for jumps: mid, else last, else previous close. */
@inline function referencePrice(row: usize): f64 {
  const bid = q(row, Q_BID);
  const ask = q(row, Q_ASK);
  if (bid > 0 && ask > 0) return (bid + ask) * 0.5;
  const last = q(row, Q_LAST);
  if (last > 0) return last;
  return q(row, Q_PREV_CLOSE);
}

/**
 * Counts a jump or cross anomaly. Returns true when the tick must be rejected; after
 * P_REANCHOR_AFTER consecutive anomalies the next one is taken as the new price level.
 */
function anomaly(row: usize, idx: u32, reason: u32, flag: u32, now: f64): bool {
  const streak = q(row, Q_STREAK) + 1;
  if (streak <= reanchorAfter) {
    setQ(row, Q_STREAK, streak);
    reject(row, reason);
    setFlags(row, idx, flagsOf(row) | flag, now);
    return true;
  }
  setQ(row, Q_STREAK, 0);
  reanchoredNow = true;
  setFlags(row, idx, flagsOf(row) | F_REANCHORED, now);
  return false;
}

@inline function updateBookFlags(row: usize, idx: u32, now: f64): void {
  const bid = q(row, Q_BID);
  const ask = q(row, Q_ASK);
  let f = flagsOf(row) & ~(F_NO_BID | F_NO_ASK | F_LOCKED | F_CROSSED | F_JUMP_REJECTED | F_STALE);
  if (!(bid > 0)) f |= F_NO_BID;
  if (!(ask > 0)) f |= F_NO_ASK;
  if (bid > 0 && bid == ask) f |= F_LOCKED;
  setFlags(row, idx, f, now);
}

function updateVolatility(row: usize, ts: f64): void {
  const bid = q(row, Q_BID);
  const ask = q(row, Q_ASK);
  if (!(bid > 0 && ask > 0)) return;
  const mid = (bid + ask) * 0.5;
  const anchor = q(row, Q_VOL_MID);
  if (anchor > 0) {
    const dt = ts - q(row, Q_VOL_TS);
    if (dt < volSampleMs) return;
    const r = (mid - anchor) / anchor;
    const w = dt / (volTauMs + dt);
    const v = q(row, Q_VAR_RATE);
    setQ(row, Q_VAR_RATE, v + w * (r * r / dt - v));
    const weight = q(row, Q_VOL_WEIGHT);
    setQ(row, Q_VOL_WEIGHT, weight + w * (1 - weight));
  }
  setQ(row, Q_VOL_MID, mid);
  setQ(row, Q_VOL_TS, ts);
}

function closeBar(row: usize, idx: u32): void {
  const n = q(row, Q_BAR_COUNT);
  const slot = <usize>(<u64>n % <u64>barHistory);
  const b = barsOffset + (((<usize>idx * <usize>barHistory + slot) * <usize>BAR_STRIDE) << 3);
  store<f64>(b + (<usize>B_START << 3), q(row, Q_BAR_START));
  store<f64>(b + (<usize>B_OPEN << 3), q(row, Q_BAR_O));
  store<f64>(b + (<usize>B_HIGH << 3), q(row, Q_BAR_H));
  store<f64>(b + (<usize>B_LOW << 3), q(row, Q_BAR_L));
  store<f64>(b + (<usize>B_CLOSE << 3), q(row, Q_BAR_C));
  store<f64>(b + (<usize>B_VOLUME << 3), q(row, Q_BAR_V));
  setQ(row, Q_BAR_COUNT, n + 1);
}

function applyTrade(row: usize, idx: u32, units: f64, size: f64, ts: f64): void {
  setQ(row, Q_LAST, units);
  setQ(row, Q_LAST_SZ, size);
  setQ(row, Q_VOLUME, q(row, Q_VOLUME) + size);
  setQ(row, Q_TURNOVER, q(row, Q_TURNOVER) + units * size);
  setQ(row, Q_VWAP_VOL, q(row, Q_VWAP_VOL) + size);
  setQ(row, Q_VWAP, q(row, Q_TURNOVER) / q(row, Q_VWAP_VOL));
  if (q(row, Q_OPEN) == 0) {
    setQ(row, Q_OPEN, units);
    setQ(row, Q_HIGH, units);
    setQ(row, Q_LOW, units);
  } else {
    if (units > q(row, Q_HIGH)) setQ(row, Q_HIGH, units);
    if (units < q(row, Q_LOW)) setQ(row, Q_LOW, units);
  }
  const minute = Math.floor(ts / BAR_MS) * BAR_MS;
  const start = q(row, Q_BAR_START);
  if (start != 0 && minute == start) {
    if (units > q(row, Q_BAR_H)) setQ(row, Q_BAR_H, units);
    if (units < q(row, Q_BAR_L)) setQ(row, Q_BAR_L, units);
    setQ(row, Q_BAR_C, units);
    setQ(row, Q_BAR_V, q(row, Q_BAR_V) + size);
    return;
  }
  if (start != 0) closeBar(row, idx);
  setQ(row, Q_BAR_START, minute);
  setQ(row, Q_BAR_O, units);
  setQ(row, Q_BAR_H, units);
  setQ(row, Q_BAR_L, units);
  setQ(row, Q_BAR_C, units);
  setQ(row, Q_BAR_V, size);
}

/** Validates and applies a bid or ask price (with or without size). Returns false if rejected. */
function applySide(row: usize, idx: u32, isBid: bool, units: f64, size: f64, hasSize: bool, band: f64, floor: f64,
  now: f64): bool {
  const ref = referencePrice(row);
  if (ref > 0 && Math.abs(units - ref) > band * ref + floor) {
    if (anomaly(row, idx, R_JUMP, F_JUMP_REJECTED, now)) return false;
    // Re-anchored: the other side belongs to the old price level if it would cross.
    clearCrossedSide(row, isBid, units);
  }
  const other = isBid ? q(row, Q_ASK) : q(row, Q_BID);
  if (other > 0 && (isBid ? units > other : units < other)) {
    if (anomaly(row, idx, R_CROSSED, F_CROSSED, now)) return false;
    clearCrossedSide(row, isBid, units);
  }
  setQ(row, isBid ? Q_BID : Q_ASK, units);
  if (hasSize) setQ(row, isBid ? Q_BID_SZ : Q_ASK_SZ, size);
  return true;
}

@inline function clearCrossedSide(row: usize, isBid: bool, units: f64): void {
  if (isBid) {
    const ask = q(row, Q_ASK);
    if (ask > 0 && units > ask) { setQ(row, Q_ASK, 0); setQ(row, Q_ASK_SZ, 0); }
  } else {
    const bid = q(row, Q_BID);
    if (bid > 0 && units < bid) { setQ(row, Q_BID, 0); setQ(row, Q_BID_SZ, 0); }
  }
}

function processTick(t: usize, now: f64): void {
  const idx = load<u32>(t + <usize>T_INSTRUMENT);
  const kind = load<u32>(t + <usize>T_KIND);
  if (idx >= maxInstruments || load<f64>(instrOf(idx) + (<usize>I_DEFINED << 3)) != 1) { rejectUnknown(); return; }
  const row = rowOf(idx);
  reanchoredNow = false;
  if (kind >= KIND_COUNT) { reject(row, R_UNKNOWN_KIND); return; }
  const price = load<f64>(t + <usize>T_PRICE);
  const size = load<f64>(t + <usize>T_SIZE);
  const ts = load<f64>(t + <usize>T_TS);
  if (!isFinite(ts)) { reject(row, R_NOT_FINITE); return; }
  if (now - ts > maxTickAgeMs) { reject(row, R_STALE); return; }
  if (ts - now > maxFutureMs) { reject(row, R_FUTURE); return; }
  if (ts < q(row, Q_EXCH_TS)) { reject(row, R_OUT_OF_ORDER); return; }
  const usesPrice = kind != K_BID_SIZE && kind != K_ASK_SIZE && kind != K_VOLUME;
  const usesSize = kind != K_BID_PRICE && kind != K_ASK_PRICE && kind != K_CLOSE;
  let units: f64 = 0;
  if (usesPrice) {
    if (!isFinite(price)) { reject(row, R_NOT_FINITE); return; }
    if (isSentinel(price)) { reject(row, R_SENTINEL); return; }
    if (price <= 0) { reject(row, R_NON_POSITIVE_PRICE); return; }
    const ins = instrOf(idx);
    units = toTickUnits(price, load<f64>(ins + (<usize>I_TICK_UNITS << 3)));
    if (units <= 0) { reject(row, R_NON_POSITIVE_PRICE); return; }
  }
  if (usesSize) {
    if (!isFinite(size)) { reject(row, R_NOT_FINITE); return; }
    if (isSentinel(size)) { reject(row, R_SENTINEL); return; }
    if (size < 0 || (kind == K_TRADE && size == 0)) { reject(row, R_BAD_SIZE); return; }
  }
  const band = load<f64>(instrOf(idx) + (<usize>I_BAND << 3));
  const floor = load<f64>(instrOf(idx) + (<usize>I_BAND_FLOOR_UNITS << 3));
  let priceTick = false;
  if (kind == K_BID || kind == K_BID_PRICE || kind == K_ASK || kind == K_ASK_PRICE) {
    const isBid = kind == K_BID || kind == K_BID_PRICE;
    if (!applySide(row, idx, isBid, units, size, kind == K_BID || kind == K_ASK, band, floor, now)) return;
    priceTick = true;
  } else if (kind == K_TRADE) {
    const ref = referencePrice(row);
    if (ref > 0 && Math.abs(units - ref) > band * ref + floor) {
      if (anomaly(row, idx, R_JUMP, F_JUMP_REJECTED, now)) return;
    }
    applyTrade(row, idx, units, size, ts);
    priceTick = true;
  } else if (kind == K_BID_SIZE) {
    setQ(row, Q_BID_SZ, size);
  } else if (kind == K_ASK_SIZE) {
    setQ(row, Q_ASK_SZ, size);
  } else if (kind == K_VOLUME) {
    if (size < q(row, Q_VOLUME)) { reject(row, R_VOLUME_DECREASE); return; }
    setQ(row, Q_VOLUME, size);
  } else {
    setQ(row, Q_PREV_CLOSE, units);
  }
  acceptedInBatch += 1;
  setQ(row, Q_TICKS, q(row, Q_TICKS) + 1);
  setQ(row, Q_EXCH_TS, ts);
  if (priceTick) {
    setQ(row, Q_STREAK, 0);
    if (!reanchoredNow && (flagsOf(row) & F_REANCHORED) != 0) setQ(row, Q_FLAGS, <f64>(flagsOf(row) & ~F_REANCHORED));
    if (kind != K_TRADE) updateVolatility(row, ts);
  }
  markChanged(row, idx, now);
  updateBookFlags(row, idx, now);
}

/** Consumes `count` ticks from the ring; returns the number of changed instruments or an E_* code. */
export function ingest(count: u32, now: f64): i32 {
  if (maxInstruments == 0) return E_NOT_INITIALISED;
  const head = ctl(CTL_HEAD);
  const tail = ctl(CTL_TAIL);
  if (count > head - tail) return E_RING_UNDERFLOW;
  beginBatch();
  for (let i: u32 = 0; i < count; i++) {
    processTick(ringOffset + ((<usize>((tail + i) & ringMask) * <usize>TICK_STRIDE_BYTES)), now);
  }
  setCtl(CTL_TAIL, tail + count);
  bump(C_TICKS, <f64>count);
  endBatch();
  return <i32>changeCount;
}

/** Flags instruments with no accepted tick for staleAfterMs; returns the number changed. */
export function sweepStale(now: f64): i32 {
  if (maxInstruments == 0) return E_NOT_INITIALISED;
  beginBatch();
  const limit = param(P_STALE_AFTER_MS);
  for (let idx: u32 = 0; idx < instrumentHigh; idx++) {
    if (load<f64>(instrOf(idx) + (<usize>I_DEFINED << 3)) != 1) continue;
    const row = rowOf(idx);
    const f = flagsOf(row);
    if ((f & F_STALE) == 0 && now - q(row, Q_EXCH_TS) > limit) setFlags(row, idx, f | F_STALE, now);
  }
  endBatch();
  return <i32>changeCount;
}

/** Starts a new trading session: the last price becomes the previous close; session stats reset. */
export function resetSession(now: f64): i32 {
  if (maxInstruments == 0) return E_NOT_INITIALISED;
  beginBatch();
  for (let idx: u32 = 0; idx < instrumentHigh; idx++) {
    if (load<f64>(instrOf(idx) + (<usize>I_DEFINED << 3)) != 1) continue;
    const row = rowOf(idx);
    const last = q(row, Q_LAST);
    if (last > 0) setQ(row, Q_PREV_CLOSE, last);
    setQ(row, Q_OPEN, 0);
    setQ(row, Q_HIGH, 0);
    setQ(row, Q_LOW, 0);
    setQ(row, Q_VOLUME, 0);
    setQ(row, Q_TURNOVER, 0);
    setQ(row, Q_VWAP, 0);
    setQ(row, Q_VWAP_VOL, 0);
    markChanged(row, idx, now);
  }
  endBatch();
  return <i32>changeCount;
}
