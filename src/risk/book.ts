// What the risk region must know of each account, kept current by the host: limits, cash,
// positions, and the quantity and cost of working orders per instrument. Rows of an account are
// kept contiguous (a freed row is filled by the last one) so WASM loops over 0..A_ROWS only.
// Every change to a row here is followed by a sync of the row (and a freed row is dropped first),
// so the pre-trade check's running sums (assembly/risk-sums.ts) always match the rows.
//
// Working quantities follow the order manager's durable updates; a check that passes adds its
// order at once, so a burst of orders sent before the first is durable is still seen whole.

import { expiryMs, type Instrument } from "../domain/instrument.ts";
import { isTerminal, type Order } from "../domain/order.ts";
import { PRICE_SCALE } from "../domain/price.ts";
import type { MarginMode } from "../oms/accounts.ts";
import type { RiskLimits } from "./settings.ts";
import type { RiskTables } from "./tables.ts";

/** What the book needs to resolve instruments. */
export interface InstrumentLookup {
  instrument(symbol: string): Instrument | undefined;
  /** Instruments by engine index. */
  readonly instruments: readonly Instrument[];
}

/** One working order's contribution to its row. */
interface Working {
  acct: AccountSlot;
  symbol: string;
  side: "buy" | "sell";
  remaining: number;
  /** Dollars per unit a buy would pay (limit, stop, or the touch when sent). */
  unitCost: number;
}

/** Account slot bookkeeping. */
interface AccountSlot {
  slot: number;
  capital: number;
  rows: Map<string, number>;
  symbols: string[];
  open: number;
}

/** Thrown when an account has no free position row; the check turns it into a denial. */
export class RowsFullError extends Error {}

/** The host's mirror of accounts, positions and working orders in the risk region. */
export class RiskBook {
  /** True once anything the recompute reads has changed since the service last cleared it. */
  changed = true;
  /** 1 for every engine instrument (and underlying) some position row refers to: the batches that matter to risk. */
  readonly held: Uint8Array;
  /** The durable last mark (dollars) a new row starts from, so a restart never values a position at nothing. */
  seedMark: (symbol: string) => number | undefined = () => undefined;
  private readonly slots = new Map<string, AccountSlot>();
  private readonly working = new Map<string, Working>();

  constructor(private readonly t: RiskTables, private readonly market: InstrumentLookup, maxInstruments: number) {
    this.held = new Uint8Array(maxInstruments);
  }

  /** Adds an account (once) with its capital and margin mode; returns its slot. */
  addAccount(id: string, capital: number, mode: MarginMode): number {
    const known = this.slots.get(id);
    if (known) return known.slot;
    const slot = this.slots.size;
    if (slot >= this.t.maxAccounts) throw new Error(`risk region holds ${this.t.maxAccounts} accounts; ${id} is one too many`);
    this.slots.set(id, { slot, capital, rows: new Map(), symbols: [], open: 0 });
    const base = slot * this.t.g.ACC_STRIDE!;
    this.t.accounts.fill(0, base, base + this.t.g.ACC_STRIDE!);
    this.t.setAcc(slot, "A_USED", 1);
    this.t.setAcc(slot, "A_CASH_MODE", mode === "cash" ? 1 : 0);
    this.t.setAcc(slot, "A_OPEN_EQUITY", NaN);
    return slot;
  }

  /** Account ids in slot order. */
  accounts(): string[] {
    return [...this.slots.keys()];
  }

  /** The slot of an account, undefined if unknown. */
  slotOf(id: string): number | undefined {
    return this.slots.get(id)?.slot;
  }

  /** Symbols of an account's position rows, in row order. */
  symbolsOf(id: string): readonly string[] {
    return this.slots.get(id)?.symbols ?? [];
  }

  /** The symbol of an engine instrument index. */
  symbolOfIndex(index: number): string | undefined {
    return this.market.instruments[index]?.symbol;
  }

  /** The capital of an account (its share of the configured capital), dollars. */
  capitalOf(id: string): number {
    return this.slots.get(id)?.capital ?? 0;
  }

  /** Writes an account's limits into its row (dollar limits scale with its capital). */
  setLimits(id: string, l: RiskLimits): void {
    this.changed = true;
    const s = this.need(id);
    const cap = s.capital;
    const band = l.deltaBand;
    const set = (f: string, v: number) => this.t.setAcc(s.slot, f, v);
    set("A_MAX_NOTIONAL", l.maxOrderNotional * cap);
    set("A_MIN_QTY", l.minQty);
    set("A_MAX_QTY", l.maxQty);
    set("A_BAND", l.priceBand);
    set("A_OPT_BAND", l.optionPriceBand);
    set("A_QUOTE_AGE_MS", l.quoteMaxAgeMs);
    set("A_MAX_OPEN", l.maxOpenOrders);
    set("A_MAX_POS_QTY", l.maxPositionQty);
    set("A_MAX_GROSS", l.maxGrossExposure * cap);
    set("A_MAX_NET", l.maxNetExposure * cap);
    set("A_MAX_CONC", l.maxConcentration);
    set("A_MAX_DELTA", l.maxDelta * cap);
    set("A_DBAND_LO", band?.lo ?? 0);
    set("A_DBAND_HI", band?.hi ?? 100);
    set("A_DBAND_MODE", !band || band.mode === "off" ? 0 : band.mode === "warn" ? 1 : 2);
    if (this.t.acc(s.slot, "A_SUBMIT_RATE") !== l.submitRatePerS) set("A_SUB_TOKENS", l.submitRatePerS);
    if (this.t.acc(s.slot, "A_MODIFY_RATE") !== l.modifyRatePerS) set("A_MOD_TOKENS", l.modifyRatePerS);
    set("A_SUBMIT_RATE", l.submitRatePerS);
    set("A_MODIFY_RATE", l.modifyRatePerS);
    set("A_LOSS_LIMIT", l.dailyLossHalt * cap);
    set("A_VAR_LIMIT", l.maxVar99 * cap);
  }

  /** Sets the ledger cash of an account, dollars. */
  setCash(id: string, cashDollars: number): void {
    this.changed = true;
    this.t.setAccAt(this.need(id).slot, this.t.A.CASH, cashDollars);
  }

  /** The row of `symbol` in an account, allocating it (and compacting freed rows) when new. */
  rowFor(id: string, inst: Instrument): number {
    const s = this.need(id);
    const known = s.rows.get(inst.symbol);
    if (known !== undefined) return known;
    if (s.symbols.length >= this.t.maxPositions) this.compact(s);
    if (s.symbols.length >= this.t.maxPositions) {
      throw new RowsFullError(`account ${id} holds or works ${this.t.maxPositions} instruments, the most the risk table has`);
    }
    const row = s.symbols.length;
    const und = inst.kind === "option" && inst.underlying ? this.market.instrument(inst.underlying)?.index ?? inst.index : inst.index;
    this.t.initRow(s.slot, row, inst, und, inst.expiry ? expiryMs(inst.expiry) : 0);
    const seed = this.seedMark(inst.symbol);
    if (seed !== undefined) this.t.setPos(s.slot, row, "PR_MARK", seed);
    s.rows.set(inst.symbol, row);
    s.symbols.push(inst.symbol);
    this.t.setAcc(s.slot, "A_ROWS", s.symbols.length);
    this.t.syncRow(s.slot, row);
    // Never cleared when a row is freed: a stale flag costs one needless recompute, a missing one a stale risk figure.
    this.held[inst.index] = 1;
    this.held[und] = 1;
    return row;
  }

  /** Sets the cash of an account by slot (the order path: no lookup by id). */
  setCashAt(slot: number, cashDollars: number): void {
    this.changed = true;
    this.t.setAccAt(slot, this.t.A.CASH, cashDollars);
  }

  /** Sets a known row's quantity and cost basis (dollars): the order path. */
  setPositionAt(slot: number, row: number, qty: number, costDollars: number): void {
    this.changed = true;
    this.t.setPosAt(slot, row, this.t.P.COST, costDollars);
    // The cost basis is not in the pre-trade sums; the quantity is, and is usually unchanged here.
    if (this.t.posAt(slot, row, this.t.P.QTY) === qty) return;
    this.t.setPosAt(slot, row, this.t.P.QTY, qty);
    this.t.syncRow(slot, row);
  }

  /** Sets a position's quantity and cost basis (dollars) from the ledger. */
  setPosition(id: string, inst: Instrument, qty: number, costDollars: number): void {
    if (qty === 0 && !this.slots.get(id)?.rows.has(inst.symbol)) return;
    this.changed = true;
    const s = this.need(id);
    const row = this.rowFor(id, inst);
    this.t.setPosAt(s.slot, row, this.t.P.QTY, qty);
    this.t.setPosAt(s.slot, row, this.t.P.COST, costDollars);
    this.t.syncRow(s.slot, row);
  }

  /** Counts a checked order as working at once (before the manager's durable update). */
  addWorking(orderId: string, id: string, inst: Instrument, side: "buy" | "sell", qty: number, unitCost: number): void {
    const s = this.need(id);
    this.rowFor(id, inst);
    if (!this.working.has(orderId)) s.open++;
    this.setWorking(orderId, { acct: s, symbol: inst.symbol, side, remaining: qty, unitCost });
    this.t.setAccAt(s.slot, this.t.A.OPEN_ORDERS, s.open);
  }

  /** Follows an order's state: its remaining quantity while open, nothing once finished. */
  onOrder(o: Order, inst: Instrument | undefined): void {
    const open = o.status !== "initialized" && !isTerminal(o.status);
    const prev = this.working.get(o.id);
    const s = this.slots.get(o.account);
    if (!s || !inst) return;
    if (!open) {
      if (prev) {
        this.setWorking(o.id, undefined);
        s.open--;
        this.t.setAccAt(s.slot, this.t.A.OPEN_ORDERS, s.open);
      }
      return;
    }
    const remaining = Math.max(o.qty - o.filledQty, 0);
    // A pending replace may still fill at the old, larger quantity: keep the larger until it settles.
    const keep = o.status === "pending_replace" && prev ? Math.max(prev.remaining, remaining) : remaining;
    const priced = o.limitPriceUnits ?? o.stopPriceUnits;
    const unitCost = priced !== undefined ? (priced / PRICE_SCALE) * o.multiplier : prev?.unitCost ?? 0;
    if (!prev) s.open++;
    this.rowFor(o.account, inst);
    this.setWorking(o.id, { acct: s, symbol: o.symbol, side: o.side, remaining: keep, unitCost });
    this.t.setAccAt(s.slot, this.t.A.OPEN_ORDERS, s.open);
  }

  /** The working remaining quantity of an order as the book counts it (0 when not working). */
  remainingOf(orderId: string): number {
    return this.working.get(orderId)?.remaining ?? 0;
  }

  private setWorking(orderId: string, next: Working | undefined): void {
    this.changed = true;
    const prev = this.working.get(orderId);
    if (prev) this.adjust(prev, -1);
    if (next) {
      this.working.set(orderId, next);
      this.adjust(next, 1);
    } else {
      this.working.delete(orderId);
    }
  }

  private adjust(w: Working, sign: 1 | -1): void {
    const slot = w.acct.slot;
    const row = w.acct.rows.get(w.symbol);
    if (row === undefined) throw new Error(`working order on ${w.symbol} has no risk row`);
    const P = this.t.P;
    const f = w.side === "buy" ? P.WBUY : P.WSELL;
    this.t.setPosAt(slot, row, f, this.t.posAt(slot, row, f) + sign * w.remaining);
    if (w.side === "buy") {
      this.t.setPosAt(slot, row, P.WBUY_COST, Math.max(this.t.posAt(slot, row, P.WBUY_COST) + sign * w.remaining * w.unitCost, 0));
    }
    this.t.syncRow(slot, row);
  }

  /** Frees rows that hold nothing and work nothing, moving the last rows into the gaps. */
  private compact(s: AccountSlot): void {
    for (let r = s.symbols.length - 1; r >= 0; r--) {
      const empty = this.t.pos(s.slot, r, "PR_QTY") === 0 && this.t.pos(s.slot, r, "PR_WBUY") === 0 && this.t.pos(s.slot, r, "PR_WSELL") === 0;
      if (!empty) continue;
      const last = s.symbols.length - 1;
      const gone = s.symbols[r]!;
      this.t.dropRow(s.slot, r);
      if (r !== last) {
        this.t.moveRow(s.slot, last, r);
        const moved = s.symbols[last]!;
        s.symbols[r] = moved;
        s.rows.set(moved, r);
      }
      s.symbols.pop();
      s.rows.delete(gone);
    }
    this.t.setAcc(s.slot, "A_ROWS", s.symbols.length);
  }

  private need(id: string): AccountSlot {
    const s = this.slots.get(id);
    if (!s) throw new Error(`risk book has no account ${id}`);
    return s;
  }
}
