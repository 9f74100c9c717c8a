// The durable store: the database, its journal (the only writer), and the queries the order
// manager needs to rebuild itself after a restart and to answer for orders and fills that are
// no longer in memory. Reads see committed data only; the order manager keeps what is still
// in flight in memory.

import type { Database, Statement } from "bun:sqlite";
import type { CashEntry, Fill, FillKind, Order, OrderStatus, OrderType, Side, TimeInForce, TriggerMethod } from "../domain/order.ts";
import { openDatabase, type Durability } from "./db.ts";
import { Journal, type JournalOptions } from "./journal.ts";
import { orderNum } from "./write.ts";

/** Where and how to store. */
export interface StoreOptions {
  /** SQLite file (a writer thread opens it too, so not ":memory:"). */
  path: string;
  durability: Durability;
  /** Bound of the journal's queue (records not yet on disk). */
  maxPending: number;
  /** The journal's logger and checkpointer options. */
  journal?: JournalOptions;
}

/** An account as stored. */
export interface StoredAccount {
  id: string;
  mode: string;
  createdTs: number;
}

/** Filters for listing orders; `open` true/false selects working or finished orders. */
export interface OrderFilter {
  account?: string;
  symbol?: string;
  status?: OrderStatus;
  open?: boolean;
}

/** A stored order event. */
export interface StoredEvent {
  seq: number;
  ts: number;
  kind: string;
  status: OrderStatus;
  detail: Record<string, unknown> | null;
}

type Row = Record<string, string | number | null>;

/** Most events one order's history returns; an order with more has been modified absurdly often. */
export const MAX_EVENTS_PER_ORDER = 10_000;

/** The store; see the file comment. */
export class Store {
  private readonly q: Record<string, Statement>;

  private constructor(readonly db: Database, readonly journal: Journal) {
    this.q = {
      open: db.prepare("SELECT * FROM orders WHERE open = 1 ORDER BY num"),
      byNum: db.prepare("SELECT * FROM orders WHERE num = ?"),
      byClient: db.prepare("SELECT * FROM orders WHERE account = ? AND client_order_id = ?"),
      maxNum: db.prepare("SELECT MAX(num) AS n FROM orders"),
      events: db.prepare(`SELECT events FROM order_event_groups WHERE order_num = ? ORDER BY seq LIMIT ${MAX_EVENTS_PER_ORDER}`),
      allFills: db.prepare("SELECT * FROM fills ORDER BY seq"),
      clientKeys: db.prepare("SELECT account || char(0) || client_order_id AS k FROM orders"),
      cash: db.prepare("SELECT * FROM cash ORDER BY seq"),
      accounts: db.prepare("SELECT id, mode, created_ts FROM accounts ORDER BY id"),
      fillIdsOf: db.prepare("SELECT fill_id FROM fills WHERE order_id = ?"),
      hasFill: db.prepare("SELECT 1 AS x FROM fills WHERE fill_id = ?"),
      lastFillTs: db.prepare("SELECT MAX(ts) AS ts FROM fills WHERE kind = 'trade'"),
    };
  }

  /**
   * Opens the database (this connection reads, and migrates it), then starts the journal's
   * writer thread on the same file, bounded by `maxPending`.
   */
  static async open(opts: StoreOptions): Promise<Store> {
    const db = openDatabase(opts.path, opts.durability);
    // This connection lives on the main thread (reads, and the rare alert, key and risk writes):
    // it never checkpoints. A checkpoint after one of its commits — up to the backstop's 64 MB
    // and an fsync of the database file — would stall every request and quote meanwhile; the
    // checkpointer thread, and the journal writer's backstop, do that work.
    db.exec("PRAGMA wal_autocheckpoint = 0");
    try {
      return new Store(db, await Journal.start(db, opts.path, opts.durability, opts.maxPending, opts.journal));
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Orders not in a terminal state, oldest first. */
  openOrders(): Order[] {
    return (this.q.open!.all() as Row[]).map(toOrder);
  }

  /** One order by id. */
  order(id: string): Order | undefined {
    if (!/^O\d{1,15}$/.test(id)) return undefined;
    const row = this.q.byNum!.get(orderNum(id)) as Row | null;
    return row ? toOrder(row) : undefined;
  }

  /** One order by its account and client order id. */
  orderByClientId(account: string, clientOrderId: string): Order | undefined {
    const row = this.q.byClient!.get(account, clientOrderId) as Row | null;
    return row ? toOrder(row) : undefined;
  }

  /** Highest order number used (0 on a new database). */
  maxOrderNum(): number {
    return ((this.q.maxNum!.get() as { n: number | null }).n) ?? 0;
  }

  /** Orders matching a filter, newest first, one page of at most `limit`. */
  orders(f: OrderFilter, limit: number, offset: number): { items: Order[]; total: number } {
    const { where, args } = orderWhere(f);
    const total = (this.db.query(`SELECT COUNT(*) AS n FROM orders ${where}`).get(...args) as { n: number }).n;
    const rows = this.db.query(`SELECT * FROM orders ${where} ORDER BY num DESC LIMIT ? OFFSET ?`).all(...args, limit, offset) as Row[];
    return { items: rows.map(toOrder), total };
  }

  /** The events of one order, in order (at most MAX_EVENTS_PER_ORDER). */
  events(orderId: string): StoredEvent[] {
    if (!/^O\d{1,15}$/.test(orderId)) return [];
    const out: StoredEvent[] = [];
    // Each row is one journal batch's events of the order (schema version 6), oldest first.
    for (const row of this.q.events!.all(orderNum(orderId)) as { events: string }[]) {
      for (const [seq, ts, kind, status, detail] of JSON.parse(row.events) as [number, number, string, OrderStatus, Record<string, unknown> | null][]) {
        if (out.length === MAX_EVENTS_PER_ORDER) return out;
        out.push({ seq, ts, kind, status, detail });
      }
    }
    return out;
  }

  /** Fills of an account and/or order, newest first, one page. */
  fills(f: { account?: string; orderId?: string }, limit: number, offset: number): { items: Fill[]; total: number } {
    const conds: string[] = [], args: (string | number)[] = [];
    if (f.account !== undefined) (conds.push("account = ?"), args.push(f.account));
    if (f.orderId !== undefined) (conds.push("order_id = ?"), args.push(f.orderId));
    const where = conds.length ? `WHERE ${conds.join(" AND ")}` : "";
    const total = (this.db.query(`SELECT COUNT(*) AS n FROM fills ${where}`).get(...args) as { n: number }).n;
    const rows = this.db.query(`SELECT * FROM fills ${where} ORDER BY seq DESC LIMIT ? OFFSET ?`).all(...args, limit, offset) as Row[];
    return { items: rows.map(toFill), total };
  }

  /** "account NUL clientOrderId" of every order, streamed (the order manager's Bloom filter is built from them). */
  *clientKeys(): Generator<string> {
    for (const row of this.q.clientKeys!.iterate() as IterableIterator<{ k: string }>) yield row.k;
  }

  /** Every fill in journal order, streamed (a restart replays them into positions). */
  *allFills(): Generator<Fill> {
    for (const row of this.q.allFills!.iterate() as IterableIterator<Row>) yield toFill(row);
  }

  /** Every cash entry in journal order. */
  cash(): CashEntry[] {
    return (this.q.cash!.all() as Row[]).map((r) => ({
      seq: r.seq as number, account: r.account as string, amountMicros: r.amount_micros as number, ts: r.ts as number, memo: r.memo as string,
    }));
  }

  /** Every account created so far. */
  accounts(): StoredAccount[] {
    return (this.q.accounts!.all() as Row[]).map((r) => ({ id: r.id as string, mode: r.mode as string, createdTs: r.created_ts as number }));
  }

  /** Ids of an order's fills (bounded by its quantity: every fill is at least one share). */
  fillIdsOf(orderId: string): string[] {
    return (this.q.fillIdsOf!.all(orderId) as { fill_id: string }[]).map((r) => r.fill_id);
  }

  /** True when a fill id is on disk. */
  hasFill(fillId: string): boolean {
    return this.q.hasFill!.get(fillId) !== null;
  }

  /** Time of the newest execution (reconciliation asks the broker for what came after), 0 if none. */
  lastFillTs(): number {
    return ((this.q.lastFillTs!.get() as { ts: number | null }).ts) ?? 0;
  }

  /** Commits what is queued, stops the writer and closes the file. */
  async close(): Promise<void> {
    await this.journal.close();
    // Closing twice is harmless: bun:sqlite ignores a second close.
    this.db.close();
  }
}

function orderWhere(f: OrderFilter): { where: string; args: (string | number)[] } {
  const conds: string[] = [], args: (string | number)[] = [];
  if (f.account !== undefined) (conds.push("account = ?"), args.push(f.account));
  if (f.symbol !== undefined) (conds.push("symbol = ?"), args.push(f.symbol));
  if (f.status !== undefined) (conds.push("status = ?"), args.push(f.status));
  if (f.open !== undefined) (conds.push("open = ?"), args.push(f.open ? 1 : 0));
  return { where: conds.length ? `WHERE ${conds.join(" AND ")}` : "", args };
}

function toOrder(r: Row): Order {
  const o: Order = {
    id: `O${r.num as number}`, account: r.account as string, clientOrderId: r.client_order_id as string, symbol: r.symbol as string,
    side: r.side as Side, type: r.type as OrderType, tif: r.tif as TimeInForce, qty: r.qty as number, multiplier: r.multiplier as number,
    status: r.status as OrderStatus, filledQty: r.filled_qty as number, avgFillPriceUnits: r.avg_fill_units as number,
    triggered: r.triggered === 1, createdTs: r.created_ts as number, updatedTs: r.updated_ts as number, version: r.version as number,
  };
  if (r.limit_units !== null) o.limitPriceUnits = r.limit_units as number;
  if (r.stop_units !== null) o.stopPriceUnits = r.stop_units as number;
  if (r.broker_order_id !== null) o.brokerOrderId = r.broker_order_id as string;
  if (r.reason !== null) o.reason = r.reason as string;
  if (r.outside_rth === 1) o.outsideRth = true;
  if (r.trigger_method !== null && r.trigger_method !== undefined) o.triggerMethod = r.trigger_method as TriggerMethod;
  return o;
}

function toFill(r: Row): Fill {
  const f: Fill = {
    seq: r.seq as number, fillId: r.fill_id as string, account: r.account as string, symbol: r.symbol as string, side: r.side as Side,
    qty: r.qty as number, priceUnits: r.price_units as number, multiplier: r.multiplier as number,
    commissionMicros: r.commission_micros as number, ts: r.ts as number, kind: r.kind as FillKind,
  };
  if (r.order_id !== null) f.orderId = r.order_id as string;
  return f;
}
