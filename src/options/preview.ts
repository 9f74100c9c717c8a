// Order preview (IBKR's "what-if"): a POST /v1/orders body is validated by the order manager
// (OrderManager.draft: nothing placed, registered or journaled) and run through the real WASM
// pre-trade check (assembly/risk-check.ts) on a copy of its effects, then the account is
// recomputed by the real WASM risk recompute as it would be if the order filled.
//
// The check and the recompute write into the shared risk region, so everything they may change
// is copied first and put back after, in the same synchronous turn: the account row (which holds
// the submit-rate tokens the check takes, and the published figures the recompute writes), its
// position rows, and the other accounts' in-use flags (cleared so the recompute touches only this
// account). No other thread reads the risk region, and nothing can run in between, so no one
// ever sees the hypothetical state. What a real check also does and a preview must not — count
// the denial, add the order as working — lives in RiskPreTrade and is simply not called. Like a
// submit, a preview gives the account a position row for the instrument if it had none (an empty
// row, reclaimed by the book when the table fills) and brings the row's cash and quantity up to
// the order manager's state, which only makes the risk region more current.

import type { Order } from "../domain/order.ts";
import type { OrderManager } from "../oms/manager.ts";
import type { OrderDraft, PreviewNote } from "../oms/preview.ts";
import type { Scope } from "../oms/state.ts";
import type { Result } from "../oms/validate.ts";
import { RowsFullError } from "../risk/book.ts";
import { describeDenial } from "../risk/pretrade.ts";
import type { RiskService } from "../risk/service.ts";
import { RISK_CODES, type CheckOutput, type RiskTables } from "../risk/tables.ts";

/** An account's key risk figures (dollars; concentration as a share of equity), from one WASM recompute. */
export interface PreviewFigures {
  cash: number;
  equity: number;
  /** What the positions (worst case with working orders) require, and what is available: cash for a cash account, equity for margin. */
  buyingPower: { required: number; available: number; remaining: number };
  dollarDelta: number;
  /** Σ |dollar delta| over positions. */
  gross: number;
  /** Net market value of positions. */
  net: number;
  concentration: { largestUnderlying: string | null; shareOfEquity: number };
  var99: number;
  /** 0-100, as in the risk object. */
  score: number;
  /** The order's instrument: the position's quantity. */
  position: { symbol: string; qty: number };
}

/** The answer to a preview. */
export interface OrderPreview {
  allowed: boolean;
  denials: PreviewNote[];
  warnings: PreviewNote[];
  /** Price the check valued the order at (limit, stop, or the touch for a market order), null if it stopped before pricing. */
  priceRef: number | null;
  /** The account now, and as it would be if the order filled in full at priceRef (before commission); null without the risk engine or a price. */
  before: PreviewFigures | null;
  after: PreviewFigures | null;
}

const OK = RISK_CODES.indexOf("OK");
const MICROS = 1e6;

/** Saved copies of the parts of the risk region a preview may change. */
interface Saved {
  slot: number;
  account: Float64Array;
  rows: Float64Array;
  rowsStart: number;
  /** The account's underlying sums of the pre-trade check (the check and the recompute update them with the rows). */
  unds: Float64Array;
  used: number[];
}

/** Previews orders against the order manager and (when it runs) the risk engine. */
export class OrderPreviewer {
  /** Previews answered since start, and how many were not allowed. */
  previews = 0;
  refused = 0;

  constructor(private readonly oms: OrderManager, private readonly risk: RiskService | undefined) {}

  /** Validates and checks a POST /v1/orders body without placing it; a validation error is the same Result a submit gives. */
  preview(body: unknown, scope: Scope): Result<OrderPreview> {
    const d = this.oms.draft(body, scope);
    if (!d.ok) return d as Result<never>;
    const draft = d.value;
    const denials = [...draft.denials];
    const warnings = [...draft.warnings];
    let priceRef: number | null = null;
    let before: PreviewFigures | null = null;
    let after: PreviewFigures | null = null;
    if (this.risk) {
      const r = this.checkAndValue(this.risk, draft);
      if (r.denial) denials.push(r.denial);
      if (r.warning) warnings.push(r.warning);
      priceRef = r.priceRef;
      before = r.before;
      after = r.after;
    }
    this.previews++;
    if (denials.length > 0) this.refused++;
    return { ok: true, value: { allowed: denials.length === 0, denials, warnings, priceRef, before, after } };
  }

  private checkAndValue(risk: RiskService, draft: OrderDraft): {
    denial?: PreviewNote; warning?: PreviewNote; priceRef: number | null; before: PreviewFigures | null; after: PreviewFigures | null;
  } {
    const { order: o, context: ctx, instrument: inst } = draft;
    const t = risk.tables, book = risk.book;
    const slot = book.slotOf(o.account);
    const none = { priceRef: null, before: null, after: null };
    if (slot === undefined) return { denial: { code: "BAD_ACCOUNT", message: `the risk engine has no account ${o.account}` }, ...none };
    let row: number;
    try {
      row = book.rowFor(o.account, inst);
    } catch (err) {
      if (err instanceof RowsFullError) return { denial: { code: "POSITION_LIMIT", message: err.message }, ...none };
      throw err;
    }
    // The same bring-up-to-date a real check does: the order manager's state is newer than the book's.
    book.setCashAt(slot, ctx.ledger().cashMicros / MICROS);
    const p = ctx.position(o.symbol);
    book.setPositionAt(slot, row, p?.qty ?? 0, (p?.costMicros ?? 0) / MICROS);

    const saved = save(t, slot);
    let out: CheckOutput;
    let rc: number;
    try {
      rc = t.runCheck(slot, row, o.side, o.type, o.qty, o.qty, o.limitPriceUnits, o.stopPriceUnits, NaN, ctx.nowMs);
      out = t.lastOutput(rc);
    } finally {
      restore(t, saved);
    }
    const result: { denial?: PreviewNote; warning?: PreviewNote; priceRef: number | null; before: PreviewFigures | null; after: PreviewFigures | null } = {
      priceRef: Number.isFinite(out.priceRef) ? out.priceRef : null, before: null, after: null,
    };
    if (rc !== OK) result.denial = { code: out.code, message: describeDenial(out) };
    else if (out.warning) result.warning = { code: out.warning.code, message: warningText(out, risk, o.account) };
    if (result.priceRef !== null) {
      const figures = this.valued(risk, slot, row, o, result.priceRef, ctx.nowMs);
      result.before = figures.before;
      result.after = figures.after;
    }
    return result;
  }

  /** The account's figures now and with the order filled at `price`, from two WASM recomputes of this account only. */
  private valued(risk: RiskService, slot: number, row: number, o: Readonly<Order>, price: number, nowMs: number): { before: PreviewFigures; after: PreviewFigures } {
    const t = risk.tables;
    const saved = save(t, slot);
    try {
      for (const s of saved.used) t.setAcc(s, "A_USED", 0);
      t.recompute(nowMs);
      const before = read(risk, slot, row, o);
      const signed = (o.side === "buy" ? 1 : -1) * o.qty;
      const value = signed * price * o.multiplier;
      t.setPosAt(slot, row, t.P.QTY, t.posAt(slot, row, t.P.QTY) + signed);
      t.setPosAt(slot, row, t.P.COST, t.posAt(slot, row, t.P.COST) + value);
      t.setAccAt(slot, t.A.CASH, t.acc(slot, "A_CASH") - value);
      t.recompute(nowMs);
      return { before, after: read(risk, slot, row, o) };
    } finally {
      restore(t, saved);
    }
  }
}

/** Copies the account row, its position rows, its underlying sums and the in-use flags of the other accounts. */
function save(t: RiskTables, slot: number): Saved {
  const aS = t.A.STRIDE;
  const rows = t.acc(slot, "A_ROWS");
  const rowsStart = t.rowBase(slot, 0);
  const used: number[] = [];
  for (let s = 0; s < t.maxAccounts; s++) if (s !== slot && t.acc(s, "A_USED") === 1) used.push(s);
  const undsStart = t.undBase(slot);
  return {
    slot, account: t.accounts.slice(slot * aS, slot * aS + aS), rows: t.positions.slice(rowsStart, rowsStart + rows * t.P.STRIDE), rowsStart,
    unds: t.undSums.slice(undsStart, t.undBase(slot + 1)), used,
  };
}

/** Puts back what save() copied. */
function restore(t: RiskTables, s: Saved): void {
  t.accounts.set(s.account, s.slot * t.A.STRIDE);
  t.positions.set(s.rows, s.rowsStart);
  t.undSums.set(s.unds, t.undBase(s.slot));
  for (const other of s.used) t.setAcc(other, "A_USED", 1);
}

/** The figures the last recompute wrote for an account. */
function read(risk: RiskService, slot: number, row: number, o: Readonly<Order>): PreviewFigures {
  const t = risk.tables;
  const a = (f: string) => t.acc(slot, f);
  const und = a("A_CONC_UND");
  const conc = a("A_CONC_MAX");
  return {
    cash: a("A_CASH"), equity: a("A_EQUITY"),
    buyingPower: { required: a("A_REQUIRED"), available: a("A_AVAILABLE"), remaining: a("A_AVAILABLE") - a("A_REQUIRED") },
    dollarDelta: a("A_DDELTA"), gross: a("A_GROSS"), net: a("A_NET"),
    concentration: { largestUnderlying: und >= 0 ? risk.book.symbolOfIndex(und) ?? null : null, shareOfEquity: Number.isFinite(conc) ? conc : 1e9 },
    var99: a("A_VAR99"), score: a("A_SCORE"),
    position: { symbol: o.symbol, qty: t.posAt(slot, row, t.P.QTY) },
  };
}

/** The sentence for a warning the check left (the delta band in warn mode). */
function warningText(out: CheckOutput, risk: RiskService, account: string): string {
  const w = out.warning!;
  if (w.code === "DELTA_BAND") {
    const band = risk.limitsOf(account)?.deltaBand;
    return `option delta ${w.value.toFixed(1)} is outside the account's band${band ? ` ${band.lo}-${band.hi}` : ""} (warn mode: the order would be placed)`;
  }
  return describeDenial({ ...out, code: w.code, value: w.value });
}
