// The shared tick ring across threads: a Worker writes known ticks into the WASM engine's
// memory and the engine, on this thread, must ingest exactly those ticks with their values —
// no torn, stale or lost records — across many wrap-arounds of a small ring. DESIGN.md warns
// that Workers and WASM-written shared memory have had visibility bugs in Bun; this is the test.

import { afterEach, describe, expect, test } from "bun:test";
import { toUnits } from "../../src/domain/price.ts";
import { Engine } from "../../src/engine/engine.ts";
import { WRITER_STAT_COUNT, WriterStat } from "../../src/feed/ring-writer.ts";
import { waitFor } from "../helpers/wait.ts";
import { knownTick } from "./feed-ring-writer-ticks.ts";

const RING = 64;
const INSTRUMENTS = 8;
const FIXTURE = new URL("./feed-ring-writer-fixture.ts", import.meta.url).href;
const workers: Worker[] = [];
afterEach(() => {
  for (const w of workers.splice(0)) w.terminate();
});

async function ringEngine(): Promise<Engine> {
  const engine = await Engine.create({ maxInstruments: 16, ringCapacity: RING, prefault: false });
  for (let i = 0; i < INSTRUMENTS; i++) engine.addInstrument({ symbol: `S${i}`, kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" });
  return engine;
}

/** Starts the fixture writing `n` ticks; returns the shared stats and the worker's last message. */
function startWriter(engine: Engine, n: number, maxFullWaitMs = 10_000) {
  const stats = new Float64Array(new SharedArrayBuffer(WRITER_STAT_COUNT * 8));
  const reply: { type?: string; error?: string } = {};
  const worker = new Worker(FIXTURE);
  workers.push(worker);
  worker.onmessage = (e) => Object.assign(reply, e.data);
  worker.postMessage({ ring: engine.shareRing(), stats, n, instruments: INSTRUMENTS, maxFullWaitMs });
  return { stats, reply };
}

/** What the engine must hold after ingesting ticks 0..n-1. */
function expected(n: number) {
  const volume = new Array<number>(INSTRUMENTS).fill(0), turnover = new Array<number>(INSTRUMENTS).fill(0), last = new Array<number>(INSTRUMENTS).fill(0);
  const t = { index: 0, price: 0, size: 0 };
  for (let k = 0; k < n; k++) {
    knownTick(k, INSTRUMENTS, t);
    volume[t.index]! += t.size;
    turnover[t.index]! += toUnits(t.price) * t.size;
    last[t.index] = t.price;
  }
  return { volume, turnover, last };
}

function checkValues(engine: Engine, n: number): void {
  const c = engine.counters();
  expect(c.ticks).toBe(n);
  // A torn or stale record would show up as a reject (bad instrument, kind, price or size).
  expect(c.rejectedByReason).toEqual(Object.fromEntries(Object.keys(c.rejectedByReason).map((k) => [k, 0])));
  expect(c.accepted).toBe(n);
  const want = expected(n), L = engine.layout;
  for (let i = 0; i < INSTRUMENTS; i++) {
    expect(engine.field(i, L.Q_VOLUME)).toBe(want.volume[i]!);
    expect(engine.field(i, L.Q_TURNOVER)).toBe(want.turnover[i]!);
    expect(engine.quote(i).last).toBe(want.last[i]!);
  }
}

describe("shared tick ring: Worker writer, WASM engine reader", () => {
  test("ingests exactly the N known ticks with their values, across thousands of wrap-arounds, many times", async () => {
    for (let run = 0; run < 20; run++) {
      const engine = await ringEngine();
      const n = 40_000 + run * 7_919; // ends at a different ring offset each run
      const { stats, reply } = startWriter(engine, n);
      // Drain as the main thread does, yielding between passes so the worker's reply arrives.
      while (reply.type === undefined || engine.pending > 0) {
        engine.flush();
        await new Promise((r) => setImmediate(r));
      }
      expect(reply).toEqual({ type: "done" });
      expect(stats[WriterStat.Ticks]).toBe(n);
      checkValues(engine, n);
      // Every drain was at most one ring: the reader ran while the writer wrote.
      expect(engine.counters().batches).toBeGreaterThanOrEqual(n / RING);
    }
  });

  test("a full ring makes the writer wait: no record is overwritten or dropped", async () => {
    const engine = await ringEngine();
    const n = RING * 3 + 5;
    const { stats, reply } = startWriter(engine, n);
    // Nothing drains: the writer fills the ring exactly and blocks on the next tick.
    await waitFor(() => stats[WriterStat.FullWaits]! >= 1 && engine.pending === RING, 5000, "the writer to block on a full ring");
    expect(stats[WriterStat.Ticks]).toBe(RING);
    expect(reply.type).toBeUndefined();
    while (reply.type === undefined || engine.pending > 0) {
      engine.flush();
      await new Promise((r) => setImmediate(r));
    }
    expect(reply).toEqual({ type: "done" });
    checkValues(engine, n);
  });

  test("a reader that stops draining for maxFullWaitMs stops the writer with an error", async () => {
    const engine = await ringEngine();
    const { stats, reply } = startWriter(engine, RING + 1, 20);
    await waitFor(() => reply.type !== undefined, 5000, "the writer to give up");
    expect(reply.type).toBe("error");
    expect(reply.error).toContain("tick ring full");
    expect(stats[WriterStat.Ticks]).toBe(RING);
    engine.flush();
    checkValues(engine, RING);
  });

  test("once shared, the ring refuses writes on this thread and a second writer", async () => {
    const engine = await ringEngine();
    engine.write(0, 2, 100, 1, Date.now());
    engine.shareRing();
    // The tick written before sharing was ingested first.
    expect(engine.counters().ticks).toBe(1);
    expect(() => engine.write(0, 2, 100, 1, Date.now())).toThrow("another thread");
    expect(() => engine.shareRing()).toThrow("already");
  });
});
