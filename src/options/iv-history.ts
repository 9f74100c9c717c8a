// IV rank and IV percentile per underlying, from a daily history of its at-the-money implied
// vol kept in SQLite (table iv_history). The server samples each underlying's ATM IV every
// strategy.ivSampleMs and upserts the row of the New York day, so a day's row ends as its last
// sample (the close); days older than strategy.ivKeepDays are deleted at each sample.
//
// ATM IV: the reference expiry is the first one at least 7 calendar days away (weeklies a few
// days from expiry have noisy IVs), else the furthest one still ahead; at its strike nearest the
// underlying's mid, the mean of the call's and the put's implied vols (whichever solved), from
// the same WASM batch as the chains.
//
// Over a window of W days (today's current ATM IV and the W − 1 most recent recorded days
// before today), with H those recorded days and c the current IV:
//   IV rank       = 100 × (c − min(H ∪ {c})) / (max(H ∪ {c}) − min(H ∪ {c}))   (null if H is empty or flat)
//   IV percentile = 100 × |{h ∈ H : h < c}| / |H|                              (null if H is empty)

import type { Database } from "bun:sqlite";
import { expiryMs } from "../domain/instrument.ts";
import type { Engine } from "../engine/engine.ts";
import type { GreeksEngine } from "../risk/greeks.ts";
import { priceChain, type ChainBook, type ChainMarket } from "./chains.ts";

/** IV rank and percentile of an underlying now. */
export interface IvStats {
  /** Today's ATM IV (null: no solvable ATM leg now). */
  atmIv: number | null;
  /** 0-100, null without history (or a flat one). */
  ivRank: number | null;
  /** 0-100, null without history. */
  ivPercentile: number | null;
  /** W: the window's length in days. */
  ivWindowDays: number;
  /** Recorded days before today inside the window (|H|): how much history the figures rest on. */
  ivHistoryDays: number;
}

/** IV rank and percentile (0-100) of `current` against the earlier days `history` (see the header). */
export function ivRankPercentile(history: readonly number[], current: number): { ivRank: number | null; ivPercentile: number | null } {
  if (history.length === 0 || !Number.isFinite(current)) return { ivRank: null, ivPercentile: null };
  let lo = current, hi = current, below = 0;
  for (const h of history) {
    if (h < lo) lo = h;
    if (h > hi) hi = h;
    if (h < current) below++;
  }
  return { ivRank: hi > lo ? (100 * (current - lo)) / (hi - lo) : null, ivPercentile: (100 * below) / history.length };
}

const DAY_MS = 86_400_000;
/** A weekly closer than this to expiry is not the ATM IV reference. */
const MIN_REFERENCE_MS = 7 * DAY_MS;

/** The New York calendar date of an instant, YYYY-MM-DD: the key of a day's row. */
const nyDate = new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York", year: "numeric", month: "2-digit", day: "2-digit" });

/** The NY day of an instant. */
export function nyDay(ms: number): string {
  return nyDate.format(new Date(ms));
}

/** What the tracker reads. */
export interface IvTrackerDeps {
  engine: Engine;
  book: ChainBook;
  greeks: () => Promise<Pick<GreeksEngine, "impliedVols">>;
  market: ChainMarket;
  /** The SQLite file holding iv_history (migration 9). */
  db: Database;
  windowDays: number;
  keepDays: number;
}

/** Samples, stores and ranks each underlying's daily ATM IV. */
export class IvTracker {
  private readonly upsert;
  private readonly window;
  private readonly prune;

  constructor(private readonly deps: IvTrackerDeps) {
    this.upsert = deps.db.prepare("INSERT INTO iv_history (underlying, day, iv, ts) VALUES (?, ?, ?, ?) ON CONFLICT (underlying, day) DO UPDATE SET iv = excluded.iv, ts = excluded.ts");
    this.window = deps.db.prepare("SELECT iv FROM iv_history WHERE underlying = ? AND day < ? ORDER BY day DESC LIMIT ?");
    this.prune = deps.db.prepare("DELETE FROM iv_history WHERE day < ?");
  }

  /** The underlying's ATM IV now, or null (no expiry ahead, no quote, nothing solved). */
  async atmIv(underlying: string, nowMs: number): Promise<number | null> {
    const expiries = this.deps.book.expiries(underlying) ?? [];
    const ahead = expiries.filter((e) => expiryMs(e) > nowMs);
    const ref = ahead.find((e) => expiryMs(e) - nowMs >= MIN_REFERENCE_MS) ?? ahead.at(-1);
    if (!ref) return null;
    const strikes = this.deps.book.strikes(underlying, ref)!;
    const u = this.deps.engine.instrument(underlying);
    const q = u ? this.deps.engine.quote(u.index) : undefined;
    if (!q || q.bid === null || q.ask === null || !(q.bid > 0) || !(q.ask > 0) || strikes.length === 0) return null;
    const spot = (q.bid + q.ask) / 2;
    let atm = strikes[0]!;
    for (const s of strikes) if (Math.abs(s.strike - spot) < Math.abs(atm.strike - spot)) atm = s;
    const chain = priceChain(this.deps.engine, await this.deps.greeks(), this.deps.market, underlying, ref, [atm], nowMs);
    const row = chain.rows[0];
    const ivs = [row?.call?.iv, row?.put?.iv].filter((v): v is number => typeof v === "number" && Number.isFinite(v));
    return ivs.length === 0 ? null : ivs.reduce((a, b) => a + b, 0) / ivs.length;
  }

  /** Records a day's ATM IV directly (tests, and backfills from another source). */
  put(underlying: string, day: string, iv: number, tsMs: number): void {
    this.upsert.run(underlying, day, iv, tsMs);
  }

  /** Samples every underlying with options and upserts today's rows; deletes days past keepDays. Returns the rows written. */
  async sample(underlyings: readonly string[], nowMs: number): Promise<number> {
    const day = nyDay(nowMs);
    let written = 0;
    for (const u of underlyings) {
      const iv = await this.atmIv(u, nowMs);
      if (iv === null) continue;
      this.upsert.run(u, day, iv, nowMs);
      written++;
    }
    this.prune.run(nyDay(nowMs - this.deps.keepDays * DAY_MS));
    return written;
  }

  /** IV rank and percentile of an underlying now; `current` when the caller has already solved today's ATM IV. */
  async stats(underlying: string, nowMs: number, current?: number | null): Promise<IvStats> {
    const c = current === undefined ? await this.atmIv(underlying, nowMs) : current;
    const history = (this.window.all(underlying, nyDay(nowMs), this.deps.windowDays - 1) as { iv: number }[]).map((r) => r.iv);
    const { ivRank, ivPercentile } = c === null ? { ivRank: null, ivPercentile: null } : ivRankPercentile(history, c);
    return { atmIv: c, ivRank, ivPercentile, ivWindowDays: this.deps.windowDays, ivHistoryDays: history.length };
  }
}
