// The paper broker: fills against the engine's live quote cache with the model in
// fill-model.ts. Takers get the opposite touch up to its displayed size (each quote state's
// displayed size is used up once, across orders), then slippage lots or nothing; resting limits
// fill at their price from traded volume since the last look; stops trigger and become market
// or limit orders. Resting orders are evaluated on engine batches, only for instruments that
// changed. Seeded (touch-queue draws) and driven by the batch clock, so a replay is repeatable.
//
// Bookkeeping (working orders, books, priority, refusals, the execution ring) is in
// paper-orders.ts; taking displayed size and slippage levels from a book is in paper-take.ts.
//
// Events are queued and dispatched after each operation, so a listener that calls back into
// the broker (a cancel on a fill) never re-enters a half-done evaluation.

import type { Quote } from "../domain/quote.ts";
import type { BatchListener } from "../engine/engine.ts";
import { defaultTriggerMethod, hasStop } from "../domain/order.ts";
import { ExchangeCalendar } from "../domain/calendar.ts";
import { Rng } from "../domain/random.ts";
import type { Broker, BrokerEvent, BrokerFill, BrokerListener, BrokerOpenOrder, BrokerOrder, OrderChanges, RestoredOrder } from "./broker.ts";
import { IBKR_PRO_FIXED, chargeFill, costsOf, currentMinimumFrom, newOrderForMinimum, noCosts, type CommissionSchedule } from "./commission.ts";
import { passiveFill, quoteProblem, type FillModelOptions, type Level } from "./fill-model.ts";
import { SessionGate, type PaperHours } from "./paper-session.ts";
import { available, syncQuote, take, type FillSink } from "./paper-take.ts";
import { newTriggerState, observeTrigger, rebaseTrigger } from "./triggers.ts";
import { addListener } from "../domain/listeners.ts";
import { changesProblem, FillRing, priority, termsProblem, type Book, type Working } from "./paper-orders.ts";

/** Where the paper broker reads quotes: the engine, or anything shaped like it. */
export interface QuoteSource {
  quote(index: number): Quote;
  onBatch(listener: BatchListener): () => void;
}

/** Paper broker settings. */
export interface PaperOptions extends FillModelOptions {
  /** Seed of the touch-queue draws. */
  seed: number;
  commissions: CommissionSchedule;
  /** Working orders held at once; a submit past it is rejected. */
  maxOpenOrders: number;
  /** Executions kept for executionsSince (a ring: the oldest go first). */
  maxFillsKept: number;
  /** Time source for submits and requests (batches carry their own time). */
  clock: () => number;
  /** "exchange": orders trade only in the calendar's sessions (paper-session.ts); "always": round the clock. */
  hours: PaperHours;
  /** The sessions for hours "exchange" (the app's calendar). */
  calendar: ExchangeCalendar;
}

/** Defaults: honest rather than generous. */
export const PAPER_DEFAULTS: PaperOptions = {
  marketRemainder: "slippage", slippageTicksPerLot: 1, lotShares: 100, lotContracts: 10, maxSlippageLots: 10,
  queue: "through", touchFillProbability: 1, maxQuoteAgeMs: 5000,
  seed: 1, commissions: IBKR_PRO_FIXED, maxOpenOrders: 10_000, maxFillsKept: 100_000, clock: Date.now,
  hours: "exchange", calendar: new ExchangeCalendar(),
};

/** The paper broker; see the file comment. */
export class PaperBroker implements Broker {
  readonly name = "paper";
  /** Working orders live in this process only: no write-ahead needed. */
  readonly external = false;
  readonly options: PaperOptions;
  private readonly listeners: BrokerListener[] = [];
  private readonly working = new Map<string, Working>();
  private readonly books = new Map<number, Book>();
  private readonly fills: FillRing;
  private readonly queue: BrokerEvent[] = [];
  private draining = false;
  private closed = false;
  private arrivals = 0;
  private readonly rng: Rng;
  private readonly levels: Level[] = [];
  /** take()'s way back to fill(), made once (the evaluation loop allocates nothing per order). */
  private readonly fillSink: FillSink = { fill: (w, priceUnits, qty, now) => this.fill(w, priceUnits, qty, now) };
  private readonly detach: () => void;
  private readonly gate: SessionGate;
  /** The next session boundary: the first batch at or after it re-gates every working order. */
  private nextGateMs = -Infinity;

  constructor(private readonly source: QuoteSource, options: Partial<PaperOptions> = {}) {
    this.options = { ...PAPER_DEFAULTS, ...options };
    this.gate = new SessionGate(this.options.hours, this.options.calendar);
    this.rng = new Rng(this.options.seed);
    this.fills = new FillRing(this.options.maxFillsKept);
    this.detach = source.onBatch((changed, now) => this.onBatch(changed, now));
  }

  /** Registers the event listener. */
  onEvent(listener: BrokerListener): () => void {
    return addListener(this.listeners, listener);
  }

  /**
   * Takes back the journal's open orders as working orders; emits nothing. Each order's costs
   * are rebuilt from its fills, so its next fill is charged as if there had been no restart.
   */
  async restore(orders: readonly RestoredOrder[]): Promise<void> {
    const now = this.options.clock();
    for (const r of orders) {
      const { filledQty, triggered, brokerOrderId, filledValueMicros: _v, commissionMicros: _c, fills = [], placedMs, fillsBeforeModify = 0, ...order } = r;
      const dayOf = (ms: number) => this.gate.sessionDate(ms);
      const from = currentMinimumFrom(fills, fillsBeforeModify, dayOf);
      const costs = costsOf(this.options.commissions, r.instrument.kind, order.side, r.instrument.multiplier, fills, from);
      const lastTs = fills.at(-1)?.ts;
      const fillDay = lastTs === undefined ? undefined : dayOf(lastTs);
      // Held or not is decided on the next batch (nextGateMs starts in the past). A DAY order
      // ends with the day it was placed for (the order manager expired those already over).
      const w: Working = {
        order: { ...order }, brokerOrderId: brokerOrderId ?? `paper-${r.orderId}`, filledQty, triggered, costs,
        arrival: this.arrivals++, held: false, dayEndMs: this.dayEnd(order, placedMs ?? now), trigger: newTriggerState(), fillDay,
      };
      this.working.set(r.orderId, w);
      this.rest(w);
    }
  }

  /** Accepts or rejects, then fills what the current quote allows. */
  submit(order: BrokerOrder): void {
    const now = this.options.clock();
    const problem = this.refuse(order);
    if (problem) {
      this.emit({ kind: "rejected", orderId: order.orderId, reason: problem, ts: now });
      return this.drain();
    }
    const w: Working = {
      order: { ...order }, brokerOrderId: `paper-${order.orderId}`, filledQty: 0, costs: noCosts(),
      triggered: false, arrival: this.arrivals++, held: false, dayEndMs: this.dayEnd(order, now), trigger: newTriggerState(),
    };
    this.working.set(order.orderId, w);
    this.emit({ kind: "accepted", orderId: order.orderId, brokerOrderId: w.brokerOrderId, ts: now });
    const book = this.bookFor(order.instrument.index);
    const q = this.source.quote(order.instrument.index);
    // A new order is never filled by trades that happened before it arrived.
    if (book.orders.length === 0) book.volumeSeen = q.volume;
    const gate = this.gate.check(order, now);
    if (gate.open) this.evaluateNew(w, book, q, now);
    else if (order.tif === "IOC" || order.tif === "FOK") {
      this.remove(w);
      this.emit({ kind: "canceled", orderId: order.orderId, reason: `${order.tif}: the market is closed (${gate.reason})`, ts: now });
    } else {
      w.held = true;
      this.rest(w);
      this.emit({ kind: "held", orderId: order.orderId, reason: gate.reason, untilMs: gate.untilMs, ts: now });
    }
    this.drain();
  }

  /** Cancels a working order. */
  cancel(orderId: string): void {
    const now = this.options.clock();
    const w = this.working.get(orderId);
    if (!w) this.emit({ kind: "cancel_rejected", orderId, reason: "no working order with this id", ts: now });
    else {
      this.remove(w);
      this.emit({ kind: "canceled", orderId, reason: "canceled by request", ts: now });
    }
    this.drain();
  }

  /** Changes quantity or prices of a working order, then fills what the new terms allow. */
  modify(orderId: string, changes: OrderChanges): void {
    const now = this.options.clock();
    const w = this.working.get(orderId);
    const problem = w ? changesProblem(w, changes) : "no working order with this id";
    if (problem || !w) {
      this.emit({ kind: "modify_rejected", orderId, reason: problem ?? "", ts: now });
      return this.drain();
    }
    const o = w.order;
    if (changes.qty !== undefined) o.qty = changes.qty;
    if (changes.limitPriceUnits !== undefined) o.limitPriceUnits = changes.limitPriceUnits;
    // A new stop price starts the trigger's streaks afresh, as a new order would.
    if (changes.stopPriceUnits !== undefined) (o.stopPriceUnits = changes.stopPriceUnits, w.trigger = newTriggerState());
    // IBKR: a modified (stock) order is a new order for the commission minimum.
    newOrderForMinimum(this.options.commissions, o.instrument.kind, w.costs);
    this.emit({ kind: "replaced", orderId, qty: o.qty, limitPriceUnits: o.limitPriceUnits, stopPriceUnits: o.stopPriceUnits, ts: now });
    const book = this.bookFor(o.instrument.index);
    if (!w.held) this.evaluateNew(w, book, this.source.quote(o.instrument.index), now);
    this.drain();
  }

  /**
   * Expires the DAY orders of the session that closed at `closeMs`. With exchange hours, a DAY
   * order submitted after that close is for the next session and one working after hours lives
   * to the after-hours close (expired by the batch that crosses it); round the clock, every DAY
   * order ends here.
   */
  sessionClosed(closeMs: number): void {
    for (const w of [...this.working.values()]) {
      if (w.order.tif !== "DAY" || (this.gate.hours === "exchange" && w.dayEndMs > closeMs)) continue;
      this.remove(w);
      this.emit({ kind: "expired", orderId: w.order.orderId, ts: closeMs });
    }
    this.drain();
  }

  /** Working orders. */
  async openOrders(): Promise<BrokerOpenOrder[]> {
    return [...this.working.values()].map((w) => ({
      ...w.order, filledQty: w.filledQty, triggered: w.triggered, brokerOrderId: w.brokerOrderId,
      filledValueMicros: w.costs.valueMicros, commissionMicros: w.costs.chargedMicros,
    }));
  }

  /** Executions at or after `sinceMs` still in the ring. */
  async executionsSince(sinceMs: number): Promise<BrokerFill[]> {
    return this.fills.since(sinceMs);
  }

  /** Detaches from the quote source; nothing is emitted afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    this.detach();
    this.listeners.length = 0;
  }

  private refuse(o: BrokerOrder): string | undefined {
    if (this.closed) return "broker is closed";
    if (this.working.has(o.orderId)) return `order id ${o.orderId} is already working`;
    if (this.working.size >= this.options.maxOpenOrders) return `paper broker holds ${this.options.maxOpenOrders} working orders, its limit`;
    return termsProblem(o);
  }

  /** When a DAY order placed at `placedMs` ends here: see SessionGate.dayEndMs. */
  dayEndMs(o: BrokerOrder, placedMs: number): number {
    return this.gate.dayEndMs(o, placedMs);
  }

  /** When a DAY order placed at `ms` ends; Infinity for other time in force. */
  private dayEnd(o: BrokerOrder, ms: number): number {
    return o.tif === "DAY" ? this.gate.dayEndMs(o, ms) : Infinity;
  }

  private bookFor(index: number): Book {
    let b = this.books.get(index);
    if (!b) this.books.set(index, (b = { orders: [], quoteSeq: -1, bidTaken: 0, askTaken: 0, volumeSeen: 0 }));
    return b;
  }

  private rest(w: Working): void {
    const book = this.bookFor(w.order.instrument.index);
    if (book.orders.length === 0) book.volumeSeen = this.source.quote(w.order.instrument.index).volume;
    book.orders.push(w);
  }

  private remove(w: Working): void {
    this.working.delete(w.order.orderId);
    const index = w.order.instrument.index;
    const book = this.books.get(index);
    if (!book) return;
    const i = book.orders.indexOf(w);
    if (i >= 0) book.orders.splice(i, 1);
  }

  /** A newly submitted or modified order: trigger, take what is there, then IOC/FOK or rest. */
  private evaluateNew(w: Working, book: Book, q: Quote, now: number): void {
    const o = w.order;
    const problem = quoteProblem(q, now, this.options.maxQuoteAgeMs);
    syncQuote(book, q);
    if (!problem && hasStop(o.type) && !w.triggered) this.maybeTrigger(w, q, now);
    const active = !hasStop(o.type) || w.triggered;
    const resting = book.orders.includes(w);
    if (o.tif === "FOK") {
      if (problem || available(this.options, w, book, q, this.levels) < o.qty - w.filledQty) {
        this.remove(w);
        this.emit({ kind: "canceled", orderId: o.orderId, reason: problem ? `FOK: ${problem}` : "FOK: cannot fill the whole quantity now", ts: now });
        return;
      }
    }
    if (active && !problem) this.take(w, book, q, now);
    if (!this.working.has(o.orderId)) return;
    if (o.tif === "IOC" || o.tif === "FOK") {
      this.remove(w);
      this.emit({ kind: "canceled", orderId: o.orderId, reason: problem ? `IOC: ${problem}` : "IOC: remainder canceled", ts: now });
      return;
    }
    if (!resting) this.rest(w);
  }

  private onBatch(changed: Uint32Array, now: number): void {
    if (now >= this.nextGateMs) this.regate(now);
    if (this.books.size === 0) return this.drain();
    for (let i = 0; i < changed.length; i++) {
      const book = this.books.get(changed[i]!);
      if (book && book.orders.length > 0) this.evaluateBook(book, changed[i]!, now);
    }
    this.drain();
  }

  /**
   * At a session boundary: DAY orders past their end expire, orders whose window closed are held,
   * and held orders whose window opened are released and evaluated on the quote of the moment.
   * Runs once per boundary (four a day), over the working orders, which maxOpenOrders bounds.
   */
  private regate(now: number): void {
    this.nextGateMs = this.gate.nextChangeMs(now);
    const released = new Set<number>();
    for (const w of [...this.working.values()]) {
      const o = w.order;
      if (o.tif === "DAY" && this.gate.hours === "exchange" && now >= w.dayEndMs) {
        this.remove(w);
        this.emit({ kind: "expired", orderId: o.orderId, ts: w.dayEndMs });
        continue;
      }
      const gate = this.gate.check(o, now);
      if (!gate.open && !w.held) {
        w.held = true;
        this.emit({ kind: "held", orderId: o.orderId, reason: gate.reason, untilMs: gate.untilMs, ts: now });
      } else if (gate.open && w.held) {
        w.held = false;
        // Trades printed while it was held do not trigger it; those of this batch (not yet seen by the book) may.
        rebaseTrigger(w.trigger, this.bookFor(o.instrument.index).volumeSeen);
        this.emit({ kind: "released", orderId: o.orderId, ts: now });
        released.add(o.instrument.index);
      }
    }
    for (const index of released) {
      const book = this.books.get(index);
      if (book) this.evaluateBook(book, index, now);
    }
  }

  /** Resting orders of one instrument after its quote changed: stops, takers, then trade-driven limit fills. */
  private evaluateBook(book: Book, index: number, now: number): void {
    const q = this.source.quote(index);
    syncQuote(book, q);
    // Volume falls at a session reset; trades before it are not news.
    let volumeLeft = q.volume >= book.volumeSeen ? q.volume - book.volumeSeen : 0;
    book.volumeSeen = q.volume;
    if (quoteProblem(q, now, this.options.maxQuoteAgeMs)) return;
    const orders = [...book.orders].sort(priority);
    for (const w of orders) if (hasStop(w.order.type) && !w.triggered && !w.held) this.maybeTrigger(w, q, now);
    for (const w of orders) {
      if (w.held || !this.working.has(w.order.orderId) || (hasStop(w.order.type) && !w.triggered)) continue;
      this.take(w, book, q, now);
      const limit = w.order.limitPriceUnits;
      const leaves = w.order.qty - w.filledQty;
      if (leaves <= 0 || limit === undefined || volumeLeft <= 0) continue;
      const how = passiveFill(this.options, w.order.side, limit, q);
      if (how === "through" || (how === "at" && this.rng.next() < this.options.touchFillProbability)) {
        const n = Math.min(leaves, volumeLeft);
        volumeLeft -= n;
        this.fill(w, limit, n, now);
      }
    }
  }

  private maybeTrigger(w: Working, q: Quote, now: number): void {
    const o = w.order;
    const method = o.triggerMethod === undefined || o.triggerMethod === "default" ? defaultTriggerMethod(o.instrument.kind) : o.triggerMethod;
    if (!observeTrigger(method, o.side, o.stopPriceUnits!, q, w.trigger)) return;
    w.triggered = true;
    this.emit({ kind: "triggered", orderId: w.order.orderId, ts: now });
  }

  /** Takes liquidity for a marketable order (paper-take.ts). */
  private take(w: Working, book: Book, q: Quote, now: number): void {
    take(this.options, w, book, q, this.levels, this.fillSink, now);
  }

  private fill(w: Working, priceUnits: number, qty: number, now: number): void {
    const o = w.order;
    w.filledQty += qty;
    // IBKR: a (stock) order that persists overnight is a new order for the commission minimum.
    const day = this.gate.sessionDate(now);
    if (w.fillDay !== undefined && w.fillDay !== day) newOrderForMinimum(this.options.commissions, o.instrument.kind, w.costs);
    w.fillDay = day;
    const commissionMicros = chargeFill(this.options.commissions, o.instrument.kind, o.side, w.costs, priceUnits, qty, o.instrument.multiplier);
    // The cumulative quantity rises with every fill of an order, so it makes the id unique.
    const fill: BrokerFill = {
      orderId: o.orderId, fillId: `${o.orderId}-${w.filledQty}`, account: o.account, symbol: o.instrument.symbol,
      side: o.side, qty, priceUnits, commissionMicros, ts: now,
    };
    this.fills.push(fill);
    this.emit({ kind: "fill", fill });
    if (w.filledQty >= o.qty) this.remove(w);
  }

  private emit(e: BrokerEvent): void {
    if (!this.closed) this.queue.push(e);
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let i = 0; i < this.queue.length; i++) for (const l of this.listeners) l(this.queue[i]!);
    } finally {
      this.queue.length = 0;
      this.draining = false;
    }
  }
}
