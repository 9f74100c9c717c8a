// Marks across restarts. A restarted engine has no quotes until the feed ticks again, and a
// position without a mark must never be worth 0 (that reads as a loss of its whole value and
// used to halt every account that held anything). So:
//   - the last live mark of every held instrument is kept in SQLite (risk_marks), written at once
//     for an instrument seen for the first time and at most every MARK_WRITE_MS after that;
//   - a new position row starts from that durable mark: WASM values it there and flags it
//     PS_STALE until a live mark arrives (no durable mark: PS_NOT_VALUED, counted at cost);
//   - an account whose held rows are not all live-marked is "waiting for marks": the loss policy,
//     the session-open equity and the day's peak wait for it, at most `markWaitMs` after start;
//     after that the durable marks stand (flagged stale) so that an instrument gone from the feed
//     cannot switch the loss policy off.

import type { Logger } from "../log.ts";
import type { RiskStore } from "../store/risk.ts";
import type { RiskBook } from "./book.ts";
import type { RiskTables } from "./tables.ts";

/**
 * Changed marks of known instruments are written at most this often (and on stop): they only
 * stand in until the feed marks the book again, so a few seconds' age after a kill -9 is fine.
 */
export const MARK_WRITE_MS = 5_000;

/** How an account's book is marked (the `valuation` of a risk snapshot). */
export type Valuation = "marked" | "waiting_for_marks" | "stale";

/** The durable last marks and the start-up wait for live ones. */
export class RiskMarks {
  /** What SQLite holds (after the next flush): the seed of a new row. Bounded by the instruments held. */
  private readonly last: Map<string, number>;
  private readonly pending = new Map<string, number>();
  private lastWriteMs = -Infinity;
  private urgent = false;
  private readonly statusOk: number;
  private readonly statusNoGreeks: number;
  private readonly statusStale: number;
  private readonly statusNotValued: number;

  constructor(
    private readonly store: RiskStore, private readonly tables: RiskTables, private readonly book: RiskBook, private readonly log: Logger,
    /** When the wait for live marks started (the service's attach), and how long it lasts. */
    readonly startedMs: number, readonly waitMs: number,
  ) {
    this.last = store.marks();
    const g = tables.g;
    this.statusOk = g.PS_OK!;
    this.statusNoGreeks = g.PS_NO_GREEKS!;
    this.statusStale = g.PS_STALE!;
    this.statusNotValued = g.PS_NOT_VALUED!;
    if (this.statusStale === undefined || this.statusNotValued === undefined) throw new Error("engine module has no PS_STALE / PS_NOT_VALUED");
  }

  /** The durable last mark of a symbol (dollars), the starting value of a new row. */
  seed(symbol: string): number | undefined {
    return this.last.get(symbol);
  }

  /** Forgets stored marks of instruments no account holds, so the table stays as small as the book. */
  retainOnly(held: ReadonlySet<string>): void {
    const gone = [...this.last.keys()].filter((s) => !held.has(s));
    for (const s of gone) this.last.delete(s);
    if (gone.length > 0) this.store.dropMarks(gone);
  }

  /** True once the start-up wait is over. */
  waitOver(nowMs: number): boolean {
    return nowMs - this.startedMs >= this.waitMs;
  }

  /** Milliseconds left of the start-up wait (0 when over). */
  waitLeftMs(nowMs: number): number {
    return Math.max(this.startedMs + this.waitMs - nowMs, 0);
  }

  /**
   * After a recompute: the account's held instruments that have had no live mark in this run
   * (empty when the book is marked), and the live marks noted for the next flush.
   */
  scan(account: string): string[] {
    const slot = this.book.slotOf(account);
    if (slot === undefined) return [];
    const t = this.tables;
    const unmarked: string[] = [];
    const symbols = this.book.symbolsOf(account);
    for (let row = 0; row < symbols.length; row++) {
      if (t.pos(slot, row, "PR_QTY") === 0) continue;
      const status = t.pos(slot, row, "PR_STATUS");
      const symbol = symbols[row]!;
      if (status === this.statusStale || status === this.statusNotValued) {
        unmarked.push(symbol);
      } else if (status === this.statusOk || status === this.statusNoGreeks) {
        // A live mark in this pass (PS_NO_MARK repeats an older one, already noted).
        const mark = t.pos(slot, row, "PR_MARK");
        if (Number.isFinite(mark) && this.last.get(symbol) !== mark) {
          if (!this.last.has(symbol)) this.urgent = true;
          this.pending.set(symbol, mark);
          this.last.set(symbol, mark);
        }
      }
    }
    return unmarked;
  }

  /**
   * Writes the noted marks: at once for a new instrument, else at most every MARK_WRITE_MS; `force`
   * on stop. A failed write (a busy database) is logged and retried at the next interval: marks
   * are a fallback and must never stop the risk engine.
   */
  flush(nowMs: number, force = false): void {
    if (this.pending.size === 0) return;
    if (!force && !this.urgent && nowMs - this.lastWriteMs < MARK_WRITE_MS) return;
    this.lastWriteMs = nowMs;
    this.urgent = false;
    try {
      this.store.setMarks(this.pending, nowMs);
      this.pending.clear();
    } catch (err) {
      this.log.warn("risk marks not stored; retrying", { err, marks: this.pending.size });
    }
  }

  /** The valuation of a book with these unmarked instruments at `nowMs`. */
  valuation(unmarked: readonly string[], nowMs: number): Valuation {
    return unmarked.length === 0 ? "marked" : this.waitOver(nowMs) ? "stale" : "waiting_for_marks";
  }
}
