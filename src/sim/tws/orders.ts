// The simulator's order book: TWS's side of placeOrder / cancelOrder. Orders are filled by the
// paper broker's own fill model and commission schedule (src/broker/paper.ts), run against the
// simulator's market data instead of the engine, so a strategy sees the same fills from the
// paper broker and from IBKR-over-the-simulator. This file translates between IB's terms
// (per-client order ids, BUY/SELL, LMT/STP LMT, orderStatus strings) and the broker's, keeps
// executions (booking them to the accounts), and reports to whichever connection holds the
// order's client id right now: while that client is away nothing is sent, and the executions
// wait for its reqExecutions, as in TWS. Positions, cash and P&L are booked in accounts.ts.

import type { Broker, BrokerEvent, BrokerFill, BrokerOrder, OrderChanges } from "../../broker/broker.ts";
import type { QuoteSource } from "../../broker/paper.ts";
import { PaperBroker, type PaperOptions } from "../../broker/paper.ts";
import type { Instrument } from "../../domain/instrument.ts";
import type { OrderType, TimeInForce } from "../../domain/order.ts";
import { fromUnits, toUnits } from "../../domain/price.ts";
import { SimAccounts, type SimPosition } from "./accounts.ts";
import type { SimConnection } from "./connection.ts";
import type { SimMarketData } from "./marketdata.ts";
import { type Code, errorMessage } from "./messages.ts";
import {
  commissionReport, execDetails, openOrder, orderStatus, type PlaceOrderRequest, type SimExecution, type SimOrderTerms,
} from "./order-messages.ts";
import type { SimContract, Universe } from "./universe.ts";

export type { SimPosition } from "./accounts.ts";

/** Settings of the order book. */
export interface SimOrderOptions {
  /** Live orders held at once over all clients (default 10 000); more are rejected with 201. */
  maxLiveOrders?: number;
  /** Executions kept for reqExecutions, oldest forgotten first (default 10 000; TWS keeps the day's). */
  maxExecutions?: number;
  /** Cash each account starts with, in currency units (default 1 000 000). */
  startingCash?: number;
  /** Fill model options passed to the paper broker (its defaults otherwise). */
  fillModel?: Partial<PaperOptions>;
}

/** A live or finished order in the book. */
interface SimOrder {
  terms: SimOrderTerms;
  status: string;
  filled: number;
  valueSum: number;
  lastFillPrice: number;
  live: boolean;
}

const TYPES: Readonly<Record<string, OrderType>> = { MKT: "market", LMT: "limit", STP: "stop", "STP LMT": "stop_limit" };
const TIFS: ReadonlySet<string> = new Set(["DAY", "GTC", "IOC", "FOK"]);
/**
 * First part of every execId. Real execIds look like "0000e0d5.6553a1b1.01.01"; here the second
 * part counts executions from 1 and starts again when the gateway restarts (see restarted()),
 * so ids repeat across a restart as they can at a real one.
 */
const EXEC_PREFIX = "0000e0d5";
/** The paper broker's order id for an IB order: IB order ids are per client id. */
const key = (clientId: number, orderId: number) => `${clientId}:${orderId}`;

/** What the book needs of the simulator: the connection holding a client id, if any. */
export interface OrderBookHost {
  connectionFor(clientId: number): SimConnection | undefined;
  readonly accounts: readonly string[];
  now(): number;
}

/** The order book; see the file comment. */
export class SimOrderBook {
  /** Counters for tests and the CLI. */
  readonly stats = { placed: 0, rejected: 0, fills: 0, undelivered: 0 };
  private readonly broker: Broker;
  private readonly orders = new Map<string, SimOrder>();
  private readonly usedIds = new Map<number, number>();
  private readonly executions: SimExecution[] = [];
  private execHead = 0;
  private readonly accounts: SimAccounts;
  /** Instruments changed since the last batch: a flag per instrument and their list, allocated once. */
  private readonly dirty: Uint8Array;
  private readonly dirtyList: Uint32Array;
  private dirtyCount = 0;
  private readonly batchListeners: ((changed: Uint32Array, now: number) => void)[] = [];
  private readonly maxLive: number;
  private readonly maxExecutions: number;
  private live = 0;
  private permIds = 1_700_000_000;
  private execSeq = 0;
  private rejectNext: string | null = null;

  constructor(private readonly universe: Universe, private readonly marketData: SimMarketData, private readonly host: OrderBookHost,
    opts: SimOrderOptions = {}) {
    this.maxLive = opts.maxLiveOrders ?? 10_000;
    this.maxExecutions = opts.maxExecutions ?? 10_000;
    this.accounts = new SimAccounts(universe, marketData, () => host.now(), opts.startingCash ?? 1_000_000);
    const source: QuoteSource = {
      quote: (n) => marketData.quote(n),
      onBatch: (l) => (this.batchListeners.push(l), () => undefined),
    };
    // The simulator is the exchange: its quote is the market however old, so no age limit.
    this.broker = new PaperBroker(source, { ...opts.fillModel, maxOpenOrders: this.maxLive, maxQuoteAgeMs: Number.MAX_SAFE_INTEGER, clock: () => host.now(),
      // The simulator does not model exchange sessions: its orders trade at any hour.
      hours: "always" });
    this.broker.onEvent((e) => this.onEvent(e));
    this.dirty = new Uint8Array(universe.contracts.length);
    this.dirtyList = new Uint32Array(universe.contracts.length);
    marketData.watch((n) => this.markChanged(n), () => this.evaluate());
  }

  /** The next order id for a client: one past the highest it has used, at least `first`. */
  nextOrderId(clientId: number, first: number): number {
    return Math.max(first, (this.usedIds.get(clientId) ?? 0) + 1);
  }

  /**
   * The gateway restarted: execution ids count from 1 again and, with `forgetOrderIds`, the used
   * order ids are forgotten so nextValidId goes back to its first value. Orders, executions and
   * positions stay: they live at IBKR's servers, not in the gateway.
   */
  restarted(forgetOrderIds: boolean): void {
    this.execSeq = 0;
    if (forgetOrderIds) this.usedIds.clear();
  }

  /** Fault: the next placeOrder (any client) is rejected with 201 and this reason. */
  rejectNextOrder(reason: string): void {
    this.rejectNext = reason;
  }

  /** Live orders, all clients. */
  get liveCount(): number {
    return this.live;
  }

  /** Fault helper: prints a trade through every resting order's price so each one fills (limits) or triggers (stops). */
  tradeThroughResting(): number {
    let n = 0;
    for (const o of this.orders.values()) {
      if (!o.live) continue;
      const t = o.terms, tick = t.contract.minTick, buy = t.action === "BUY";
      const ref = t.orderType === "LMT" ? t.lmtPrice : t.auxPrice;
      if (ref === undefined) continue;
      const price = t.orderType === "LMT" ? ref + (buy ? -tick : tick) : ref + (buy ? tick : -tick);
      this.marketData.pinTrade(t.contract.number, round(price), Math.max(100, t.qty * 10), this.host.now());
      n++;
    }
    return n;
  }

  /** placeOrder: a new order, or a modification of a live one with the same id. */
  place(conn: SimConnection, r: PlaceOrderRequest): void {
    const k = key(conn.clientId, r.orderId);
    const existing = this.orders.get(k);
    if (existing) return this.modify(conn, existing, r);
    // Finished orders leave the book; an id at or below the client's highest is a reuse.
    if (r.orderId <= (this.usedIds.get(conn.clientId) ?? 0)) return this.error(conn, r.orderId, 103, "");
    const matches = this.universe.match(r.contract);
    if (matches.length !== 1) return this.error(conn, r.orderId, 200, "");
    this.usedIds.set(conn.clientId, Math.max(this.usedIds.get(conn.clientId) ?? 0, r.orderId));
    const problem = this.refuse(r);
    if (problem) return this.reject(conn, r.orderId, problem);
    const contract = matches[0]!;
    const terms: SimOrderTerms = {
      orderId: r.orderId, clientId: conn.clientId, permId: this.permIds++, contract, action: r.action as "BUY" | "SELL", qty: r.qty,
      orderType: r.orderType, lmtPrice: r.lmtPrice, auxPrice: r.auxPrice, tif: r.tif, account: r.account || this.host.accounts[0]!, orderRef: r.orderRef,
    };
    this.orders.set(k, { terms, status: "PendingSubmit", filled: 0, valueSum: 0, lastFillPrice: 0, live: true });
    this.live++;
    this.stats.placed++;
    this.broker.submit(this.toBroker(terms));
  }

  /** cancelOrder. */
  cancel(conn: SimConnection, orderId: number): void {
    const o = this.orders.get(key(conn.clientId, orderId));
    // Finished orders have left the book, so "not found" also answers a cancel that came too late.
    if (!o) return this.error(conn, orderId, 10147, ` ${orderId}`);
    this.broker.cancel(key(conn.clientId, orderId));
  }

  /** The session closed: DAY orders expire (TWS reports them Cancelled). */
  closeSession(): void {
    this.broker.sessionClosed(this.host.now());
  }

  /** Live orders of one client (reqOpenOrders), or of all (reqAllOpenOrders). */
  openOrdersFor(clientId: number | "all"): { terms: SimOrderTerms; status: string; filled: number; avg: number; last: number }[] {
    const out = [];
    for (const o of this.orders.values()) {
      if (!o.live || (clientId !== "all" && o.terms.clientId !== clientId)) continue;
      out.push({ terms: o.terms, status: o.status, filled: o.filled, avg: o.filled > 0 ? o.valueSum / o.filled : 0, last: o.lastFillPrice });
    }
    return out;
  }

  /** Executions kept, oldest first, matching a reqExecutions filter (clientId 0 and empty fields match all). */
  executionsFor(f: { clientId: number; account: string; sinceMs?: number; symbol: string; secType: string; side: string }): SimExecution[] {
    const n = this.executions.length, out: SimExecution[] = [];
    for (let i = 0; i < n; i++) {
      const e = this.executions[(this.execHead + i) % n]!;
      if (f.clientId > 0 && e.clientId !== f.clientId) continue;
      if (f.account && f.account !== e.account) continue;
      if (f.sinceMs !== undefined && e.timeMs < f.sinceMs) continue;
      if (f.symbol && f.symbol !== e.contract.symbol) continue;
      if (f.secType && f.secType !== e.contract.secType) continue;
      if (f.side && !(f.side === e.side || (f.side === "BUY" && e.side === "BOT") || (f.side === "SELL" && e.side === "SLD"))) continue;
      out.push(e);
    }
    return out;
  }

  /** Non-zero positions of every account (accounts.ts). */
  allPositions(): { account: string; position: SimPosition }[] {
    return this.accounts.allPositions();
  }

  /** Cash of an account, currency units. */
  cashOf(account: string): number {
    return this.accounts.cashOf(account);
  }

  /** Mark price of a contract: the mid, else the last trade, else the model's value. */
  markOf(c: SimContract): number {
    return this.accounts.markOf(c);
  }

  /** Realized P&L of an account since the simulator started (before commissions), currency units. */
  realizedOf(account: string): number {
    return this.accounts.realizedOf(account);
  }

  /** P&L of an account as reqPnL reports it (see SimAccounts.pnlOf). */
  pnlOf(account: string): { daily: number; unrealized: number; realized: number } {
    return this.accounts.pnlOf(account);
  }

  private refuse(r: PlaceOrderRequest): string | undefined {
    if (this.rejectNext !== null) {
      const reason = this.rejectNext;
      this.rejectNext = null;
      return reason;
    }
    if (r.action !== "BUY" && r.action !== "SELL") return `action ${r.action} is not BUY or SELL`;
    if (!(TYPES[r.orderType])) return `order type ${r.orderType} is not supported by the simulator`;
    if (!TIFS.has(r.tif)) return `time in force ${r.tif} is not supported by the simulator`;
    if (!(r.qty > 0) || !Number.isInteger(r.qty)) return "quantity must be a positive whole number";
    if (r.account && !this.host.accounts.includes(r.account)) return `account ${r.account} is not managed by this login`;
    if (this.live >= this.maxLive) return `the simulator holds ${this.maxLive} live orders, its limit`;
    return undefined;
  }

  private modify(conn: SimConnection, o: SimOrder, r: PlaceOrderRequest): void {
    const t = o.terms, changes: OrderChanges = {};
    if (r.qty !== t.qty) changes.qty = r.qty;
    if (r.lmtPrice !== undefined && r.lmtPrice !== t.lmtPrice) changes.limitPriceUnits = toUnits(r.lmtPrice);
    if (r.auxPrice !== undefined && r.auxPrice !== t.auxPrice) changes.stopPriceUnits = toUnits(r.auxPrice);
    if (r.orderType !== t.orderType || r.action !== t.action) return this.error(conn, t.orderId, 201, ` order type and side cannot be modified`);
    this.broker.modify(key(conn.clientId, t.orderId), changes);
  }

  private toBroker(t: SimOrderTerms): BrokerOrder {
    const c = t.contract;
    const instrument: Instrument = {
      index: c.number, symbol: c.ourSymbol, kind: c.secType === "OPT" ? "option" : "stock", tickSize: c.minTick,
      multiplier: c.secType === "OPT" ? Number(c.multiplier) : 1, currency: c.currency,
    };
    return {
      orderId: key(t.clientId, t.orderId), account: t.account, instrument, side: t.action === "BUY" ? "buy" : "sell",
      type: TYPES[t.orderType]!, tif: t.tif as TimeInForce, qty: t.qty,
      limitPriceUnits: t.lmtPrice === undefined || !TYPES[t.orderType]!.includes("limit") ? undefined : toUnits(t.lmtPrice),
      stopPriceUnits: t.auxPrice === undefined || !TYPES[t.orderType]!.includes("stop") ? undefined : toUnits(t.auxPrice),
    };
  }

  /** Called for every market tick: with no live order nothing can fill, so nothing is noted. */
  private markChanged(n: number): void {
    if (this.live === 0 || this.dirty[n] === 1) return;
    this.dirty[n] = 1;
    this.dirtyList[this.dirtyCount++] = n;
  }

  /** Runs the paper broker over the instruments that changed since the last batch. */
  private evaluate(): void {
    if (this.dirtyCount === 0) return;
    const list = this.dirtyList.subarray(0, this.dirtyCount);
    for (let i = 0; i < list.length; i++) this.dirty[list[i]!] = 0;
    this.dirtyCount = 0;
    for (const l of this.batchListeners) l(list, this.host.now());
  }

  private onEvent(e: BrokerEvent): void {
    const id = e.kind === "fill" ? e.fill.orderId : e.orderId;
    const o = this.orders.get(id);
    if (!o) return;
    const t = o.terms;
    const conn = this.host.connectionFor(t.clientId);
    switch (e.kind) {
      case "accepted":
        o.status = t.orderType.startsWith("STP") ? "PreSubmitted" : "Submitted";
        return this.send(conn, (c) => (openOrder(c.out, t, o.status), this.status(c, o)));
      case "triggered":
        o.status = "Submitted";
        return this.send(conn, (c) => this.status(c, o));
      case "rejected":
        this.finish(o, "Inactive");
        this.orders.delete(id);
        return this.reject(conn, t.orderId, e.reason);
      case "fill": return this.fill(conn, o, e.fill);
      case "canceled": case "expired":
        this.finish(o, "Cancelled");
        return this.send(conn, (c) => this.status(c, o));
      case "replaced":
        t.qty = e.qty;
        if (e.limitPriceUnits !== undefined) t.lmtPrice = fromUnits(e.limitPriceUnits);
        if (e.stopPriceUnits !== undefined) t.auxPrice = fromUnits(e.stopPriceUnits);
        return this.send(conn, (c) => (openOrder(c.out, t, o.status), this.status(c, o)));
      case "cancel_rejected": return this.error(conn, t.orderId, 10147, ` ${t.orderId}`);
      case "modify_rejected": return this.error(conn, t.orderId, 201, ` ${e.reason}`);
    }
  }

  private fill(conn: SimConnection | undefined, o: SimOrder, f: BrokerFill): void {
    const t = o.terms, price = fromUnits(f.priceUnits), mult = t.contract.secType === "OPT" ? Number(t.contract.multiplier) : 1;
    o.filled += f.qty;
    o.valueSum += price * f.qty;
    o.lastFillPrice = price;
    const e: SimExecution = {
      execId: `${EXEC_PREFIX}.${(++this.execSeq).toString(16).padStart(8, "0")}.01.01`, orderId: t.orderId,
      clientId: t.clientId, permId: t.permId, contract: t.contract, account: t.account, side: t.action === "BUY" ? "BOT" : "SLD",
      shares: f.qty, price, timeMs: f.ts, cumQty: o.filled, avgPrice: o.valueSum / o.filled, orderRef: t.orderRef, commission: f.commissionMicros / 1e6,
    };
    this.keep(e);
    this.accounts.book(t.account, t.contract, t.action === "BUY" ? f.qty : -f.qty, price * mult, e.commission);
    this.stats.fills++;
    if (o.filled >= t.qty) this.finish(o, "Filled");
    this.send(conn, (c) => {
      execDetails(c.out, -1, e);
      this.status(c, o);
      commissionReport(c.out, e);
    });
  }

  private keep(e: SimExecution): void {
    if (this.executions.length < this.maxExecutions) this.executions.push(e);
    else {
      this.executions[this.execHead] = e;
      this.execHead = (this.execHead + 1) % this.maxExecutions;
    }
  }

  private finish(o: SimOrder, status: string): void {
    o.status = status;
    if (o.live) this.live--;
    o.live = false;
    // A finished order leaves the book (bounded by live orders); the used-id mark still refuses its id.
    this.orders.delete(key(o.terms.clientId, o.terms.orderId));
  }

  private status(c: SimConnection, o: SimOrder): void {
    orderStatus(c.out, o.terms, o.status, o.filled, o.filled > 0 ? o.valueSum / o.filled : 0, o.lastFillPrice);
  }

  private send(conn: SimConnection | undefined, write: (c: SimConnection) => void): void {
    if (!conn) {
      this.stats.undelivered++;
      return;
    }
    write(conn);
    conn.scheduleFlush();
  }

  private reject(conn: SimConnection | undefined, orderId: number, reason: string): void {
    this.stats.rejected++;
    this.error(conn, orderId, 201, ` ${reason}`);
  }

  private error(conn: SimConnection | undefined, orderId: number, code: Code, suffix: string): void {
    this.send(conn, (c) => errorMessage(c.out, orderId, code, suffix));
  }
}

function round(p: number): number {
  return Math.round(p * 1e8) / 1e8;
}
