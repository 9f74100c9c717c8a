// The journal: every order event, fill, cash entry and account goes through append(), which
// gives it a sequence number and queues it; one commit per event-loop turn writes everything
// queued in a single transaction (group commit: one fsync for many orders). A caller that must
// not acknowledge before the disk has it awaits durable(seq). The queue is bounded: append()
// past maxPending throws JournalFullError, so a caller checks room() before it changes state.
// A failed commit fails the journal for good: nothing after it can be acknowledged.

import type { Database, Statement } from "bun:sqlite";
import type { CashEntry, Fill, Order } from "../domain/order.ts";
import { isTerminal } from "../domain/order.ts";

/** One journaled fact. */
export type JournalRecord =
  | { t: "order"; seq: number; order: Order; kind: string; detail?: Record<string, unknown>; ts: number }
  | { t: "fill"; seq: number; fill: Fill }
  | { t: "cash"; seq: number; entry: CashEntry }
  | { t: "account"; seq: number; id: string; mode: string; ts: number };

/** A record before the journal numbers it. */
export type NewRecord = JournalRecord extends infer R ? (R extends { seq: number } ? Omit<R, "seq"> : never) : never;

/** The queue is full: the caller must refuse the request (and change nothing). */
export class JournalFullError extends Error {
  readonly code = "JOURNAL_FULL";
  constructor(readonly maxPending: number) {
    super(`journal queue is full (${maxPending} records waiting for disk); retry shortly`);
    this.name = "JournalFullError";
  }
}

/** A commit failed (disk full, I/O error): nothing further can be made durable. */
export class JournalFailedError extends Error {
  readonly code = "JOURNAL_FAILED";
  constructor(cause: unknown) {
    super(`journal commit failed: ${String((cause as Error)?.message ?? cause)}`, { cause });
    this.name = "JournalFailedError";
  }
}

/** Commit counters. */
export interface JournalStats {
  commits: number;
  records: number;
  largestBatch: number;
  /** Total time spent inside commits, ms. */
  commitMs: number;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Group-committing journal over an open database; see the file comment. */
export class Journal {
  readonly stats: JournalStats = { commits: 0, records: 0, largestBatch: 0, commitMs: 0 };
  private pending: JournalRecord[] = [];
  private waiters: Waiter[] = [];
  private seq: number;
  private committed: number;
  private scheduled = false;
  private failure: JournalFailedError | undefined;
  private readonly listeners: ((records: readonly JournalRecord[]) => void)[] = [];
  private readonly write: (records: JournalRecord[]) => void;

  constructor(private readonly db: Database, readonly maxPending: number) {
    if (!Number.isInteger(maxPending) || maxPending < 1) throw new Error(`journal maxPending must be a positive integer, got ${maxPending}`);
    this.seq = this.committed = lastSeq(db);
    const s = statements(db);
    this.write = db.transaction((records: JournalRecord[]) => writeBatch(s, records));
  }

  /** Highest sequence number handed out. */
  get appendedSeq(): number {
    return this.seq;
  }

  /** Highest sequence number on disk. */
  get committedSeq(): number {
    return this.committed;
  }

  /** Records that can still be appended before the queue is full. */
  room(): number {
    return this.failure ? 0 : this.maxPending - this.pending.length;
  }

  /** The failure that stopped the journal, if any. */
  get failed(): JournalFailedError | undefined {
    return this.failure;
  }

  /** Calls `listener` after each commit with the records it made durable, in order. */
  onCommit(listener: (records: readonly JournalRecord[]) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Queues a record and returns its sequence number; throws JournalFullError or
   * JournalFailedError. The record must not change afterwards: pass copies of live objects.
   * `force` appends past the bound: for facts that already happened (a broker's fill), which
   * must be recorded; the caller bounds them by admitting requests only while room() is ample.
   */
  append(record: NewRecord, force = false): number {
    if (this.failure) throw this.failure;
    if (!force && this.pending.length >= this.maxPending) throw new JournalFullError(this.maxPending);
    const r = { ...record, seq: ++this.seq } as JournalRecord;
    if (r.t === "fill") r.fill.seq = r.seq;
    else if (r.t === "cash") r.entry.seq = r.seq;
    this.pending.push(r);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return r.seq;
  }

  /**
   * Resolves once everything up to `seq` (default: everything appended) is on disk. Waiters are
   * bounded like the queue (at most maxPending): past that it rejects with JournalFullError.
   */
  durable(seq: number = this.seq): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (seq <= this.committed) return Promise.resolve();
    if (this.waiters.length >= this.maxPending) return Promise.reject(new JournalFullError(this.maxPending));
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.waiters.push({ seq, resolve, reject });
    return promise;
  }

  /** Commits everything queued now, in one transaction. */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0 || this.failure) return;
    const batch = this.pending;
    this.pending = [];
    const t0 = performance.now();
    try {
      this.write(batch);
    } catch (err) {
      this.failure = new JournalFailedError(err);
      for (const w of this.waiters) w.reject(this.failure);
      this.waiters = [];
      return;
    }
    const s = this.stats;
    s.commits++;
    s.records += batch.length;
    s.largestBatch = Math.max(s.largestBatch, batch.length);
    s.commitMs += performance.now() - t0;
    this.committed = batch.at(-1)!.seq;
    if (this.waiters.length > 0) {
      const still: Waiter[] = [];
      for (const w of this.waiters) (w.seq <= this.committed ? w.resolve() : still.push(w));
      this.waiters = still;
    }
    for (const l of this.listeners) l(batch);
  }
}

/** The highest sequence number already in the tables. */
function lastSeq(db: Database): number {
  const row = db.query(`SELECT MAX(s) AS s FROM (SELECT MAX(seq) AS s FROM order_events UNION ALL SELECT MAX(seq) FROM fills
    UNION ALL SELECT MAX(seq) FROM cash)`).get() as { s: number | null };
  return row.s ?? 0;
}

type Statements = Record<"event" | "order" | "fill" | "cash" | "account", Statement>;

function statements(db: Database): Statements {
  return {
    event: db.prepare("INSERT INTO order_events (seq, order_id, ts, kind, status, detail) VALUES (?, ?, ?, ?, ?, ?)"),
    order: db.prepare(`INSERT INTO orders (id, num, account, client_order_id, symbol, side, type, tif, qty, limit_units, stop_units,
        multiplier, status, open, filled_qty, avg_fill_units, triggered, broker_order_id, reason, created_ts, updated_ts, version)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET qty = excluded.qty, limit_units = excluded.limit_units, stop_units = excluded.stop_units,
        status = excluded.status, open = excluded.open, filled_qty = excluded.filled_qty, avg_fill_units = excluded.avg_fill_units,
        triggered = excluded.triggered, broker_order_id = excluded.broker_order_id, reason = excluded.reason,
        updated_ts = excluded.updated_ts, version = excluded.version`),
    fill: db.prepare(`INSERT INTO fills (seq, fill_id, order_id, account, symbol, side, qty, price_units, multiplier, commission_micros, ts, kind)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    cash: db.prepare("INSERT INTO cash (seq, account, amount_micros, ts, memo) VALUES (?, ?, ?, ?, ?)"),
    account: db.prepare("INSERT INTO accounts (id, mode, created_ts) VALUES (?, ?, ?)"),
  };
}

/** Order number from an id "O<num>". */
export function orderNum(id: string): number {
  return Number(id.slice(1));
}

function writeBatch(s: Statements, records: JournalRecord[]): void {
  // Several events of one order in a batch need only its last state in the orders table.
  const latest = new Map<string, Order>();
  for (const r of records) {
    switch (r.t) {
      case "order":
        s.event.run(r.seq, r.order.id, r.ts, r.kind, r.order.status, r.detail === undefined ? null : JSON.stringify(r.detail));
        latest.set(r.order.id, r.order);
        break;
      case "fill": {
        const f = r.fill;
        s.fill.run(r.seq, f.fillId, f.orderId ?? null, f.account, f.symbol, f.side, f.qty, f.priceUnits, f.multiplier, f.commissionMicros, f.ts, f.kind);
        break;
      }
      case "cash":
        s.cash.run(r.seq, r.entry.account, r.entry.amountMicros, r.entry.ts, r.entry.memo);
        break;
      case "account":
        s.account.run(r.id, r.mode, r.ts);
        break;
    }
  }
  for (const o of latest.values()) {
    s.order.run(o.id, orderNum(o.id), o.account, o.clientOrderId, o.symbol, o.side, o.type, o.tif, o.qty, o.limitPriceUnits ?? null,
      o.stopPriceUnits ?? null, o.multiplier, o.status, isTerminal(o.status) ? 0 : 1, o.filledQty, o.avgFillPriceUnits,
      o.triggered ? 1 : 0, o.brokerOrderId ?? null, o.reason ?? null, o.createdTs, o.updatedTs, o.version);
  }
}
