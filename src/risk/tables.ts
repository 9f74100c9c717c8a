// The host side of the risk region (assembly/risk-check.ts, risk-value.ts): typed views on the account, position
// and check rows of the engine's shared memory, account slots, position-row allocation, and the
// WASM calls (preTradeCheck, riskRecompute, and riskRowSync / riskRowDrop that keep the check's
// running sums). Every field index, stride and capacity is read from the module's exports;
// nothing here restates the layout.

import type { Engine } from "../engine/engine.ts";
import { wasmInstanceOf } from "../engine/wasm.ts";
import type { Instrument } from "../domain/instrument.ts";
import { PRICE_SCALE } from "../domain/price.ts";

/** Reason codes of the pre-trade check, by the name used in API errors (RK_<NAME> in the module). */
export const RISK_CODES = [
  "OK", "HALTED", "REDUCE_ONLY", "UNKNOWN_INSTRUMENT", "BAD_PRICE", "BAD_QTY", "SUBMIT_RATE", "MODIFY_RATE",
  "NO_QUOTE", "PRICE_BAND", "NOTIONAL", "MAX_OPEN_ORDERS", "POSITION_LIMIT", "GROSS_EXPOSURE", "NET_EXPOSURE",
  "CONCENTRATION", "DELTA_LIMIT", "BUYING_POWER", "UNCOVERED_CALL", "SHORT_SALE", "DELTA_BAND", "NO_GREEKS",
  "BAD_ACCOUNT",
] as const;

/** A pre-trade reason code. */
export type RiskCode = (typeof RISK_CODES)[number];

/** Exported globals of the risk region, read by name. */
type Globals = Record<string, number>;

interface RiskExports {
  riskRecompute(now: number): number;
  preTradeCheck(): number;
  preTradeCheckWalk(): number;
  riskRowSync(slot: number, row: number): number;
  riskRowDrop(slot: number, row: number): number;
}

/** What a denied (or warned) check reported, read after the call. */
export interface CheckOutput {
  code: RiskCode;
  value: number;
  bound: number;
  warning?: { code: RiskCode; value: number };
  /** Reference price of the order, dollars. */
  priceRef: number;
  /** Delta of one unit of the instrument (1 for stocks). */
  delta: number;
}

/** Order types as the check row codes them. */
export type CheckOrderType = "market" | "limit" | "stop" | "stop_limit";

const TYPE_CODE = { market: 0, limit: 1, stop: 2, stop_limit: 3 } as const;

/** Typed access to the risk region of one engine. Not reentrant: one check row. */
export class RiskTables {
  readonly g: Globals;
  readonly params: Float64Array;
  readonly accounts: Float64Array;
  readonly positions: Float64Array;
  readonly check: Float64Array;
  /** The per-account underlying sums of the pre-trade check (US_* fields, RISK_MAX_POSITIONS slots per account). */
  readonly undSums: Float64Array;
  readonly maxAccounts: number;
  readonly maxPositions: number;
  /** Field indexes the order path touches, in fixed-shape objects (no lookups by name per order). */
  readonly A: { CASH: number; OPEN_ORDERS: number; ROWS: number; STRIDE: number };
  readonly P: { QTY: number; COST: number; WBUY: number; WSELL: number; WBUY_COST: number; STRIDE: number };
  private readonly C: {
    ACCOUNT: number; ROW: number; SIDE: number; TYPE: number; QTY: number; TOTAL: number; LIMIT: number; STOP: number;
    MODIFY: number; PREV: number; NOW: number; VALUE: number; BOUND: number; WARN: number; WARN_VALUE: number; PRICE: number; DELTA: number;
  };
  private readonly ex: RiskExports;
  /** preTradeCheck bound once: a call through the exports object costs more per order. */
  private check_: () => number;
  private readonly sync_: (slot: number, row: number) => number;
  private readonly drop_: (slot: number, row: number) => number;

  private constructor(g: Globals, ex: RiskExports, buffer: ArrayBufferLike) {
    this.g = g;
    this.ex = ex;
    this.check_ = ex.preTradeCheck;
    this.sync_ = ex.riskRowSync;
    this.drop_ = ex.riskRowDrop;
    // The rows this engine was planned with (Capacities.maxAccounts), not the module's upper bound.
    this.maxAccounts = g.riskMaxAccounts!;
    this.maxPositions = g.RISK_MAX_POSITIONS!;
    this.params = new Float64Array(buffer, g.riskParamsOffset!, g.RISK_PARAM_COUNT!);
    this.accounts = new Float64Array(buffer, g.riskAccountsOffset!, this.maxAccounts * g.ACC_STRIDE!);
    this.positions = new Float64Array(buffer, g.riskPositionsOffset!, this.maxAccounts * this.maxPositions * g.POS_STRIDE!);
    this.check = new Float64Array(buffer, g.riskCheckOffset!, g.CHECK_STRIDE!);
    this.undSums = new Float64Array(buffer, g.riskUndSumsOffset!, this.maxAccounts * this.maxPositions * g.US_STRIDE!);
    const need = (name: string): number => {
      const v = g[name];
      if (v === undefined) throw new Error(`engine module does not export ${name}`);
      return v;
    };
    this.A = { CASH: need("A_CASH"), OPEN_ORDERS: need("A_OPEN_ORDERS"), ROWS: need("A_ROWS"), STRIDE: need("ACC_STRIDE") };
    this.P = {
      QTY: need("PR_QTY"), COST: need("PR_COST"), WBUY: need("PR_WBUY"), WSELL: need("PR_WSELL"), WBUY_COST: need("PR_WBUY_COST"),
      STRIDE: need("POS_STRIDE"),
    };
    this.C = {
      ACCOUNT: need("CK_ACCOUNT"), ROW: need("CK_ROW"), SIDE: need("CK_SIDE"), TYPE: need("CK_TYPE"), QTY: need("CK_QTY"),
      TOTAL: need("CK_TOTAL"), LIMIT: need("CK_LIMIT"), STOP: need("CK_STOP"), MODIFY: need("CK_MODIFY"), PREV: need("CK_PREV"),
      NOW: need("CK_NOW"), VALUE: need("CK_VALUE"), BOUND: need("CK_BOUND"), WARN: need("CK_WARN"), WARN_VALUE: need("CK_WARN_VALUE"),
      PRICE: need("CK_PRICE"), DELTA: need("CK_DELTA"),
    };
    for (const [i, name] of RISK_CODES.entries()) {
      if (g[`RK_${name}`] !== i) throw new Error(`risk code ${name} is ${g[`RK_${name}`]} in the module, ${i} here`);
    }
  }

  /** Binds to the engine's own WASM instance; the risk engine needs the WASM core. */
  static create(engine: Engine): RiskTables {
    const instance = wasmInstanceOf(engine.core.buffer);
    if (!instance) throw new Error("the risk engine needs the engine's WASM core (engine.core = \"wasm\")");
    const g: Globals = {};
    for (const [name, value] of Object.entries(instance.exports)) {
      if (value instanceof WebAssembly.Global) g[name] = Number(value.value);
    }
    return new RiskTables(g, instance.exports as unknown as RiskExports, engine.core.buffer);
  }

  /** Field `f` (e.g. "A_CASH") of account slot `slot`. */
  acc(slot: number, f: string): number {
    return this.accounts[slot * this.g.ACC_STRIDE! + this.g[f]!]!;
  }

  /** Sets field `f` of account slot `slot`. */
  setAcc(slot: number, f: string, v: number): void {
    this.accounts[slot * this.g.ACC_STRIDE! + this.g[f]!] = v;
  }

  /** Index in `positions` of field 0 of a position row. */
  rowBase(slot: number, row: number): number {
    return (slot * this.maxPositions + row) * this.P.STRIDE;
  }

  /** Sets account field index `f` (from this.A) of a slot: the order path's accessor. */
  setAccAt(slot: number, f: number, v: number): void {
    this.accounts[slot * this.A.STRIDE + f] = v;
  }

  /** Position field index `f` (from this.P) of a row. */
  posAt(slot: number, row: number, f: number): number {
    return this.positions[this.rowBase(slot, row) + f]!;
  }

  /** Sets position field index `f` (from this.P) of a row. */
  setPosAt(slot: number, row: number, f: number, v: number): void {
    this.positions[this.rowBase(slot, row) + f] = v;
  }

  /** Field `f` (e.g. "PR_QTY") of a position row. */
  pos(slot: number, row: number, f: string): number {
    return this.positions[this.rowBase(slot, row) + this.g[f]!]!;
  }

  /** Sets field `f` of a position row. */
  setPos(slot: number, row: number, f: string, v: number): void {
    this.positions[this.rowBase(slot, row) + this.g[f]!] = v;
  }

  /** Writes the static fields of a position row for `inst` (its underlying index given) and zeroes the rest. */
  initRow(slot: number, row: number, inst: Instrument, underlyingIndex: number, expiryMs: number): void {
    const base = this.rowBase(slot, row);
    this.positions.fill(0, base, base + this.g.POS_STRIDE!);
    this.positions.fill(NaN, base + this.g.PR_MARK!, base + this.g.POS_STRIDE!);
    this.setPos(slot, row, "PR_INST", inst.index);
    this.setPos(slot, row, "PR_UND", underlyingIndex);
    this.setPos(slot, row, "PR_KIND", inst.kind === "stock" ? 0 : inst.right === "C" ? 1 : 2);
    this.setPos(slot, row, "PR_MULT", inst.multiplier);
    this.setPos(slot, row, "PR_STRIKE", inst.strike ?? 0);
    this.setPos(slot, row, "PR_EXPIRY_MS", expiryMs);
  }

  /**
   * Brings a row's terms in its account's running sums (assembly/risk-sums.ts) up to date: call
   * after every change to a row's fields, or the pre-trade check reads a stale account.
   */
  syncRow(slot: number, row: number): void {
    if (this.sync_(slot, row) !== 0) throw new Error(`riskRowSync: account slot ${slot} has no row ${row}`);
  }

  /** Takes a row out of its account's running sums: call before the row is freed. */
  dropRow(slot: number, row: number): void {
    if (this.drop_(slot, row) !== 0) throw new Error(`riskRowDrop: account slot ${slot} has no row ${row}`);
  }

  /** Index in `undSums` of an account's first underlying slot. */
  undBase(slot: number): number {
    return slot * this.maxPositions * this.g.US_STRIDE!;
  }

  /**
   * Makes runCheck() use the walking reference (preTradeCheckWalk: same check, account figures
   * from a walk over every row) instead of the running sums; for the equivalence test and the
   * benchmark's yardstick only.
   */
  useWalkingCheck(walk: boolean): void {
    this.check_ = walk ? this.ex.preTradeCheckWalk : this.ex.preTradeCheck;
  }

  /** Copies row `from` over row `to` of one account (used to keep rows contiguous; drop `to` first). */
  moveRow(slot: number, from: number, to: number): void {
    const S = this.g.POS_STRIDE!;
    const src = this.rowBase(slot, from);
    this.positions.copyWithin(this.rowBase(slot, to), src, src + S);
  }

  /**
   * Runs the pre-trade check in WASM and returns its RK_* code (an index into RISK_CODES).
   * Positional arguments, so the order path allocates nothing here; `addQty` is what the order
   * adds to working (a modify: its remaining quantity after the change) and `prevRemaining` is
   * NaN for a new order, else the modified order's remaining quantity before the change.
   */
  runCheck(
    slot: number, row: number, side: "buy" | "sell", type: CheckOrderType, addQty: number, totalQty: number,
    limitPriceUnits: number | undefined, stopPriceUnits: number | undefined, prevRemaining: number, nowMs: number,
  ): number {
    const C = this.C;
    const k = this.check;
    k[C.ACCOUNT] = slot;
    k[C.ROW] = row;
    k[C.SIDE] = side === "buy" ? 1 : -1;
    k[C.TYPE] = TYPE_CODE[type];
    k[C.QTY] = addQty;
    k[C.TOTAL] = totalQty;
    k[C.LIMIT] = limitPriceUnits ?? NaN;
    k[C.STOP] = stopPriceUnits ?? NaN;
    k[C.MODIFY] = Number.isNaN(prevRemaining) ? 0 : 1;
    k[C.PREV] = Number.isNaN(prevRemaining) ? 0 : prevRemaining;
    k[C.NOW] = nowMs;
    return this.check_();
  }

  /** What the last check reported. */
  lastOutput(rc: number): CheckOutput {
    const C = this.C;
    const k = this.check;
    const warn = k[C.WARN]!;
    const out: CheckOutput = { code: RISK_CODES[rc] ?? "BAD_ACCOUNT", value: k[C.VALUE]!, bound: k[C.BOUND]!, priceRef: k[C.PRICE]!, delta: k[C.DELTA]! };
    if (warn > 0) out.warning = { code: RISK_CODES[warn] ?? "BAD_ACCOUNT", value: k[C.WARN_VALUE]! };
    return out;
  }

  /** The warning code of the last check (0 none). */
  lastWarning(): number {
    return this.check[this.C.WARN]!;
  }

  /** The reference price of the last check, dollars. */
  lastPrice(): number {
    return this.check[this.C.PRICE]!;
  }

  /** Recomputes every used account in WASM; returns how many. */
  recompute(nowMs: number): number {
    const n = this.ex.riskRecompute(nowMs);
    if (n < 0) throw new Error(`riskRecompute failed with code ${n}`);
    return n;
  }

  /** Dollars of a price in price units. */
  static dollars(units: number): number {
    return units / PRICE_SCALE;
  }
}
