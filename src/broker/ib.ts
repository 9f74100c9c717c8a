// The IBKR broker: our orders through TWS / IB Gateway over the shared IbSession. Requests go
// through the session's pacing queue (cancels first); TWS's orderStatus / openOrder / execDetails
// / commissionReport / errors become BrokerEvents. Identity: IB order ids come from the session
// (max of our high-water mark and nextValidId) and orderRef carries our order id, so an order is
// found by either after a restart. A fill is emitted once its commissionReport has joined it
// (ib-fills.ts), once per execId.
//
// Reconciliation (after every (re)connect and 1101/1102) is in ib-reconcile.ts, comparing
// positions in ib-positions.ts. IB ends DAY orders itself at the close and reports them
// Cancelled; an unrequested Cancelled of a DAY order after sessionClosed() is reported as
// expired. The read requests and their bounds are in ib-queries.ts.

import { type Contract, EventName, type Execution, type IBApi, type Order, type OrderState } from "@stoqey/ib";
import type { Instrument } from "../domain/instrument.ts";
import { hasLimit, hasStop } from "../domain/order.ts";
import type { AccountSummary, IbPnl, IbPosition } from "../ib/account.ts";
import { isWarning } from "../ib/codes.ts";
import type { IbSession } from "../ib/session.ts";
import { createLogger, type Logger } from "../log.ts";
import type { Broker, BrokerEvent, BrokerFill, BrokerListener, BrokerOpenOrder, BrokerOrder, OrderChanges, RestoredOrder } from "./broker.ts";
import { ExecutionJoiner, JOIN_DEFAULTS, type JoinLimits } from "./ib-fills.ts";
import { contractOf, ibOrderOf, parseExecTime } from "./ib-map.ts";
import { type OurPosition, type PositionDiff, positionDiffs } from "./ib-positions.ts";
import { IbQueries } from "./ib-queries.ts";
import { IbReconciler } from "./ib-reconcile.ts";
import { fillOf, openOrderOf, ORDER_NOTICES, refuseChanges, showsTerms, type Tracked } from "./ib-orders.ts";
import { addListener } from "../domain/listeners.ts";

/** Settings of the IBKR broker. */
export interface IbBrokerOptions {
  /** Our instrument for a symbol, for orders and executions this run did not place (reconciliation). */
  instrument: (symbol: string) => Instrument | undefined;
  /** Our account id → IB account code; "" lets TWS use the login's default account (absent: the same name). */
  account?: (ours: string) => string;
  /** Our positions now (the order manager's), compared with IBKR's after each reconciliation; absent: no comparison. */
  ourPositions?: () => readonly OurPosition[];
  /** Working orders tracked at once (default 10 000); a submit past it is rejected. */
  maxOrders?: number;
  /** Bounds of the execution / commission join (see ib-fills.ts). */
  join?: Partial<JoinLimits>;
  /** Read requests (open orders, executions, positions, summary, P&L) in flight at once (default 4); more are refused. */
  maxInFlight?: number;
  /** Items one answer may hold (default 100 000); more fail the request. */
  maxItems?: number;
  /** A request without its end marker after this long fails (default 15 000 ms). */
  requestTimeoutMs?: number;
  log?: Logger;
  clock?: () => number;
}

/** The IBKR broker; see the file comment. */
export class IbBroker implements Broker {
  readonly name = "ib";
  /** Orders live at IBKR: the order manager journals before sending. */
  readonly external = true;
  /** Counters for metrics and tests. */
  readonly stats = { reconciliations: 0, reconcileFailures: 0, endedWhileAway: 0, unknownExecutions: 0, filledWithoutExecutions: 0 };
  /** Where IBKR's positions and ours differed at the last reconciliation (see ib-positions.ts). */
  lastPositionDiffs: PositionDiff[] = [];
  private readonly listeners: BrokerListener[] = [];
  private readonly byOurId = new Map<string, Tracked>();
  private readonly byIbId = new Map<number, Tracked>();
  private readonly joiner: ExecutionJoiner<Tracked>;
  private readonly offs: (() => void)[] = [];
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly maxOrders: number;
  private readonly queries: IbQueries;
  private readonly reconciler: IbReconciler;
  private sessionClosedAtMs = 0;
  /** Positions as of the last reconciliation or positions() call. */
  lastPositions: IbPosition[] = [];
  private seq = 0;
  private closed = false;

  constructor(private readonly session: IbSession, private readonly opts: IbBrokerOptions) {
    this.log = opts.log ?? createLogger("warn", "ib-broker");
    this.clock = opts.clock ?? Date.now;
    this.maxOrders = opts.maxOrders ?? 10_000;
    this.queries = new IbQueries(session, { maxInFlight: opts.maxInFlight ?? 4, maxItems: opts.maxItems ?? 100_000, timeoutMs: opts.requestTimeoutMs ?? 15_000 });
    this.joiner = new ExecutionJoiner<Tracked>({ ...JOIN_DEFAULTS, ...opts.join }, (fill, t) => this.onJoined(fill, t), (fill, original) => {
      this.log.error("ib execution correction not applied: book it by hand", { orderId: fill.orderId, execId: fill.fillId, original, qty: fill.qty, priceUnits: fill.priceUnits });
    });
    this.reconciler = new IbReconciler({
      stats: this.stats, log: this.log, clock: () => this.clock(), closed: () => this.closed, usable: () => session.usable, seq: () => this.seq,
      executions: () => this.executionsSince(0), openOrders: () => this.openOrders(), positions: () => this.positions(),
      tracked: () => this.byOurId.values(), finish: (t, e) => this.finish(t, e), ended: (t, r) => this.ended(t, r),
      comparePositions: () => {
        this.comparePositions();
        return this.lastPositionDiffs.length;
      },
    });
    const on = (e: EventName, fn: (...a: never[]) => void) => this.offs.push(session.onIb(e, fn));
    on(EventName.openOrder, (id: number, _c: Contract, o: Order, st: OrderState) => this.onOpenOrder(id, o, st));
    on(EventName.orderStatus, (id: number, status: string) => this.onStatus(this.byIbId.get(id), status));
    on(EventName.execDetails, (reqId: number, c: Contract, e: Execution) => this.onExecution(reqId, c, e));
    on(EventName.commissionReport, (r: { execId?: string; commission?: number }) => {
      if (r.execId) this.joiner.commission(r.execId, Math.round((r.commission ?? 0) * 1e6));
    });
    this.offs.push(session.events.on("requestError", (e) => this.onError(e.reqId, e.code, e.message)));
    this.offs.push(session.events.on("ready", () => this.reconciler.request("connected")));
    this.offs.push(session.events.on("restored", (r) => this.reconciler.request(r.dataLost ? "1101" : "1102")));
    if (session.usable) this.reconciler.request("started");
  }

  /** Registers the event listener. */
  onEvent(listener: BrokerListener): () => void {
    return addListener(this.listeners, listener);
  }

  /** Learns the journal's open orders (IB ids from brokerOrderId, else found later by orderRef); emits nothing. */
  async restore(orders: readonly RestoredOrder[]): Promise<void> {
    for (const r of orders) {
      const { filledQty, triggered, brokerOrderId, filledValueMicros: _v, commissionMicros: _c, fills: _f, ...order } = r;
      const ibId = Number(brokerOrderId ?? 0);
      const t = this.track({ ...order }, Number.isInteger(ibId) && ibId > 0 ? ibId : 0);
      t.accepted = t.ibId > 0;
      t.filledQty = filledQty;
      t.triggered = triggered;
      if (t.ibId > 0) this.session.observeOrderId(t.ibId);
    }
  }

  /** Sends a new order; every refusal is a rejected event. */
  submit(order: BrokerOrder): void {
    const problem = this.refuse(order);
    if (problem) return this.emit({ kind: "rejected", orderId: order.orderId, reason: problem, ts: this.clock() });
    const t = this.track({ ...order }, this.session.nextOrderId());
    this.place(t, t.order).catch((err: Error) => {
      if (t.accepted || t.done) return;
      this.finish(t, { kind: "rejected", orderId: order.orderId, reason: `not sent to IB: ${err.message}`, ts: this.clock() });
    });
  }

  /** Asks TWS to cancel; a refusal is cancel_rejected. */
  cancel(orderId: string): void {
    const t = this.byOurId.get(orderId);
    if (!t || t.done || t.ibId === 0) return this.emit({ kind: "cancel_rejected", orderId, reason: "no working order with this id", ts: this.clock() });
    t.cancelRequested = true;
    // Cancels jump the pacing queue, but not ahead of a placeOrder still waiting in it: TWS would
    // answer "not found" and then work the order. Until TWS has acknowledged, cancel in line.
    const ibId = t.ibId, send = (api: IBApi) => api.cancelOrder(ibId);
    (t.accepted ? this.session.cancel(`cancelOrder ${ibId}`, send) : this.session.request(`cancelOrder ${ibId}`, send)).catch((err: Error) => {
      t.cancelRequested = false;
      this.emit({ kind: "cancel_rejected", orderId, reason: `not sent to IB: ${err.message}`, ts: this.clock() });
    });
  }

  /** Sends the changed order under the same IB id (TWS's modify); answered by replaced on its openOrder. */
  modify(orderId: string, changes: OrderChanges): void {
    const t = this.byOurId.get(orderId);
    const problem = !t || t.done || t.ibId === 0 ? "no working order with this id" : refuseChanges(t, changes);
    if (problem || !t) return this.emit({ kind: "modify_rejected", orderId, reason: problem ?? "", ts: this.clock() });
    const next: BrokerOrder = { ...t.order, qty: changes.qty ?? t.order.qty, limitPriceUnits: changes.limitPriceUnits ?? t.order.limitPriceUnits,
      stopPriceUnits: changes.stopPriceUnits ?? t.order.stopPriceUnits };
    t.modify = next;
    this.place(t, next).catch((err: Error) => {
      t.modify = null;
      this.emit({ kind: "modify_rejected", orderId, reason: `not sent to IB: ${err.message}`, ts: this.clock() });
    });
  }

  /** IB expires DAY orders itself; remembering the close lets its Cancelled reports read as expiries. */
  sessionClosed(closeMs: number): void {
    this.sessionClosedAtMs = closeMs;
  }

  /** Orders TWS lists as working for this client (reqOpenOrders), ours and others it can map. */
  async openOrders(): Promise<BrokerOpenOrder[]> {
    const out: BrokerOpenOrder[] = [];
    for (const [ibId, c, o, status] of await this.queries.openOrders()) {
      if (status === "Cancelled" || status === "Filled" || status === "Inactive" || status === "ApiCancelled") continue;
      const b = openOrderOf(this.trackedFor(ibId, o.orderRef), this.opts.instrument, ibId, c, o);
      if (b) out.push(b);
    }
    return out;
  }

  /** Executions of this client since `sinceMs` (TWS's times have one-second resolution: the whole second counts). */
  async executionsSince(sinceMs: number): Promise<BrokerFill[]> {
    const execs = await this.queries.executions(sinceMs);
    const fromMs = Math.floor(sinceMs / 1000) * 1000;
    const out: BrokerFill[] = [];
    for (const [c, e] of execs) {
      const f = fillOf(this.trackedFor(e.orderId, e.orderRef), c, e, parseExecTime(e.time) ?? this.clock());
      if (f && f.ts >= fromMs) out.push({ ...f, commissionMicros: this.joiner.commissionOf(f.orderId, f.fillId) ?? 0 });
    }
    return out;
  }

  /** Positions of every account the login manages; also refreshed by each reconciliation (lastPositions). */
  async positions(): Promise<IbPosition[]> {
    this.lastPositions = await this.queries.positions();
    return this.lastPositions;
  }

  /** Net liquidation, cash, margin and buying power of every account (reqAccountSummary). */
  accountSummary(): Promise<AccountSummary> {
    return this.queries.accountSummary();
  }

  /** Daily, unrealized and realized P&L of one IB account (reqPnL, first report). */
  pnl(ibAccount: string): Promise<IbPnl> {
    return this.queries.pnl(ibAccount);
  }

  /** Stops listening; nothing is emitted afterwards. Working orders stay at IBKR. */
  async close(): Promise<void> {
    this.closed = true;
    for (const off of this.offs.splice(0)) off();
    this.listeners.length = 0;
  }

  /** Read requests refused by the in-flight bound (ib-queries.ts). */
  get refusedRequests(): number {
    return this.queries.refused;
  }

  /** Executions waiting for their commission report (bounded; see ib-fills.ts). */
  get pendingExecutions(): number {
    return this.joiner.pendingCount;
  }

  /** The joiner's counters (joined, evicted without commission, duplicates, corrections not applied). */
  get joinStats(): Readonly<ExecutionJoiner<Tracked>["stats"]> {
    return this.joiner.stats;
  }

  private refuse(o: BrokerOrder): string | undefined {
    if (this.closed) return "broker is closed";
    const known = this.byOurId.get(o.orderId);
    if (known && !known.done) return `order id ${o.orderId} is already working`;
    if (this.byOurId.size >= this.maxOrders) return `IB broker tracks ${this.maxOrders} working orders, its limit`;
    if (!Number.isInteger(o.qty) || o.qty <= 0) return "quantity must be a positive whole number";
    if (hasLimit(o.type) !== (o.limitPriceUnits !== undefined)) return `a ${o.type} order ${hasLimit(o.type) ? "needs" : "takes no"} limit price`;
    if (hasStop(o.type) !== (o.stopPriceUnits !== undefined)) return `a ${o.type} order ${hasStop(o.type) ? "needs" : "takes no"} stop price`;
    if (!this.session.usable) return `IB session is ${this.session.state}`;
    return undefined;
  }

  private track(order: BrokerOrder, ibId: number): Tracked {
    const old = this.byOurId.get(order.orderId);
    if (old) this.forget(old);
    const t: Tracked = { order, ibId, accepted: false, done: false, filledQty: 0, pendingFills: 0, deferred: null, cancelRequested: false, ibFilled: false, held: false, triggered: false, modify: null, seq: ++this.seq };
    this.byOurId.set(order.orderId, t);
    if (ibId > 0) this.byIbId.set(ibId, t);
    return t;
  }

  private forget(t: Tracked): void {
    if (this.byOurId.get(t.order.orderId) === t) this.byOurId.delete(t.order.orderId);
    if (this.byIbId.get(t.ibId) === t) this.byIbId.delete(t.ibId);
  }

  private place(t: Tracked, o: BrokerOrder): Promise<void> {
    const account = this.opts.account ? this.opts.account(o.account) : o.account;
    const contract = contractOf(o.instrument), ibOrder = ibOrderOf(o, account);
    return this.session.request(`placeOrder ${t.ibId}`, (api) => api.placeOrder(t.ibId, contract, ibOrder));
  }

  /** The order an IB id or orderRef belongs to; learns the IB id of a restored order found by its ref. */
  private trackedFor(ibId: number | undefined, orderRef: string | undefined): Tracked | undefined {
    const byId = ibId ? this.byIbId.get(ibId) : undefined;
    // IB order ids repeat after a gateway restart (nextValidId goes back); our id in orderRef does
    // not, so a report whose orderRef names another order is not about this one.
    if (byId && (!orderRef || byId.order.orderId === orderRef)) return byId;
    const t = orderRef ? this.byOurId.get(orderRef) : undefined;
    if (t && t.ibId === 0 && ibId) {
      t.ibId = ibId;
      this.byIbId.set(ibId, t);
      this.session.observeOrderId(ibId);
    }
    return t && (t.ibId === ibId || !ibId) ? t : undefined;
  }

  private onOpenOrder(ibId: number, o: Order, st: OrderState): void {
    const t = this.trackedFor(ibId, o.orderRef);
    if (!t || t.done) return;
    // An openOrder with the old terms (an answer to reqOpenOrders sent earlier) is not the confirmation.
    if (t.modify && showsTerms(o, t.modify)) {
      const order = t.order;
      order.qty = t.modify.qty;
      order.limitPriceUnits = t.modify.limitPriceUnits;
      order.stopPriceUnits = t.modify.stopPriceUnits;
      t.modify = null;
      this.accept(t);
      this.emit({ kind: "replaced", orderId: order.orderId, qty: order.qty, limitPriceUnits: order.limitPriceUnits, stopPriceUnits: order.stopPriceUnits, ts: this.clock() });
    }
    this.onStatus(t, st.status);
  }

  private onStatus(t: Tracked | undefined, status: string): void {
    if (!t || t.done) return;
    switch (status) {
      case "PreSubmitted":
        t.held = true;
        return this.accept(t);
      case "Submitted":
        // IB holds a stop it simulates as PreSubmitted and submits it when it triggers.
        if (t.held && hasStop(t.order.type) && !t.triggered) {
          t.triggered = true;
          this.emit({ kind: "triggered", orderId: t.order.orderId, ts: this.clock() });
        }
        t.held = false;
        return this.accept(t);
      // Filled is never an end by itself: the order ends when its executions have all arrived.
      case "Filled":
        t.ibFilled = true;
        return this.accept(t);
      case "PendingCancel": return this.accept(t);
      case "Inactive":
        if (!t.accepted) this.finish(t, { kind: "rejected", orderId: t.order.orderId, reason: "IB: order inactive", ts: this.clock() });
        return;
      case "Cancelled": case "ApiCancelled": return this.ended(t, "canceled by request");
    }
  }

  private accept(t: Tracked): void {
    if (t.accepted) return;
    t.accepted = true;
    this.emit({ kind: "accepted", orderId: t.order.orderId, brokerOrderId: String(t.ibId), ts: this.clock() });
  }

  /** The order ended without filling in full: canceled on request, expired at the close, or ended by IB. */
  private ended(t: Tracked, requestedReason: string): void {
    const ts = this.clock();
    if (t.cancelRequested) return this.finish(t, { kind: "canceled", orderId: t.order.orderId, reason: requestedReason, ts });
    if (t.order.tif === "DAY" && this.sessionClosedAtMs > 0 && ts >= this.sessionClosedAtMs) return this.finish(t, { kind: "expired", orderId: t.order.orderId, ts });
    const reason = t.order.tif === "IOC" || t.order.tif === "FOK" ? `${t.order.tif}: canceled by IB` : "canceled by IB";
    this.finish(t, { kind: "canceled", orderId: t.order.orderId, reason, ts });
  }

  private onError(id: number, code: number, message: string): void {
    const t = this.byIbId.get(id);
    if (!t || t.done || isWarning(code) || ORDER_NOTICES.has(code)) return;
    const ts = this.clock(), orderId = t.order.orderId, reason = `IB ${code}: ${message}`;
    if (t.modify) {
      t.modify = null;
      return this.emit({ kind: "modify_rejected", orderId, reason, ts });
    }
    if (t.cancelRequested && (code === 10147 || code === 10148 || code === 161)) {
      t.cancelRequested = false;
      return this.emit({ kind: "cancel_rejected", orderId, reason, ts });
    }
    if (!t.accepted) return this.finish(t, { kind: "rejected", orderId, reason, ts });
    this.log.warn("ib error for a working order", { orderId, ibId: id, code, message });
  }

  private onExecution(reqId: number, c: Contract, e: Execution): void {
    if (!e.execId) return;
    // One execution is (our order, execId): orderRef names our order even after it ended here.
    const t = this.trackedFor(e.orderId, e.orderRef), ourId = t?.order.orderId ?? e.orderRef;
    if (ourId && this.joiner.repeated(ourId, e.execId)) return;
    if (!t) {
      if (reqId === -1) this.stats.unknownExecutions++;
      return;
    }
    // A live execution is stamped on arrival (TWS's time has one-second resolution); a repeated one keeps TWS's time.
    const f = fillOf(t, c, e, reqId === -1 ? this.clock() : parseExecTime(e.time) ?? this.clock());
    if (!f) return;
    t.pendingFills++;
    this.joiner.execution(f, t);
  }

  private onJoined(fill: BrokerFill, t: Tracked): void {
    t.pendingFills--;
    t.filledQty += fill.qty;
    this.accept(t);
    this.emit({ kind: "fill", fill });
    if (t.filledQty >= t.order.qty) this.finish(t, null);
    else if (t.pendingFills === 0 && t.deferred) this.finish(t, t.deferred);
  }

  /** Ends an order with `event` (null: filled), after its pending fills. */
  private finish(t: Tracked, event: BrokerEvent | null): void {
    if (t.done) return;
    if (event && t.pendingFills > 0) {
      t.deferred = event;
      return;
    }
    t.done = true;
    this.forget(t);
    if (event) this.emit(event);
  }

  /**
   * Compares IBKR's positions with ours. Fills still in flight make a difference for a moment,
   * so one found while executions wait for their commission is not reported yet.
   */
  private comparePositions(): void {
    if (!this.opts.ourPositions || this.joiner.pendingCount > 0) return;
    const account = this.opts.account ?? ((a: string) => a);
    this.lastPositionDiffs = positionDiffs(this.lastPositions, this.opts.ourPositions(), account);
    for (const d of this.lastPositionDiffs) this.log.warn("ib position differs from the journal", { ...d });
  }

  private emit(e: BrokerEvent): void {
    if (this.closed) return;
    for (const l of this.listeners) l(e);
  }
}
