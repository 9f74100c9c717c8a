// The order manager's pre-trade hook, answered by the WASM check (assembly/risk-check.ts). Before
// each check the order's own row is brought up to the order manager's synchronous state (cash
// and the position in that instrument); a passing new order is counted as working at once.

import type { Order } from "../domain/order.ts";
import type { PreTradeContext, PreTradeHook, PreTradeResult } from "../oms/pretrade.ts";
import { RiskBook, RowsFullError } from "./book.ts";
import { RISK_CODES, type CheckOutput, type RiskCode, type RiskTables } from "./tables.ts";

const MICROS = 1e6;
const OK = RISK_CODES.indexOf("OK");
const PASS: PreTradeResult = { ok: true };
const usd = (v: number) => `$${v.toLocaleString("en-US", { maximumFractionDigits: 2 })}`;
const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

/** The human part of a denial, from the code and the value and bound the check reported. */
export function describeDenial(o: CheckOutput): string {
  const { value: v, bound: b } = o;
  switch (o.code) {
    case "HALTED": return "trading is halted for this account";
    case "REDUCE_ONLY": return `the account is reducing: only orders that reduce the position (now ${v}) are allowed`;
    case "UNKNOWN_INSTRUMENT": return "the instrument is not known to the risk engine";
    case "BAD_PRICE": return `price ${v} is not a positive multiple of the tick ${b}`;
    case "BAD_QTY": return `quantity ${v} is outside the allowed ${b === 1 ? "whole, positive range" : `bound ${b}`}`;
    case "SUBMIT_RATE": return `more than ${b} orders per second for this account`;
    case "MODIFY_RATE": return `more than ${b} modifies per second for this account`;
    case "NO_QUOTE": return "no fresh two-sided quote to check the order against";
    case "PRICE_BAND": return `limit price is ${pct(v)} from the mid; the band is ${pct(b)}`;
    case "NOTIONAL": return `order notional ${usd(v)} exceeds the limit ${usd(b)}`;
    case "MAX_OPEN_ORDERS": return `${v} working orders would exceed the limit ${b}`;
    case "POSITION_LIMIT": return `worst-case position ${v} would exceed the limit ${b}`;
    case "GROSS_EXPOSURE": return `worst-case gross exposure ${usd(v)} would exceed the limit ${usd(b)}`;
    case "NET_EXPOSURE": return `worst-case net exposure ${usd(v)} would exceed the limit ${usd(b)}`;
    case "CONCENTRATION": return `the underlying would be ${pct(v)} of equity; the limit is ${pct(b)}`;
    case "DELTA_LIMIT": return `worst-case portfolio dollar delta ${usd(v)} would exceed the limit ${usd(b)}`;
    case "BUYING_POWER": return `${usd(v)} would be needed; ${usd(b)} is available`;
    case "UNCOVERED_CALL": return `short calls on ${v} shares would exceed the ${b} shares held`;
    case "SHORT_SALE": return `a cash account cannot sell short (would be short ${v})`;
    case "DELTA_BAND": return `option delta ${v.toFixed(1)} is outside the account's band (bound ${b})`;
    case "NO_GREEKS": return "the option's delta cannot be computed (no two-sided quote or implied vol)";
    case "BAD_ACCOUNT": return "the account is not known to the risk engine";
    case "OK": return "ok";
  }
}

/** A warning raised by a passing check (delta band in warn mode). */
export interface RiskWarning {
  account: string;
  orderId: string;
  code: RiskCode;
  value: number;
}

/** The pre-trade hook over the risk region. */
export class RiskPreTrade implements PreTradeHook {
  /** Denials by reason code, and warnings, since start. */
  readonly denials = new Map<RiskCode, number>(RISK_CODES.map((c) => [c, 0]));
  warnings = 0;
  private warned: ((w: RiskWarning) => void) | undefined;
  private slot = 0;

  constructor(private readonly t: RiskTables, private readonly book: RiskBook) {}

  /** Sets the listener for warnings. */
  onWarning(listener: (w: RiskWarning) => void): void {
    this.warned = listener;
  }

  /** Checks a new order; a pass counts it as working. */
  checkNew(order: Readonly<Order>, ctx: PreTradeContext): PreTradeResult {
    const row = this.prepare(order, ctx);
    if (typeof row !== "number") return row;
    const rc = this.t.runCheck(
      this.slot, row, order.side, order.type, order.qty, order.qty, order.limitPriceUnits, order.stopPriceUnits, NaN, ctx.nowMs,
    );
    const res = this.answer(order, rc);
    if (res.ok) this.book.addWorking(order.id, order.account, ctx.instrument, order.side, order.qty, this.t.lastPrice() * ctx.instrument.multiplier);
    return res;
  }

  /** Checks a modify: `next` is the order as it would be after it. */
  checkModify(current: Readonly<Order>, next: Readonly<Order>, ctx: PreTradeContext): PreTradeResult {
    const row = this.prepare(current, ctx);
    if (typeof row !== "number") return row;
    const rc = this.t.runCheck(
      this.slot, row, next.side, next.type, next.qty - next.filledQty, next.qty, next.limitPriceUnits, next.stopPriceUnits,
      this.book.remainingOf(current.id), ctx.nowMs,
    );
    return this.answer(next, rc);
  }

  /** The order's row, with cash and its position brought up to date; `this.slot` is set. Or the denial. */
  private prepare(order: Readonly<Order>, ctx: PreTradeContext): number | { ok: false; code: string; message: string } {
    const slot = this.book.slotOf(order.account);
    if (slot === undefined) return this.deny("BAD_ACCOUNT", `the risk engine has no account ${order.account}`);
    this.slot = slot;
    let row: number;
    try {
      row = this.book.rowFor(order.account, ctx.instrument);
    } catch (err) {
      if (err instanceof RowsFullError) return this.deny("POSITION_LIMIT", err.message);
      throw err;
    }
    // The order manager's own state is newer than its durable updates: use it for this row.
    this.book.setCashAt(slot, ctx.ledger().cashMicros / MICROS);
    const p = ctx.position(order.symbol);
    this.book.setPositionAt(slot, row, p?.qty ?? 0, (p?.costMicros ?? 0) / MICROS);
    return row;
  }

  private answer(order: Readonly<Order>, rc: number): PreTradeResult {
    if (rc !== OK) {
      const out = this.t.lastOutput(rc);
      return this.deny(out.code, describeDenial(out));
    }
    if (this.t.lastWarning() > 0) {
      const w = this.t.lastOutput(rc).warning!;
      this.warnings++;
      this.warned?.({ account: order.account, orderId: order.id, code: w.code, value: w.value });
    }
    return PASS;
  }

  private deny(code: RiskCode, message: string): { ok: false; code: string; message: string } {
    this.denials.set(code, (this.denials.get(code) ?? 0) + 1);
    return { ok: false, code, message };
  }
}
