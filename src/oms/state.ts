// The order manager's in-memory state and the one way an order changes: apply() checks the
// transition, mutates, journals an immutable snapshot and queues the push to listeners, which
// committed() delivers once the journal has the events on disk. Requests (requests.ts), broker
// events (broker-events.ts) and start-up (recovery.ts) all change orders through here.

import type { Broker, BrokerOrder } from "../broker/broker.ts";
import type { ExchangeCalendar } from "../domain/calendar.ts";
import type { Instrument } from "../domain/instrument.ts";
import { checkTransition, isTerminal, type Fill, type Order, type OrderStatus } from "../domain/order.ts";
import { toUnits } from "../domain/price.ts";
import type { Quote } from "../domain/quote.ts";
import { QualityFlag } from "../domain/tick.ts";
import type { Logger } from "../log.ts";
import type { Journal, NewRecord } from "../store/journal.ts";
import type { Store } from "../store/store.ts";
import type { AccountConfig, AccountsConfig } from "./accounts.ts";
import { BloomFilter } from "./bloom.ts";
import { Portfolio, type Ledger, type Position } from "./portfolio.ts";
import { PASS_THROUGH, type PreTradeContext, type PreTradeHook } from "./pretrade.ts";
import { DEFAULT_ORDER_BOUNDS, fail, type OrderBounds, type Result } from "./validate.ts";
import type { MarkFn } from "./valuation.ts";

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
  /** Broker messages refused before the journal because a field was unusable (see broker-events.ts). */
  invalidBrokerMessages: number;
  /** Fills whose broker id another order had already used, recorded under a qualified id. */
  reusedFillIds: number;
}

/** An order the manager holds in memory, with what it needs to route and journal it. */
export interface Live {
  order: Order;
  /** The last journaled snapshot of `order`: immutable, so replies and pushes share it. */
  snap: Order;
  broker: Broker;
  /** Handed to the broker (false between the write-ahead and the send). */
  sent: boolean;
  fillIds: Set<string>;
  /** Journal seq of the order's last event. */
  lastSeq: number;
  /** clientKey(account, clientOrderId), built once: its hash is cached by the runtime too. */
  key: string;
}

/** Which accounts a caller may see or trade. */
export type Scope = (account: string) => boolean;

/** Every account. */
export const ANY: Scope = () => true;

/** The key of a client order id: account and id (NUL never occurs in either). */
export function clientKey(account: string, clientOrderId: string): string {
  return `${account}\u0000${clientOrderId}`;
}

/** The broker's view of an order. */
export function toBrokerOrder(o: Order, inst: Instrument): BrokerOrder {
  const b: BrokerOrder = { orderId: o.id, account: o.account, instrument: inst, side: o.side, type: o.type, tif: o.tif, qty: o.qty };
  if (o.limitPriceUnits !== undefined) b.limitPriceUnits = o.limitPriceUnits;
  if (o.stopPriceUnits !== undefined) b.stopPriceUnits = o.stopPriceUnits;
  if (o.outsideRth) b.outsideRth = true;
  if (o.triggerMethod !== undefined) b.triggerMethod = o.triggerMethod;
  return b;
}

/** The in-memory state shared by the order manager's parts; see the file comment. */
export class OmsState {
  readonly stats: OmsStats = { illegalTransitions: 0, duplicateFills: 0, unknownOrderEvents: 0, overfills: 0, invalidBrokerMessages: 0, reusedFillIds: 0 };
  /** Fill id → order id of recent fills, for the reuse check in broker-events.ts (bounded there). */
  readonly recentFillIds = new Map<string, string>();
  readonly portfolio = new Portfolio();
  readonly options: OmsOptions;
  readonly live = new Map<string, Live>();
  readonly byClient = new Map<string, Live>();
  readonly openByAccount = new Map<string, Set<Live>>();
  /** Finished orders in the order they finished, from closedHead on; evicted once on disk and beyond recentOrders. */
  readonly closed: Live[] = [];
  closedHead = 0;
  readonly clientIds: BloomFilter;
  readonly accountCfg = new Map<string, AccountConfig>();
  readonly listeners: ((u: OmsUpdate) => void)[] = [];
  /** Pushes waiting for their journal seq to be durable, from outboxHead on. */
  private outbox: { seq: number; update: OmsUpdate }[] = [];
  readonly detach: (() => void)[] = [];
  readonly preTrade: PreTradeHook;
  readonly clock: () => number;
  readonly journal: Journal;
  orderNum: number;
  stopped = false;

  constructor(readonly deps: OmsDeps) {
    this.options = { ...OMS_DEFAULTS, ...deps.options };
    this.preTrade = deps.preTrade ?? PASS_THROUGH;
    this.clock = deps.clock ?? Date.now;
    this.journal = deps.store.journal;
    this.orderNum = deps.store.maxOrderNum();
    this.clientIds = new BloomFilter(this.options.clientIdFilterCapacity);
    for (const a of deps.accounts.list) {
      if (!deps.brokers[a.broker]) throw new Error(`account ${a.id} names broker ${a.broker}, which is not configured`);
      this.accountCfg.set(a.id, a);
      this.openByAccount.set(a.id, new Set());
    }
  }

  /** The order with this client order id: memory first, then the store when the Bloom filter cannot rule it out. */
  byClientId(account: string, clientOrderId: string, key: string): Order | undefined {
    const live = this.byClient.get(key);
    if (live) return live.order;
    return this.clientIds.mightContain(key) ? this.deps.store.orderByClientId(account, clientOrderId) : undefined;
  }

  /** Refuses a request when the account is at its open-order bound or the journal is short of room. */
  admit(account: string | undefined): Result<never> | undefined {
    const j = this.journal;
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

  /** For an external broker, waits until the order's last event is on disk (write-ahead); a refusal on failure. */
  async writeAhead(live: Live): Promise<Result<never> | undefined> {
    try {
      await this.journal.durable(live.lastSeq);
      return undefined;
    } catch (err) {
      return fail(503, "JOURNAL_FAILED", (err as Error).message);
    }
  }

  /** Replies once everything appended so far (all the reply reflects) is durable; one shared promise per commit. */
  durableReply<T>(value: T): Promise<Result<T>> {
    return this.journal.durable().then(
      (): Result<T> => ({ ok: true, value }),
      (err: Error) => fail<T>(503, "JOURNAL_FAILED", err.message),
    );
  }

  /** What the pre-trade hook may read about an order of `account`. */
  context(account: string, inst: Instrument, nowMs: number, excludeId: string): PreTradeContext {
    return new CheckContext(this, account, inst, nowMs, excludeId);
  }

  /**
   * Applies one event to an order: checks the transition (an illegal one is logged, counted and
   * not applied), mutates, journals a snapshot and queues the push. Returns false when refused.
   */
  apply(live: Live, kind: string, to: OrderStatus | undefined, ts: number, detail?: Record<string, unknown>, mutate?: (o: Order) => void): boolean {
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
    const snapshot = (live.snap = { ...o });
    const record: NewRecord = detail ? { t: "order", order: snapshot, kind, ts, detail } : { t: "order", order: snapshot, kind, ts };
    live.lastSeq = this.journal.append(record, true);
    if (this.listeners.length > 0) this.outbox.push({ seq: live.lastSeq, update: { type: "order", account: o.account, order: snapshot } });
    if (wasOpen && isTerminal(o.status)) {
      this.openByAccount.get(o.account)?.delete(live);
      this.closed.push(live);
    }
    return true;
  }

  /** Journals a fill and applies it to the portfolio. */
  recordFill(f: Fill): void {
    const seq = this.journal.append({ t: "fill", fill: f }, true);
    const position = this.portfolio.applyFill(f);
    if (this.listeners.length > 0) this.outbox.push({ seq, update: { type: "fill", account: f.account, fill: f, position: { ...position } } });
  }

  /** After a commit up to `upTo`: deliver durable pushes, and let go of finished orders that are on disk. */
  committed(upTo: number): void {
    const out = this.outbox;
    let n = 0;
    while (n < out.length && out[n]!.seq <= upTo) n++;
    if (n > 0) {
      // Swap rather than splice when everything is delivered, the usual case.
      const ready = n === out.length ? out : out.slice(0, n);
      this.outbox = n === out.length ? [] : out.slice(n);
      const ls = this.listeners;
      for (let i = 0; i < ready.length; i++) for (let k = 0; k < ls.length; k++) ls[k]!(ready[i]!.update);
    }
    const c = this.closed;
    while (c.length - this.closedHead > this.options.recentOrders && c[this.closedHead]!.lastSeq <= upTo) {
      const l = c[this.closedHead++]!;
      this.live.delete(l.order.id);
      this.byClient.delete(l.key);
    }
    // Compact rarely: one splice per thousands of evictions instead of one per commit.
    if (this.closedHead > 4096 && this.closedHead * 2 > c.length) {
      c.splice(0, this.closedHead);
      this.closedHead = 0;
    }
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
}

/** The pre-trade context as a small object with methods: no closures to allocate per check. */
class CheckContext implements PreTradeContext {
  constructor(private readonly s: OmsState, private readonly account: string, readonly instrument: Instrument, readonly nowMs: number,
    private readonly excludeId: string) {}

  quote(): Quote {
    return this.s.deps.market.quote(this.instrument.index);
  }

  openOrders(): readonly Order[] {
    const out: Order[] = [];
    for (const l of this.s.openByAccount.get(this.account)!) if (l.order.id !== this.excludeId) out.push(l.order);
    return out;
  }

  position(symbol: string): Position | undefined {
    return this.s.portfolio.position(this.account, symbol);
  }

  ledger(): Ledger {
    return this.s.portfolio.ledger(this.account)!;
  }
}
