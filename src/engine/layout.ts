// Reads the engine's memory layout from the WASM module's exports. assembly/layout.ts is the
// only definition; nothing here restates an offset or a stride.

import { PRICE_SCALE } from "../domain/price.ts";
import { QualityFlag, RejectReason, TickKind } from "../domain/tick.ts";

/** Names of the constant globals the module exports; each becomes a number in Layout. */
const CONSTANT_NAMES = [
  "PRICE_SCALE", "KIND_COUNT", "REASON_COUNT",
  "K_BID", "K_ASK", "K_TRADE", "K_BID_SIZE", "K_ASK_SIZE", "K_BID_PRICE", "K_ASK_PRICE", "K_VOLUME", "K_CLOSE",
  "R_OK", "R_UNKNOWN_INSTRUMENT", "R_UNKNOWN_KIND", "R_NOT_FINITE", "R_SENTINEL", "R_NON_POSITIVE_PRICE",
  "R_BAD_SIZE", "R_STALE", "R_OUT_OF_ORDER", "R_FUTURE", "R_CROSSED", "R_JUMP", "R_VOLUME_DECREASE",
  "F_CROSSED", "F_LOCKED", "F_STALE", "F_JUMP_REJECTED", "F_REANCHORED", "F_NO_BID", "F_NO_ASK", "F_DELAYED",
  "Q_BID", "Q_BID_SZ", "Q_ASK", "Q_ASK_SZ", "Q_LAST", "Q_LAST_SZ", "Q_VOLUME", "Q_TURNOVER", "Q_VWAP", "Q_OPEN",
  "Q_HIGH", "Q_LOW", "Q_PREV_CLOSE", "Q_VAR_RATE", "Q_EXCH_TS", "Q_INGEST_TS", "Q_SEQ", "Q_FLAGS", "Q_VOL_MID",
  "Q_VOL_TS", "Q_BAR_START", "Q_BAR_O", "Q_BAR_H", "Q_BAR_L", "Q_BAR_C", "Q_BAR_V", "Q_BAR_COUNT", "Q_STREAK",
  "Q_REJECTS", "Q_MARK", "Q_TICKS", "Q_VWAP_VOL", "Q_VOL_WEIGHT", "QUOTE_STRIDE",
  "I_TICK_UNITS", "I_BAND", "I_DEFINED", "I_BAND_FLOOR_UNITS", "INSTR_STRIDE",
  "B_START", "B_OPEN", "B_HIGH", "B_LOW", "B_CLOSE", "B_VOLUME", "BAR_STRIDE", "BAR_MS",
  "T_PRICE", "T_SIZE", "T_TS", "T_INSTRUMENT", "T_KIND", "TICK_STRIDE_BYTES",
  "C_TICKS", "C_ACCEPTED", "C_REJECTED", "C_BATCHES", "C_CHANGED", "C_REASON_BASE", "COUNTER_COUNT",
  "CTL_HEAD", "CTL_TAIL", "CTL_CHANGE_COUNT", "CTL_WORDS",
  "P_STALE_AFTER_MS", "P_MAX_TICK_AGE_MS", "P_MAX_FUTURE_MS", "P_VOL_TAU_MS", "P_REANCHOR_AFTER", "P_BATCH",
  "P_VOL_SAMPLE_MS", "PARAM_COUNT",
  "E_MEMORY_TOO_SMALL", "E_BAD_CAPACITY", "E_RING_UNDERFLOW", "E_NOT_INITIALISED", "E_BAD_INSTRUMENT",
] as const;

/** Names of the mutable globals set by init(): byte offsets of the tables and the capacities. */
const PLACEMENT_NAMES = [
  "ctlOffset", "paramsOffset", "countersOffset", "instrumentsOffset", "quotesOffset", "barsOffset",
  "changeListOffset", "ringOffset", "maxInstruments", "ringCapacity", "ringMask", "barHistory",
] as const;

/** Every layout constant and table placement of an initialised engine, by export name. */
export type Layout = Record<(typeof CONSTANT_NAMES)[number] | (typeof PLACEMENT_NAMES)[number], number>;

/** Reads the layout from an initialised module instance's exports. */
export function readLayout(exports: WebAssembly.Exports): Layout {
  const out = {} as Layout;
  for (const name of [...CONSTANT_NAMES, ...PLACEMENT_NAMES]) {
    const g = exports[name];
    if (!(g instanceof WebAssembly.Global)) throw new Error(`engine module does not export global ${name}`);
    out[name] = Number(g.value);
  }
  checkMirrors(out);
  return out;
}

/** The mirrors in src/domain must equal the module's values; a mismatch is a build bug. */
function checkMirrors(l: Layout): void {
  const pairs: [string, number, number][] = [["PRICE_SCALE", PRICE_SCALE, l.PRICE_SCALE]];
  const kinds: Record<keyof typeof TickKind, keyof Layout> = {
    Bid: "K_BID", Ask: "K_ASK", Trade: "K_TRADE", BidSize: "K_BID_SIZE", AskSize: "K_ASK_SIZE",
    BidPrice: "K_BID_PRICE", AskPrice: "K_ASK_PRICE", Volume: "K_VOLUME", Close: "K_CLOSE",
  };
  for (const [k, name] of Object.entries(kinds)) pairs.push([name, TickKind[k as keyof typeof TickKind], l[name]]);
  const reasons: Record<keyof typeof RejectReason, keyof Layout> = {
    Ok: "R_OK", UnknownInstrument: "R_UNKNOWN_INSTRUMENT", UnknownKind: "R_UNKNOWN_KIND", NotFinite: "R_NOT_FINITE",
    Sentinel: "R_SENTINEL", NonPositivePrice: "R_NON_POSITIVE_PRICE", BadSize: "R_BAD_SIZE", Stale: "R_STALE",
    OutOfOrder: "R_OUT_OF_ORDER", Future: "R_FUTURE", Crossed: "R_CROSSED", Jump: "R_JUMP",
    VolumeDecrease: "R_VOLUME_DECREASE",
  };
  for (const [k, name] of Object.entries(reasons)) pairs.push([name, RejectReason[k as keyof typeof RejectReason], l[name]]);
  const flags: Record<keyof typeof QualityFlag, keyof Layout> = {
    Crossed: "F_CROSSED", Locked: "F_LOCKED", Stale: "F_STALE", JumpRejected: "F_JUMP_REJECTED",
    Reanchored: "F_REANCHORED", NoBid: "F_NO_BID", NoAsk: "F_NO_ASK", Delayed: "F_DELAYED",
  };
  for (const [k, name] of Object.entries(flags)) pairs.push([name, QualityFlag[k as keyof typeof QualityFlag], l[name]]);
  pairs.push(["KIND_COUNT", Object.keys(TickKind).length, l.KIND_COUNT]);
  pairs.push(["REASON_COUNT", Object.keys(RejectReason).length, l.REASON_COUNT]);
  for (const [name, mirror, actual] of pairs) {
    if (mirror !== actual) throw new Error(`src/domain mirror of ${name} is ${mirror}, engine says ${actual}`);
  }
}
