// The replay feed: as fast as possible, at the recorded pace and at a multiple of it, with
// re-stamped or kept times, looping, errors mid-file; and record → replay reproduces the quotes.

import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nowMs } from "../../src/domain/time.ts";
import type { Engine, Quote } from "../../src/engine/engine.ts";
import type { TickSink } from "../../src/feed/feed.ts";
import { ReplayFeed } from "../../src/feed/replay.ts";
import { SyntheticFeed } from "../../src/feed/synthetic.ts";
import { CSV_HEADER, openTickReader, TickBatch } from "../../src/feed/tickfile.ts";
import { CountingSink, engineFor, waitFor, writeSyntheticFile } from "./feed.contract.ts";

const dir = mkdtempSync(join(tmpdir(), "replay-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Records the stamps and flush clocks a feed hands to its sink. */
class StampSink implements TickSink {
  readonly stamps: number[] = [];
  readonly clocks: number[] = [];
  write(_i: number, _k: number, _p: number, _s: number, tsMs: number): void {
    this.stamps.push(tsMs);
  }
  flush(nowMs?: number): number {
    this.clocks.push(nowMs!);
    return 0;
  }
}

function recordedTimes(path: string): number[] {
  const reader = openTickReader(path);
  const batch = new TickBatch(1000);
  const out: number[] = [];
  while (reader.read(batch) > 0) for (let i = 0; i < batch.length; i++) out.push(batch.tsMs[i]!);
  reader.close();
  return out;
}

const identity = (feed: ReplayFeed) => {
  const numberOf = new Map(feed.instruments().map((s, i) => [s.symbol, i]));
  return (s: string) => numberOf.get(s);
};

describe("ReplayFeed", () => {
  const path = join(dir, "paced.altk");
  // 10 batches of 50 ticks, 30 ms apart: 270 ms of recorded time.
  const records = writeSyntheticFile(path, { batches: 10, perBatch: 50, spacingMs: 30 });
  const recorded = recordedTimes(path);

  test("at max speed: every record reaches the engine, then the feed ends by itself", async () => {
    const feed = new ReplayFeed(path, { speed: "max", maxBatchTicks: 128 });
    const { engine, indexOf } = await engineFor(feed);
    const sink = new CountingSink(engine);
    await feed.start(sink, indexOf);
    await feed.ended;
    expect(feed.live).toBe(false);
    expect(feed.error).toBeNull();
    expect(feed.passes).toBe(1);
    expect(feed.stats.ticks).toBe(records);
    expect(sink.maxBatch).toBeLessThanOrEqual(128);
    expect(engine.counters().ticks).toBe(records);
    expect(engine.counters().rejectedByReason.stale).toBe(0);
  });

  test("at the recorded pace: takes the recorded time and re-stamps with the recorded spacing", async () => {
    const feed = new ReplayFeed(path);
    const sink = new StampSink();
    const t0 = nowMs();
    await feed.start(sink, identity(feed));
    await feed.ended;
    const t1 = nowMs();
    expect(t1 - t0).toBeGreaterThanOrEqual(270 - 1);
    expect(sink.stamps.length).toBe(records);
    expect(sink.stamps[0]!).toBeGreaterThanOrEqual(t0);
    for (let i = 0; i < records; i++) expect(sink.stamps[i]! - sink.stamps[0]!).toBeCloseTo(recorded[i]! - recorded[0]!, 6);
    // Re-stamped ticks are never in the future of the clock they are flushed at.
    expect(Math.max(...sink.stamps)).toBeLessThanOrEqual(Math.max(...sink.clocks));
    // Paced, not dumped at once. Ten recorded batches give up to ten flushes, but a timer that
    // fires late on a loaded machine rightly releases every batch that fell due in one flush.
    expect(sink.clocks.length).toBeGreaterThan(1);
  });

  test("at 10× the spacing shrinks tenfold; keepTime keeps the recorded times and flushes on the recording's clock", async () => {
    const fast = new ReplayFeed(path, { speed: 10 });
    const a = new StampSink();
    await fast.start(a, identity(fast));
    await fast.ended;
    for (let i = 0; i < records; i++) expect(a.stamps[i]! - a.stamps[0]!).toBeCloseTo((recorded[i]! - recorded[0]!) / 10, 6);
    const kept = new ReplayFeed(path, { speed: "max", keepTime: true });
    const b = new StampSink();
    await kept.start(b, identity(kept));
    await kept.ended;
    expect(b.stamps).toEqual(recorded);
    expect(b.clocks.at(-1)).toBe(recorded.at(-1)!);
    // The engine runs on the recording's clock: every flush is at a recorded time, none at the wall clock.
    const times = new Set(recorded);
    for (const c of b.clocks) expect(times.has(c)).toBe(true);
  });

  test("loops until stopped, with re-stamped times that never go backwards", async () => {
    const feed = new ReplayFeed(path, { speed: "max", loop: true });
    const sink = new StampSink();
    await feed.start(sink, identity(feed));
    await waitFor(() => feed.passes >= 3, 5000, "three passes");
    await feed.stop();
    await feed.ended;
    expect(feed.stats.ticks).toBeGreaterThanOrEqual(3 * records);
    for (let i = 1; i < sink.stamps.length; i++) expect(sink.stamps[i]!).toBeGreaterThanOrEqual(sink.stamps[i - 1]!);
    expect(() => new ReplayFeed(path, { loop: true, keepTime: true })).toThrow(/loop cannot be combined/);
    expect(() => new ReplayFeed(path, { speed: 0 })).toThrow(/speed/);
  });

  test("a damaged row refuses the file at start naming file and line; strict off skips and counts it", async () => {
    const csv = join(dir, "broken.csv");
    writeFileSync(csv, `${CSV_HEADER}\n`);
    for (let i = 0; i < 100; i++) appendFileSync(csv, `${1000 + i},AAPL,bid,${100 + i / 100},100\n`);
    appendFileSync(csv, "1100,AAPL,bid,oops,100\n");
    expect(() => new ReplayFeed(csv, { speed: "max" })).toThrow(`${csv}:102: a number field is empty or not a number`);
    const feed = new ReplayFeed(csv, { speed: "max", maxBatchTicks: 10, strict: false });
    const sink = new StampSink();
    await feed.start(sink, identity(feed));
    await feed.ended;
    expect(feed.error).toBeNull();
    expect(sink.stamps.length).toBe(100);
    expect(feed.skipped).toBe(1);
    expect(feed.firstSkip?.message).toBe(`${csv}:102: a number field is empty or not a number`);
  });

  test("a row damaged after the start check ends the replay with the error recorded; earlier ticks were delivered", async () => {
    const csv = join(dir, "grows.csv");
    writeFileSync(csv, `${CSV_HEADER}\n`);
    for (let i = 0; i < 100; i++) appendFileSync(csv, `${1000 + i},AAPL,bid,${100 + i / 100},100\n`);
    const feed = new ReplayFeed(csv, { speed: "max", maxBatchTicks: 10 });
    appendFileSync(csv, "1100,AAPL,bid,oops,100\n");
    const sink = new StampSink();
    await feed.start(sink, identity(feed));
    await feed.ended;
    expect(feed.live).toBe(false);
    expect(feed.error?.message).toBe(`${csv}:102: a number field is empty or not a number`);
    expect(sink.stamps.length).toBe(100);
  });
});

describe("record → replay", () => {
  const fields: (keyof Quote)[] = ["bid", "bidSize", "ask", "askSize", "last", "lastSize", "volume", "vwap", "open", "high", "low",
    "prevClose", "volatility", "exchangeTs", "flags"];
  const snapshot = (e: Engine) => e.instruments.map((i) => { const q = e.quote(i.index); return fields.map((f) => q[f]); });

  for (const ext of ["altk", "csv"]) {
    test(`a recorded synthetic run (${ext}) replayed with kept times gives the same final quotes`, async () => {
      const file = join(dir, `run.${ext}`);
      const live = new SyntheticFeed({ seed: 77, tickRatePerS: 50_000, badTickRate: 0.01, record: file });
      const a = await engineFor(live);
      await live.start(a.engine, a.indexOf);
      await waitFor(() => live.stats.ticks >= 10_000, 5000, "10k ticks");
      await live.stop();
      const replay = new ReplayFeed(file, { speed: "max", keepTime: true });
      expect(replay.instruments()).toEqual(live.instruments());
      const b = await engineFor(replay);
      await replay.start(b.engine, b.indexOf);
      await replay.ended;
      expect(replay.error).toBeNull();
      expect(replay.stats.ticks).toBe(live.stats.ticks);
      expect(b.engine.counters().rejectedByReason).toEqual(a.engine.counters().rejectedByReason);
      expect(snapshot(b.engine)).toEqual(snapshot(a.engine));
    });
  }
});
