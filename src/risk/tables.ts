// The host side of the risk region (assembly/risk.ts): typed views on the account, position
// and check rows of the engine's shared memory, account slots, position-row allocation, and the
// two WASM calls (preTradeCheck, riskRecompute). Every field index, stride and capacity is read
// from the module's exports; nothing here restates the layout.

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
}

/** What one check is asked about. */
export interface CheckInput {
  slot: number;
  row: number;
  side: "buy" | "sell";
  type: "market" | "limit" | "stop" | "stop_limit";
  /** Quantity the order adds to working (a modify: its remaining quantity after the change). */
  addQty: number;
  totalQty: number;
  limitPriceUnits?: number;
  stopPriceUnits?: number;
  /** A modify: the order's remaining working quantity before it. */
  prevRemaining?: number;
  nowMs: number;
}

/** What one check answered. */
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

const TYPE_CODE = { market: 0, limit: 1, stop: 2, stop_limit: 3 } as const;

/** Typed access to the risk region of one engine. Not reentrant: one check row. */
export class RiskTables {
  readonly g: Globals;
  readonly params: Float64Array;
  readonly accounts: Float64Array;
  readonly positions: Float64Array;
  readonly check: Float64Array;
  readonly maxAccounts: number;
  readonly maxPositions: number;
  private readonly ex: RiskExports;

  private constructor(g: Globals, ex: RiskExports, buffer: ArrayBufferLike) {
    this.g = g;
    this.ex = ex;
    this.maxAccounts = g.RISK_MAX_ACCOUNTS!;
    this.maxPositions = g.RISK_MAX_POSITIONS!;
    this.params = new Float64Array(buffer, g.riskParamsOffset!, g.RISK_PARAM_COUNT!);
    this.accounts = new Float64Array(buffer, g.riskAccountsOffset!, this.maxAccounts * g.ACC_STRIDE!);
    this.positions = new Float64Array(buffer, g.riskPositionsOffset!, this.maxAccounts * this.maxPositions * g.POS_STRIDE!);
    this.check = new Float64Array(buffer, g.riskCheckOffset!, g.CHECK_STRIDE!);
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
    return (slot * this.maxPositions + row) * this.g.POS_STRIDE!;
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

  /** Copies row `from` over row `to` of one account (used to keep rows contiguous). */
  moveRow(slot: number, from: number, to: number): void {
    const S = this.g.POS_STRIDE!;
    const src = this.rowBase(slot, from);
    this.positions.copyWithin(this.rowBase(slot, to), src, src + S);
  }

  /** Runs the pre-trade check in WASM. */
  runCheck(c: CheckInput): CheckOutput {
    const g = this.g;
    const k = this.check;
    k[g.CK_ACCOUNT!] = c.slot;
    k[g.CK_ROW!] = c.row;
    k[g.CK_SIDE!] = c.side === "buy" ? 1 : -1;
    k[g.CK_TYPE!] = TYPE_CODE[c.type];
    k[g.CK_QTY!] = c.addQty;
    k[g.CK_TOTAL!] = c.totalQty;
    k[g.CK_LIMIT!] = c.limitPriceUnits ?? NaN;
    k[g.CK_STOP!] = c.stopPriceUnits ?? NaN;
    k[g.CK_MODIFY!] = c.prevRemaining === undefined ? 0 : 1;
    k[g.CK_PREV!] = c.prevRemaining ?? 0;
    k[g.CK_NOW!] = c.nowMs;
    const rc = this.ex.preTradeCheck();
    const warn = k[g.CK_WARN!]!;
    return {
      code: RISK_CODES[rc] ?? "BAD_ACCOUNT",
      value: k[g.CK_VALUE!]!,
      bound: k[g.CK_BOUND!]!,
      ...(warn > 0 ? { warning: { code: RISK_CODES[warn] ?? "BAD_ACCOUNT", value: k[g.CK_WARN_VALUE!]! } } : {}),
      priceRef: k[g.CK_PRICE!]!,
      delta: k[g.CK_DELTA!]!,
    };
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
