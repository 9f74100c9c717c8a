// Behaviour of the quote engine, run against both cores (WASM and the TS reference).

import { describe, expect, test } from "bun:test";
import { Engine, CapacityError } from "../../src/engine/engine.ts";
import { QualityFlag as F, TickKind as K } from "../../src/domain/tick.ts";
import { TRADING_YEAR_MS } from "../../src/domain/time.ts";

const T0 = Date.UTC(2026, 10, 20, 15, 0, 0); // a Friday, 10:00 New York

async function engineWith(core: "wasm" | "ts", extra: Parameters<typeof Engine.create>[0] = {}) {
  const e = await Engine.create({ core, maxInstruments: 4, ringCapacity: 64, barHistory: 3, volSampleMs: 1000, ...extra });
  const a = e.addInstrument({ symbol: "AAPL", kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" });
  return { e, a: a.index };
}

/** Writes ticks as [kind, price, size, tsMs] and ingests them as one batch at `now`. */
function batch(e: Engine, idx: number, ticks: [number, number, number, number][], now = T0 + 1) {
  for (const [k, p, s, ts] of ticks) e.write(idx, k, p, s, ts);
  return e.flush(now);
}

for (const core of ["wasm", "ts"] as const) {
  describe(`engine (${core})`, () => {
    test("rounds prices to the nearest tick", async () => {
      const { e, a } = await engineWith(core);
      batch(e, a, [[K.Bid, 100.0049, 100, T0], [K.Ask, 100.0151, 100, T0]]);
      expect(e.quote(a).bid).toBe(100);
      expect(e.quote(a).ask).toBe(100.02);
    });

    test("counts every reject reason and leaves the quote untouched", async () => {
      const { e, a } = await engineWith(core);
      batch(e, a, [[K.Bid, 100, 100, T0], [K.Ask, 100.02, 100, T0], [K.Trade, 100.01, 10, T0], [K.Volume, 0, 500, T0]]);
      const before = e.quote(a);
      const ticks: [number, number, number, number][] = [
        [K.Bid, NaN, 100, T0], [K.Bid, 100, Infinity, T0], [K.Bid, -1, 100, T0],
        [K.Ask, 1.7976931348623157e308, 100, T0], [K.Trade, 2147483647, 1, T0], [K.Bid, 0, 100, T0],
        [K.Bid, -5, 100, T0], [K.Bid, 0.001, 100, T0], [K.Bid, 100, -3, T0], [K.Trade, 100.01, 0, T0],
        [K.Bid, 100, 100, T0 - 60_000], [K.Bid, 100, 100, T0 + 60_000], [K.Bid, 100, 100, T0 - 1],
        [K.Bid, 100.05, 100, T0], [K.Trade, 150, 1, T0], [K.Volume, 0, 400, T0], [K.Bid, 100, 100, NaN],
      ];
      batch(e, a, ticks, T0 + 5);
      e.write(a, 99, 100, 1, T0); // unknown kind
      e.write(3, K.Bid, 100, 1, T0); // row 3 never defined
      e.write(1000, K.Bid, 100, 1, T0); // beyond capacity
      e.flush(T0 + 5);
      const c = e.counters();
      expect(c.rejectedByReason).toEqual({
        unknown_instrument: 2, unknown_kind: 1, not_finite: 3, sentinel: 3, non_positive_price: 3, bad_size: 2,
        stale: 1, out_of_order: 1, future: 1, crossed: 1, jump: 1, volume_decrease: 1,
      });
      expect(c.rejected).toBe(20);
      expect(c.accepted).toBe(4);
      const after = e.quote(a);
      for (const k of ["bid", "ask", "last", "volume", "vwap", "bidSize", "askSize"] as const) expect(after[k]).toEqual(before[k]);
      expect(after.flags & (F.Crossed | F.JumpRejected)).toBe(F.Crossed | F.JumpRejected);
    });

    test("a crossed quote is flagged, the next good tick clears the flag, and locked books are marked", async () => {
      const { e, a } = await engineWith(core);
      batch(e, a, [[K.Bid, 100, 100, T0], [K.Ask, 100.02, 100, T0]]);
      batch(e, a, [[K.Ask, 99.9, 100, T0]]);
      expect(e.quote(a).flags & F.Crossed).toBe(F.Crossed);
      expect(e.quote(a).ask).toBe(100.02);
      batch(e, a, [[K.Ask, 100, 100, T0]]);
      expect(e.quote(a).flags & (F.Crossed | F.Locked)).toBe(F.Locked);
    });

    test("re-anchors after repeated jumps and clears the side that belonged to the old level", async () => {
      const { e, a } = await engineWith(core);
      batch(e, a, [[K.Bid, 100, 100, T0], [K.Ask, 100.02, 100, T0]]);
      for (let i = 0; i < 3; i++) batch(e, a, [[K.Bid, 130, 100, T0]]);
      expect(e.quote(a).bid).toBe(100);
      expect(e.counters().rejectedByReason.jump).toBe(3);
      batch(e, a, [[K.Bid, 130, 100, T0]]);
      const q = e.quote(a);
      expect(q.bid).toBe(130);
      expect(q.ask).toBeNull();
      expect(q.flags & (F.Reanchored | F.NoAsk)).toBe(F.Reanchored | F.NoAsk);
      batch(e, a, [[K.Ask, 130.02, 100, T0]]);
      expect(e.quote(a).flags & (F.Reanchored | F.NoAsk | F.JumpRejected)).toBe(0);
    });

    test("trades update last, volume, VWAP, session high/low and 1-minute bars", async () => {
      const { e, a } = await engineWith(core, { maxTickAgeMs: Infinity });
      const m = 60_000;
      batch(e, a, [[K.Trade, 100, 100, T0], [K.Trade, 101, 300, T0 + 10], [K.Trade, 99.5, 100, T0 + 20]], T0 + m * 10);
      let q = e.quote(a);
      expect(q.last).toBe(99.5);
      expect(q.volume).toBe(500);
      expect(q.vwap).toBe(100.5); // (100*100 + 101*300 + 99.5*100) / 500
      expect([q.open, q.high, q.low]).toEqual([100, 101, 99.5]);
      batch(e, a, [[K.Trade, 102, 50, T0 + m], [K.Trade, 103, 50, T0 + 2 * m + 5], [K.Trade, 104, 1, T0 + 3 * m], [K.Trade, 105, 1, T0 + 4 * m]], T0 + m * 10);
      const { closed, current } = e.bars(a);
      // barHistory is 3: the oldest of four closed bars has been overwritten.
      expect(closed.map((b) => b.start)).toEqual([T0 + m, T0 + 2 * m, T0 + 3 * m]);
      expect(closed[0]).toEqual({ start: T0 + m, open: 102, high: 102, low: 102, close: 102, volume: 50 });
      expect(current).toEqual({ start: T0 + 4 * m, open: 105, high: 105, low: 105, close: 105, volume: 1 });
      expect(e.bars(a, 1).closed.map((b) => b.start)).toEqual([T0 + 3 * m]);
      q = e.quote(a);
      expect(q.high).toBe(105);
    });

    test("VWAP is Σ price × size / Σ size over trades only, with cumulative-volume ticks mixed in", async () => {
      const { e, a } = await engineWith(core, { maxTickAgeMs: Infinity });
      // Volume ticks carry the exchange's cumulative day volume: they raise `volume` but are
      // not trades, so they must not enter the VWAP's denominator (or its numerator).
      batch(e, a, [[K.Trade, 100, 100, T0], [K.Volume, 0, 1000, T0 + 1]], T0 + 2);
      let q = e.quote(a);
      expect([q.volume, q.vwap]).toEqual([1000, 100]);
      batch(e, a, [[K.Trade, 102, 300, T0 + 3], [K.Volume, 0, 5000, T0 + 4], [K.Trade, 99, 100, T0 + 5]], T0 + 6);
      q = e.quote(a);
      expect(q.volume).toBe(5100);
      expect(q.vwap).toBe(101); // (100×100 + 102×300 + 99×100) / (100 + 300 + 100) = 50,500 / 500
    });

    test("EWMA volatility follows the documented time-weighted update", async () => {
      const { e, a } = await engineWith(core, { volTauMs: 10_000, volSampleMs: 1000 });
      batch(e, a, [[K.Bid, 100, 1, T0], [K.Ask, 100.02, 1, T0]]);
      batch(e, a, [[K.Ask, 100.52, 1, T0 + 500]], T0 + 501); // too soon after the last sample
      batch(e, a, [[K.Bid, 100.5, 1, T0 + 2000]], T0 + 2001);
      // mid 100.01 -> 100.51 over 2000 ms: r = 0.5/100.01, w = 2000/12000.
      const r = (10051000000 - 10001000000) / 10001000000;
      // One sample: the bias-corrected estimate is that sample's r²/Δt whatever its weight.
      const expected = (r * r) / 2000;
      expect(e.quote(a).volatility).toBeCloseTo(Math.sqrt(expected * TRADING_YEAR_MS), 12);
    });

    test("marks stale rows in a sweep and clears the flag on the next tick", async () => {
      const { e, a } = await engineWith(core, { staleAfterMs: 1000 });
      batch(e, a, [[K.Bid, 100, 1, T0], [K.Ask, 100.02, 1, T0]]);
      const seen: number[][] = [];
      e.onBatch((changed) => seen.push([...changed]));
      expect(e.sweepStale(T0 + 500)).toBe(0);
      expect(e.sweepStale(T0 + 1500)).toBe(1);
      expect(seen).toEqual([[a]]);
      expect(e.quote(a).flags & F.Stale).toBe(F.Stale);
      expect(e.sweepStale(T0 + 2000)).toBe(0); // already stale: no new change
      batch(e, a, [[K.Bid, 100.01, 1, T0 + 2000]], T0 + 2001);
      expect(e.quote(a).flags & F.Stale).toBe(0);
    });

    test("a row enters the change list once per batch and its seq rises by one per batch", async () => {
      const { e, a } = await engineWith(core);
      const b = e.addInstrument({ symbol: "MSFT", kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" }).index;
      const lists: number[][] = [];
      e.onBatch((changed) => lists.push([...changed]));
      e.write(a, K.Bid, 100, 1, T0);
      e.write(b, K.Bid, 400, 1, T0);
      e.write(a, K.Ask, 100.02, 1, T0);
      e.write(a, K.Trade, 100.01, 1, T0);
      e.flush(T0 + 1);
      batch(e, a, [[K.Bid, 100.01, 2, T0 + 1]], T0 + 2);
      expect(lists).toEqual([[a, b], [a]]);
      expect(e.quote(a).seq).toBe(2);
      expect(e.quote(b).seq).toBe(1);
      expect(e.quote(a).ingestTs).toBe(T0 + 2);
    });

    test("a full ring is ingested before it would overrun, and nothing is lost", async () => {
      const { e, a } = await engineWith(core);
      let batches = 0;
      e.onBatch(() => batches++);
      // The automatic flush stamps the batch with the real clock, so the ticks must be fresh.
      const ts = Date.now();
      for (let i = 0; i < 200; i++) e.write(a, K.Trade, 100, 1, ts);
      expect(batches).toBe(3); // 64-tick ring: flushed at 64, 128, 192
      e.flush(ts + 1);
      expect(e.quote(a).volume).toBe(200);
      expect(e.counters().ticks).toBe(200);
    });

    test("resetSession moves last to previous close and clears session statistics", async () => {
      const { e, a } = await engineWith(core);
      batch(e, a, [[K.Trade, 100, 10, T0], [K.Trade, 101, 10, T0]]);
      expect(e.resetSession(T0 + 2)).toBe(1);
      const q = e.quote(a);
      expect(q.prevClose).toBe(101);
      expect([q.open, q.high, q.low, q.volume, q.vwap]).toEqual([null, null, null, 0, null]);
    });

    test("capacities are enforced with clear errors", async () => {
      const { e } = await engineWith(core);
      for (const s of ["B", "C", "D"]) e.addInstrument({ symbol: s, kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" });
      expect(() => e.addInstrument({ symbol: "E", kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" })).toThrow(CapacityError);
      expect(() => e.addInstrument({ symbol: "B", kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" })).toThrow(/already defined/);
      await expect(Engine.create({ core, ringCapacity: 100 })).rejects.toThrow(/power of two/);
    });
  });
}
