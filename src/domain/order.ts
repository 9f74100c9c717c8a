// Orders: their terms, their state, and the one table of legal state transitions. Prices are
// price units (src/domain/price.ts), quantities whole shares or contracts. An order changes
// only through an event the order manager journals; a transition missing from TRANSITIONS is
// refused (checkTransition says why), never applied.

/** Buy or sell; opening or closing follows from the position. */
export type Side = "buy" | "sell";

/** Order types. */
export type OrderType = "market" | "limit" | "stop" | "stop_limit";

/** Time in force: the session, until canceled, immediate-or-cancel, fill-or-kill. */
export type TimeInForce = "DAY" | "GTC" | "IOC" | "FOK";

/** Every order type, for validation. */
export const ORDER_TYPES: readonly OrderType[] = ["market", "limit", "stop", "stop_limit"];

/** Every time in force, for validation. */
export const TIME_IN_FORCES: readonly TimeInForce[] = ["DAY", "GTC", "IOC", "FOK"];

/**
 * What a stop watches, after IBKR's `triggerMethod` (TWS API Order field; codes in IB_TRIGGER_CODES).
 * For a buy stop (a sell stop mirrors it): `last` one trade at or above the stop; `double_last`
 * two consecutive trades above it; `bid_ask` one ask at or above; `double_bid_ask` two consecutive
 * asks at or above; `last_or_bid_ask` either a trade or an ask at or above; `mid_point` the
 * bid/ask mid at or above. `default` is the instrument's default (defaultTriggerMethod).
 */
export type TriggerMethod = "default" | "double_bid_ask" | "last" | "double_last" | "bid_ask" | "last_or_bid_ask" | "mid_point";

/** Every trigger method, for validation. */
export const TRIGGER_METHODS: readonly TriggerMethod[] = ["default", "double_bid_ask", "last", "double_last", "bid_ask", "last_or_bid_ask", "mid_point"];

/** IBKR's numeric codes of the trigger methods (TWS API Order.triggerMethod: 0, 1, 2, 3, 4, 7, 8). */
export const IB_TRIGGER_CODES: Readonly<Record<TriggerMethod, number>> = {
  default: 0, double_bid_ask: 1, last: 2, double_last: 3, bid_ask: 4, last_or_bid_ask: 7, mid_point: 8,
};

/** IBKR's default trigger for an instrument kind: last for stocks, double bid/ask for US options. */
export function defaultTriggerMethod(kind: "stock" | "option"): Exclude<TriggerMethod, "default"> {
  return kind === "option" ? "double_bid_ask" : "last";
}

/** Order states. */
export type OrderStatus =
  | "initialized" | "denied" | "submitted" | "accepted" | "rejected" | "partially_filled" | "filled"
  | "pending_cancel" | "canceled" | "expired" | "pending_replace";

/**
 * The legal transitions. `submitted` means journaled and handed to the broker; `accepted`
 * means the broker holds it. A fill may arrive before the broker's acknowledgment (IBKR does
 * this) and while a cancel or replace is pending; a refused cancel or replace returns the
 * order to accepted or partially_filled.
 */
export const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  initialized: ["denied", "submitted"],
  submitted: ["accepted", "rejected", "partially_filled", "filled", "pending_cancel", "canceled", "expired"],
  accepted: ["partially_filled", "filled", "pending_cancel", "pending_replace", "canceled", "expired"],
  partially_filled: ["partially_filled", "filled", "pending_cancel", "pending_replace", "canceled", "expired"],
  pending_cancel: ["accepted", "partially_filled", "filled", "canceled", "expired"],
  pending_replace: ["accepted", "partially_filled", "filled", "pending_cancel", "canceled", "expired"],
  denied: [],
  rejected: [],
  filled: [],
  canceled: [],
  expired: [],
};

/** Every state, in the order of the table. */
export const ORDER_STATUSES = Object.keys(TRANSITIONS) as OrderStatus[];

/** True for a state no event leaves. */
export function isTerminal(status: OrderStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/** Why `from → to` is illegal, or undefined when it is legal. */
export function checkTransition(from: OrderStatus, to: OrderStatus): string | undefined {
  return TRANSITIONS[from].includes(to) ? undefined : `illegal order transition ${from} -> ${to}`;
}

/** What the client asked for; two requests with the same client order id must have equal terms. */
export interface OrderTerms {
  symbol: string;
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  /** Whole shares or contracts, > 0. */
  qty: number;
  /** Limit price in price units, for limit and stop_limit. */
  limitPriceUnits?: number;
  /** Stop (trigger) price in price units, for stop and stop_limit. */
  stopPriceUnits?: number;
  /** May work in the extended session (IBKR `outsideRth`); absent means false. */
  outsideRth?: boolean;
  /** What triggers a stop, for stop and stop_limit, resolved from `default` to the instrument's method. */
  triggerMethod?: TriggerMethod;
}

/** True when two sets of terms are the same order (the idempotency rule for client order ids). */
export function sameTerms(a: OrderTerms, b: OrderTerms): boolean {
  return a.symbol === b.symbol && a.side === b.side && a.type === b.type && a.tif === b.tif && a.qty === b.qty &&
    (a.limitPriceUnits ?? null) === (b.limitPriceUnits ?? null) && (a.stopPriceUnits ?? null) === (b.stopPriceUnits ?? null) &&
    (a.outsideRth ?? false) === (b.outsideRth ?? false) && (a.triggerMethod ?? null) === (b.triggerMethod ?? null);
}

/** True for the types that carry a limit price. */
export function hasLimit(type: OrderType): boolean {
  return type === "limit" || type === "stop_limit";
}

/** True for the types that carry a stop price. */
export function hasStop(type: OrderType): boolean {
  return type === "stop" || type === "stop_limit";
}

/** An order as the order manager keeps it. */
export interface Order extends OrderTerms {
  /** Server order id, unique across accounts and restarts. */
  id: string;
  account: string;
  /** The client's id, unique per account. */
  clientOrderId: string;
  status: OrderStatus;
  /** Contract multiplier of the instrument (1 stocks, 100 options). */
  multiplier: number;
  filledQty: number;
  /** Volume-weighted fill price in price units (a float: for display, money uses each fill). */
  avgFillPriceUnits: number;
  /** A stop order has triggered and now works as a market or limit order. */
  triggered: boolean;
  /** The broker's id for the order, once it has one. */
  brokerOrderId?: string;
  /** Why the order was denied, rejected, canceled or expired, why a request about it was refused, or why it waits ("held …"). */
  reason?: string;
  createdTs: number;
  updatedTs: number;
  /** +1 for every applied event. */
  version: number;
}

/** Quantity not yet filled. */
export function leavesQty(order: Pick<Order, "qty" | "filledQty">): number {
  return order.qty - order.filledQty;
}

/**
 * How a fill came about: an execution, or the settlement of an option at expiry ("lapse": an
 * in-the-money long option not exercised because the account could not pay for the shares).
 */
export type FillKind = "trade" | "exercise" | "assignment" | "expiry" | "lapse";

/** A fill as the order manager records it: positions are the sum of these. */
export interface Fill {
  /** Journal sequence number: the order fills were applied in. */
  seq: number;
  /** Unique for ever; a fill id seen twice is applied once. */
  fillId: string;
  /** The order it filled; absent for expiry settlements. */
  orderId?: string;
  account: string;
  symbol: string;
  side: Side;
  qty: number;
  priceUnits: number;
  multiplier: number;
  commissionMicros: number;
  ts: number;
  kind: FillKind;
}

/** A cash movement that is not a fill: the initial deposit, a transfer. */
export interface CashEntry {
  seq: number;
  account: string;
  amountMicros: number;
  ts: number;
  memo: string;
}
