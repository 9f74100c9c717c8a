// The one place journal records become rows: used by the journal's writer thread. Several
// events of one order in a batch need only the order's last state in the orders table.

import type { Database, Statement } from "bun:sqlite";
import { isTerminal, type Order } from "../domain/order.ts";
import type { JournalRecord } from "./journal.ts";

/** Prepared statements of the writer. */
export type Statements = Record<"event" | "order" | "fill" | "cash" | "account", Statement>;

/** Prepares the writer's statements on its connection. */
export function statements(db: Database): Statements {
  return {
    event: db.prepare("INSERT INTO order_events (seq, order_id, ts, kind, status, detail) VALUES (?, ?, ?, ?, ?, ?)"),
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

/** Writes one batch of records (the caller wraps it in a transaction). */
export function writeBatch(s: Statements, records: JournalRecord[]): void {
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
    s.order.run(orderNum(o.id), o.account, o.clientOrderId, o.symbol, o.side, o.type, o.tif, o.qty, o.limitPriceUnits ?? null,
      o.stopPriceUnits ?? null, o.multiplier, o.status, isTerminal(o.status) ? 0 : 1, o.filledQty, o.avgFillPriceUnits,
      o.triggered ? 1 : 0, o.brokerOrderId ?? null, o.reason ?? null, o.createdTs, o.updatedTs, o.version);
  }
}
