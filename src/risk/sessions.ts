// Each account's session figures: the equity at the session open (the daily P&L baseline) and the
// day's peak (the drawdown's), kept in SQLite (risk_session) so a restart neither resets the day
// nor loses its peak. Both are taken only from a marked book: an account whose positions are not
// all marked after a start has no open (NaN) until they are, and its peak does not move.

import type { RiskStore } from "../store/risk.ts";

/** The day's peak equity is written at most this often, and on stop (kill -9 loses at most this much of a rise). */
export const PEAK_WRITE_MS = 1_000;

/** The session figures of an account: NaN until first taken from a marked book. */
export interface Session {
  /** The trading day (New York date). */
  date: string;
  open: number;
  peak: number;
  peakWrittenMs: number;
  peakDirty: boolean;
}

/** The session figures of every account. */
export class RiskSessions {
  private readonly sessions = new Map<string, Session>();

  /** `onNewDay` runs once per account when a day starts that the store has no figures for. */
  constructor(private readonly store: RiskStore, private readonly onNewDay: (account: string, date: string) => void) {}

  /** The current figures of an account, if any were read yet. */
  get(account: string): Session | undefined {
    return this.sessions.get(account);
  }

  /**
   * The figures of `date` for an account at `equity`: stored for that day, or taken now when the
   * book is `marked`; the peak follows the equity of marked books.
   */
  update(account: string, date: string, equity: number, now: number, marked: boolean): Session {
    let s = this.sessions.get(account);
    if (!s || s.date !== date) {
      const stored = this.store.session(account);
      if (stored && stored.date === date) {
        s = { date, open: stored.openEquity, peak: stored.peakEquity, peakWrittenMs: now, peakDirty: false };
      } else {
        s = { date, open: NaN, peak: NaN, peakWrittenMs: now, peakDirty: false };
        this.onNewDay(account, date);
      }
      this.sessions.set(account, s);
    }
    if (!marked) return s;
    if (Number.isNaN(s.open)) {
      s.open = s.peak = equity;
      s.peakWrittenMs = now;
      this.store.setSession(account, date, equity, equity);
    } else if (equity > s.peak) {
      s.peak = equity;
      s.peakDirty = true;
    }
    if (s.peakDirty && now - s.peakWrittenMs >= PEAK_WRITE_MS) this.write(account, s, now);
    return s;
  }

  /** Writes every peak not yet written (on stop). */
  flush(now: number): void {
    for (const [account, s] of this.sessions) if (s.peakDirty) this.write(account, s, now);
  }

  private write(account: string, s: Session, now: number): void {
    this.store.setSession(account, s.date, s.open, s.peak);
    s.peakWrittenMs = now;
    s.peakDirty = false;
  }
}
