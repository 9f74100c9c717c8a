// The one place journal records become rows. The main thread encodes a batch as one flat array
// (encodeBatch) and the journal's writer thread writes it (writeEncoded). Several events of one
// order in a batch need only the order's last state in the orders table, so the batch carries
// that row once, beside one short event entry per record: less to stringify on the main thread
// and less to parse and upsert on the writer. The writer gathers an order's events of the batch
// into one row of order_event_groups (schema version 6): one insert per order per batch however
// many events it had. Grouping happens there, not here, because the main thread is the scarcer
// one on the REST path.

import type { Database, Statement } from "bun:sqlite";
import { isTerminal, type Order } from "../domain/order.ts";
import type { JournalRecord } from "./journal.ts";

/** Prepared statements of the writer. */
export type Statements = Record<"events" | "order" | "fill" | "cash" | "account", Statement>;

/** Prepares the writer's statements on its connection. */
export function statements(db: Database): Statements {
  return {
    events: db.prepare("INSERT INTO order_event_groups (seq, order_num, events) VALUES (?, ?, ?)"),
    order: db.prepare(`INSERT INTO orders (num, account, client_order_id, symbol, side, type, tif, qty, limit_units, stop_units,
        multiplier, status, open, filled_qty, avg_fill_units, triggered, broker_order_id, reason, created_ts, updated_ts, version)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (num) DO UPDATE SET qty = excluded.qty, limit_units = excluded.limit_units, stop_units = excluded.stop_units,
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
            o.brokerOrderId ?? null, o.reason ?? null, o.createdTs, o.updatedTs, o.version);
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

/** Writes one encoded batch (the caller wraps it in a transaction). */
export function writeEncoded(s: Statements, b: EncodedBatch): void {
  // Events of each order since its last ORDER entry (the encoder puts one after every order's last event).
  const groups = new Map<string, { json: string; last: number }>();
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
        s.events.run(g.last, num, `[${g.json}]`);
      }
      // The row's columns: the order number for its id, and `open` inserted after its status.
      const v = b.slice(i, i + 20) as (string | number | null)[];
      v[0] = num;
      v.splice(12, 0, isTerminal(b[i + 11] as Order["status"]) ? 0 : 1);
      s.order.run(...v);
      i += 20;
    } else if (tag === FILL) {
      s.fill.run(...(b.slice(i, i + 12) as (string | number | null)[]));
      i += 12;
    } else if (tag === CASH) {
      s.cash.run(...(b.slice(i, i + 5) as (string | number)[]));
      i += 5;
    } else if (tag === ACCOUNT) {
      s.account.run(...(b.slice(i, i + 3) as (string | number)[]));
      i += 3;
    } else {
      throw new Error(`journal batch: unknown entry tag ${String(tag)} at ${i - 1}`);
    }
  }
  if (groups.size > 0) throw new Error(`journal batch: events of ${[...groups.keys()].join(", ")} without their order row`);
}
