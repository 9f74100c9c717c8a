// The order manager: validates requests, runs the pre-trade hook, journals, routes to the
// account's broker, applies broker events through the state machine, keeps positions, cash and
// P&L, expires DAY orders at the session close and settles expiring options.
//
// Write-ahead: for a broker whose orders live outside this process, an order is journaled as
// submitted and made durable before the broker sees it, so no venue ever holds an order the
// journal does not know; a reply (and every push to listeners) leaves only once every event it
// reflects is on disk. Requests are admitted only
// while the journal has room for them plus a reserve, so broker events — facts that must be
// recorded — always fit.

import type { Broker, BrokerEvent, BrokerFill, BrokerOrder, RestoredOrder } from "../broker/broker.ts";
import type { ExchangeCalendar } from "../domain/calendar.ts";
import type { Instrument } from "../domain/instrument.ts";
import { checkTransition, isTerminal, sameTerms, type Fill, type Order, type OrderStatus } from "../domain/order.ts";
import { toMicros } from "../domain/money.ts";
import type { Quote } from "../domain/quote.ts";
import { QualityFlag } from "../domain/tick.ts";
import { toUnits } from "../domain/price.ts";
import type { Logger } from "../log.ts";
import type { JournalRecord } from "../store/journal.ts";
import type { OrderFilter, Store, StoredEvent } from "../store/store.ts";
import type { AccountConfig, AccountsConfig } from "./accounts.ts";
import { BloomFilter } from "./bloom.ts";
import { settlementFills } from "./expiry.ts";
import { Portfolio, type Position } from "./portfolio.ts";
import { PASS_THROUGH, type PreTradeContext, type PreTradeHook } from "./pretrade.ts";
import { accountView, positionView, type AccountView, type MarkFn, type PositionView } from "./valuation.ts";
import {
  checkNewOrder, checkPrice, checkQty, DEFAULT_ORDER_BOUNDS, fail, modifySchema, newOrderSchema, optionExpired, parseBody,
  type OrderBounds, type Result,
} from "./validate.ts";

/** What the order manager reads of the market: the engine satisfies it. */
export interface MarketView {
  instrument(symbol: string): Instrument | undefined;
  quote(index: number): Quote;
}

/** Bounds and policies of the order manager. */
export interface OmsOptions {
  /** Working orders per account; one more is refused with 429. */
  maxOpenOrdersPerAccount: number;
  /** Finished orders kept in memory for fast reads (older ones are read from the store). */
  recentOrders: number;
  /** Client order ids the Bloom filter is sized for (2 MiB per million); past it, more lookups hit the store. */
  clientIdFilterCapacity: number;
  /** Share of the journal queue kept free for broker events: requests are refused with 503 past it. */
  journalReserveFraction: number;
  bounds: OrderBounds;
}

/** Defaults: 1,000 working orders per account is far beyond a weekly premium-selling book. */
export const OMS_DEFAULTS: OmsOptions = {
  maxOpenOrdersPerAccount: 1000, recentOrders: 10_000, clientIdFilterCapacity: 1_000_000, journalReserveFraction: 0.25,
  bounds: DEFAULT_ORDER_BOUNDS,
};

/** What the order manager is built from. */
export interface OmsDeps {
  market: MarketView;
  store: Store;
  /** Brokers by name; each account names one. */
  brokers: Record<string, Broker>;
  accounts: AccountsConfig;
  calendar: ExchangeCalendar;
  log: Logger;
  preTrade?: PreTradeHook;
  clock?: () => number;
  options?: Partial<OmsOptions>;
}

/** A change pushed to listeners once durable. */
export type OmsUpdate =
  | { type: "order"; account: string; order: Order }
  | { type: "fill"; account: string; fill: Fill; position: Position };

/** Counters for metrics and tests. */
export interface OmsStats {
  illegalTransitions: number;
  duplicateFills: number;
  unknownOrderEvents: number;
  overfills: number;
}

interface Live {
  order: Order;
  broker: Broker;
  /** Handed to the broker (false between the write-ahead and the send). */
  sent: boolean;
  fillIds: Set<string>;
  /** Journal seq of the order's last event. */
  lastSeq: number;
}

type Scope = (account: string) => boolean;
const ANY: Scope = () => true;

/** The order manager; see the file comment. */
export class OrderManager {
  readonly stats: OmsStats = { illegalTransitions: 0, duplicateFills: 0, unknownOrderEvents: 0, overfills: 0 };
  readonly portfolio = new Portfolio();
  readonly options: OmsOptions;
  private readonly live = new Map<string, Live>();
  private readonly byClient = new Map<string, Live>();
  private readonly openByAccount = new Map<string, Set<Live>>();
  /** Finished orders in the order they finished, from closedHead on; evicted once on disk and beyond recentOrders. */
  private readonly closed: Live[] = [];
  private closedHead = 0;
  private readonly clientIds: BloomFilter;
  private readonly accountCfg = new Map<string, AccountConfig>();
  private readonly listeners: ((u: OmsUpdate) => void)[] = [];
  private readonly outbox: { seq: number; update: OmsUpdate }[] = [];
  private readonly detach: (() => void)[] = [];
  private readonly preTrade: PreTradeHook;
  private readonly clock: () => number;
  private orderNum: number;
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  private constructor(private readonly deps: OmsDeps) {
    this.options = { ...OMS_DEFAULTS, ...deps.options };
    this.preTrade = deps.preTrade ?? PASS_THROUGH;
    this.clock = deps.clock ?? Date.now;
    this.orderNum = deps.store.maxOrderNum();
    this.clientIds = new BloomFilter(this.options.clientIdFilterCapacity);
    for (const a of deps.accounts.list) {
      if (!deps.brokers[a.broker]) throw new Error(`account ${a.id} names broker ${a.broker}, which is not configured`);
      this.accountCfg.set(a.id, a);
      this.openByAccount.set(a.id, new Set());
    }
  }

  /** Builds the manager from the store (accounts, cash, fills, open orders), restores and reconciles brokers, starts the close timer. */
  static async start(deps: OmsDeps): Promise<OrderManager> {
    const m = new OrderManager(deps);
    await m.recover();
    return m;
  }

  // ---- requests ------------------------------------------------------------------------------

  /** Places a new order from a request body; the same client order id and body returns the original. */
  async submit(body: unknown, scope: Scope = ANY): Promise<Result<{ order: Order; created: boolean }>> {
    const parsed = parseBody(newOrderSchema, body);
    if (!parsed.ok) return parsed as Result<never>;
    const req = parsed.value;
    const cfg = this.accountCfg.get(req.account);
    if (!cfg) return fail(404, "UNKNOWN_ACCOUNT", `no account ${JSON.stringify(req.account)}`, "account");
    if (!scope(req.account)) return fail(403, "FORBIDDEN", `this key may not trade account ${req.account}`, "account");
    const now = this.clock();
    const inst = this.deps.market.instrument(req.symbol);
    const existing = this.byClientId(req.account, req.clientOrderId);
    if (existing) {
      const terms = { symbol: req.symbol, side: req.side, type: req.type, tif: req.tif as Order["tif"], qty: req.qty,
        limitPriceUnits: req.limitPrice === undefined ? undefined : toUnits(req.limitPrice),
        stopPriceUnits: req.stopPrice === undefined ? undefined : toUnits(req.stopPrice) };
      if (!sameTerms(existing, terms)) {
        return fail(409, "DUPLICATE_CLIENT_ORDER_ID", `clientOrderId ${req.clientOrderId} was used for ${existing.id} with different terms`, "clientOrderId");
      }
      return this.durableReply({ order: { ...existing }, created: false });
    }
    const terms = checkNewOrder(req, inst, now, this.deps.calendar, this.options.bounds);
    if (!terms.ok) return terms as Result<never>;
    const admit = this.admit(req.account);
    if (admit) return admit;
    const order: Order = {
      id: `O${++this.orderNum}`, account: req.account, clientOrderId: req.clientOrderId, ...terms.value, multiplier: inst!.multiplier,
      status: "initialized", filledQty: 0, avgFillPriceUnits: 0, triggered: false, createdTs: now, updatedTs: now, version: 0,
    };
    const live: Live = { order, broker: this.deps.brokers[cfg.broker]!, sent: false, fillIds: new Set(), lastSeq: 0 };
    this.live.set(order.id, live);
    this.byClient.set(clientKey(order.account, order.clientOrderId), live);
    this.clientIds.add(clientKey(order.account, order.clientOrderId));
    const check = this.preTrade.checkNew(order, this.context(order.account, inst!, now, order.id));
    if (!check.ok) {
      this.apply(live, "denied", "denied", now, { code: check.code }, (o) => (o.reason = `${check.code}: ${check.message}`));
      this.closed.push(live);
      return this.durableReply({ order: { ...order }, created: true });
    }
    this.apply(live, "submitted", "submitted", now);
    this.openByAccount.get(order.account)!.add(live);
    const ahead = await this.writeAhead(live);
    if (ahead) return ahead;
    if (live.order.status === "submitted" && !live.sent && !this.stopped) {
      live.sent = true;
      live.broker.submit(toBrokerOrder(live.order, inst!));
    }
    return this.durableReply({ order: { ...live.order }, created: true });
  }

  /** Asks to cancel an order. */
  async cancel(id: string, scope: Scope = ANY): Promise<Result<Order>> {
    const live = this.live.get(id);
    if (!live) return this.notLive(id, scope, "canceled");
    const o = live.order;
    if (!scope(o.account)) return fail(404, "NOT_FOUND", `no order ${id}`, "id");
    if (isTerminal(o.status)) return fail(409, "ORDER_NOT_CANCELABLE", `order ${id} is ${o.status}`, "id");
    if (o.status === "pending_cancel") return this.durableReply({ ...o });
    const admit = this.admit(undefined);
    if (admit) return admit;
    const now = this.clock();
    if (!live.sent) {
      this.apply(live, "canceled", "canceled", now, undefined, (x) => (x.reason = "canceled before it reached the broker"));
      return this.durableReply({ ...o });
    }
    this.apply(live, "cancel_requested", "pending_cancel", now);
    const ahead = await this.writeAhead(live);
    if (ahead) return ahead;
    // The status may have moved while the write-ahead was committing (a fill, a reject).
    if ((o.status as OrderStatus) === "pending_cancel" && !this.stopped) live.broker.cancel(id);
    return this.durableReply({ ...o });
  }

  /** Changes an order's quantity or prices. */
  async modify(id: string, body: unknown, scope: Scope = ANY): Promise<Result<Order>> {
    const parsed = parseBody(modifySchema, body);
    if (!parsed.ok) return parsed as Result<never>;
    const req = parsed.value;
    if (req.qty === undefined && req.limitPrice === undefined && req.stopPrice === undefined) {
      return fail(400, "BAD_REQUEST", "give at least one of qty, limitPrice, stopPrice", "qty");
    }
    const live = this.live.get(id);
    if (!live) return this.notLive(id, scope, "modified");
    const o = live.order;
    if (!scope(o.account)) return fail(404, "NOT_FOUND", `no order ${id}`, "id");
    if (o.status !== "accepted" && o.status !== "partially_filled") {
      return fail(409, "ORDER_NOT_MODIFIABLE", `order ${id} is ${o.status}; only accepted or partially filled orders can be modified`, "id");
    }
    const inst = this.deps.market.instrument(o.symbol)!;
    const changes: { qty?: number; limitPriceUnits?: number; stopPriceUnits?: number } = {};
    if (req.qty !== undefined) {
      const q = checkQty(req.qty, inst, this.options.bounds, o.filledQty + 1);
      if (!q.ok) return q as Result<never>;
      changes.qty = q.value;
    }
    if (req.limitPrice !== undefined) {
      if (o.limitPriceUnits === undefined) return fail(400, "BAD_REQUEST", `a ${o.type} order has no limitPrice`, "limitPrice");
      const p = checkPrice(req.limitPrice, inst, "limitPrice");
      if (!p.ok) return p as Result<never>;
      changes.limitPriceUnits = p.value;
    }
    if (req.stopPrice !== undefined) {
      if (o.stopPriceUnits === undefined || o.triggered) return fail(400, "BAD_REQUEST", `order ${id} has no stopPrice to change`, "stopPrice");
      const p = checkPrice(req.stopPrice, inst, "stopPrice");
      if (!p.ok) return p as Result<never>;
      changes.stopPriceUnits = p.value;
    }
    const now = this.clock();
    const check = this.preTrade.checkModify(o, { ...o, ...changes }, this.context(o.account, inst, now, o.id));
    if (!check.ok) return fail(422, "RISK_DENIED", `${check.code}: ${check.message}`);
    const admit = this.admit(undefined);
    if (admit) return admit;
    this.apply(live, "modify_requested", "pending_replace", now, { ...changes });
    const ahead = await this.writeAhead(live);
    if (ahead) return ahead;
    if ((o.status as OrderStatus) === "pending_replace" && !this.stopped) live.broker.modify(id, changes);
    return this.durableReply({ ...o });
  }

  // ---- reads ---------------------------------------------------------------------------------

  /** One order by id (memory first, then the store), once everything it reflects is durable. */
  async order(id: string, scope: Scope = ANY): Promise<Order | undefined> {
    const live = this.live.get(id);
    const o = live ? { ...live.order } : this.deps.store.order(id);
    if (!o || !scope(o.account)) return undefined;
    await this.deps.store.journal.durable();
    return o;
  }

  /** Orders matching a filter, newest first, one page, read once everything appended so far is durable. */
  async listOrders(filter: OrderFilter, limit: number, offset: number): Promise<{ items: Order[]; total: number }> {
    await this.deps.store.journal.durable();
    return this.deps.store.orders(filter, limit, offset);
  }

  /** Fills of an account or order, newest first, one page, once durable. */
  async fills(filter: { account?: string; orderId?: string }, limit: number, offset: number): Promise<{ items: Fill[]; total: number }> {
    await this.deps.store.journal.durable();
    return this.deps.store.fills(filter, limit, offset);
  }

  /** The journaled events of an order (bounded per order by the store). */
  events(id: string): StoredEvent[] {
    return this.deps.store.events(id);
  }

  /** Computes `read` now and returns it once everything it may reflect is durable. */
  async durableRead<T>(read: () => T): Promise<T> {
    const value = read();
    await this.deps.store.journal.durable();
    return value;
  }

  /** Working orders of an account (memory; bounded by maxOpenOrdersPerAccount). */
  openOrders(account: string): Order[] {
    return [...(this.openByAccount.get(account) ?? [])].map((l) => ({ ...l.order }));
  }

  /** Configured accounts. */
  accountIds(): string[] {
    return [...this.accountCfg.keys()];
  }

  /** An account valued at current marks, undefined for an unknown id. */
  account(id: string): AccountView | undefined {
    const cfg = this.accountCfg.get(id);
    if (!cfg) return undefined;
    const open = [...this.openByAccount.get(id)!].map((l) => l.order);
    return accountView(this.portfolio, id, cfg.mode, this.marks, (s) => this.deps.market.instrument(s), open);
  }

  /** An account's non-flat positions at current marks. */
  positions(account: string): PositionView[] {
    return this.portfolio.positionsOf(account).filter((p) => p.qty !== 0).map((p) => positionView(p, this.marks));
  }

  /** A position with the current mark applied. */
  positionView(p: Position): PositionView {
    return positionView(p, this.marks);
  }

  /** Registers a listener for durable changes (orders, fills with the position after them). */
  onUpdate(listener: (u: OmsUpdate) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** The mark of a symbol in price units: mid of a clean two-sided quote, else last, else none. */
  readonly marks: MarkFn = (symbol) => {
    const inst = this.deps.market.instrument(symbol);
    if (!inst) return undefined;
    const q = this.deps.market.quote(inst.index);
    if (q.bid !== null && q.ask !== null && (q.flags & (QualityFlag.Crossed | QualityFlag.NoBid | QualityFlag.NoAsk)) === 0) {
      return Math.round((toUnits(q.bid) + toUnits(q.ask)) / 2);
    }
    return q.last === null ? undefined : toUnits(q.last);
  };

  // ---- session close and expiry ---------------------------------------------------------------

  /** The session closed: brokers expire DAY orders, options expiring today settle. */
  sessionClosed(closeMs: number): void {
    for (const b of new Set(Object.values(this.deps.brokers))) b.sessionClosed(closeMs);
    this.settleExpired(closeMs);
  }

  /** Settles every held option that has expired at `nowMs` (skipping those whose underlying has no mark). */
  settleExpired(nowMs: number): void {
    for (const account of this.portfolio.accounts()) {
      for (const p of this.portfolio.positionsOf(account)) {
        if (p.qty === 0) continue;
        const inst = this.deps.market.instrument(p.symbol);
        if (!inst || inst.kind !== "option" || !optionExpired(inst, nowMs, this.deps.calendar)) continue;
        const u = inst.underlying ? this.marks(inst.underlying) : undefined;
        if (u === undefined) {
          this.deps.log.error("cannot settle an expired option: its underlying has no price", { account, symbol: p.symbol });
          continue;
        }
        for (const l of this.openByAccount.get(account) ?? []) if (l.order.symbol === p.symbol && l.sent) l.broker.cancel(l.order.id);
        for (const f of settlementFills(p, inst, u, nowMs)) this.recordFill(f);
      }
    }
  }

  /** Stops timers and broker subscriptions; resolves once what is queued is committed. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.closeTimer);
    for (const d of this.detach) d();
    await this.deps.store.journal.durable().catch(() => undefined);
  }

  // ---- internals -----------------------------------------------------------------------------

  private byClientId(account: string, clientOrderId: string): Order | undefined {
    const key = clientKey(account, clientOrderId);
    const live = this.byClient.get(key);
    if (live) return live.order;
    return this.clientIds.mightContain(key) ? this.deps.store.orderByClientId(account, clientOrderId) : undefined;
  }

  /** Refuses a request when the account is at its open-order bound or the journal is short of room. */
  private admit(account: string | undefined): Result<never> | undefined {
    const j = this.deps.store.journal;
    if (j.failed) return fail(503, "JOURNAL_FAILED", j.failed.message);
    if (j.room() <= j.maxPending * this.options.journalReserveFraction) {
      return fail(503, "JOURNAL_FULL", "the journal is catching up with the disk; retry shortly");
    }
    const max = this.options.maxOpenOrdersPerAccount;
    if (account !== undefined && this.openByAccount.get(account)!.size >= max) {
      return fail(429, "TOO_MANY_OPEN_ORDERS", `account ${account} has ${max} working orders, its limit`, "account");
    }
    return undefined;
  }

  private async notLive(id: string, scope: Scope, verb: string): Promise<Result<never>> {
    const stored = this.deps.store.order(id);
    if (!stored || !scope(stored.account)) return fail(404, "NOT_FOUND", `no order ${id}`, "id");
    const code = verb === "canceled" ? "ORDER_NOT_CANCELABLE" : "ORDER_NOT_MODIFIABLE";
    return fail(409, code, `order ${id} is ${stored.status} and cannot be ${verb}`, "id");
  }

  /** For an external broker, waits until the order's last event is on disk (write-ahead); a refusal on failure. */
  private async writeAhead(live: Live): Promise<Result<never> | undefined> {
    if (!live.broker.external) return undefined;
    try {
      await this.deps.store.journal.durable(live.lastSeq);
      return undefined;
    } catch (err) {
      return fail(503, "JOURNAL_FAILED", (err as Error).message);
    }
  }

  /** Replies once everything appended so far (all the reply reflects) is durable. */
  private async durableReply<T>(value: T): Promise<Result<T>> {
    try {
      await this.deps.store.journal.durable();
    } catch (err) {
      return fail(503, "JOURNAL_FAILED", (err as Error).message);
    }
    return { ok: true, value };
  }

  private context(account: string, inst: Instrument, nowMs: number, excludeId: string): PreTradeContext {
    return {
      instrument: inst, nowMs,
      quote: () => this.deps.market.quote(inst.index),
      openOrders: () => [...this.openByAccount.get(account)!].filter((l) => l.order.id !== excludeId).map((l) => l.order),
      position: (symbol) => this.portfolio.position(account, symbol),
      ledger: () => this.portfolio.ledger(account)!,
    };
  }

  /**
   * Applies one event to an order: checks the transition (an illegal one is logged, counted and
   * not applied), mutates, journals a snapshot and queues the push. Returns false when refused.
   */
  private apply(live: Live, kind: string, to: OrderStatus | undefined, ts: number, detail?: Record<string, unknown>, mutate?: (o: Order) => void): boolean {
    const o = live.order;
    if (to !== undefined) {
      const illegal = checkTransition(o.status, to);
      if (illegal) {
        this.stats.illegalTransitions++;
        this.deps.log.warn("order event refused", { orderId: o.id, event: kind, error: illegal });
        return false;
      }
    }
    const wasOpen = !isTerminal(o.status) && o.status !== "initialized";
    mutate?.(o);
    if (to !== undefined) o.status = to;
    o.version++;
    o.updatedTs = ts;
    const snapshot = { ...o };
    live.lastSeq = this.deps.store.journal.append({ t: "order", order: snapshot, kind, ts, ...(detail ? { detail } : {}) }, true);
    this.push(live.lastSeq, { type: "order", account: o.account, order: snapshot });
    if (wasOpen && isTerminal(o.status)) {
      this.openByAccount.get(o.account)?.delete(live);
      this.closed.push(live);
    }
    return true;
  }

  /** Journals a fill and applies it to the portfolio. */
  private recordFill(f: Fill): void {
    const seq = this.deps.store.journal.append({ t: "fill", fill: f }, true);
    const position = { ...this.portfolio.applyFill(f) };
    this.push(seq, { type: "fill", account: f.account, fill: f, position });
  }

  private push(seq: number, update: OmsUpdate): void {
    if (this.listeners.length > 0) this.outbox.push({ seq, update });
  }

  /** After a commit: deliver durable pushes, and let go of finished orders that are on disk. */
  private committed(records: readonly JournalRecord[]): void {
    const upTo = records.at(-1)!.seq;
    let n = 0;
    while (n < this.outbox.length && this.outbox[n]!.seq <= upTo) n++;
    if (n > 0) {
      const ready = this.outbox.splice(0, n);
      for (const { update } of ready) for (const l of this.listeners) l(update);
    }
    const c = this.closed;
    while (c.length - this.closedHead > this.options.recentOrders && c[this.closedHead]!.lastSeq <= upTo) {
      const l = c[this.closedHead++]!;
      this.live.delete(l.order.id);
      this.byClient.delete(clientKey(l.order.account, l.order.clientOrderId));
    }
    // Compact rarely: one splice per thousands of evictions instead of one per commit.
    if (this.closedHead > 4096 && this.closedHead * 2 > c.length) {
      c.splice(0, this.closedHead);
      this.closedHead = 0;
    }
  }

  /** Applies one broker event to its order. */
  private onBrokerEvent(e: BrokerEvent): void {
    if (e.kind === "fill") return this.onFill(e.fill);
    const live = this.live.get(e.orderId);
    if (!live) {
      this.stats.unknownOrderEvents++;
      this.deps.log.warn("broker event for an unknown order", { event: e.kind, orderId: e.orderId });
      return;
    }
    const o = live.order;
    const back: OrderStatus = o.filledQty > 0 ? "partially_filled" : "accepted";
    switch (e.kind) {
      case "accepted":
        // A fill may have come first (IBKR does that): then only the broker id is news.
        this.apply(live, "accepted", o.status === "submitted" ? "accepted" : undefined, e.ts, { brokerOrderId: e.brokerOrderId },
          (x) => (x.brokerOrderId = e.brokerOrderId));
        return;
      case "rejected":
        this.apply(live, "rejected", "rejected", e.ts, undefined, (x) => (x.reason = e.reason));
        return;
      case "triggered":
        this.apply(live, "triggered", undefined, e.ts, undefined, (x) => (x.triggered = true));
        return;
      case "canceled":
        this.apply(live, "canceled", "canceled", e.ts, undefined, (x) => (x.reason = e.reason));
        return;
      case "expired":
        this.apply(live, "expired", "expired", e.ts, undefined, (x) => (x.reason = "session closed"));
        return;
      case "replaced":
        this.apply(live, "replaced", back, e.ts, { qty: e.qty, limitPriceUnits: e.limitPriceUnits, stopPriceUnits: e.stopPriceUnits }, (x) => {
          x.qty = e.qty;
          if (e.limitPriceUnits !== undefined) x.limitPriceUnits = e.limitPriceUnits;
          if (e.stopPriceUnits !== undefined) x.stopPriceUnits = e.stopPriceUnits;
        });
        return;
      case "cancel_rejected":
        this.apply(live, "cancel_rejected", o.status === "pending_cancel" ? back : undefined, e.ts, undefined, (x) => (x.reason = e.reason));
        return;
      case "modify_rejected":
        this.apply(live, "modify_rejected", o.status === "pending_replace" ? back : undefined, e.ts, undefined, (x) => (x.reason = e.reason));
        return;
    }
  }

  /** A fill is applied once per id; the money moves even if the order's state cannot follow. */
  private onFill(b: BrokerFill): void {
    const live = this.live.get(b.orderId);
    if (!live) {
      if (this.deps.store.hasFill(b.fillId)) this.stats.duplicateFills++;
      else {
        this.stats.unknownOrderEvents++;
        this.deps.log.error("fill for an order not in memory", { orderId: b.orderId, fillId: b.fillId });
      }
      return;
    }
    if (live.fillIds.has(b.fillId)) {
      this.stats.duplicateFills++;
      return;
    }
    const o = live.order;
    if (b.qty <= 0 || o.filledQty + b.qty > o.qty) {
      this.stats.overfills++;
      this.deps.log.error("fill beyond the order's quantity refused", { orderId: o.id, fillId: b.fillId, qty: b.qty, filled: o.filledQty });
      return;
    }
    live.fillIds.add(b.fillId);
    this.recordFill({
      seq: 0, fillId: b.fillId, orderId: o.id, account: o.account, symbol: o.symbol, side: o.side, qty: b.qty, priceUnits: b.priceUnits,
      multiplier: o.multiplier, commissionMicros: b.commissionMicros, ts: b.ts, kind: "trade",
    });
    const filled = o.filledQty + b.qty;
    const detail = { fillId: b.fillId, qty: b.qty, priceUnits: b.priceUnits };
    const update = (x: Order) => {
      x.avgFillPriceUnits = (x.avgFillPriceUnits * x.filledQty + b.priceUnits * b.qty) / filled;
      x.filledQty = filled;
    };
    if (!this.apply(live, "fill", filled === o.qty ? "filled" : "partially_filled", b.ts, detail, update)) {
      this.apply(live, "fill", undefined, b.ts, detail, update);
    }
  }

  // ---- start-up ------------------------------------------------------------------------------

  private async recover(): Promise<void> {
    const { store, log } = this.deps;
    const j = store.journal;
    const known = new Set(store.accounts().map((a) => a.id));
    const now = this.clock();
    for (const a of this.deps.accounts.list) {
      if (known.has(a.id)) continue;
      j.append({ t: "account", id: a.id, mode: a.mode, ts: now }, true);
      j.append({ t: "cash", entry: { seq: 0, account: a.id, amountMicros: toMicros(this.deps.accounts.capital * a.share), ts: now, memo: "initial capital" } }, true);
    }
    await j.durable();
    for (const key of store.clientKeys()) this.clientIds.add(key);
    for (const a of store.accounts()) this.portfolio.addAccount(a.id);
    for (const c of store.cash()) this.portfolio.applyCash(c);
    for (const f of store.allFills()) this.portfolio.applyFill(f);
    j.onCommit((records) => this.committed(records));

    const restore = new Map<Broker, RestoredOrder[]>();
    for (const o of store.openOrders()) {
      const cfg = this.accountCfg.get(o.account);
      const inst = this.deps.market.instrument(o.symbol);
      if (!cfg || !inst) {
        log.error("open order of an unknown account or instrument left as it is", { orderId: o.id, account: o.account, symbol: o.symbol });
        continue;
      }
      const live: Live = { order: o, broker: this.deps.brokers[cfg.broker]!, sent: true, fillIds: new Set(store.fillIdsOf(o.id)), lastSeq: 0 };
      this.live.set(o.id, live);
      this.byClient.set(clientKey(o.account, o.clientOrderId), live);
      this.openByAccount.get(o.account)!.add(live);
      if (o.tif === "DAY" && this.deps.calendar.nextCloseMs(o.createdTs) <= now) {
        this.apply(live, "expired", "expired", now, undefined, (x) => (x.reason = "session closed while the server was down"));
        continue;
      }
      if (o.status === "pending_replace") {
        this.apply(live, "modify_rejected", o.filledQty > 0 ? "partially_filled" : "accepted", now, undefined,
          (x) => (x.reason = "modify interrupted by a restart; send it again"));
      }
      const list = restore.get(live.broker) ?? [];
      list.push({ ...toBrokerOrder(o, inst), filledQty: o.filledQty, triggered: o.triggered, brokerOrderId: o.brokerOrderId });
      restore.set(live.broker, list);
    }
    for (const b of new Set(Object.values(this.deps.brokers))) {
      this.detach.push(b.onEvent((e) => this.onBrokerEvent(e)));
      await b.restore(restore.get(b) ?? []);
      await this.reconcile(b, store.lastFillTs());
    }
    for (const l of this.live.values()) if (l.order.status === "pending_cancel") l.broker.cancel(l.order.id);
    this.settleExpired(now);
    await j.durable();
    this.scheduleClose();
  }

  /** Applies executions the journal missed, then ends orders the broker no longer works. */
  private async reconcile(broker: Broker, lastFillTs: number): Promise<void> {
    // A minute of overlap: clocks differ, and fills already known are skipped by id.
    for (const f of await broker.executionsSince(Math.max(0, lastFillTs - 60_000))) this.onFill(f);
    const open = await broker.openOrders();
    const working = new Set(open.map((o) => o.orderId));
    // An order journaled as submitted just before a crash may never have had its accepted event
    // journaled; the broker working it is that acknowledgment.
    for (const b of open) {
      const l = this.live.get(b.orderId);
      if (l?.order.status === "submitted") {
        this.apply(l, "accepted", "accepted", this.clock(), { brokerOrderId: b.brokerOrderId }, (x) => (x.brokerOrderId = b.brokerOrderId));
      }
    }
    for (const l of [...this.live.values()]) {
      if (l.broker !== broker || isTerminal(l.order.status) || working.has(l.order.id)) continue;
      this.apply(l, "canceled", "canceled", this.clock(), undefined, (x) => (x.reason = "not working at the broker after a restart"));
    }
  }

  private scheduleClose(): void {
    if (this.stopped) return;
    const now = this.clock();
    const close = this.deps.calendar.nextCloseMs(now);
    // setTimeout holds at most 2^31-1 ms; a longer wait simply re-arms.
    this.closeTimer = setTimeout(() => {
      if (this.clock() >= close) this.sessionClosed(close);
      this.scheduleClose();
    }, Math.min(Math.max(0, close - now), 2 ** 31 - 1));
    (this.closeTimer as { unref?: () => void }).unref?.();
  }
}

/** The key of a client order id: account and id (NUL never occurs in either). */
export function clientKey(account: string, clientOrderId: string): string {
  return `${account}\u0000${clientOrderId}`;
}

/** The broker's view of an order. */
function toBrokerOrder(o: Order, inst: Instrument): BrokerOrder {
  const b: BrokerOrder = { orderId: o.id, account: o.account, instrument: inst, side: o.side, type: o.type, tif: o.tif, qty: o.qty };
  if (o.limitPriceUnits !== undefined) b.limitPriceUnits = o.limitPriceUnits;
  if (o.stopPriceUnits !== undefined) b.stopPriceUnits = o.stopPriceUnits;
  return b;
}
