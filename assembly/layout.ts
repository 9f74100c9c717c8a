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

// ---- risk region (assembly/risk.ts) ----
// Money and prices here are dollars in f64: risk is an estimate, the ledger (integer micros)
// is the truth. Accounts have fixed rows; each account owns a fixed block of position rows
// used from 0 up to A_ROWS (the host keeps them contiguous).
/** Most account rows the risk region can be planned with (the configuration allows at most this many accounts). */
export const RISK_MAX_ACCOUNTS: u32 = 64;
/**
 * Position rows per account: instruments held or with working orders. 1,024 so that the
 * pre-trade check is shown flat up to 1,000 positions in one account (bench/pretrade.ts); the
 * check no longer walks them, so the capacity costs memory (docs/architecture.md) but no time.
 */
export const RISK_MAX_POSITIONS: u32 = 1024;

// risk parameters: f64, written by the host
export const RP_RATE: i32 = 0; // continuously compounded risk-free rate
export const RP_DIV: i32 = 1; // continuous dividend yield
export const RP_CORR: i32 = 2; // pairwise correlation of underlyings assumed by VaR
export const RP_DEFAULT_VOL: i32 = 3; // annual vol used when no estimate exists
export const RP_DAY_MS: i32 = 4; // trading ms in one day: scales the engine's per-ms variance to a day
export const RP_YEAR_MS: i32 = 5; // ms per year for time to expiry (ACT/365)
export const RP_GLOBAL_STATE: i32 = 6; // firm-wide trading state (TS_*)
export const RP_TRADING_DAYS: i32 = 7; // trading days per year (default vol to daily)
export const RISK_PARAM_COUNT: i32 = 8;

// trading states
export const TS_ACTIVE: i32 = 0;
export const TS_REDUCING: i32 = 1;
export const TS_HALTED: i32 = 2;

// account row: f64 fields, ACC_STRIDE per account. Limits are Infinity when off.
export const A_USED: i32 = 0;
export const A_STATE: i32 = 1; // TS_*
export const A_CASH_MODE: i32 = 2; // 1 cash account, 0 Reg-T margin
export const A_MAX_NOTIONAL: i32 = 3; // per order, dollars
export const A_MIN_QTY: i32 = 4;
export const A_MAX_QTY: i32 = 5;
export const A_BAND: i32 = 6; // limit price within this fraction of the mid
export const A_QUOTE_AGE_MS: i32 = 7; // a quote older than this is not fresh
export const A_MAX_OPEN: i32 = 8; // working orders
export const A_MAX_POS_QTY: i32 = 9; // shares or contracts per instrument, worst case
export const A_MAX_GROSS: i32 = 10; // gross delta-adjusted exposure, dollars
export const A_MAX_NET: i32 = 11; // net market value, dollars
export const A_MAX_CONC: i32 = 12; // net dollar delta of one underlying / equity
export const A_MAX_DELTA: i32 = 13; // portfolio dollar delta
export const A_DBAND_LO: i32 = 14; // option-sale delta band, in delta points (0-100)
export const A_DBAND_HI: i32 = 15;
export const A_DBAND_MODE: i32 = 16; // 0 off, 1 warn, 2 deny
export const A_SUBMIT_RATE: i32 = 17; // orders per second (token bucket, burst = one second)
export const A_MODIFY_RATE: i32 = 18;
export const A_LOSS_LIMIT: i32 = 19; // daily loss, dollars (utilisation only; states are host policy)
export const A_VAR_LIMIT: i32 = 20; // 1-day VaR 99, dollars (utilisation only)
export const A_CASH: i32 = 21; // host: ledger cash, dollars
export const A_OPEN_ORDERS: i32 = 22; // host: working orders
export const A_ROWS: i32 = 23; // host: position rows in use
export const A_OPEN_EQUITY: i32 = 24; // host: equity at the session open (NaN unknown)
export const A_SUB_TOKENS: i32 = 25;
export const A_SUB_TS: i32 = 26;
export const A_MOD_TOKENS: i32 = 27;
export const A_MOD_TS: i32 = 28;
export const A_MV: i32 = 29; // outputs of riskRecompute from here on
export const A_EQUITY: i32 = 30;
export const A_GROSS: i32 = 31;
export const A_NET: i32 = 32;
export const A_DDELTA: i32 = 33; // dollar delta
export const A_DGAMMA: i32 = 34; // dollar gamma: change of dollar delta for a 1 % move
export const A_VEGA: i32 = 35; // dollars per vol point
export const A_THETA: i32 = 36; // dollars per calendar day
export const A_UNREAL: i32 = 37;
export const A_DAILY_PNL: i32 = 38;
export const A_VAR95: i32 = 39;
export const A_VAR99: i32 = 40;
export const A_ST_DN10: i32 = 41; // stress P&L: underlyings -10 %
export const A_ST_DN20: i32 = 42;
export const A_ST_DN40: i32 = 43;
export const A_ST_UP10: i32 = 44;
export const A_ST_VOL50: i32 = 45; // implied vols x 1.5
export const A_CONC_MAX: i32 = 46; // largest |net dollar delta| of one underlying / equity
export const A_CONC_UND: i32 = 47; // its instrument index (-1 none)
export const A_HHI: i32 = 48; // Herfindahl index of |net dollar delta| shares by underlying
export const A_REQUIRED: i32 = 49; // cash needed (cash account) or Reg-T requirement (margin)
export const A_AVAILABLE: i32 = 50; // cash (cash account) or equity (margin)
export const A_SCORE: i32 = 51; // composite risk score 0-100
export const A_UNPRICED: i32 = 52; // positions without a mark or greeks
export const A_TS: i32 = 53; // time of the recompute
export const A_U_GROSS: i32 = 54; // utilisations: value / limit
export const A_U_NET: i32 = 55;
export const A_U_DELTA: i32 = 56;
export const A_U_CONC: i32 = 57;
export const A_U_LOSS: i32 = 58;
export const A_U_VAR: i32 = 59;
export const A_U_BP: i32 = 60;
export const A_U_ORDERS: i32 = 61;
export const A_U_MAX: i32 = 62;
export const A_OPT_BAND: i32 = 63; // the fat-finger band for option limit prices
// Running sums for the pre-trade check (risk-sums.ts): the sum over the account's position rows
// of each row's PR_C_* term, in integer micro-dollars held in f64 (exact below 2^53 µ$, about
// $9e9), so adding and taking away terms in any order gives exactly what a fresh walk gives.
export const A_S_EQ: i32 = 64; // Σ qty × mark × mult
export const A_S_GROSS: i32 = 65; // Σ worst-case |dollar delta|
export const A_S_NET_HI: i32 = 66; // Σ the higher / lower end of market value over working orders
export const A_S_NET_LO: i32 = 67;
export const A_S_DD_HI: i32 = 68; // Σ the higher / lower end of dollar delta
export const A_S_DD_LO: i32 = 69;
export const A_S_REQ: i32 = 70; // Σ cash needed (cash account) or Reg-T requirement (margin)
export const A_S_USLOTS: i32 = 71; // underlying slots in use (high-water mark) in the account's block
export const ACC_STRIDE: i32 = 72;

// position row: f64 fields, POS_STRIDE per row
export const PR_INST: i32 = 0;
export const PR_UND: i32 = 1; // underlying instrument index (the stock itself for stocks)
export const PR_KIND: i32 = 2; // 0 stock, 1 call, 2 put
export const PR_MULT: i32 = 3;
export const PR_STRIKE: i32 = 4; // dollars
export const PR_EXPIRY_MS: i32 = 5;
export const PR_QTY: i32 = 6; // host: signed position
export const PR_WBUY: i32 = 7; // host: working buy quantity
export const PR_WSELL: i32 = 8; // host: working sell quantity
export const PR_WBUY_COST: i32 = 9; // host: dollars the working buys would pay
export const PR_COST: i32 = 10; // host: signed cost basis, dollars
export const PR_MARK: i32 = 11; // outputs from here on
export const PR_SPOT: i32 = 12;
export const PR_IV: i32 = 13;
export const PR_DELTA: i32 = 14;
export const PR_GAMMA: i32 = 15;
export const PR_VEGA: i32 = 16;
export const PR_THETA: i32 = 17;
export const PR_MV: i32 = 18;
export const PR_DDELTA: i32 = 19;
export const PR_UNIT_DD: i32 = 20; // dollar delta of one unit
export const PR_UNREAL: i32 = 21;
export const PR_STATUS: i32 = 22; // PS_*
export const PR_MODEL: i32 = 23; // model price at PR_IV (stress base)
// The row's terms in its account's running sums (risk-sums.ts), as of its last sync: written
// only by WASM. PR_U_SLOT NaN means the row is not counted yet.
export const PR_CK_MARK: i32 = 24; // mark the terms used (PR_MARK, else the live mark at the sync, else 0)
export const PR_CK_UNIT: i32 = 25; // dollar delta of one unit the terms used
export const PR_C_EQ: i32 = 26; // micro-dollars, like the A_S_* sums
export const PR_C_GROSS: i32 = 27;
export const PR_C_NET_HI: i32 = 28;
export const PR_C_NET_LO: i32 = 29;
export const PR_C_DD_HI: i32 = 30;
export const PR_C_DD_LO: i32 = 31;
export const PR_C_REQ: i32 = 32;
export const PR_C_UQ: i32 = 33; // shares held long (stock) or short calls' shares (call); 0 for a put
export const PR_U_SLOT: i32 = 34; // the row's slot in the account's underlying block
export const POS_STRIDE: i32 = 36;
export const PS_OK: i32 = 0;
export const PS_NO_MARK: i32 = 1;
export const PS_NO_GREEKS: i32 = 2;
// No live mark yet in this run: valued at the durable last mark of an earlier run (host-seeded PR_MARK)...
export const PS_STALE: i32 = 3;
// ...or, with none, not valued at all (counted at its cost basis so it adds no P&L).
export const PS_NOT_VALUED: i32 = 4;

// pre-trade check row: inputs written by the host, outputs by preTradeCheck()
export const CK_ACCOUNT: i32 = 0;
export const CK_ROW: i32 = 1; // the order instrument's position row
export const CK_SIDE: i32 = 2; // 1 buy, -1 sell
export const CK_TYPE: i32 = 3; // 0 market, 1 limit, 2 stop, 3 stop-limit
export const CK_QTY: i32 = 4; // quantity the order adds to working (remaining, for a modify)
export const CK_TOTAL: i32 = 5; // the order's total quantity
export const CK_LIMIT: i32 = 6; // price units, NaN none
export const CK_STOP: i32 = 7; // price units, NaN none
export const CK_MODIFY: i32 = 8; // 1 for a modify
export const CK_PREV: i32 = 9; // a modify: the order's remaining working quantity before it
export const CK_NOW: i32 = 10;
export const CK_CODE: i32 = 11; // output: RK_*
export const CK_VALUE: i32 = 12; // output: the value that failed
export const CK_BOUND: i32 = 13; // output: the limit it failed against
export const CK_WARN: i32 = 14; // output: RK_* of a warning, 0 none
export const CK_WARN_VALUE: i32 = 15;
export const CK_PRICE: i32 = 16; // output: reference price used, dollars
export const CK_DELTA: i32 = 17; // output: delta of one unit of the order instrument
// outputs: the account's worst-case figures with the order, dollars (NaN when the check stopped before them)
export const CK_GROSS: i32 = 18;
export const CK_NET: i32 = 19;
export const CK_CONC: i32 = 20; // share of equity
export const CK_DDELTA: i32 = 21;
export const CK_REQUIRED: i32 = 22; // cash needed (cash account) or Reg-T requirement (margin)
export const CK_EQUITY: i32 = 23;
export const CHECK_STRIDE: i32 = 24;

// pre-trade reason codes
export const RK_OK: i32 = 0;
export const RK_HALTED: i32 = 1;
export const RK_REDUCE_ONLY: i32 = 2;
export const RK_UNKNOWN_INSTRUMENT: i32 = 3;
export const RK_BAD_PRICE: i32 = 4;
export const RK_BAD_QTY: i32 = 5;
export const RK_SUBMIT_RATE: i32 = 6;
export const RK_MODIFY_RATE: i32 = 7;
export const RK_NO_QUOTE: i32 = 8;
export const RK_PRICE_BAND: i32 = 9;
export const RK_NOTIONAL: i32 = 10;
export const RK_MAX_OPEN_ORDERS: i32 = 11;
export const RK_POSITION_LIMIT: i32 = 12;
export const RK_GROSS_EXPOSURE: i32 = 13;
export const RK_NET_EXPOSURE: i32 = 14;
export const RK_CONCENTRATION: i32 = 15;
export const RK_DELTA_LIMIT: i32 = 16;
export const RK_BUYING_POWER: i32 = 17;
export const RK_UNCOVERED_CALL: i32 = 18;
export const RK_SHORT_SALE: i32 = 19;
export const RK_DELTA_BAND: i32 = 20;
export const RK_NO_GREEKS: i32 = 21;
export const RK_BAD_ACCOUNT: i32 = 22;
export const RISK_REASON_COUNT: i32 = 23;

// per-account underlying sums for the pre-trade check: RISK_MAX_POSITIONS slots per account
// (an account has at most one underlying per row), f64 fields. Sums in micro-dollars like A_S_*.
export const US_UND: i32 = 0; // instrument index of the underlying
export const US_REFS: i32 = 1; // position rows counted in the slot; 0 = free
export const US_DD_HI: i32 = 2; // Σ PR_C_DD_HI of its rows
export const US_DD_LO: i32 = 3;
export const US_CALLS: i32 = 4; // Σ short calls' shares
export const US_SHARES: i32 = 5; // shares held long
export const US_STRIDE: i32 = 6;

// per-underlying scratch of riskRecompute(): f64 fields per instrument index
export const U_DD: i32 = 0;
export const U_SIGMA: i32 = 1;
export const U_MARK: i32 = 2; // recompute number that last touched the slot
export const U_STRIDE: i32 = 4;

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
function riskBytes(n: u32, a: u32): usize {
  let b = alignUp(<usize>RISK_PARAM_COUNT * 8);
  b += alignUp(<usize>a * <usize>ACC_STRIDE * 8);
  b += alignUp(<usize>a * <usize>RISK_MAX_POSITIONS * <usize>POS_STRIDE * 8);
  b += alignUp(<usize>CHECK_STRIDE * 8) + alignUp(<usize>GREEKS_STRIDE * 8);
  b += alignUp(<usize>n * <usize>U_STRIDE * 8) + alignUp(<usize>RISK_MAX_POSITIONS * 4);
  b += alignUp(<usize>a * <usize>RISK_MAX_POSITIONS * <usize>US_STRIDE * 8);
  return b;
}
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
/** The risk region: parameters, accounts, positions, the check row, a greeks scratch row, per-underlying scratch. */
export let riskParamsOffset: usize = 0;
export let riskAccountsOffset: usize = 0;
export let riskPositionsOffset: usize = 0;
export let riskCheckOffset: usize = 0;
export let riskGreeksOffset: usize = 0;
export let riskUndOffset: usize = 0;
export let riskTouchedOffset: usize = 0;
/** The per-account underlying sums of the pre-trade check (US_* fields). */
export let riskUndSumsOffset: usize = 0;
/**
 * Account rows the risk region was planned with (1 to RISK_MAX_ACCOUNTS): the deployment's
 * configured accounts, so the position rows of accounts that do not exist are not reserved.
 */
export let riskMaxAccounts: u32 = 0;
/** Set only by a successful init(); every entry point refuses to run while it is 0. */
export let maxInstruments: u32 = 0;
export let ringCapacity: u32 = 0;
export let ringMask: u32 = 0;
export let barHistory: u32 = 0;

/** Places the tables for the given capacities; returns the bytes they need or an E_* code. */
export function plan(instruments: u32, ring: u32, bars: u32, accounts: u32): f64 {
  if (instruments == 0 || ring == 0 || (ring & (ring - 1)) != 0 || bars == 0) return E_BAD_CAPACITY;
  if (accounts == 0 || accounts > RISK_MAX_ACCOUNTS) return E_BAD_CAPACITY;
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
  const riskStart = p;
  riskParamsOffset = p; p += alignUp(<usize>RISK_PARAM_COUNT * 8);
  riskAccountsOffset = p; p += alignUp(<usize>accounts * <usize>ACC_STRIDE * 8);
  riskPositionsOffset = p; p += alignUp(<usize>accounts * <usize>RISK_MAX_POSITIONS * <usize>POS_STRIDE * 8);
  riskCheckOffset = p; p += alignUp(<usize>CHECK_STRIDE * 8);
  riskGreeksOffset = p; p += alignUp(<usize>GREEKS_STRIDE * 8);
  riskUndOffset = p; p += alignUp(<usize>instruments * <usize>U_STRIDE * 8);
  riskTouchedOffset = p; p += alignUp(<usize>RISK_MAX_POSITIONS * 4);
  riskUndSumsOffset = p; p += alignUp(<usize>accounts * <usize>RISK_MAX_POSITIONS * <usize>US_STRIDE * 8);
  assert(p - riskStart == riskBytes(instruments, accounts));
  riskMaxAccounts = accounts;
  ringCapacity = ring;
  ringMask = ring - 1;
  barHistory = bars;
  return <f64>p;
}

/** Plans the tables and checks they fit the memory; returns 0 or an E_* code. */
export function init(instruments: u32, ring: u32, bars: u32, accounts: u32): i32 {
  const need = plan(instruments, ring, bars, accounts);
  if (need < 0) return <i32>need;
  if (<f64>memory.size() * 65536 < need) return E_MEMORY_TOO_SMALL;
  maxInstruments = instruments;
  return 0;
}
