// The Broker interface: the seam between the order manager and whoever executes orders — the
// paper broker here, IBKR later. It is shaped after what TWS offers (placeOrder, cancelOrder,
// orderStatus / openOrder / execDetails / commissionReport, reqOpenOrders, reqExecutions) so an
// IBKR broker is a mapping, not a redesign. test/unit/broker.contract.ts states what every
// implementation guarantees; docs/architecture.md ("Brokers") explains the rules in prose.
//
// Requests return nothing: every outcome, including a refusal, arrives as an event, because a
// real broker answers asynchronously and may answer out of order (a fill before the ack).

import type { Instrument } from "../domain/instrument.ts";
import type { OrderTerms, Side } from "../domain/order.ts";
import type { CostedFill } from "./commission.ts";

/** An order as the order manager hands it to a broker: the client's terms, with the symbol resolved. */
export interface BrokerOrder extends Omit<OrderTerms, "symbol"> {
  /** Our order id; unique for ever (brokers map it to their own ids, e.g. IBKR's orderRef). */
  orderId: string;
  account: string;
  instrument: Instrument;
}

/** An order the order manager already knew before a restart, handed back to the broker. */
export interface RestoredOrder extends BrokerOrder {
  filledQty: number;
  /** A stop that already triggered works as a market or limit order. */
  triggered: boolean;
  brokerOrderId?: string;
  /**
   * When the order was placed, epoch ms. A DAY order's end is fixed by it (the session it was
   * placed for), not by when the broker took it back; absent, the restore time stands in.
   */
  placedMs?: number;
  /** Value filled so far, micros, and commission charged so far, micros (per-order minimums and caps need them). */
  filledValueMicros?: number;
  commissionMicros?: number;
  /** The order's executions so far, in order: a broker that charges per order (paper) rebuilds its costs from them. */
  fills?: readonly CostedFill[];
  /** How many of `fills` came before the order's last modify: for stocks a modified order is new for the commission minimum. */
  fillsBeforeModify?: number;
}

/** The terms a modify may change; absent fields keep their value. */
export interface OrderChanges {
  qty?: number;
  limitPriceUnits?: number;
  stopPriceUnits?: number;
}

/** One execution. */
export interface BrokerFill {
  orderId: string;
  /** Unique per broker and stable across reconnects (IBKR execId): the order manager applies each id once. */
  fillId: string;
  account: string;
  symbol: string;
  side: Side;
  qty: number;
  priceUnits: number;
  /** Commission charged for this execution, micros (IBKR: joined from commissionReport by execId). */
  commissionMicros: number;
  /** Execution time, epoch ms. */
  ts: number;
}

/**
 * What a broker reports. A fill does not say "partial" or "full": the order manager derives
 * that from the cumulative quantity, so a broker never has to.
 */
export type BrokerEvent =
  | { kind: "accepted"; orderId: string; brokerOrderId: string; ts: number }
  | { kind: "rejected"; orderId: string; reason: string; ts: number }
  | { kind: "triggered"; orderId: string; ts: number }
  /** Working but waiting for its session (IBKR shows it PreSubmitted): `reason` says why, `untilMs` from when. */
  | { kind: "held"; orderId: string; reason: string; untilMs: number; ts: number }
  /** A held order's session opened: it may trigger and fill again. */
  | { kind: "released"; orderId: string; ts: number }
  | { kind: "fill"; fill: BrokerFill }
  | { kind: "canceled"; orderId: string; reason: string; ts: number }
  | { kind: "expired"; orderId: string; ts: number }
  | { kind: "replaced"; orderId: string; qty: number; limitPriceUnits?: number; stopPriceUnits?: number; ts: number }
  | { kind: "cancel_rejected"; orderId: string; reason: string; ts: number }
  | { kind: "modify_rejected"; orderId: string; reason: string; ts: number };

/** Receives broker events, in the order the broker learned them. */
export type BrokerListener = (event: BrokerEvent) => void;

/** An order the broker holds as working, for reconciliation. */
export interface BrokerOpenOrder extends RestoredOrder {
  brokerOrderId: string;
}

/** An execution venue; see the file comment and the contract test. */
export interface Broker {
  /** Short name for logs and config ("paper", "ib"). */
  readonly name: string;
  /**
   * True when orders live outside this process (a real venue): the order manager then commits
   * an order, a cancel or a modify to its journal before sending it, so a crash can never leave
   * the venue working an order the journal does not know. A simulated broker whose state dies
   * with the process (paper) needs no such ordering, and saves a commit per request.
   */
  readonly external: boolean;
  /** Registers the listener for every event; returns a function that removes it. */
  onEvent(listener: BrokerListener): () => void;
  /**
   * Called once at start, before any submit, with the open orders the journal holds. A broker
   * that keeps no state outside this process (paper) takes them back as working orders; one
   * that does (IBKR) learns the id mapping and then reconciles through openOrders().
   */
  restore(orders: readonly RestoredOrder[]): Promise<void>;
  /** Sends a new order; answered by accepted or rejected (and fills, possibly before accepted). */
  submit(order: BrokerOrder): void;
  /** Asks to cancel; answered by canceled, or cancel_rejected (unknown or already done). */
  cancel(orderId: string): void;
  /** Asks to change qty / prices; answered by replaced or modify_rejected. */
  modify(orderId: string, changes: OrderChanges): void;
  /**
   * The exchange session closed at `closeMs`: DAY orders end. A real venue expires them itself
   * and reports it; a simulated one expires them here. Either way the answer is expired events.
   */
  sessionClosed(closeMs: number): void;
  /**
   * When a DAY order placed at `placedMs` ends at this broker, for a simulated one that decides
   * it itself (paper: by its hours and the order's window). Absent (a real venue), the order
   * manager takes the calendar's close of the order's window.
   */
  dayEndMs?(order: BrokerOrder, placedMs: number): number;
  /** Orders the broker holds as working now (reconciliation after a restart or reconnect). */
  openOrders(): Promise<BrokerOpenOrder[]>;
  /** Executions at or after `sinceMs` the broker still knows of (reconciliation). */
  executionsSince(sinceMs: number): Promise<BrokerFill[]>;
  /** Stops the broker; no event is emitted after it resolves. */
  close(): Promise<void>;
}
