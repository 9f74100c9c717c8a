// The Feed contract: what every feed (synthetic, replay, and later IBKR) must do, written once
// and run against each implementation by feed.contract.test.ts.

import { describe, expect, test } from "bun:test";
import { Engine } from "../../src/engine/engine.ts";
import type { Feed, InstrumentIndex, SharedRing, TickSink } from "../../src/feed/feed.ts";
import { SyntheticMarket } from "../../src/feed/market.ts";
import { createTickWriter } from "../../src/feed/tickfile.ts";

/** Waits until `cond()` holds, polling every few ms; fails after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * A sink that counts writes and flushes, checks them, and forwards to an engine. A feed running
 * in a worker takes the engine's shared ring instead (shareRing) and never calls write() here:
 * then the engine's counters and batches stand in for the writes.
 */
export class CountingSink implements TickSink {
  /** True once a feed took the engine's ring for a writer in another thread. */
  shared = false;
  writes = 0;
  flushes = 0;
  /** Writes seen after `closed` was set: must stay 0. */
  lateWrites = 0;
  closed = false;
  /** Largest number of writes between two flushes. */
  maxBatch = 0;
  private sinceFlush = 0;
  readonly rows = new Set<number>();

  constructor(private readonly engine: Engine) {}

  write(index: number, kind: number, price: number, size: number, tsMs: number): void {
    if (this.closed) this.lateWrites++;
    this.writes++;
    this.sinceFlush++;
    this.rows.add(index);
    this.engine.write(index, kind, price, size, tsMs);
  }

  shareRing(): SharedRing {
    this.shared = true;
    this.engine.onBatch((changed) => {
      if (this.closed) this.lateWrites++;
      for (const r of changed) this.rows.add(r);
    });
    return this.engine.shareRing();
  }

  /** Ticks the feed handed over: written here, or ingested from the shared ring. */
  get ticks(): number {
    return this.shared ? this.engine.counters().ticks : this.writes;
  }

  flush(nowMs?: number): number {
    this.flushes++;
    this.maxBatch = Math.max(this.maxBatch, this.sinceFlush);
    this.sinceFlush = 0;
    return this.engine.flush(nowMs);
  }
}

/** An engine with the feed's instruments defined, and the feed's lookup function. */
export async function engineFor(feed: Feed): Promise<{ engine: Engine; indexOf: InstrumentIndex }> {
  const specs = feed.instruments();
  const engine = await Engine.create({ maxInstruments: Math.max(16, specs.length) });
  for (const s of specs) engine.addInstrument(s);
  return { engine, indexOf: (symbol) => engine.instrument(symbol)?.index };
}

/** Runs the Feed contract against feeds built by `makeFeed` (one fresh feed per test). */
export function feedContract(name: string, makeFeed: () => Feed | Promise<Feed>): void {
  describe(`Feed contract: ${name}`, () => {
    test("lists a non-empty set of instruments with unique, well-formed symbols", async () => {
      const feed = await makeFeed();
      const specs = feed.instruments();
      expect(specs.length).toBeGreaterThan(0);
      expect(new Set(specs.map((s) => s.symbol)).size).toBe(specs.length);
      for (const s of specs) {
        expect(s.tickSize).toBeGreaterThan(0);
        expect(s.multiplier).toBeGreaterThan(0);
        expect(["stock", "option"]).toContain(s.kind);
      }
      expect(typeof feed.name).toBe("string");
      await feed.stop();
    });

    test("start → ticks reach the sink in flushed batches → stop → no more writes", async () => {
      const feed = await makeFeed();
      const { engine, indexOf } = await engineFor(feed);
      const sink = new CountingSink(engine);
      expect(feed.live).toBe(false);
      await feed.start(sink, indexOf);
      expect(feed.live).toBe(true);
      await waitFor(() => sink.flushes >= 3 && sink.ticks >= 50, 5000, "three flushed batches");
      await feed.stop();
      expect(feed.live).toBe(false);
      sink.closed = true;
      // A window in which a loop that ignored stop() would write again.
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 20));
      // A worker that kept writing would leave ticks in the shared ring.
      expect(engine.pending).toBe(0);
      engine.flush();
      expect(sink.lateWrites).toBe(0);
      expect(feed.stats.ticks).toBe(sink.ticks);
      expect(feed.stats.batches).toBe(sink.flushes);
      expect(feed.stats.badTicks).toBeGreaterThanOrEqual(0);
      expect(feed.stats.badTicks).toBeLessThanOrEqual(feed.stats.ticks);
      const c = engine.counters();
      expect(c.ticks).toBe(sink.ticks);
      expect(c.accepted).toBeGreaterThan(0);
      // Every row written is one of the feed's instruments.
      const rows = new Set(feed.instruments().map((s) => indexOf(s.symbol)));
      for (const r of sink.rows) expect(rows.has(r)).toBe(true);
    });

    test("refuses a second start and tolerates stop before start and a double stop", async () => {
      const feed = await makeFeed();
      await feed.stop();
      const feed2 = await makeFeed();
      const { engine, indexOf } = await engineFor(feed2);
      const sink = new CountingSink(engine);
      await feed2.start(sink, indexOf);
      await expect(feed2.start(sink, indexOf)).rejects.toThrow();
      await feed2.stop();
      await feed2.stop();
      expect(feed2.live).toBe(false);
    });
  });
}

/** Writes `batches` × `perBatch` synthetic ticks to a tick file, batches `spacingMs` apart in recorded time. */
export function writeSyntheticFile(path: string, opts: { seed?: number; batches: number; perBatch: number; spacingMs: number; startMs?: number; badTickRate?: number }): number {
  const startMs = opts.startMs ?? Date.UTC(2026, 10, 16, 15);
  const market = new SyntheticMarket({ seed: opts.seed ?? 1, startMs, symbols: ["TSLA", "AAPL", "SPY"], badTickRate: opts.badTickRate ?? 0.01 });
  const specs = market.instruments();
  const writer = createTickWriter(path, specs);
  const numberOf = new Map(specs.map((s, i) => [s.symbol, i]));
  const sink: TickSink = { write: (i, k, p, s, t) => writer.write(i, k, p, s, t), flush: () => 0 };
  for (let b = 0; b < opts.batches; b++) market.generate(opts.perBatch, startMs + b * opts.spacingMs, sink, (s) => numberOf.get(s));
  writer.close();
  return writer.records;
}
