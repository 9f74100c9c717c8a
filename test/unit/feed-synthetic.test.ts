// The synthetic market (pure, virtual time) and the synthetic feed (real time).

import { describe, expect, test } from "bun:test";
import { parseOptionSymbol } from "../../src/domain/instrument.ts";
import { fromUnits, toUnits } from "../../src/domain/price.ts";
import { REJECT_REASON_NAMES, TickKind as K } from "../../src/domain/tick.ts";
import { nowMs } from "../../src/domain/time.ts";
import { Engine } from "../../src/engine/engine.ts";
import type { TickSink } from "../../src/feed/feed.ts";
import {
  BAD_TICK_KINDS, BAD_TICK_REASONS, DEFAULT_SYMBOLS, fridayExpiries, strikeStep, SyntheticMarket, type SyntheticMarketOptions,
} from "../../src/feed/market.ts";
import { SyntheticFeed } from "../../src/feed/synthetic.ts";
import { CountingSink, engineFor, waitFor } from "./feed.contract.ts";

const T0 = Date.UTC(2026, 10, 16, 15, 0, 0); // Monday 16 November 2026, 10:00 New York

/** Captures ticks in columns; rows are the market's instrument numbers. */
class Capture implements TickSink {
  readonly ticks: { i: number; kind: number; price: number; size: number; ts: number }[] = [];
  write(i: number, kind: number, price: number, size: number, ts: number): void {
    this.ticks.push({ i, kind, price, size, ts });
  }
  flush(): number {
    return 0;
  }
}

function marketWithNumbers(opts: SyntheticMarketOptions) {
  const market = new SyntheticMarket({ startMs: T0, ...opts });
  const specs = market.instruments();
  const numberOf = new Map(specs.map((s, i) => [s.symbol, i]));
  return { market, specs, indexOf: (s: string) => numberOf.get(s) };
}

/** Runs `calls` generate() calls of `perCall` ticks, `stepMs` apart, into a capture. */
function run(opts: SyntheticMarketOptions, calls: number, perCall: number, stepMs: number) {
  const m = marketWithNumbers(opts);
  const sink = new Capture();
  for (let c = 1; c <= calls; c++) m.market.generate(perCall, T0 + c * stepMs, sink, m.indexOf);
  return { ...m, sink };
}

async function engineRun(opts: SyntheticMarketOptions, calls: number, perCall: number, stepMs: number) {
  const market = new SyntheticMarket({ startMs: T0, ...opts });
  const engine = await Engine.create();
  for (const s of market.instruments()) engine.addInstrument(s);
  const indexOf = (s: string) => engine.instrument(s)?.index;
  for (let c = 1; c <= calls; c++) {
    market.generate(perCall, T0 + c * stepMs, engine, indexOf);
    engine.flush(T0 + c * stepMs);
  }
  return { market, engine };
}

describe("SyntheticMarket instruments", () => {
  test("defaults: the ALL-USE names and ETFs, two weekly Friday expiries, 11 strikes, calls and puts", () => {
    const market = new SyntheticMarket({ startMs: T0 });
    const specs = market.instruments();
    expect(DEFAULT_SYMBOLS).toEqual(expect.arrayContaining(["TSLA", "NVDA", "AAPL", "AMZN", "MSFT", "SPY", "QQQ"]));
    expect(specs.slice(0, DEFAULT_SYMBOLS.length).map((s) => s.symbol)).toEqual([...DEFAULT_SYMBOLS]);
    expect(market.optionCount).toBe(DEFAULT_SYMBOLS.length * 2 * 11 * 2);
    expect(new Set(specs.map((s) => s.symbol)).size).toBe(specs.length);
    const expiries = fridayExpiries(T0, 2);
    expect(expiries.map((e) => e.expiry)).toEqual(["20261120", "20261127"]);
    // 16:00 New York in November is 21:00 UTC.
    expect(expiries[0]!.expiryMs).toBe(Date.UTC(2026, 10, 20, 21));
    for (const s of specs.filter((x) => x.kind === "option")) {
      expect(parseOptionSymbol(s.symbol)).toEqual({ underlying: s.underlying!, expiry: s.expiry!, right: s.right!, strike: s.strike! });
      expect(s.multiplier).toBe(100);
      const spot = market.underlyingMid(s.underlying!);
      expect(Math.abs(s.strike! - spot)).toBeLessThanOrEqual(5.5 * strikeStep(spot));
    }
    expect(strikeStep(12)).toBe(0.5);
    expect(strikeStep(185)).toBe(2.5);
    expect(strikeStep(420)).toBe(5);
  });

  test("in summer, expiries are at 20:00 UTC, and a Friday before the close lists that day", () => {
    expect(fridayExpiries(Date.UTC(2026, 6, 3, 14), 1)).toEqual([{ expiry: "20260703", expiryMs: Date.UTC(2026, 6, 3, 20) }]);
    expect(fridayExpiries(Date.UTC(2026, 6, 3, 20), 1)[0]!.expiry).toBe("20260710");
  });

  test("unknown symbols get a seeded profile; overrides replace price and vol; bad options are refused", () => {
    const a = new SyntheticMarket({ startMs: T0, seed: 5, symbols: ["ZZZ", "AAPL"], optionExpiries: 0, profiles: { AAPL: { price: 300 } } });
    const b = new SyntheticMarket({ startMs: T0, seed: 5, symbols: ["ZZZ"], optionExpiries: 0 });
    const c = new SyntheticMarket({ startMs: T0, seed: 6, symbols: ["ZZZ"], optionExpiries: 0 });
    expect(a.underlyingMid("ZZZ")).toBe(b.underlyingMid("ZZZ"));
    expect(a.volOf("ZZZ")).toBe(b.volOf("ZZZ"));
    expect(a.underlyingMid("ZZZ")).not.toBe(c.underlyingMid("ZZZ"));
    expect(a.underlyingMid("AAPL")).toBe(300);
    expect(a.volOf("AAPL")).toBe(0.25);
    expect(a.optionCount).toBe(0);
    expect(() => new SyntheticMarket({ symbols: ["A", "A"] })).toThrow(/duplicates/);
    expect(() => new SyntheticMarket({ symbols: ["aapl"] })).toThrow(/plain ticker/);
    expect(() => new SyntheticMarket({ badTickRate: 0.9 })).toThrow(/badTickRate/);
    expect(() => new SyntheticMarket({ profiles: { TSLA: { vol: -1 } } })).toThrow(/volatility of TSLA/);
  });
});

describe("SyntheticMarket ticks", () => {
  test("the same seed gives the same stream, a different seed a different one", () => {
    const key = (r: ReturnType<typeof run>) => r.sink.ticks.map((t) => `${t.i}|${t.kind}|${t.price}|${t.size}|${t.ts}`).join("\n");
    const a = run({ seed: 9, badTickRate: 0.01 }, 200, 100, 7);
    const b = run({ seed: 9, badTickRate: 0.01 }, 200, 100, 7);
    const c = run({ seed: 10, badTickRate: 0.01 }, 200, 100, 7);
    expect(a.sink.ticks.length).toBe(20_000);
    expect(key(a)).toBe(key(b));
    expect(key(a)).not.toBe(key(c));
  });

  test("refuses a clock that goes backwards and an undefined instrument", () => {
    const { market, indexOf } = marketWithNumbers({});
    market.generate(1, T0 + 10, new Capture(), indexOf);
    expect(() => market.generate(1, T0 + 5, new Capture(), indexOf)).toThrow(/not earlier/);
    expect(() => market.generate(1, T0 + 20, new Capture(), () => undefined)).toThrow(/not defined/);
  });

  test("valid ticks: on the 0.01 grid, never crossing the displayed quote, trades inside the touch, sizes in lots", () => {
    const { specs, sink } = run({ seed: 2, badTickRate: 0 }, 2000, 100, 5);
    const bid = new Float64Array(specs.length), ask = new Float64Array(specs.length);
    const seen = new Set<number>();
    for (const t of sink.ticks) {
      const isOption = specs[t.i]!.kind === "option";
      const usesPrice = t.kind !== K.BidSize && t.kind !== K.AskSize;
      if (usesPrice) {
        expect(t.price).toBeGreaterThan(0);
        expect(toUnits(t.price) % toUnits(0.01)).toBe(0);
        expect(fromUnits(toUnits(t.price))).toBe(t.price);
      }
      if (t.kind === K.Bid) bid[t.i] = t.price;
      if (t.kind === K.Ask) ask[t.i] = t.price;
      if (bid[t.i]! > 0 && ask[t.i]! > 0) expect(bid[t.i]!).toBeLessThan(ask[t.i]!);
      if (t.kind === K.Trade) {
        expect(t.price).toBeGreaterThanOrEqual(bid[t.i]!);
        expect(t.price).toBeLessThanOrEqual(ask[t.i]!);
      }
      if (t.kind !== K.Close) {
        if (isOption) expect(Number.isInteger(t.size) && t.size >= 1 && t.size <= 50).toBe(true);
        else expect(t.size % 100 === 0 && t.size >= 100).toBe(true);
      }
      seen.add(t.kind);
    }
    expect([...seen].sort()).toEqual([K.Bid, K.Ask, K.Trade, K.BidSize, K.AskSize, K.Close].sort());
    const trades = sink.ticks.filter((t) => t.kind === K.Trade).length / sink.ticks.length;
    expect(trades).toBeGreaterThan(0.05);
    expect(trades).toBeLessThan(0.15);
  });

  test("option quotes bracket the Black-Scholes value of the current underlying mid", () => {
    const { market, specs, indexOf } = marketWithNumbers({ seed: 4, badTickRate: 0, optionShare: 0.9 });
    const sink = new Capture();
    let checked = 0;
    for (let c = 1; c <= 20_000; c++) {
      const ts = T0 + c * 3;
      market.generate(1, ts, sink, indexOf);
      const t = sink.ticks[sink.ticks.length - 1]!;
      const spec = specs[t.i]!;
      if (spec.kind !== "option" || (t.kind !== K.Bid && t.kind !== K.Ask)) continue;
      const value = market.theoreticalValue(spec.symbol, market.underlyingMid(spec.underlying!), ts);
      // bid = round(value - spread/2) ≤ value + half a tick, floored at one tick; the ask mirrors it.
      if (t.kind === K.Bid) expect(t.price).toBeLessThanOrEqual(Math.max(value + 0.005, 0.01) + 1e-9);
      else expect(t.price).toBeGreaterThanOrEqual(value - 0.005 - 1e-9);
      expect(Math.abs(t.price - value)).toBeLessThan(0.05 + value * 0.05);
      checked++;
    }
    expect(checked).toBeGreaterThan(10_000);
  });

  test("option values obey put-call parity, and quoted mids do within their spreads", async () => {
    const { market, engine } = await engineRun({ seed: 8, badTickRate: 0, symbols: ["TSLA", "AAPL"] }, 400, 500, 5);
    const ts = T0 + 400 * 5;
    const df = (expiry: string) => {
      const ex = fridayExpiries(T0, 2).find((e) => e.expiry === expiry)!;
      return Math.exp(-market.ratePerYear * ((ex.expiryMs - ts) / (365 * 86_400_000)));
    };
    let pairs = 0;
    for (const call of engine.instruments.filter((s) => s.right === "C")) {
      const put = engine.instrument(call.symbol.replace("-C-", "-P-"))!;
      const spot = market.underlyingMid(call.underlying!);
      const parity = spot - call.strike! * df(call.expiry!);
      const model = market.theoreticalValue(call.symbol, spot, ts) - market.theoreticalValue(put.symbol, spot, ts);
      expect(Math.abs(model - parity)).toBeLessThan(1e-9 * spot);
      const c = engine.quote(call.index), p = engine.quote(put.index), u = engine.quote(engine.instrument(call.underlying!)!.index);
      const mid = (q: typeof c) => (q.bid! + q.ask!) / 2;
      const slack = (c.ask! - c.bid! + p.ask! - p.bid! + u.ask! - u.bid!) / 2 + 0.02;
      expect(Math.abs(mid(c) - mid(p) - (mid(u) - call.strike! * df(call.expiry!)))).toBeLessThan(slack);
      pairs++;
    }
    expect(pairs).toBe(2 * 2 * 11);
  });

  test("every kind of bad tick appears and the engine rejects each with its reason, nothing else", async () => {
    const { market, engine } = await engineRun({ seed: 12, badTickRate: 0.03 }, 1000, 200, 10);
    const byKind = market.badTicksByKind();
    const expected: Record<string, number> = Object.fromEntries(REJECT_REASON_NAMES.slice(1).map((n) => [n, 0]));
    for (const k of BAD_TICK_KINDS) {
      expect(byKind[k]).toBeGreaterThan(20);
      expected[REJECT_REASON_NAMES[BAD_TICK_REASONS[k]]!]! += byKind[k];
    }
    const counters = engine.counters();
    expect(counters.rejectedByReason).toEqual(expected);
    expect(counters.rejected).toBe(market.badTicks);
    expect(counters.ticks).toBe(200_000);
    expect(market.badTicks / 200_000).toBeCloseTo(0.03, 2);
  });

  test("the engine's realised volatility recovers the configured volatility over an hour of trading time", async () => {
    const { market, engine } = await engineRun({ seed: 21, badTickRate: 0, optionExpiries: 0, symbols: ["TSLA", "AAPL", "SPY"] }, 36_000, 30, 100);
    for (const s of ["TSLA", "AAPL", "SPY"]) {
      const vol = engine.quote(engine.instrument(s)!.index).volatility!;
      expect(Math.abs(vol / market.volOf(s) - 1)).toBeLessThan(0.25);
    }
  });
});

describe("SyntheticFeed", () => {
  test("paces 2000 ticks/s by the wall clock within a tolerant band", async () => {
    const feed = new SyntheticFeed({ seed: 1, tickRatePerS: 2000 });
    const { engine, indexOf } = await engineFor(feed);
    const sink = new CountingSink(engine);
    const t0 = nowMs();
    await feed.start(sink, indexOf);
    await waitFor(() => feed.stats.ticks >= 600, 5000, "600 ticks");
    const elapsedMs = nowMs() - t0;
    await feed.stop();
    const ticks = feed.stats.ticks;
    // It can never run ahead of the clock; on a loaded machine it may lag, but not by much.
    expect(ticks).toBeLessThanOrEqual(Math.ceil((2000 * elapsedMs) / 1000) + 1);
    expect(elapsedMs).toBeGreaterThanOrEqual(290);
    expect(elapsedMs).toBeLessThan(1500);
    expect(engine.counters().ticks).toBe(ticks);
    expect(feed.shortfallTicks).toBe(0);
  });

  test("at 1 M ticks/s it writes batches no larger than maxBatchTicks and the engine rejects exactly its bad ticks", async () => {
    const feed = new SyntheticFeed({ seed: 1, tickRatePerS: 1_000_000, maxBatchTicks: 4096 });
    const { engine, indexOf } = await engineFor(feed);
    const sink = new CountingSink(engine);
    await feed.start(sink, indexOf);
    await waitFor(() => feed.stats.ticks >= 200_000, 10_000, "200k ticks");
    await feed.stop();
    expect(sink.maxBatch).toBeLessThanOrEqual(4096);
    expect(feed.stats.batches).toBe(sink.flushes);
    expect(engine.counters().rejected).toBe(feed.stats.badTicks);
  });

  test("refuses rates outside [1, 10 M] ticks/s", () => {
    expect(() => new SyntheticFeed({ tickRatePerS: 0 })).toThrow(/tickRatePerS/);
    expect(() => new SyntheticFeed({ tickRatePerS: 2e7 })).toThrow(/tickRatePerS/);
  });
});
