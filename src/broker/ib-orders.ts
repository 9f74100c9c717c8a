// The IB broker's view of one order (Tracked) and the pure rules about it: which TWS codes
// do not refuse an order, whether an openOrder shows the terms a modification asked for, which
// changes a working order refuses, and TWS's executions and open orders in our terms. Split
// from ib.ts, which does the messaging.

import type { Contract, Execution, Order } from "@stoqey/ib";
import type { Instrument } from "../domain/instrument.ts";
import { hasLimit, hasStop } from "../domain/order.ts";
import { toUnits } from "../domain/price.ts";
import type { BrokerEvent, BrokerFill, BrokerOpenOrder, BrokerOrder, OrderChanges } from "./broker.ts";
import { ourType, symbolOf } from "./ib-map.ts";

/** An order the IB broker follows, with what TWS has told about it. */
export interface Tracked {
  order: BrokerOrder;
  /** 0 until known (a restored order the journal has no IB id for). */
  ibId: number;
  accepted: boolean;
  done: boolean;
  filledQty: number;
  /** Executions of this order waiting for their commission report. */
  pendingFills: number;
  /** A terminal event held back until the pending fills are out (a fill must never follow its order's end). */
  deferred: BrokerEvent | null;
  cancelRequested: boolean;
  /** TWS reported the order Filled: it ended filled, whatever executions are still to arrive. */
  ibFilled: boolean;
  /** Last status was PreSubmitted (held by IB, e.g. a stop waiting for its trigger). */
  held: boolean;
  /** A stop reported triggered (once). */
  triggered: boolean;
  /** The terms a sent modification asked for; the openOrder that shows them is its confirmation. */
  modify: BrokerOrder | null;
  /** Submission number, so a reconciliation never judges orders sent after it began. */
  seq: number;
}

/**
 * Codes TWS sends about an order that do not refuse it: 202 confirms a cancel (orderStatus
 * Cancelled follows), 399 and 404 are order warnings (e.g. held until the open, shares to
 * locate), 10349 says the time in force was set from a preset. Any other error for an order not
 * yet acknowledged is its rejection.
 */
export const ORDER_NOTICES: ReadonlySet<number> = new Set([202, 399, 404, 10349]);

/** True when TWS's order shows these terms (quantity, limit and stop price). */
export function showsTerms(o: Order, want: BrokerOrder): boolean {
  const price = (p: number | undefined) => (p === undefined ? undefined : toUnits(p));
  return o.totalQuantity === want.qty && (!hasLimit(want.type) || price(o.lmtPrice) === want.limitPriceUnits) &&
    (!hasStop(want.type) || price(o.auxPrice) === want.stopPriceUnits);
}

/** Why changes to a working order are refused, or undefined. */
export function refuseChanges(t: Tracked, c: OrderChanges): string | undefined {
  const type = t.order.type;
  if (t.modify) return "a modification is already pending";
  if (c.qty !== undefined && (!Number.isInteger(c.qty) || c.qty <= t.filledQty)) return `quantity must be a whole number above the filled ${t.filledQty}`;
  if (c.limitPriceUnits !== undefined && !hasLimit(type)) return `a ${type} order has no limit price`;
  if (c.stopPriceUnits !== undefined && !hasStop(type)) return `a ${type} order has no stop price`;
  return undefined;
}

/** An execution in our terms (commission 0 until joined), or undefined when it lacks what a fill needs. */
export function fillOf(t: Tracked | undefined, c: Contract, e: Execution, ts: number): BrokerFill | undefined {
  const symbol = t?.order.instrument.symbol ?? symbolOf(c);
  if (!e.execId || !symbol || !e.shares || e.price === undefined) return undefined;
  return {
    orderId: t?.order.orderId ?? e.orderRef ?? `ib-${e.orderId}`, fillId: e.execId, account: t?.order.account ?? e.acctNumber ?? "",
    symbol, side: e.side === "BOT" ? "buy" : "sell", qty: e.shares, priceUnits: toUnits(e.price), commissionMicros: 0, ts,
  };
}

/** An openOrder in our terms, or undefined for an instrument or order type we do not trade. */
export function openOrderOf(t: Tracked | undefined, instrumentFor: (symbol: string) => Instrument | undefined, ibId: number, c: Contract,
  o: Order): BrokerOpenOrder | undefined {
  const symbol = symbolOf(c), instrument = t?.order.instrument ?? (symbol ? instrumentFor(symbol) : undefined);
  const type = ourType(o.orderType);
  if (!instrument || !type) return undefined;
  return {
    orderId: t?.order.orderId ?? o.orderRef ?? `ib-${ibId}`, account: t?.order.account ?? o.account ?? "", instrument,
    side: o.action === "SELL" ? "sell" : "buy", type, tif: (o.tif ?? "DAY") as BrokerOrder["tif"], qty: o.totalQuantity ?? 0,
    limitPriceUnits: hasLimit(type) && o.lmtPrice !== undefined ? toUnits(o.lmtPrice) : undefined,
    stopPriceUnits: hasStop(type) && o.auxPrice !== undefined ? toUnits(o.auxPrice) : undefined,
    filledQty: t?.filledQty ?? 0, triggered: false, brokerOrderId: String(ibId),
  };
}
