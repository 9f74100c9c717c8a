// The paper broker's bookkeeping, apart from its evaluation loop (paper.ts): what it keeps per
// working order and per instrument, the priority resting orders fill in, the checks that refuse
// a submit or a modify, and the bounded ring of executions kept for reconciliation.

import { hasLimit, hasStop } from "../domain/order.ts";
import type { BrokerFill, BrokerOrder, OrderChanges } from "./broker.ts";
import type { OrderCosts } from "./commission.ts";
import type { TriggerState } from "./triggers.ts";

/** A working order and what the broker knows of its progress. */
export interface Working {
  order: BrokerOrder;
  brokerOrderId: string;
  filledQty: number;
  /** Filled value and charges so far: commission minimums and caps apply per order. */
  costs: OrderCosts;
  triggered: boolean;
  /** Submit sequence: time priority among equal prices. */
  arrival: number;
  /** Waiting for its session: neither triggers nor fills. */
  held: boolean;
  /** When a DAY order ends (its session's close, or after-hours close when it works there); Infinity otherwise. */
  dayEndMs: number;
  /** A stop's trigger streaks. */
  trigger: TriggerState;
  /** Session date of the order's last fill: a fill on a later one starts a new commission minimum (stocks). */
  fillDay?: string;
}

/**
 * Per instrument: its resting orders and how much of the current quote state is used up. A book
 * outlives its orders, so displayed size used by one order is not offered to the next; there is
 * at most one per instrument, which the engine's instrument table bounds.
 */
export interface Book {
  orders: Working[];
  quoteSeq: number;
  bidTaken: number;
  askTaken: number;
  volumeSeen: number;
}

/** Market orders first, then the best limit, then arrival; buys before sells. */
export function priority(a: Working, b: Working): number {
  if (a.order.side !== b.order.side) return a.order.side === "buy" ? -1 : 1;
  const dir = a.order.side === "buy" ? -1 : 1;
  const pa = a.order.limitPriceUnits ?? (dir < 0 ? Infinity : -Infinity);
  const pb = b.order.limitPriceUnits ?? (dir < 0 ? Infinity : -Infinity);
  if (pa !== pb) return dir < 0 ? pb - pa : pa - pb;
  return a.arrival - b.arrival;
}

/** Why a new order's terms are refused, or undefined (the order manager validated them already; this guards direct callers). */
export function termsProblem(o: BrokerOrder): string | undefined {
  if (!Number.isInteger(o.qty) || o.qty <= 0) return "quantity must be a positive whole number";
  if (hasLimit(o.type) !== (o.limitPriceUnits !== undefined)) return `a ${o.type} order ${hasLimit(o.type) ? "needs" : "takes no"} limit price`;
  if (hasStop(o.type) !== (o.stopPriceUnits !== undefined)) return `a ${o.type} order ${hasStop(o.type) ? "needs" : "takes no"} stop price`;
  if (hasStop(o.type) && (o.tif === "IOC" || o.tif === "FOK")) return `${o.tif} is not supported for ${o.type} orders`;
  return undefined;
}

/** Why a modify of a working order is refused, or undefined. */
export function changesProblem(w: Working, c: OrderChanges): string | undefined {
  const type = w.order.type;
  if (c.qty !== undefined && (!Number.isInteger(c.qty) || c.qty <= w.filledQty)) return `quantity must be a whole number above the filled ${w.filledQty}`;
  if (c.limitPriceUnits !== undefined && !hasLimit(type)) return `a ${type} order has no limit price`;
  if (c.stopPriceUnits !== undefined && (!hasStop(type) || w.triggered)) return `a ${type} order${w.triggered ? " that triggered" : ""} has no stop price to change`;
  return undefined;
}

/** The newest `capacity` executions, oldest overwritten first. */
export class FillRing {
  private readonly fills: BrokerFill[] = [];
  private head = 0;

  constructor(private readonly capacity: number) {}

  /** Keeps a fill, dropping the oldest when full. */
  push(fill: BrokerFill): void {
    if (this.fills.length < this.capacity) this.fills.push(fill);
    else {
      this.fills[this.head] = fill;
      this.head = (this.head + 1) % this.fills.length;
    }
  }

  /** Fills at or after `sinceMs`, oldest first. */
  since(sinceMs: number): BrokerFill[] {
    const n = this.fills.length, out: BrokerFill[] = [];
    for (let i = 0; i < n; i++) {
      const f = this.fills[(this.head + i) % n]!;
      if (f.ts >= sinceMs) out.push(f);
    }
    return out;
  }
}
