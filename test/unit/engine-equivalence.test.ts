// The WASM core and the TypeScript reference must leave identical bytes behind for the same
// stream: 1.2 M generated ticks with every kind of bad tick, random batch sizes, stale sweeps
// and session resets in between.

import { expect, test } from "bun:test";
import { Engine } from "../../src/engine/engine.ts";
import { REJECT_REASON_NAMES, TickKind as K } from "../../src/domain/tick.ts";

const TICKS = 1_200_000;
const INSTRUMENTS = 48;

/** A small seeded PRNG (mulberry32), so the stream is the same on every run. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes one tick of the stream: mostly good quotes and trades, ~4% bad of every kind. */
function tickWriter(r: () => number) {
  const mids = Array.from({ length: INSTRUMENTS }, (_, i) => 20 + i * 7.3);
  const vols = new Array<number>(INSTRUMENTS).fill(0);
  return (e: Engine, t: number) => {
    const i = Math.floor(r() * INSTRUMENTS);
    mids[i] = Math.max(0.05, mids[i]! * (1 + (r() - 0.5) * 0.002));
    const mid = mids[i]!;
    const half = Math.max(0.005, mid * 0.0004 * (1 + r()));
    const size = Math.floor(r() * 10) * 100;
    const u = r();
    if (u < 0.96) {
      const k = Math.floor(r() * 9);
      const price = k === K.Bid || k === K.BidPrice ? mid - half : k === K.Ask || k === K.AskPrice ? mid + half
        : k === K.Trade ? mid + (r() - 0.5) * 2 * half : mid * 0.99;
      let sz = k === K.Trade ? 1 + Math.floor(r() * 500) : size;
      if (k === K.Volume) sz = vols[i] = vols[i]! + Math.floor(r() * 1000);
      e.write(i, k, price, sz, t);
      return;
    }
    const bad = Math.floor(r() * 17);
    const badTicks: [number, number, number, number, number][] = [
      [i, K.Bid, NaN, size, t], [i, K.Ask, mid, Infinity, t], [i, K.Bid, -1, size, t],
      [i, K.Ask, 1.7976931348623157e308, size, t], [i, K.Trade, 2147483647, 1, t], [i, K.Bid, 0, size, t],
      [i, K.Bid, -mid, size, t], [i, K.Bid, 0.001, size, t], [i, K.Ask, mid, -5, t], [i, K.Trade, mid, 0, t],
      [i, K.Bid, mid, size, t - 30_000], [i, K.Bid, mid, size, t + 30_000], [i, K.Ask, mid, size, t - 50],
      [i, K.Ask, mid - 3 * half, size, t], [i, K.Trade, mid * (r() < 0.5 ? 1.3 : 0.7), 1, t],
      [i, 9 + Math.floor(r() * 100), mid, size, t], [INSTRUMENTS + Math.floor(r() * 100), K.Bid, mid, size, t],
    ];
    const [ii, k, p, s, ts] = badTicks[bad]!;
    e.write(ii, k, p, s, ts);
  };
}

function regionBytes(e: Engine): Uint8Array {
  const L = e.layout;
  const end = L.ringOffset + L.ringCapacity * L.TICK_STRIDE_BYTES;
  return new Uint8Array(e.core.buffer, L.ctlOffset, end - L.ctlOffset);
}

test("WASM and TypeScript cores agree bit for bit on 1.2 M ticks including every bad-tick kind", async () => {
  const opts = { maxInstruments: 64, ringCapacity: 1024, barHistory: 16, staleAfterMs: 2000, volSampleMs: 200 };
  const engines = [await Engine.create({ ...opts, core: "wasm" }), await Engine.create({ ...opts, core: "ts" })];
  const lists: number[][][] = [[], []];
  engines.forEach((e, n) => {
    for (let i = 0; i < INSTRUMENTS; i++) {
      e.addInstrument({ symbol: `S${i}`, kind: i % 3 === 0 ? "option" : "stock", tickSize: i % 5 === 0 ? 0.05 : 0.01, multiplier: 1, currency: "USD" });
    }
    e.onBatch((changed) => lists[n]!.push(Array.from(changed)));
  });
  const writers = [tickWriter(rng(42)), tickWriter(rng(42))];
  const sizes = rng(7);
  let t = Date.UTC(2026, 10, 20, 14, 30);
  let written = 0;
  let batchNo = 0;
  while (written < TICKS) {
    const n = 1 + Math.floor(sizes() * 1024);
    const dt = sizes() * 40;
    for (let j = 0; j < n; j++) {
      t += dt / n;
      for (let k = 0; k < 2; k++) writers[k]!(engines[k]!, t);
    }
    written += n;
    batchNo++;
    for (const e of engines) e.flush(t + 1);
    if (batchNo % 97 === 0) for (const e of engines) e.sweepStale(t + 2500);
    if (batchNo % 401 === 0) for (const e of engines) e.resetSession(t + 2);
    expect(lists[0]!.at(-1)).toEqual(lists[1]!.at(-1));
    if (batchNo % 200 === 0) expect(Buffer.compare(regionBytes(engines[0]!), regionBytes(engines[1]!))).toBe(0);
  }
  expect(lists[0]!.length).toBe(lists[1]!.length);
  expect(Buffer.compare(regionBytes(engines[0]!), regionBytes(engines[1]!))).toBe(0);
  const c = engines[0]!.counters();
  expect(c.ticks).toBe(written);
  expect(c.accepted + c.rejected).toBe(written);
  for (const reason of REJECT_REASON_NAMES.slice(1)) expect(c.rejectedByReason[reason]).toBeGreaterThan(0);
  expect(engines[0]!.counters()).toEqual(engines[1]!.counters());
});
