// Per-symbol seq continuity for the market client. Within a connection a jump in a symbol's seq
// is a gap (updates conflated or lost); a snapshot resets the baseline. Across a reconnect — to
// the same server or to another edge of the same core, which carries the same seq — the last seq
// of the old connection is kept until the symbol's first snapshot on the new one, so the updates
// made while away are reported instead of hidden behind the fresh snapshot.

import type { Gap } from "./client-types.ts";
import type { QuoteFrame } from "./protocol.ts";

/** The seqs one client has seen; bounded by the symbols it holds (forget() on unsubscribe). */
export class SeqTracker {
  private readonly last = new Map<string, number>();
  /** Each symbol's last seq on the previous connection, until its snapshot on this one is checked against it. */
  private readonly before = new Map<string, number>();

  /** Records a quote frame; returns the gap it reveals, if any. */
  check(f: QuoteFrame): Gap | undefined {
    const prev = this.last.get(f.s);
    this.last.set(f.s, f.seq);
    if (!f.snap) return prev !== undefined && f.seq > prev + 1 ? { symbol: f.s, previous: prev, got: f.seq, missed: f.seq - prev - 1 } : undefined;
    const before = this.before.get(f.s);
    if (before === undefined) return undefined;
    this.before.delete(f.s);
    // A lower seq is a restarted server (its seq starts over): nothing to report.
    return f.seq > before + 1 ? { symbol: f.s, previous: before, got: f.seq, missed: f.seq - before - 1, reconnect: true } : undefined;
  }

  /** A new connection: this one's seqs become the baseline its snapshots are checked against. */
  reconnected(): void {
    for (const [s, seq] of this.last) this.before.set(s, seq);
    this.last.clear();
  }

  /** The symbol is no longer held. */
  forget(symbol: string): void {
    this.last.delete(symbol);
    this.before.delete(symbol);
  }
}
