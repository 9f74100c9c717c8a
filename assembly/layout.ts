// The one definition of the engine's memory layout. The host reads every constant and
// offset below from the module's exports (src/engine/layout.ts) and never restates them.
//
// All tables live in one imported, shared, fixed-size WebAssembly.Memory. Rows are arrays
// of f64 so that the host can read a whole row through a single Float64Array view; integer
// fields (sequence numbers, flags, counts) are stored as f64, which is exact below 2^53.

/** Fixed-point price scale: a price of 1.0 is stored as 1e8 price units. */
export const PRICE_SCALE: f64 = 1e8;

// ---- tick kinds (the `kind` field of a tick in the ring) ----
/** Best bid price and size. */
export const K_BID: u32 = 0;
/** Best ask price and size. */
export const K_ASK: u32 = 1;
/** A trade: price and size; adds to volume, VWAP and bars. */
export const K_TRADE: u32 = 2;
/** Bid size only; the price is ignored. */
export const K_BID_SIZE: u32 = 3;
/** Ask size only; the price is ignored. */
export const K_ASK_SIZE: u32 = 4;
/** Bid price only; the size is ignored and the displayed size is kept. */
export const K_BID_PRICE: u32 = 5;
/** Ask price only; the size is ignored and the displayed size is kept. */
export const K_ASK_PRICE: u32 = 6;
/** Cumulative session volume reported by the venue, in the size field. */
export const K_VOLUME: u32 = 7;
/** Previous session close, in the price field. */
export const K_CLOSE: u32 = 8;
/** Number of tick kinds. */
export const KIND_COUNT: u32 = 9;

// ---- reject reasons (counted per reason in the counters table) ----
export const R_OK: u32 = 0;
export const R_UNKNOWN_INSTRUMENT: u32 = 1;
export const R_UNKNOWN_KIND: u32 = 2;
export const R_NOT_FINITE: u32 = 3;
export const R_SENTINEL: u32 = 4;
export const R_NON_POSITIVE_PRICE: u32 = 5;
export const R_BAD_SIZE: u32 = 6;
export const R_STALE: u32 = 7;
export const R_OUT_OF_ORDER: u32 = 8;
export const R_FUTURE: u32 = 9;
export const R_CROSSED: u32 = 10;
export const R_JUMP: u32 = 11;
export const R_VOLUME_DECREASE: u32 = 12;
/** Number of reject reasons including R_OK. */
export const REASON_COUNT: u32 = 13;

// ---- quality flags (bit set in Q_FLAGS) ----
/** The last quote update would have crossed the book and was rejected. */
export const F_CROSSED: u32 = 1;
/** Bid equals ask. */
export const F_LOCKED: u32 = 2;
/** No accepted tick for longer than staleAfterMs. */
export const F_STALE: u32 = 4;
/** The last price tick was rejected as a jump beyond the band. */
export const F_JUMP_REJECTED: u32 = 8;
/** The price level was re-anchored after repeated jump/cross rejects. */
export const F_REANCHORED: u32 = 16;
/** No valid bid. */
export const F_NO_BID: u32 = 32;
/** No valid ask. */
export const F_NO_ASK: u32 = 64;
/** Data is delayed (set by the host for feeds that fell back to delayed data). */
export const F_DELAYED: u32 = 128;

// ---- quote row: f64 fields, QUOTE_STRIDE per instrument ----
export const Q_BID: i32 = 0; // price units
export const Q_BID_SZ: i32 = 1;
export const Q_ASK: i32 = 2; // price units
export const Q_ASK_SZ: i32 = 3;
export const Q_LAST: i32 = 4; // price units
export const Q_LAST_SZ: i32 = 5;
export const Q_VOLUME: i32 = 6;
export const Q_TURNOVER: i32 = 7; // sum(price units * size), float
export const Q_VWAP: i32 = 8; // price units, float
export const Q_OPEN: i32 = 9; // session open, price units
export const Q_HIGH: i32 = 10;
export const Q_LOW: i32 = 11;
export const Q_PREV_CLOSE: i32 = 12;
export const Q_VAR_RATE: i32 = 13; // EWMA variance of mid returns per ms
export const Q_EXCH_TS: i32 = 14; // exchange time of the last accepted tick, epoch ms
export const Q_INGEST_TS: i32 = 15; // host time of the batch that last changed the row, epoch ms
export const Q_SEQ: i32 = 16; // +1 every batch that changes the row
export const Q_FLAGS: i32 = 17;
export const Q_VOL_MID: i32 = 18; // mid at the last volatility update, price units
export const Q_VOL_TS: i32 = 19;
export const Q_BAR_START: i32 = 20; // start of the open 1-minute bar, epoch ms (0 = none)
export const Q_BAR_O: i32 = 21;
export const Q_BAR_H: i32 = 22;
export const Q_BAR_L: i32 = 23;
export const Q_BAR_C: i32 = 24;
export const Q_BAR_V: i32 = 25;
export const Q_BAR_COUNT: i32 = 26; // closed bars written so far (ring index = count % history)
export const Q_STREAK: i32 = 27; // consecutive jump/cross rejects
export const Q_REJECTS: i32 = 28;
export const Q_MARK: i32 = 29; // batch number that last put the row in the change list
export const Q_TICKS: i32 = 30; // accepted ticks
export const Q_VWAP_VOL: i32 = 31; // traded size seen by this engine this session (VWAP denominator)
export const Q_VOL_WEIGHT: i32 = 32; // total EWMA weight of the samples so far (bias correction: variance = Q_VAR_RATE / weight)
export const QUOTE_STRIDE: i32 = 40;

// ---- instrument row: f64 fields ----
export const I_TICK_UNITS: i32 = 0; // tick size in price units (integer >= 1)
export const I_BAND: i32 = 1; // jump band as a fraction of the reference price
export const I_DEFINED: i32 = 2; // 1 when defined
export const I_BAND_FLOOR_UNITS: i32 = 3; // absolute part of the jump band, price units
export const INSTR_STRIDE: i32 = 4;

// ---- closed bar row: f64 fields ----
export const B_START: i32 = 0;
export const B_OPEN: i32 = 1;
export const B_HIGH: i32 = 2;
export const B_LOW: i32 = 3;
export const B_CLOSE: i32 = 4;
export const B_VOLUME: i32 = 5;
export const BAR_STRIDE: i32 = 6;
export const BAR_MS: f64 = 60000;

// ---- tick record in the ring: TICK_STRIDE_BYTES each ----
export const T_PRICE: i32 = 0; // f64 byte offset
export const T_SIZE: i32 = 8; // f64
export const T_TS: i32 = 16; // f64, exchange time epoch ms
export const T_INSTRUMENT: i32 = 24; // u32
export const T_KIND: i32 = 28; // u32
export const TICK_STRIDE_BYTES: i32 = 32;

// ---- counters: f64 ----
export const C_TICKS: i32 = 0;
export const C_ACCEPTED: i32 = 1;
export const C_REJECTED: i32 = 2;
export const C_BATCHES: i32 = 3;
export const C_CHANGED: i32 = 4; // rows put in change lists
export const C_REASON_BASE: i32 = 8; // + reason code
export const COUNTER_COUNT: i32 = 32;

// ---- control block: u32 words ----
export const CTL_HEAD: i32 = 0; // written by the host: ticks written (wrapping)
export const CTL_TAIL: i32 = 1; // written by the engine: ticks consumed (wrapping)
export const CTL_CHANGE_COUNT: i32 = 2;
export const CTL_WORDS: i32 = 16;

// ---- parameters: f64, set by configure() ----
export const P_STALE_AFTER_MS: i32 = 0;
export const P_MAX_TICK_AGE_MS: i32 = 1;
export const P_MAX_FUTURE_MS: i32 = 2;
export const P_VOL_TAU_MS: i32 = 3;
export const P_REANCHOR_AFTER: i32 = 4;
export const P_BATCH: i32 = 5; // current batch number
export const P_VOL_SAMPLE_MS: i32 = 6; // minimum spacing of volatility samples
export const PARAM_COUNT: i32 = 8;

// ---- error codes returned by init() and ingest() ----
export const E_MEMORY_TOO_SMALL: i32 = -1;
export const E_BAD_CAPACITY: i32 = -2;
export const E_RING_UNDERFLOW: i32 = -3;
export const E_NOT_INITIALISED: i32 = -4;
export const E_BAD_INSTRUMENT: i32 = -5;

// ---- greeks region: GREEKS_STRIDE f64 fields per option, GREEKS_CAPACITY rows ----
// Inputs are written by the host, outputs by greeksBatch() / impliedVolBatch() in greeks.ts.
// The capacity is fixed so the region is placed once at start-up and never grows.
/** Rows in the greeks region: the largest batch one call can price. */
export const GREEKS_CAPACITY: u32 = 1024;
export const G_SPOT: i32 = 0; // input: underlying price
export const G_STRIKE: i32 = 1; // input
export const G_TIME: i32 = 2; // input: years to expiry
export const G_RATE: i32 = 3; // input: continuously compounded risk-free rate
export const G_DIV: i32 = 4; // input: continuous dividend yield
export const G_VOL: i32 = 5; // input to greeksBatch: annualised volatility
export const G_TARGET: i32 = 6; // input to impliedVolBatch: the option price to solve for
export const G_RIGHT: i32 = 7; // input: 1 = call, 0 = put
export const G_PRICE: i32 = 8; // output: model price
export const G_DELTA: i32 = 9; // output: dPrice/dSpot
export const G_GAMMA: i32 = 10; // output: d2Price/dSpot2
export const G_VEGA: i32 = 11; // output: dPrice/dVol, per 1.00 of volatility
export const G_THETA: i32 = 12; // output: -dPrice/dTime, per year
export const G_RHO: i32 = 13; // output: dPrice/dRate, per 1.00 of rate
export const G_IV: i32 = 14; // output of impliedVolBatch: the solved volatility (NaN when none)
export const G_STATUS: i32 = 15; // output: a GS_* code
export const GREEKS_STRIDE: i32 = 16;

// ---- greeks status codes (G_STATUS) ----
export const GS_OK: i32 = 0;
/** A non-finite or non-positive spot or strike, a negative vol or time, or a bad right. */
export const GS_BAD_INPUT: i32 = 1;
/** Zero time to expiry (or zero vol): intrinsic value only, no implied volatility. */
export const GS_NO_TIME: i32 = 2;
/** The target price is at or below the no-arbitrage lower bound: no volatility gives it. */
export const GS_BELOW_BOUND: i32 = 3;
/** The target price is at or above the no-arbitrage upper bound (or above the price at the highest vol searched). */
export const GS_ABOVE_BOUND: i32 = 4;
/** The solver did not converge within its iteration bound. */
export const GS_NO_CONVERGENCE: i32 = 5;

const ALIGN: usize = 64;

function alignUp(n: usize): usize {
  return (n + ALIGN - 1) & ~(ALIGN - 1);
}

// Region sizes in bytes, in the order the regions are laid out.
function ctlBytes(): usize { return alignUp(<usize>CTL_WORDS * 4); }
function paramBytes(): usize { return alignUp(<usize>PARAM_COUNT * 8); }
function counterBytes(): usize { return alignUp(<usize>COUNTER_COUNT * 8); }
function instrumentBytes(n: u32): usize { return alignUp(<usize>n * <usize>INSTR_STRIDE * 8); }
function quoteBytes(n: u32): usize { return alignUp(<usize>n * <usize>QUOTE_STRIDE * 8); }
function barBytes(n: u32, h: u32): usize { return alignUp(<usize>n * <usize>h * <usize>BAR_STRIDE * 8); }
function changeBytes(n: u32): usize { return alignUp(<usize>n * 4); }
function ringBytes(r: u32): usize { return alignUp(<usize>r * <usize>TICK_STRIDE_BYTES); }
function greeksBytes(): usize { return alignUp(<usize>GREEKS_CAPACITY * <usize>GREEKS_STRIDE * 8); }
function tablesBase(): usize { return alignUp(__heap_base); }

export let ctlOffset: usize = 0;
export let paramsOffset: usize = 0;
export let countersOffset: usize = 0;
export let instrumentsOffset: usize = 0;
export let quotesOffset: usize = 0;
export let barsOffset: usize = 0;
export let changeListOffset: usize = 0;
export let ringOffset: usize = 0;
/** The greeks region; placed after the tick ring so the quote tables keep their offsets. */
export let greeksOffset: usize = 0;
/** Set only by a successful init(); every entry point refuses to run while it is 0. */
export let maxInstruments: u32 = 0;
export let ringCapacity: u32 = 0;
export let ringMask: u32 = 0;
export let barHistory: u32 = 0;

/** Places the tables for the given capacities; returns the bytes they need or an E_* code. */
export function plan(instruments: u32, ring: u32, bars: u32): f64 {
  if (instruments == 0 || ring == 0 || (ring & (ring - 1)) != 0 || bars == 0) return E_BAD_CAPACITY;
  // Nothing is ever allocated at run time (runtime stub, no objects), so the tables start
  // right after the module's static data.
  let p = tablesBase();
  ctlOffset = p; p += ctlBytes();
  paramsOffset = p; p += paramBytes();
  countersOffset = p; p += counterBytes();
  instrumentsOffset = p; p += instrumentBytes(instruments);
  quotesOffset = p; p += quoteBytes(instruments);
  barsOffset = p; p += barBytes(instruments, bars);
  changeListOffset = p; p += changeBytes(instruments);
  ringOffset = p; p += ringBytes(ring);
  greeksOffset = p; p += greeksBytes();
  ringCapacity = ring;
  ringMask = ring - 1;
  barHistory = bars;
  return <f64>p;
}

/** Plans the tables and checks they fit the memory; returns 0 or an E_* code. */
export function init(instruments: u32, ring: u32, bars: u32): i32 {
  const need = plan(instruments, ring, bars);
  if (need < 0) return <i32>need;
  if (<f64>memory.size() * 65536 < need) return E_MEMORY_TOO_SMALL;
  maxInstruments = instruments;
  return 0;
}
