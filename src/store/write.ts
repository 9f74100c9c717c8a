// The one place journal records become rows. The main thread encodes a batch as one flat array
// (encodeBatch) and the journal's writer thread writes it (writeEncoded). Several events of one
// order in a batch need only the order's last state in the orders table, so the batch carries
// that row once, beside one short event entry per record: less to stringify on the main thread
// and less to parse and upsert on the writer. The writer gathers an order's events of the batch
// into one row of order_event_groups (schema version 6): one insert per order per batch however
// many events it had. Grouping happens there, not here, because the main thread is the scarcer
// one on the REST path. Each table's rows go in multi-row INSERTs (ROWS_PER_INSERT rows per
// statement call): the per-call cost was ~12 % of the writer's time on large batches.
//
// One bad row must not wedge the journal: when a batch fails on a constraint (a UNIQUE or NOT
// NULL the checks before the journal missed), the writer rolls it back and writes it again
// carefully (writeEncoded with a `refused` list): one row per statement, a row the database
// refuses skipped and reported, everything else committed. The fast path is unchanged.

import type { Database, Statement } from "bun:sqlite";
import { isTerminal, type Order } from "../domain/order.ts";
import type { JournalRecord } from "./journal.ts";

/** Rows per multi-row INSERT: one statement call per this many rows, not one per row. */
export const ROWS_PER_INSERT = 16;

/** An INSERT prepared for one row and for ROWS_PER_INSERT rows. */
export interface Insert {
  one: Statement;
  many: Statement;
  columns: number;
}

/** Prepared statements of the writer. */
export interface Statements {
  events: Insert;
  order: Insert;
  fill: Insert;
  cash: Statement;
  account: Statement;
}

function insert(db: Database, head: string, columns: number, tail = ""): Insert {
  const row = `(${new Array(columns).fill("?").join(", ")})`;
  return {
    one: db.prepare(`${head} VALUES ${row} ${tail}`),
    many: db.prepare(`${head} VALUES ${new Array(ROWS_PER_INSERT).fill(row).join(", ")} ${tail}`),
    columns,
  };
}

/** Prepares the writer's statements on its connection. */
export function statements(db: Database): Statements {
  return {
    events: insert(db, "INSERT INTO order_event_groups (seq, order_num, events)", 3),
    order: insert(db, `INSERT INTO orders (num, account, client_order_id, symbol, side, type, tif, qty, limit_units, stop_units,
        multiplier, status, open, filled_qty, avg_fill_units, triggered, broker_order_id, reason, created_ts, updated_ts, version,
        outside_rth, trigger_method)`, 23,
    `ON CONFLICT (num) DO UPDATE SET qty = excluded.qty, limit_units = excluded.limit_units, stop_units = excluded.stop_units,
        status = excluded.status, open = excluded.open, filled_qty = excluded.filled_qty, avg_fill_units = excluded.avg_fill_units,
        triggered = excluded.triggered, broker_order_id = excluded.broker_order_id, reason = excluded.reason,
        updated_ts = excluded.updated_ts, version = excluded.version`),
    fill: insert(db, "INSERT INTO fills (seq, fill_id, order_id, account, symbol, side, qty, price_units, multiplier, commission_micros, ts, kind)", 12),
    cash: db.prepare("INSERT INTO cash (seq, account, amount_micros, ts, memo) VALUES (?, ?, ?, ?, ?)"),
    account: db.prepare("INSERT INTO accounts (id, mode, created_ts) VALUES (?, ?, ?)"),
  };
}

type Value = string | number | null;

/** A row the database refused (a constraint), skipped so the rest of its batch could commit. */
export interface RefusedRow {
  table: string;
  /** The row's key: sequence number, or order / account id. */
  key: string;
  message: string;
}

/** True for SQLite's constraint failures (SQLITE_CONSTRAINT_UNIQUE, _NOTNULL, _CHECK, …). */
export function isConstraintError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && code.startsWith("SQLITE_CONSTRAINT");
}

/** Runs one row; a constraint failure is recorded in `refused` instead of thrown. */
function runCarefully(stmt: Statement, row: Value[], table: string, refused: RefusedRow[]): void {
  try {
    stmt.run(...row);
  } catch (err) {
    if (!isConstraintError(err)) throw err;
    refused.push({ table, key: String(row[0]), message: String((err as Error).message) });
  }
}

/** Rows waiting for their multi-row INSERT; full runs go at once, the rest at flush(). Careful: one row at a time. */
class Rows {
  private readonly args: Value[] = [];
  constructor(private readonly ins: Insert, private readonly table: string, private readonly refused?: RefusedRow[]) {}

  add(...row: Value[]): void {
    if (this.refused) return runCarefully(this.ins.one, row, this.table, this.refused);
    for (const v of row) this.args.push(v);
    if (this.args.length === this.ins.columns * ROWS_PER_INSERT) this.flush();
  }

  flush(): void {
    const a = this.args, c = this.ins.columns;
    if (a.length === c * ROWS_PER_INSERT) this.ins.many.run(...a);
    else for (let i = 0; i < a.length; i += c) this.ins.one.run(...a.slice(i, i + c));
    a.length = 0;
  }
}

/** Order number from an id "O<num>". */
export function orderNum(id: string): number {
  return Number(id.slice(1));
}

/** Entry tags of an encoded batch; each is followed by a fixed number of fields. */
const EVENT = 0, ORDER = 1, FILL = 2, CASH = 3, ACCOUNT = 4;

/** One encoded batch: tags, each followed by its fields (see encodeBatch). */
export type EncodedBatch = unknown[];

/**
 * Encodes a batch for the writer: per order event [EVENT, seq, orderId, ts, kind, status,
 * detail], and once per order, right after its last event in the batch, [ORDER, …its row] (the
 * writer writes the order's gathered events there, in seq order of their last); per fill
 * [FILL, …], per cash entry [CASH, …], per account [ACCOUNT, …].
 */
export function encodeBatch(records: readonly JournalRecord[]): EncodedBatch {
  // Walk backwards once to know which event of each order is its last in this batch.
  const last: boolean[] = new Array(records.length);
  const lastOf = new Set<string>();
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]!;
    if (r.t !== "order") continue;
    last[i] = !lastOf.has(r.order.id);
    if (last[i]) lastOf.add(r.order.id);
  }
  const out: unknown[] = [];
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    switch (r.t) {
      case "order": {
        const o = r.order;
        out.push(EVENT, r.seq, o.id, r.ts, r.kind, o.status, r.detail ?? null);
        if (last[i]) {
          out.push(ORDER, o.id, o.account, o.clientOrderId, o.symbol, o.side, o.type, o.tif, o.qty, o.limitPriceUnits ?? null,
            o.stopPriceUnits ?? null, o.multiplier, o.status, o.filledQty, o.avgFillPriceUnits, o.triggered ? 1 : 0,
            o.brokerOrderId ?? null, o.reason ?? null, o.createdTs, o.updatedTs, o.version, o.outsideRth ? 1 : 0, o.triggerMethod ?? null);
        }
        break;
      }
      case "fill": {
        const f = r.fill;
        out.push(FILL, r.seq, f.fillId, f.orderId ?? null, f.account, f.symbol, f.side, f.qty, f.priceUnits, f.multiplier, f.commissionMicros, f.ts, f.kind);
        break;
      }
      case "cash":
        out.push(CASH, r.seq, r.entry.account, r.entry.amountMicros, r.entry.ts, r.entry.memo);
        break;
      case "account":
        out.push(ACCOUNT, r.id, r.mode, r.ts);
        break;
    }
  }
  return out;
}

/**
 * Writes one encoded batch (the caller wraps it in a transaction). With `refused`, carefully:
 * rows one at a time, and a row the database refuses on a constraint is listed there and skipped.
 */
export function writeEncoded(s: Statements, b: EncodedBatch, refused?: RefusedRow[]): void {
  // Events of each order since its last ORDER entry (the encoder puts one after every order's last event).
  const groups = new Map<string, { json: string; last: number }>();
  // Rows of one table need no order among themselves and no table refers to another, so each
  // table's rows are written in multi-row INSERTs.
  const events = new Rows(s.events, "order_event_groups", refused), orders = new Rows(s.order, "orders", refused), fills = new Rows(s.fill, "fills", refused);
  let i = 0;
  const n = b.length;
  while (i < n) {
    const tag = b[i++];
    if (tag === EVENT) {
      // JSON of [seq, ts, kind, status, detail], as order_event_groups stores them, built as
      // text: no array per event to allocate and stringify again.
      const id = b[i + 1] as string, detail = b[i + 5];
      const e = `[${b[i] as number},${b[i + 2] as number},${JSON.stringify(b[i + 3])},${JSON.stringify(b[i + 4])},${detail === null ? "null" : JSON.stringify(detail)}]`;
      const g = groups.get(id);
      if (g) (g.json += `,${e}`, g.last = b[i] as number);
      else groups.set(id, { json: e, last: b[i] as number });
      i += 6;
    } else if (tag === ORDER) {
      const id = b[i] as string, num = orderNum(id), g = groups.get(id);
      if (g) {
        groups.delete(id);
        events.add(g.last, num, `[${g.json}]`);
      }
      // The row's columns: the order number for its id, and `open` inserted after its status.
      const v = b.slice(i, i + 22) as Value[];
      v[0] = num;
      v.splice(12, 0, isTerminal(b[i + 11] as Order["status"]) ? 0 : 1);
      orders.add(...v);
      i += 22;
    } else if (tag === FILL) {
      fills.add(...(b.slice(i, i + 12) as Value[]));
      i += 12;
    } else if (tag === CASH) {
      const row = b.slice(i, i + 5) as Value[];
      if (refused) runCarefully(s.cash, row, "cash", refused);
      else s.cash.run(...row);
      i += 5;
    } else if (tag === ACCOUNT) {
      const row = b.slice(i, i + 3) as Value[];
      if (refused) runCarefully(s.account, row, "accounts", refused);
      else s.account.run(...row);
      i += 3;
    } else {
      throw new Error(`journal batch: unknown entry tag ${String(tag)} at ${i - 1}`);
    }
  }
  if (groups.size > 0) throw new Error(`journal batch: events of ${[...groups.keys()].join(", ")} without their order row`);
  events.flush();
  orders.flush();
  fills.flush();
}
