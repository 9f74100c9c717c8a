// The order manager: validates requests, runs the pre-trade hook, journals, routes to the
// account's broker, applies broker events through the state machine, keeps positions, cash and
// P&L, expires DAY orders at the session close and settles expiring options.
//
// Write-ahead: for a broker whose orders live outside this process, an order is journaled as
// submitted and made durable before the broker sees it, so no venue ever holds an order the
// journal does not know; a reply (and every push to listeners) leaves only once every event it
// reflects is on disk. Requests are admitted only while the journal has room for them plus a
// reserve, so broker events — facts that must be recorded — always fit.
//
// This file is the public face; the work is split by responsibility: state.ts (the in-memory
// state and apply(), the one way an order changes), requests.ts (submit, cancel, modify),
// broker-events.ts (broker events and fills), recovery.ts (start-up, reconciliation, settlement).

import type { Fill, Order } from "../domain/order.ts";
import type { OrderFilter, StoredEvent } from "../store/store.ts";
import type { Portfolio, Position } from "./portfolio.ts";
import { recover, settleExpired } from "./recovery.ts";
import { cancel, modify, submit } from "./requests.ts";
import { draftOrder, type OrderDraft } from "./preview.ts";
import { ANY, OmsState, type OmsDeps, type OmsOptions, type OmsStats, type OmsUpdate, type Scope } from "./state.ts";
import type { Result } from "./validate.ts";
import { underlyingBasisView, type UnderlyingBasisView } from "./views.ts";
import { accountView, positionView, type AccountView, type MarkFn, type PositionView } from "./valuation.ts";
import { addListener } from "../domain/listeners.ts";

export { clientKey, OMS_DEFAULTS, type MarketView, type OmsDeps, type OmsOptions, type OmsStats, type OmsUpdate } from "./state.ts";

/** The order manager; see the file comment. */
export class OrderManager {
  /** Counters for metrics and tests. */
  readonly stats: OmsStats;
  /** Positions, cash and P&L per account. */
  readonly portfolio: Portfolio;
  /** The options in force (defaults merged with the given ones). */
  readonly options: OmsOptions;
  /** The mark of a symbol in price units: mid of a clean two-sided quote, else last, else none. */
  readonly marks: MarkFn;
  private readonly s: OmsState;
  private closeTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(deps: OmsDeps) {
    this.s = new OmsState(deps);
    this.stats = this.s.stats;
    this.portfolio = this.s.portfolio;
    this.options = this.s.options;
    this.marks = this.s.marks;
  }

  /** Builds the manager from the store (accounts, cash, fills, open orders), restores and reconciles brokers, starts the close timer. */
  static async start(deps: OmsDeps): Promise<OrderManager> {
    const m = new OrderManager(deps);
    await recover(m.s);
    m.scheduleClose();
    return m;
  }

  // ---- requests ------------------------------------------------------------------------------

  /** Places a new order from a request body; the same client order id and body returns the original. */
  submit(body: unknown, scope: Scope = ANY): Promise<Result<{ order: Order; created: boolean }>> {
    return submit(this.s, body, scope);
  }

  /** Asks to cancel an order. */
  cancel(id: string, scope: Scope = ANY): Promise<Result<Order>> {
    return cancel(this.s, id, scope);
  }

  /** Changes an order's quantity or prices. */
  modify(id: string, body: unknown, scope: Scope = ANY): Promise<Result<Order>> {
    return modify(this.s, id, body, scope);
  }

  /** Validates a new-order body as submit() would, without placing, registering or journaling anything (order preview). */
  draft(body: unknown, scope: Scope = ANY): Result<OrderDraft> {
    return draftOrder(this.s, body, scope);
  }

  // ---- reads ---------------------------------------------------------------------------------

  /** One order by id (memory first, then the store), once everything it reflects is durable. */
  async order(id: string, scope: Scope = ANY): Promise<Order | undefined> {
    const live = this.s.live.get(id);
    const o = live ? { ...live.order } : this.s.deps.store.order(id);
    if (!o || !scope(o.account)) return undefined;
    await this.s.deps.store.journal.durable();
    return o;
  }

  /** Orders matching a filter, newest first, one page, read once everything appended so far is durable. */
  async listOrders(filter: OrderFilter, limit: number, offset: number): Promise<{ items: Order[]; total: number }> {
    await this.s.deps.store.journal.durable();
    return this.s.deps.store.orders(filter, limit, offset);
  }

  /** Fills of an account or order, newest first, one page, once durable. */
  async fills(filter: { account?: string; orderId?: string }, limit: number, offset: number): Promise<{ items: Fill[]; total: number }> {
    await this.s.deps.store.journal.durable();
    return this.s.deps.store.fills(filter, limit, offset);
  }

  /** The journaled events of an order (bounded per order by the store). */
  events(id: string): StoredEvent[] {
    return this.s.deps.store.events(id);
  }

  /** Computes `read` now and returns it once everything it may reflect is durable. */
  async durableRead<T>(read: () => T): Promise<T> {
    const value = read();
    await this.s.deps.store.journal.durable();
    return value;
  }

  /** Working orders of an account (memory; bounded by maxOpenOrdersPerAccount). */
  openOrders(account: string): Order[] {
    return [...(this.s.openByAccount.get(account) ?? [])].map((l) => ({ ...l.order }));
  }

  /** Configured accounts. */
  accountIds(): string[] {
    return [...this.s.accountCfg.keys()];
  }

  /** An account valued at current marks, undefined for an unknown id. */
  account(id: string): AccountView | undefined {
    const cfg = this.s.accountCfg.get(id);
    if (!cfg) return undefined;
    const open = [...this.s.openByAccount.get(id)!].map((l) => l.order);
    return accountView(this.s.portfolio, id, cfg.mode, this.s.marks, (s) => this.s.deps.market.instrument(s), open);
  }

  /** An account's non-flat positions at current marks. */
  positions(account: string): PositionView[] {
    return this.s.portfolio.positionsOf(account).filter((p) => p.qty !== 0).map((p) => positionView(p, this.s.marks));
  }

  /** The wheel's adjusted cost basis of every underlying the account has traded (docs/orders.md, "Adjusted cost basis"). */
  underlyingBases(account: string): UnderlyingBasisView[] {
    return this.s.portfolio.basesOf(account).map(underlyingBasisView);
  }

  /** A position with the current mark applied. */
  positionView(p: Position): PositionView {
    return positionView(p, this.s.marks);
  }

  /** Registers a listener for durable changes (orders, fills with the position after them). */
  onUpdate(listener: (u: OmsUpdate) => void): () => void {
    return addListener(this.s.listeners, listener);
  }

  // ---- session close and expiry ---------------------------------------------------------------

  /** The session closed: brokers expire DAY orders, options expiring today settle. */
  sessionClosed(closeMs: number): void {
    for (const b of new Set(Object.values(this.s.deps.brokers))) b.sessionClosed(closeMs);
    settleExpired(this.s, closeMs);
  }

  /** Settles every held option that has expired at `nowMs` (skipping those whose underlying has no mark). */
  settleExpired(nowMs: number): void {
    settleExpired(this.s, nowMs);
  }

  /** Stops timers and broker subscriptions; resolves once what is queued is committed. */
  async stop(): Promise<void> {
    this.s.stopped = true;
    clearTimeout(this.closeTimer);
    for (const d of this.s.detach) d();
    await this.s.journal.durable().catch(() => undefined);
  }

  private scheduleClose(): void {
    if (this.s.stopped) return;
    const now = this.s.clock();
    const close = this.s.deps.calendar.nextCloseMs(now);
    // setTimeout holds at most 2^31-1 ms; a longer wait simply re-arms.
    this.closeTimer = setTimeout(() => {
      if (this.s.clock() >= close) this.sessionClosed(close);
      this.scheduleClose();
    }, Math.min(Math.max(0, close - now), 2 ** 31 - 1));
    (this.closeTimer as { unref?: () => void }).unref?.();
  }
}
