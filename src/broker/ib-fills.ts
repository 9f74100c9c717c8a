// Joining IBKR's two halves of an execution: execDetails (what, how many, at what price) and
// commissionReport (what it cost), matched by execId. A fill is emitted once both halves are
// here, exactly once per execution however often TWS repeats it (every reconnect's
// reqExecutions repeats the day's).
//
// Identity: an execution is the order it belongs to (our order id, carried in orderRef) plus
// IBKR's execId. Real TWS keeps execIds unique per account and day, but a restarted gateway
// (and our simulator) can start them again, so an execId alone would make the first fill of a
// new order look like a repeat of an old one and drop it. The IB order id is not part of the
// key either: it goes backwards after a gateway restart too. Commission reports carry only the
// execId; a report is joined to the oldest execution waiting for it, and a remembered report
// is reused only for the execution it was first joined to (or by an execution it came before).
//
// Corrections: IBKR publishes a corrected execution as a new execDetails whose execId differs
// only after the last period ("….01" → "….02"). The journal is append-only and a correction
// is rare, so it is not applied as a second fill: it is counted (corrections), handed to
// onCorrection to log and alert on, and the position check after the next reconciliation shows
// any difference for the operator to book by hand.
//
// Bounds:
//   - pending executions without their commission: maxPending (default 1,024). TWS sends the
//     report right after the execution, so more than a handful waiting means reports are lost;
//     past the bound the oldest is emitted with commission 0 and counted (evictedUnjoined),
//     because a fill without its commission is better than a lost fill.
//   - commission reports remembered and executions already emitted: maxKnown each (default
//     100,000 ≈ a busy day's executions). One older than that could be emitted twice; the
//     order manager drops it by (order, fill id).

import type { BrokerFill } from "./broker.ts";

/** Bounds of the joiner. */
export interface JoinLimits {
  maxPending: number;
  maxKnown: number;
}

/** Default bounds; see the file comment. */
export const JOIN_DEFAULTS: JoinLimits = { maxPending: 1024, maxKnown: 100_000 };

/** The de-duplication key of an execution: our order id and IBKR's execId. */
export function executionKey(orderId: string, execId: string): string {
  return `${orderId}\u0000${execId}`;
}

/** An execId without its revision suffix (the digits after the last period), which a correction changes. */
export function executionBase(execId: string): string {
  const dot = execId.lastIndexOf(".");
  return dot > 0 ? execId.slice(0, dot) : execId;
}

/** Joins executions and commission reports; calls `emit` once per execution. */
export class ExecutionJoiner<Tag> {
  /** Counters for metrics and tests. */
  readonly stats = { joined: 0, evictedUnjoined: 0, duplicates: 0, corrections: 0 };
  private readonly pending = new Map<string, { fill: BrokerFill; tag: Tag }>();
  /** Keys of pending executions by execId, oldest first (two only when a restarted id meets an old one). */
  private readonly waiting = new Map<string, string[]>();
  /** Commission by execId, with the key of the execution it was joined to ("" while none). */
  private readonly commissions = new Map<string, { micros: number; key: string }>();
  private readonly seen = new Set<string>();
  /** Order and execId base → the execId emitted for it, to recognise corrections. */
  private readonly bases = new Map<string, string>();
  /** execId → the key it was last emitted under, so a repeated report stays with its execution. */
  private readonly lastKey = new Map<string, string>();

  constructor(private readonly limits: JoinLimits, private readonly emit: (fill: BrokerFill, tag: Tag) => void,
    private readonly onCorrection: (fill: BrokerFill, original: string) => void = () => {}) {}

  /** Executions waiting for their commission report. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** True when this execution of this order was already emitted or is waiting. */
  known(orderId: string, execId: string): boolean {
    const k = executionKey(orderId, execId);
    return this.seen.has(k) || this.pending.has(k);
  }

  /** True (and counted as a duplicate) when this execution of this order was already emitted or is waiting. */
  repeated(orderId: string, execId: string): boolean {
    if (!this.known(orderId, execId)) return false;
    this.stats.duplicates++;
    return true;
  }

  /** An execution (fill.commissionMicros is ignored); emitted now if its report is here, else held. */
  execution(fill: BrokerFill, tag: Tag): void {
    const key = executionKey(fill.orderId, fill.fillId);
    if (this.seen.has(key) || this.pending.has(key)) {
      this.stats.duplicates++;
      return;
    }
    const base = executionKey(fill.orderId, executionBase(fill.fillId)), original = this.bases.get(base);
    if (original !== undefined && original !== fill.fillId) {
      this.stats.corrections++;
      this.remember(this.seen, key);
      return this.onCorrection(fill, original);
    }
    const c = this.commissions.get(fill.fillId);
    // A report remembered for another order's execution with the same (restarted) id is not this one's.
    if (c && (c.key === "" || c.key === key)) {
      c.key = key;
      return this.release({ ...fill, commissionMicros: c.micros }, tag, key);
    }
    this.pending.set(key, { fill, tag });
    const w = this.waiting.get(fill.fillId);
    if (w) w.push(key);
    else this.waiting.set(fill.fillId, [key]);
    if (this.pending.size > this.limits.maxPending) {
      const [oldestKey, oldest] = this.pending.entries().next().value!;
      this.unwait(oldest.fill.fillId, oldestKey);
      this.stats.evictedUnjoined++;
      this.release({ ...oldest.fill, commissionMicros: 0 }, oldest.tag, oldestKey);
    }
  }

  /** A commission report: completes the oldest execution waiting for it, or is remembered for one still to come. */
  commission(execId: string, micros: number): void {
    const key = this.waiting.get(execId)?.[0];
    if (key === undefined) {
      // A repeat of a report already joined stays with its execution; an early one waits for its execution.
      this.remember(this.commissions, execId, { micros, key: this.lastKey.get(execId) ?? "" });
      return;
    }
    this.remember(this.commissions, execId, { micros, key });
    const p = this.pending.get(key)!;
    this.unwait(execId, key);
    this.release({ ...p.fill, commissionMicros: micros }, p.tag, key);
  }

  /** The commission reported for an execution of an order, if still remembered. */
  commissionOf(orderId: string, execId: string): number | undefined {
    const c = this.commissions.get(execId);
    return c && (c.key === "" || c.key === executionKey(orderId, execId)) ? c.micros : undefined;
  }

  private unwait(execId: string, key: string): void {
    this.pending.delete(key);
    const w = this.waiting.get(execId);
    if (!w) return;
    const i = w.indexOf(key);
    if (i >= 0) w.splice(i, 1);
    if (w.length === 0) this.waiting.delete(execId);
  }

  private release(fill: BrokerFill, tag: Tag, key: string): void {
    this.remember(this.seen, key);
    this.remember(this.bases, executionKey(fill.orderId, executionBase(fill.fillId)), fill.fillId);
    this.remember(this.lastKey, fill.fillId, key);
    this.stats.joined++;
    this.emit(fill, tag);
  }

  /** Adds to a set or map bounded by maxKnown; insertion order makes the first entry the oldest. */
  private remember<V>(m: Set<string> | Map<string, V>, k: string, v?: V): void {
    if (m instanceof Set) m.add(k);
    else m.set(k, v as V);
    if (m.size > this.limits.maxKnown) m.delete(m.keys().next().value!);
  }
}
