// Broker events applied to orders: every outcome of a request arrives here, in the order the
// broker learned it, and goes through the state machine (an illegal move is counted, logged
// and dropped). A fill is applied once per fill id; the money moves even when the order's
// state cannot follow (a late fill after a confirmed cancel).

import type { BrokerEvent, BrokerFill } from "../broker/broker.ts";
import type { Order, OrderStatus } from "../domain/order.ts";
import type { OmsState } from "./state.ts";

/** Applies one broker event to its order. */
export function onBrokerEvent(s: OmsState, e: BrokerEvent): void {
  if (e.kind === "fill") return onFill(s, e.fill);
  const live = s.live.get(e.orderId);
  if (!live) {
    s.stats.unknownOrderEvents++;
    s.deps.log.warn("broker event for an unknown order", { event: e.kind, orderId: e.orderId });
    return;
  }
  const o = live.order;
  const back: OrderStatus = o.filledQty > 0 ? "partially_filled" : "accepted";
  switch (e.kind) {
    case "accepted":
      // A fill may have come first (IBKR does that): then only the broker id is news.
      s.apply(live, "accepted", o.status === "submitted" ? "accepted" : undefined, e.ts, { brokerOrderId: e.brokerOrderId },
        (x) => (x.brokerOrderId = e.brokerOrderId));
      return;
    case "rejected":
      s.apply(live, "rejected", "rejected", e.ts, undefined, (x) => (x.reason = e.reason));
      return;
    case "triggered":
      s.apply(live, "triggered", undefined, e.ts, undefined, (x) => (x.triggered = true));
      return;
    case "held":
      // The order stays working (IBKR: PreSubmitted); the event and the reason say why it waits.
      s.apply(live, "held", undefined, e.ts, { reason: e.reason, untilTs: e.untilMs }, (x) => (x.reason = e.reason));
      return;
    case "released":
      s.apply(live, "released", undefined, e.ts, undefined, (x) => {
        if (x.reason?.startsWith("held ")) delete x.reason;
      });
      return;
    case "canceled":
      s.apply(live, "canceled", "canceled", e.ts, undefined, (x) => (x.reason = e.reason));
      return;
    case "expired":
      s.apply(live, "expired", "expired", e.ts, undefined, (x) => (x.reason = "session closed"));
      return;
    case "replaced":
      s.apply(live, "replaced", back, e.ts, { qty: e.qty, limitPriceUnits: e.limitPriceUnits, stopPriceUnits: e.stopPriceUnits }, (x) => {
        x.qty = e.qty;
        if (e.limitPriceUnits !== undefined) x.limitPriceUnits = e.limitPriceUnits;
        if (e.stopPriceUnits !== undefined) x.stopPriceUnits = e.stopPriceUnits;
      });
      return;
    case "cancel_rejected":
      s.apply(live, "cancel_rejected", o.status === "pending_cancel" ? back : undefined, e.ts, undefined, (x) => (x.reason = e.reason));
      return;
    case "modify_rejected":
      s.apply(live, "modify_rejected", o.status === "pending_replace" ? back : undefined, e.ts, undefined, (x) => (x.reason = e.reason));
      return;
  }
}

/** A fill is applied once per id; the money moves even if the order's state cannot follow. */
export function onFill(s: OmsState, b: BrokerFill): void {
  const live = s.live.get(b.orderId);
  if (!live) {
    if (s.deps.store.hasFill(b.fillId)) s.stats.duplicateFills++;
    else {
      s.stats.unknownOrderEvents++;
      s.deps.log.error("fill for an order not in memory", { orderId: b.orderId, fillId: b.fillId });
    }
    return;
  }
  if (live.fillIds.has(b.fillId)) {
    s.stats.duplicateFills++;
    return;
  }
  const o = live.order;
  if (b.qty <= 0 || o.filledQty + b.qty > o.qty) {
    s.stats.overfills++;
    s.deps.log.error("fill beyond the order's quantity refused", { orderId: o.id, fillId: b.fillId, qty: b.qty, filled: o.filledQty });
    return;
  }
  live.fillIds.add(b.fillId);
  s.recordFill({
    seq: 0, fillId: b.fillId, orderId: o.id, account: o.account, symbol: o.symbol, side: o.side, qty: b.qty, priceUnits: b.priceUnits,
    multiplier: o.multiplier, commissionMicros: b.commissionMicros, ts: b.ts, kind: "trade",
  });
  const filled = o.filledQty + b.qty;
  const detail = { fillId: b.fillId, qty: b.qty, priceUnits: b.priceUnits };
  const update = (x: Order) => {
    x.avgFillPriceUnits = (x.avgFillPriceUnits * x.filledQty + b.priceUnits * b.qty) / filled;
    x.filledQty = filled;
  };
  if (!s.apply(live, "fill", filled === o.qty ? "filled" : "partially_filled", b.ts, detail, update)) {
    s.apply(live, "fill", undefined, b.ts, detail, update);
  }
}
