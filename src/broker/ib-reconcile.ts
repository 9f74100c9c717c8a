// The IB broker's reconciliation, on every (re)connect and after 1101/1102: re-request the day's
// executions (fills that happened while we were away arrive through the same join, exactly
// once), then the open orders — an order we believed working that TWS no longer lists ended
// while we were away and is reported canceled, after its fills — then positions, compared with
// ours (ib-positions.ts). Split from ib.ts, which keeps the orders and does the messaging; this
// file decides when a run happens and what it concludes about each order.

import type { Logger } from "../log.ts";
import type { BrokerEvent, BrokerOpenOrder } from "./broker.ts";
import type { Tracked } from "./ib-orders.ts";

/** Reconciliation counters, part of the IB broker's stats. */
export interface ReconcileStats {
  reconciliations: number;
  reconcileFailures: number;
  endedWhileAway: number;
  filledWithoutExecutions: number;
}

/** What a reconciliation needs from the IB broker. */
export interface ReconcileHost {
  readonly stats: ReconcileStats;
  readonly log: Logger;
  clock(): number;
  /** The broker was closed: nothing runs or is reported any more. */
  closed(): boolean;
  /** The session can carry requests. */
  usable(): boolean;
  /** Submission number of the latest order; orders after it are not judged by a run begun now. */
  seq(): number;
  /** Re-requests the executions since 0 (they reach the join like live ones). */
  executions(): Promise<unknown>;
  openOrders(): Promise<BrokerOpenOrder[]>;
  /** Refreshes the broker's lastPositions. */
  positions(): Promise<unknown>;
  /** The orders the broker tracks now. */
  tracked(): Iterable<Tracked>;
  finish(t: Tracked, event: BrokerEvent | null): void;
  ended(t: Tracked, requestedReason: string): void;
  /** Compares positions; returns how many differ. */
  comparePositions(): number;
}

/** Runs reconciliations one at a time; see the file comment. */
export class IbReconciler {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(private readonly host: ReconcileHost) {}

  /** Re-requests executions, then open orders; orders no longer listed ended while we were away. One run at a time; a request during one runs once more after it. */
  request(why: string): void {
    const h = this.host;
    if (h.closed()) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.once(why).finally(() => {
      this.running = null;
      if (this.again && !h.closed() && h.usable()) {
        this.again = false;
        this.request(`${why} (again)`);
      }
    });
  }

  private async once(why: string): Promise<void> {
    const h = this.host;
    const upTo = h.seq();
    try {
      await h.executions();
      const open = new Set((await h.openOrders()).map((o) => o.orderId));
      await h.positions();
      h.stats.reconciliations++;
      for (const t of [...h.tracked()]) {
        if (t.done || t.seq > upTo || open.has(t.order.orderId) || t.filledQty >= t.order.qty) continue;
        if (t.ibFilled) {
          // TWS said Filled, so it is not a cancel; its missing executions are an anomaly to look into, not a reason to end it.
          h.stats.filledWithoutExecutions++;
          h.log.error("ib reports the order filled but not all its executions arrived", { orderId: t.order.orderId, ibId: t.ibId, filledQty: t.filledQty, qty: t.order.qty });
          continue;
        }
        h.stats.endedWhileAway++;
        const ts = h.clock();
        if (t.ibId === 0 || !t.accepted) h.finish(t, { kind: "rejected", orderId: t.order.orderId, reason: "never reached IB (not open, no executions)", ts });
        else h.ended(t, "canceled while disconnected");
      }
      const positionDiffs = h.comparePositions();
      h.log.info("ib orders reconciled", { why, open: open.size, positionDiffs });
    } catch (err) {
      if (h.closed()) return;
      h.stats.reconcileFailures++;
      h.log.warn("ib reconciliation failed", { why, err: String(err) });
    }
  }
}
