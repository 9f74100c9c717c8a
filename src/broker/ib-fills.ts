// Joining IBKR's two halves of an execution: execDetails (what, how many, at what price) and
// commissionReport (what it cost), matched by execId. A fill is emitted once both halves are
// here, exactly once per execId however often TWS repeats the execution (every reconnect's
// reqExecutions repeats the day's), and everything waiting is bounded:
//   - pending executions without their commission: maxPending (default 1,024). TWS sends the
//     report right after the execution, so more than a handful waiting means reports are lost;
//     past the bound the oldest is emitted with commission 0 and counted (evictedUnjoined),
//     because a fill without its commission is better than a lost fill.
//   - commission reports seen (early ones, and recent ones for executionsSince): maxKnown.
//   - execIds already emitted: maxKnown (default 100,000 ≈ 6 MB; a busy day's executions).
//     An execId older than that could be emitted twice; the order manager drops it by fillId.

import type { BrokerFill } from "./broker.ts";

/** Bounds of the joiner. */
export interface JoinLimits {
  maxPending: number;
  maxKnown: number;
}

/** Default bounds; see the file comment. */
export const JOIN_DEFAULTS: JoinLimits = { maxPending: 1024, maxKnown: 100_000 };

/** Joins executions and commission reports by execId; calls `emit` once per execution. */
export class ExecutionJoiner<Tag> {
  /** Counters for metrics and tests. */
  readonly stats = { joined: 0, evictedUnjoined: 0, duplicates: 0 };
  private readonly pending = new Map<string, { fill: BrokerFill; tag: Tag }>();
  private readonly commissions = new Map<string, number>();
  private readonly seen = new Set<string>();

  constructor(private readonly limits: JoinLimits, private readonly emit: (fill: BrokerFill, tag: Tag) => void) {}

  /** Executions waiting for their commission report. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** True when this execution was already emitted or is waiting. */
  known(execId: string): boolean {
    return this.seen.has(execId) || this.pending.has(execId);
  }

  /** True (and counted as a duplicate) when this execution was already emitted or is waiting. */
  repeated(execId: string): boolean {
    if (!this.known(execId)) return false;
    this.stats.duplicates++;
    return true;
  }

  /** An execution (fill.commissionMicros is ignored); emitted now if its report is here, else held. */
  execution(fill: BrokerFill, tag: Tag): void {
    if (this.known(fill.fillId)) {
      this.stats.duplicates++;
      return;
    }
    const micros = this.commissions.get(fill.fillId);
    if (micros !== undefined) return this.release({ ...fill, commissionMicros: micros }, tag);
    this.pending.set(fill.fillId, { fill, tag });
    if (this.pending.size > this.limits.maxPending) {
      const [execId, oldest] = this.pending.entries().next().value!;
      this.pending.delete(execId);
      this.stats.evictedUnjoined++;
      this.release({ ...oldest.fill, commissionMicros: 0 }, oldest.tag);
    }
  }

  /** A commission report: completes a waiting execution, or is remembered for one still to come. */
  commission(execId: string, micros: number): void {
    this.remember(this.commissions, execId, micros);
    const p = this.pending.get(execId);
    if (!p) return;
    this.pending.delete(execId);
    this.release({ ...p.fill, commissionMicros: micros }, p.tag);
  }

  /** The commission reported for an execution, if still remembered. */
  commissionOf(execId: string): number | undefined {
    return this.commissions.get(execId);
  }

  private release(fill: BrokerFill, tag: Tag): void {
    this.seen.add(fill.fillId);
    // A Set iterates in insertion order, so the first entry is the oldest.
    if (this.seen.size > this.limits.maxKnown) this.seen.delete(this.seen.values().next().value!);
    this.stats.joined++;
    this.emit(fill, tag);
  }

  private remember(m: Map<string, number>, k: string, v: number): void {
    m.set(k, v);
    if (m.size > this.limits.maxKnown) m.delete(m.keys().next().value!);
  }
}
