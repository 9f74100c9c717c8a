// The hot path of assembly/index.ts written again in plain TypeScript over the same memory
// layout. It exists to check the WASM module (the two must leave identical bytes behind for
// the same ticks) and as the benchmark baseline. Keep it a line-by-line mirror of the
// AssemblyScript: same operations in the same order, so IEEE-754 results agree exactly.

import type { Layout } from "./layout.ts";
import type { Capacities, CoreParams, EngineCore } from "./core.ts";
import { planLayout } from "./wasm.ts";

const IB_UNSET_DOUBLE = 1.7976931348623157e308;
const IB_UNSET_INT = 2147483647;

/** The TypeScript reference core. */
export class ReferenceCore implements EngineCore {
  readonly name = "ts" as const;
  readonly buffer: ArrayBuffer;
  private readonly f64: Float64Array;
  private readonly u32: Uint32Array;
  // Table bases in f64 / u32 element units.
  private readonly quotes: number;
  private readonly instrs: number;
  private readonly params: number;
  private readonly counters: number;
  private readonly bars: number;
  private readonly changes: number;
  private readonly ring: number;
  private readonly ctl: number;
  private changeCount = 0;
  private instrumentHigh = 0;
  private reanchoredNow = false;

  constructor(readonly layout: Layout, bytes: number) {
    this.buffer = new ArrayBuffer(bytes);
    this.f64 = new Float64Array(this.buffer);
    this.u32 = new Uint32Array(this.buffer);
    this.quotes = layout.quotesOffset / 8;
    this.instrs = layout.instrumentsOffset / 8;
    this.params = layout.paramsOffset / 8;
    this.counters = layout.countersOffset / 8;
    this.bars = layout.barsOffset / 8;
    this.changes = layout.changeListOffset / 4;
    this.ring = layout.ringOffset;
    this.ctl = layout.ctlOffset / 4;
  }

  configure(p: CoreParams): number {
    const L = this.layout, f = this.f64, b = this.params;
    f[b + L.P_STALE_AFTER_MS] = p.staleAfterMs;
    f[b + L.P_MAX_TICK_AGE_MS] = p.maxTickAgeMs;
    f[b + L.P_MAX_FUTURE_MS] = p.maxFutureMs;
    f[b + L.P_VOL_TAU_MS] = p.volTauMs;
    f[b + L.P_VOL_SAMPLE_MS] = p.volSampleMs;
    f[b + L.P_REANCHOR_AFTER] = p.reanchorAfter;
    return 0;
  }

  defineInstrument(idx: number, tickUnits: number, band: number, bandFloorUnits: number): number {
    const L = this.layout;
    if (idx >= L.maxInstruments) return L.E_BAD_INSTRUMENT;
    if (!(tickUnits >= 1) || tickUnits !== Math.floor(tickUnits) || !(band > 0) || !(bandFloorUnits >= 0)) {
      return L.E_BAD_INSTRUMENT;
    }
    const ins = this.instrs + idx * L.INSTR_STRIDE;
    this.f64[ins + L.I_TICK_UNITS] = tickUnits;
    this.f64[ins + L.I_BAND] = band;
    this.f64[ins + L.I_BAND_FLOOR_UNITS] = bandFloorUnits;
    this.f64[ins + L.I_DEFINED] = 1;
    this.f64[this.rowOf(idx) + L.Q_FLAGS] = L.F_NO_BID | L.F_NO_ASK;
    if (idx + 1 > this.instrumentHigh) this.instrumentHigh = idx + 1;
    return 0;
  }

  private rowOf(idx: number): number {
    return this.quotes + idx * this.layout.QUOTE_STRIDE;
  }

  private param(p: number): number {
    return this.f64[this.params + p]!;
  }

  private bump(c: number, by: number): void {
    this.f64[this.counters + c] += by;
  }

  private beginBatch(): void {
    this.f64[this.params + this.layout.P_BATCH] += 1;
    this.changeCount = 0;
  }

  private endBatch(): void {
    const L = this.layout;
    this.u32[this.ctl + L.CTL_CHANGE_COUNT] = this.changeCount;
    this.bump(L.C_BATCHES, 1);
    this.bump(L.C_CHANGED, this.changeCount);
  }

  private markChanged(row: number, idx: number, now: number): void {
    const L = this.layout, f = this.f64;
    const batch = this.param(L.P_BATCH);
    if (f[row + L.Q_MARK] !== batch) {
      f[row + L.Q_MARK] = batch;
      this.u32[this.changes + this.changeCount] = idx;
      this.changeCount++;
      f[row + L.Q_SEQ] += 1;
    }
    f[row + L.Q_INGEST_TS] = now;
  }

  private flagsOf(row: number): number {
    return this.f64[row + this.layout.Q_FLAGS]! >>> 0;
  }

  private setFlags(row: number, idx: number, flags: number, now: number): void {
    if (flags !== this.flagsOf(row)) {
      this.f64[row + this.layout.Q_FLAGS] = flags;
      this.markChanged(row, idx, now);
    }
  }

  private reject(row: number, reason: number): void {
    const L = this.layout;
    this.bump(L.C_REJECTED, 1);
    this.bump(L.C_REASON_BASE + reason, 1);
    this.f64[row + L.Q_REJECTS] += 1;
  }

  private referencePrice(row: number): number {
    const L = this.layout, f = this.f64;
    const bid = f[row + L.Q_BID]!;
    const ask = f[row + L.Q_ASK]!;
    if (bid > 0 && ask > 0) return (bid + ask) * 0.5;
    const last = f[row + L.Q_LAST]!;
    if (last > 0) return last;
    return f[row + L.Q_PREV_CLOSE]!;
  }

  private anomaly(row: number, idx: number, reason: number, flag: number, now: number): boolean {
    const L = this.layout;
    const streak = this.f64[row + L.Q_STREAK]! + 1;
    if (streak <= this.param(L.P_REANCHOR_AFTER)) {
      this.f64[row + L.Q_STREAK] = streak;
      this.reject(row, reason);
      this.setFlags(row, idx, (this.flagsOf(row) | flag) >>> 0, now);
      return true;
    }
    this.f64[row + L.Q_STREAK] = 0;
    this.reanchoredNow = true;
    this.setFlags(row, idx, (this.flagsOf(row) | L.F_REANCHORED) >>> 0, now);
    return false;
  }

  private updateBookFlags(row: number, idx: number, now: number): void {
    const L = this.layout, f = this.f64;
    const bid = f[row + L.Q_BID]!;
    const ask = f[row + L.Q_ASK]!;
    let fl = this.flagsOf(row) & ~(L.F_NO_BID | L.F_NO_ASK | L.F_LOCKED | L.F_CROSSED | L.F_JUMP_REJECTED | L.F_STALE);
    if (!(bid > 0)) fl |= L.F_NO_BID;
    if (!(ask > 0)) fl |= L.F_NO_ASK;
    if (bid > 0 && bid === ask) fl |= L.F_LOCKED;
    this.setFlags(row, idx, fl >>> 0, now);
  }

  private updateVolatility(row: number, ts: number): void {
    const L = this.layout, f = this.f64;
    const bid = f[row + L.Q_BID]!;
    const ask = f[row + L.Q_ASK]!;
    if (!(bid > 0 && ask > 0)) return;
    const mid = (bid + ask) * 0.5;
    const anchor = f[row + L.Q_VOL_MID]!;
    if (anchor > 0) {
      const dt = ts - f[row + L.Q_VOL_TS]!;
      if (dt < this.param(L.P_VOL_SAMPLE_MS)) return;
      const r = (mid - anchor) / anchor;
      const w = dt / (this.param(L.P_VOL_TAU_MS) + dt);
      const v = f[row + L.Q_VAR_RATE]!;
      f[row + L.Q_VAR_RATE] = v + w * ((r * r) / dt - v);
      const weight = f[row + L.Q_VOL_WEIGHT]!;
      f[row + L.Q_VOL_WEIGHT] = weight + w * (1 - weight);
    }
    f[row + L.Q_VOL_MID] = mid;
    f[row + L.Q_VOL_TS] = ts;
  }

  private closeBar(row: number, idx: number): void {
    const L = this.layout, f = this.f64;
    const n = f[row + L.Q_BAR_COUNT]!;
    const slot = n % L.barHistory;
    const b = this.bars + (idx * L.barHistory + slot) * L.BAR_STRIDE;
    f[b + L.B_START] = f[row + L.Q_BAR_START]!;
    f[b + L.B_OPEN] = f[row + L.Q_BAR_O]!;
    f[b + L.B_HIGH] = f[row + L.Q_BAR_H]!;
    f[b + L.B_LOW] = f[row + L.Q_BAR_L]!;
    f[b + L.B_CLOSE] = f[row + L.Q_BAR_C]!;
    f[b + L.B_VOLUME] = f[row + L.Q_BAR_V]!;
    f[row + L.Q_BAR_COUNT] = n + 1;
  }

  private applyTrade(row: number, idx: number, units: number, size: number, ts: number): void {
    const L = this.layout, f = this.f64;
    f[row + L.Q_LAST] = units;
    f[row + L.Q_LAST_SZ] = size;
    f[row + L.Q_VOLUME] = f[row + L.Q_VOLUME]! + size;
    f[row + L.Q_TURNOVER] = f[row + L.Q_TURNOVER]! + units * size;
    f[row + L.Q_VWAP_VOL] = f[row + L.Q_VWAP_VOL]! + size;
    f[row + L.Q_VWAP] = f[row + L.Q_TURNOVER]! / f[row + L.Q_VWAP_VOL]!;
    if (f[row + L.Q_OPEN] === 0) {
      f[row + L.Q_OPEN] = units;
      f[row + L.Q_HIGH] = units;
      f[row + L.Q_LOW] = units;
    } else {
      if (units > f[row + L.Q_HIGH]!) f[row + L.Q_HIGH] = units;
      if (units < f[row + L.Q_LOW]!) f[row + L.Q_LOW] = units;
    }
    const minute = Math.floor(ts / L.BAR_MS) * L.BAR_MS;
    const start = f[row + L.Q_BAR_START]!;
    if (start !== 0 && minute === start) {
      if (units > f[row + L.Q_BAR_H]!) f[row + L.Q_BAR_H] = units;
      if (units < f[row + L.Q_BAR_L]!) f[row + L.Q_BAR_L] = units;
      f[row + L.Q_BAR_C] = units;
      f[row + L.Q_BAR_V] = f[row + L.Q_BAR_V]! + size;
      return;
    }
    if (start !== 0) this.closeBar(row, idx);
    f[row + L.Q_BAR_START] = minute;
    f[row + L.Q_BAR_O] = units;
    f[row + L.Q_BAR_H] = units;
    f[row + L.Q_BAR_L] = units;
    f[row + L.Q_BAR_C] = units;
    f[row + L.Q_BAR_V] = size;
  }

  private clearCrossedSide(row: number, isBid: boolean, units: number): void {
    const L = this.layout, f = this.f64;
    if (isBid) {
      const ask = f[row + L.Q_ASK]!;
      if (ask > 0 && units > ask) { f[row + L.Q_ASK] = 0; f[row + L.Q_ASK_SZ] = 0; }
    } else {
      const bid = f[row + L.Q_BID]!;
      if (bid > 0 && units < bid) { f[row + L.Q_BID] = 0; f[row + L.Q_BID_SZ] = 0; }
    }
  }

  private applySide(row: number, idx: number, isBid: boolean, units: number, size: number, hasSize: boolean,
    band: number, floor: number, now: number): boolean {
    const L = this.layout, f = this.f64;
    const ref = this.referencePrice(row);
    if (ref > 0 && Math.abs(units - ref) > band * ref + floor) {
      if (this.anomaly(row, idx, L.R_JUMP, L.F_JUMP_REJECTED, now)) return false;
      this.clearCrossedSide(row, isBid, units);
    }
    const other = isBid ? f[row + L.Q_ASK]! : f[row + L.Q_BID]!;
    if (other > 0 && (isBid ? units > other : units < other)) {
      if (this.anomaly(row, idx, L.R_CROSSED, L.F_CROSSED, now)) return false;
      this.clearCrossedSide(row, isBid, units);
    }
    f[row + (isBid ? L.Q_BID : L.Q_ASK)] = units;
    if (hasSize) f[row + (isBid ? L.Q_BID_SZ : L.Q_ASK_SZ)] = size;
    return true;
  }

  private processTick(t: number, now: number): void {
    const L = this.layout, f = this.f64;
    const idx = this.u32[(t + L.T_INSTRUMENT) / 4]!;
    const kind = this.u32[(t + L.T_KIND) / 4]!;
    if (idx >= L.maxInstruments || f[this.instrs + idx * L.INSTR_STRIDE + L.I_DEFINED] !== 1) {
      this.bump(L.C_REJECTED, 1);
      this.bump(L.C_REASON_BASE + L.R_UNKNOWN_INSTRUMENT, 1);
      return;
    }
    const row = this.rowOf(idx);
    this.reanchoredNow = false;
    if (kind >= L.KIND_COUNT) { this.reject(row, L.R_UNKNOWN_KIND); return; }
    const price = f[(t + L.T_PRICE) / 8]!;
    const size = f[(t + L.T_SIZE) / 8]!;
    const ts = f[(t + L.T_TS) / 8]!;
    if (!Number.isFinite(ts)) { this.reject(row, L.R_NOT_FINITE); return; }
    if (now - ts > this.param(L.P_MAX_TICK_AGE_MS)) { this.reject(row, L.R_STALE); return; }
    if (ts - now > this.param(L.P_MAX_FUTURE_MS)) { this.reject(row, L.R_FUTURE); return; }
    if (ts < f[row + L.Q_EXCH_TS]!) { this.reject(row, L.R_OUT_OF_ORDER); return; }
    const usesPrice = kind !== L.K_BID_SIZE && kind !== L.K_ASK_SIZE && kind !== L.K_VOLUME;
    const usesSize = kind !== L.K_BID_PRICE && kind !== L.K_ASK_PRICE && kind !== L.K_CLOSE;
    const ins = this.instrs + idx * L.INSTR_STRIDE;
    let units = 0;
    if (usesPrice) {
      if (!Number.isFinite(price)) { this.reject(row, L.R_NOT_FINITE); return; }
      if (price === -1 || price === IB_UNSET_DOUBLE || price === IB_UNSET_INT) { this.reject(row, L.R_SENTINEL); return; }
      if (price <= 0) { this.reject(row, L.R_NON_POSITIVE_PRICE); return; }
      const tick = f[ins + L.I_TICK_UNITS]!;
      units = Math.floor((price * L.PRICE_SCALE) / tick + 0.5) * tick;
      if (units <= 0) { this.reject(row, L.R_NON_POSITIVE_PRICE); return; }
    }
    if (usesSize) {
      if (!Number.isFinite(size)) { this.reject(row, L.R_NOT_FINITE); return; }
      if (size === -1 || size === IB_UNSET_DOUBLE || size === IB_UNSET_INT) { this.reject(row, L.R_SENTINEL); return; }
      if (size < 0 || (kind === L.K_TRADE && size === 0)) { this.reject(row, L.R_BAD_SIZE); return; }
    }
    const band = f[ins + L.I_BAND]!;
    const floor = f[ins + L.I_BAND_FLOOR_UNITS]!;
    let priceTick = false;
    if (kind === L.K_BID || kind === L.K_BID_PRICE || kind === L.K_ASK || kind === L.K_ASK_PRICE) {
      const isBid = kind === L.K_BID || kind === L.K_BID_PRICE;
      if (!this.applySide(row, idx, isBid, units, size, kind === L.K_BID || kind === L.K_ASK, band, floor, now)) return;
      priceTick = true;
    } else if (kind === L.K_TRADE) {
      const ref = this.referencePrice(row);
      if (ref > 0 && Math.abs(units - ref) > band * ref + floor) {
        if (this.anomaly(row, idx, L.R_JUMP, L.F_JUMP_REJECTED, now)) return;
      }
      this.applyTrade(row, idx, units, size, ts);
      priceTick = true;
    } else if (kind === L.K_BID_SIZE) {
      f[row + L.Q_BID_SZ] = size;
    } else if (kind === L.K_ASK_SIZE) {
      f[row + L.Q_ASK_SZ] = size;
    } else if (kind === L.K_VOLUME) {
      if (size < f[row + L.Q_VOLUME]!) { this.reject(row, L.R_VOLUME_DECREASE); return; }
      f[row + L.Q_VOLUME] = size;
    } else {
      f[row + L.Q_PREV_CLOSE] = units;
    }
    this.bump(L.C_ACCEPTED, 1);
    f[row + L.Q_TICKS] = f[row + L.Q_TICKS]! + 1;
    f[row + L.Q_EXCH_TS] = ts;
    if (priceTick) {
      f[row + L.Q_STREAK] = 0;
      if (!this.reanchoredNow && (this.flagsOf(row) & L.F_REANCHORED) !== 0) {
        f[row + L.Q_FLAGS] = (this.flagsOf(row) & ~L.F_REANCHORED) >>> 0;
      }
      if (kind !== L.K_TRADE) this.updateVolatility(row, ts);
    }
    this.markChanged(row, idx, now);
    this.updateBookFlags(row, idx, now);
  }

  ingest(count: number, now: number): number {
    const L = this.layout;
    const head = this.u32[this.ctl + L.CTL_HEAD]!;
    const tail = this.u32[this.ctl + L.CTL_TAIL]!;
    if (count > ((head - tail) >>> 0)) return L.E_RING_UNDERFLOW;
    this.beginBatch();
    for (let i = 0; i < count; i++) {
      this.processTick(this.ring + (((tail + i) & L.ringMask) >>> 0) * L.TICK_STRIDE_BYTES, now);
    }
    this.u32[this.ctl + L.CTL_TAIL] = (tail + count) >>> 0;
    this.bump(L.C_TICKS, count);
    this.endBatch();
    return this.changeCount;
  }

  sweepStale(now: number): number {
    const L = this.layout, f = this.f64;
    this.beginBatch();
    const limit = this.param(L.P_STALE_AFTER_MS);
    for (let idx = 0; idx < this.instrumentHigh; idx++) {
      if (f[this.instrs + idx * L.INSTR_STRIDE + L.I_DEFINED] !== 1) continue;
      const row = this.rowOf(idx);
      const fl = this.flagsOf(row);
      if ((fl & L.F_STALE) === 0 && now - f[row + L.Q_EXCH_TS]! > limit) this.setFlags(row, idx, (fl | L.F_STALE) >>> 0, now);
    }
    this.endBatch();
    return this.changeCount;
  }

  resetSession(now: number): number {
    const L = this.layout, f = this.f64;
    this.beginBatch();
    for (let idx = 0; idx < this.instrumentHigh; idx++) {
      if (f[this.instrs + idx * L.INSTR_STRIDE + L.I_DEFINED] !== 1) continue;
      const row = this.rowOf(idx);
      const last = f[row + L.Q_LAST]!;
      if (last > 0) f[row + L.Q_PREV_CLOSE] = last;
      for (const k of [L.Q_OPEN, L.Q_HIGH, L.Q_LOW, L.Q_VOLUME, L.Q_TURNOVER, L.Q_VWAP, L.Q_VWAP_VOL]) f[row + k] = 0;
      this.markChanged(row, idx, now);
    }
    this.endBatch();
    return this.changeCount;
  }
}

/** Creates the reference core with an ordinary ArrayBuffer laid out exactly like the WASM memory. */
export async function createReferenceCore(caps: Capacities): Promise<EngineCore> {
  const { layout, bytes } = await planLayout(caps);
  return new ReferenceCore(layout, bytes);
}
