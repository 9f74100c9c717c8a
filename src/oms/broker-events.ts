// Broker events applied to orders: every outcome of a request arrives here, in the order the
// broker learned it, and goes through the state machine (an illegal move is counted, logged
// and dropped). A fill is applied once per fill id; the money moves even when the order's
// state cannot follow (a late fill after a confirmed cancel).
//
// No broker message may fail the journal, however wrong: a fill is checked before anything is
// written (a whole positive quantity, finite price, commission and time, an id of at most
// MAX_FILL_ID_LENGTH characters), and so is every other event (a finite time, a broker order
// id, a replacement's quantity and prices); one that fails is refused, logged and counted
// (invalidBrokerMessages), which the broker.anomalies alert reports. A fill is one per (order,
// fill id): IBKR's execIds are unique per account and day, but a restarted gateway can hand
// one out again for another order. The journal keeps fill ids unique, so such a fill is
// recorded under "<fill id>#<order id>" and counted (reusedFillIds) instead of failing the commit.

import type { BrokerEvent, BrokerFill } from "../broker/broker.ts";
import type { Order, OrderStatus } from "../domain/order.ts";
import type { OmsState } from "./state.ts";

/** Longest broker order id accepted (IBKR's are integers; the paper broker's our id). */
export const MAX_BROKER_ORDER_ID_LENGTH = 64;

/** Why a broker event other than a fill cannot be applied, or undefined. */
export function invalidEvent(e: Exclude<BrokerEvent, { kind: "fill" }>): string | undefined {
  if (!Number.isFinite(e.ts)) return "time must be a finite number";
  if (e.kind === "accepted" && (typeof e.brokerOrderId !== "string" || e.brokerOrderId.length === 0 || e.brokerOrderId.length > MAX_BROKER_ORDER_ID_LENGTH)) {
    return `broker order id must be 1 to ${MAX_BROKER_ORDER_ID_LENGTH} characters`;
  }
  if (e.kind !== "replaced") return undefined;
  if (!Number.isSafeInteger(e.qty) || e.qty <= 0) return "quantity must be a positive whole number";
  for (const p of [e.limitPriceUnits, e.stopPriceUnits]) if (p !== undefined && !Number.isSafeInteger(p)) return "price must be a finite number";
  return undefined;
}

/** Applies one broker event to its order; one with an unusable field is refused before the journal. */
export function onBrokerEvent(s: OmsState, e: BrokerEvent): void {
  if (e.kind === "fill") return onFill(s, e.fill);
  const problem = invalidEvent(e);
  if (problem) {
    s.stats.invalidBrokerMessages++;
    s.deps.log.error("broker event refused", { event: e.kind, orderId: e.orderId, problem });
    return;
  }
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

/** Longest fill id accepted from a broker (IBKR's execIds are about 25 characters). */
export const MAX_FILL_ID_LENGTH = 128;
/**
 * Fill ids recorded recently, with their order, for the reuse check before the write: one not
 * found here is looked up in the store. The journal is usually far behind by less than this.
 */
export const RECENT_FILL_IDS = 65_536;

/** Why a broker's fill cannot be recorded, or undefined. */
export function invalidFill(b: BrokerFill): string | undefined {
  if (typeof b.fillId !== "string" || b.fillId.length === 0 || b.fillId.length > MAX_FILL_ID_LENGTH) return `fill id must be 1 to ${MAX_FILL_ID_LENGTH} characters`;
  if (!Number.isSafeInteger(b.qty) || b.qty <= 0) return "quantity must be a positive whole number";
  if (!Number.isSafeInteger(b.priceUnits)) return "price must be a finite number";
  if (!Number.isSafeInteger(b.commissionMicros)) return "commission must be a finite number";
  if (!Number.isFinite(b.ts)) return "time must be a finite number";
  return undefined;
}

/** The id a fill of this order is stored under when another order already used the broker's id. */
export function qualifiedFillId(fillId: string, orderId: string): string {
  return `${fillId}#${orderId}`;
}

/** A fill is applied once per (order, id); the money moves even if the order's state cannot follow. */
export function onFill(s: OmsState, b: BrokerFill): void {
  const problem = invalidFill(b);
  if (problem) {
    s.stats.invalidBrokerMessages++;
    s.deps.log.error("broker fill refused", { orderId: b.orderId, fillId: String(b.fillId).slice(0, MAX_FILL_ID_LENGTH), problem });
    return;
  }
  const live = s.live.get(b.orderId);
  if (!live) {
    if (s.deps.store.hasFill(b.fillId) || s.deps.store.hasFill(qualifiedFillId(b.fillId, b.orderId))) s.stats.duplicateFills++;
    else {
      s.stats.unknownOrderEvents++;
      s.deps.log.error("fill for an order not in memory", { orderId: b.orderId, fillId: b.fillId });
    }
    return;
  }
  // Ids a broker in this process makes (the paper broker's "<order>-<n>") are unique by
  // construction; only an outside broker's (IBKR's execIds) may have been stored qualified.
  const outside = live.broker.external, qualified = outside ? qualifiedFillId(b.fillId, b.orderId) : b.fillId;
  if (live.fillIds.has(b.fillId) || live.fillIds.has(qualified)) {
    s.stats.duplicateFills++;
    return;
  }
  const o = live.order;
  if (b.qty <= 0 || o.filledQty + b.qty > o.qty) {
    s.stats.overfills++;
    s.deps.log.error("fill beyond the order's quantity refused", { orderId: o.id, fillId: b.fillId, qty: b.qty, filled: o.filledQty });
    return;
  }
  // Only an outside broker's ids are checked for reuse, so paper fills cost no lookup.
  const fillId = outside && usedByAnother(s, b.fillId, o.id) ? qualified : b.fillId;
  if (fillId !== b.fillId) {
    s.stats.reusedFillIds++;
    s.deps.log.warn("broker fill id already used by another order; recorded under a qualified id", { orderId: o.id, fillId: b.fillId, storedAs: fillId });
  }
  live.fillIds.add(fillId);
  if (outside) remember(s, fillId, o.id);
  s.recordFill({
    seq: 0, fillId, orderId: o.id, account: o.account, symbol: o.symbol, side: o.side, qty: b.qty, priceUnits: b.priceUnits,
    multiplier: o.multiplier, commissionMicros: b.commissionMicros, ts: b.ts, kind: "trade",
  });
  const filled = o.filledQty + b.qty;
  const detail = { fillId, qty: b.qty, priceUnits: b.priceUnits };
  const update = (x: Order) => {
    x.avgFillPriceUnits = (x.avgFillPriceUnits * x.filledQty + b.priceUnits * b.qty) / filled;
    x.filledQty = filled;
  };
  if (!s.apply(live, "fill", filled === o.qty ? "filled" : "partially_filled", b.ts, detail, update)) {
    s.apply(live, "fill", undefined, b.ts, detail, update);
  }
}

/** True when another order already recorded a fill under this id (recently, or on disk). */
function usedByAnother(s: OmsState, fillId: string, orderId: string): boolean {
  const recent = s.recentFillIds.get(fillId);
  if (recent !== undefined) return recent !== orderId;
  return s.deps.store.hasFill(fillId);
}

function remember(s: OmsState, fillId: string, orderId: string): void {
  const m = s.recentFillIds;
  m.set(fillId, orderId);
  // A Map iterates in insertion order, so the first key is the oldest.
  if (m.size > RECENT_FILL_IDS) m.delete(m.keys().next().value!);
}
