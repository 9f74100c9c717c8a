// The IB feed against the TWS simulator over real sockets: the shared Feed contract, contract and
// chain resolution, tick mapping into the engine, IB's model greeks, the delayed-data fallback,
// the line limit, and resubscription after a reconnect and after 1101 (not after 1102).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Engine } from "../../src/engine/engine.ts";
import { QualityFlag, TickKind } from "../../src/domain/tick.ts";
import { IbFeed, type IbFeedOptions } from "../../src/feed/ib.ts";
import { IbSession } from "../../src/ib/session.ts";
import { createLogger } from "../../src/log.ts";
import { TwsSimulator } from "../../src/sim/tws/simulator.ts";
import { waitFor } from "../helpers/wait.ts";
import { feedContract } from "./feed.contract.ts";

const quiet = createLogger("error", "test", () => {});
let sim: TwsSimulator;
let nextClientId = 100;
beforeAll(async () => {
  sim = new TwsSimulator({ port: 0, symbols: ["AAPL", "TSLA", "SPY"], optionExpiries: 2, strikesPerSide: 3, tickRatePerS: 20_000, log: quiet });
  await sim.start();
});
afterAll(() => sim.stop());

/** A feed with its own session (a fresh client id) to the shared simulator. */
function ibFeed(extra: Partial<IbFeedOptions> = {}): IbFeed {
  const session = new IbSession({ host: "127.0.0.1", port: sim.port, clientId: nextClientId++, backoff: { initialMs: 20, maxMs: 200 }, log: quiet });
  return new IbFeed({ session, ownsSession: true, symbols: ["AAPL"], optionExpiries: 1, strikesPerSide: 1, log: quiet, ...extra });
}

feedContract("ib (TWS simulator)", async () => {
  const feed = ibFeed();
  await feed.prepare();
  return feed;
});

/** A prepared feed started into a fresh engine. */
async function running(extra: Partial<IbFeedOptions> = {}) {
  const feed = ibFeed(extra);
  await feed.prepare();
  const specs = feed.instruments();
  const engine = await Engine.create({ maxInstruments: Math.max(16, specs.length), prefault: false });
  for (const s of specs) engine.addInstrument(s);
  await feed.start(engine, (s) => engine.instrument(s)?.index);
  return { feed, engine, specs };
}

describe("IB feed", () => {
  test("resolves stocks and a bounded option slice around the price, stocks first", async () => {
    const feed = ibFeed({ symbols: ["AAPL", "TSLA"], optionExpiries: 2, strikesPerSide: 1 });
    await feed.prepare();
    const specs = feed.instruments();
    expect(specs.slice(0, 2).map((s) => s.symbol)).toEqual(["AAPL", "TSLA"]);
    const options = specs.filter((s) => s.kind === "option");
    // 2 underlyings × 2 expiries × 3 strikes × 2 rights.
    expect(options).toHaveLength(24);
    for (const o of options) {
      expect(o.multiplier).toBe(100);
      expect(o.tickSize).toBe(0.01);
      // Centred on the price: the middle strike is the one nearest the underlying's model mid.
      const strikes = [...new Set(options.filter((x) => x.underlying === o.underlying).map((x) => x.strike!))].sort((a, b) => a - b);
      const mid = sim.universe.market.underlyingMid(o.underlying!);
      expect(Math.abs(strikes[1]! - mid)).toBeLessThanOrEqual(Math.abs(strikes[0]! - mid));
      expect(Math.abs(strikes[1]! - mid)).toBeLessThanOrEqual(Math.abs(strikes[2]! - mid));
    }
    await feed.stop();
  });

  test("too many instruments for the account's lines is a clear error before any subscription", async () => {
    const feed = ibFeed({ symbols: ["AAPL", "TSLA", "SPY"], optionExpiries: 2, strikesPerSide: 3, maxLines: 50 });
    const err = await feed.prepare().then(() => null, (e: Error) => e);
    expect(err?.message).toContain("87 stocks and options need 87 market data lines but maxLines is 50");
    await feed.stop();
  });

  test("an unknown symbol fails prepare with IB's answer", async () => {
    const feed = ibFeed({ symbols: ["AAPL", "NOPE"] });
    const err = await feed.prepare().then(() => null, (e: Error) => e);
    expect(err?.message).toContain("IB knows no USD stock NOPE (200)");
    await feed.stop();
  });

  test("IB ticks become engine quotes: bid/ask with sizes, trades, volume, close; IB's model greeks are kept", async () => {
    const { feed, engine, specs } = await running();
    const aapl = engine.instrument("AAPL")!.index;
    const option = specs.find((s) => s.kind === "option")!.symbol;
    await waitFor(() => {
      const q = engine.quote(aapl);
      return q.bid !== null && q.ask !== null && q.bidSize > 0 && q.askSize > 0 && q.last !== null && q.prevClose !== null && q.volume > 0;
    }, 10_000, "a full AAPL quote");
    // Each model tick names the option's engine row to the listeners (the chain streams mark it changed).
    const told = new Set<number>();
    const detach = feed.onModelGreeks((row) => told.add(row));
    await waitFor(() => feed.modelGreeks(option) !== undefined, 10_000, "model greeks");
    await waitFor(() => told.has(engine.instrument(option)!.index), 10_000, "the option's model tick told to the listener");
    detach();
    const g = feed.modelGreeks(option)!;
    expect(g.iv).toBeCloseTo(sim.universe.market.volOf(option), 9);
    expect(g.gamma).toBeGreaterThan(0);
    expect(g.undPrice).toBeGreaterThan(0);
    const c = engine.counters();
    expect(c.accepted).toBeGreaterThan(0);
    // The simulator's market is clean by default: every tick the feed wrote was valid.
    expect(c.rejected).toBe(0);
    expect(engine.quote(aapl).flags & QualityFlag.Delayed).toBe(0);
    expect(feed.stats.unpairedLastSizes).toBe(0);
    await feed.stop();
  });

  test("each IB tick maps to the right engine field, exactly (injected ticks on a muted instrument)", async () => {
    const { feed, engine } = await running({ optionExpiries: 0 });
    const n = sim.universe.contracts.find((c) => c.ourSymbol === "AAPL")!.number;
    const row = engine.instrument("AAPL")!.index;
    await waitFor(() => engine.quote(row).bid !== null && engine.quote(row).ask !== null, 10_000, "a two-sided AAPL quote");
    sim.marketData.mute(n);
    try {
      const q0 = engine.quote(row);
      const mid = Math.round(((q0.bid! + q0.ask!) / 2) * 100) / 100;
      const now = Date.now();
      sim.marketData.inject(n, TickKind.Bid, mid - 0.02, 700, now);
      sim.marketData.inject(n, TickKind.Ask, mid + 0.02, 300, now);
      sim.marketData.inject(n, TickKind.Trade, mid, 200, now);
      sim.marketData.inject(n, TickKind.Close, mid - 1, 0, now);
      await waitFor(() => engine.quote(row).prevClose === Math.round((mid - 1) * 100) / 100, 5000, "the injected close");
      const q = engine.quote(row);
      expect({ bid: q.bid, bidSize: q.bidSize, ask: q.ask, askSize: q.askSize, last: q.last, lastSize: q.lastSize }).toEqual({
        bid: Math.round((mid - 0.02) * 100) / 100, bidSize: 700, ask: Math.round((mid + 0.02) * 100) / 100, askSize: 300, last: mid, lastSize: 200,
      });
      // Volume is IB's cumulative volume (tick 8), which the simulator keeps as the sum of its trades.
      expect(q.volume).toBeGreaterThanOrEqual(200);
    } finally {
      sim.marketData.mute(n, false);
      await feed.stop();
    }
  });

  test("354 (no live permission) falls back to delayed data and flags the rows Delayed", async () => {
    sim.setNotSubscribed("TSLA");
    try {
      const { feed, engine } = await running({ symbols: ["AAPL", "TSLA"], optionExpiries: 0 });
      const tsla = engine.instrument("TSLA")!.index, aapl = engine.instrument("AAPL")!.index;
      await waitFor(() => engine.quote(tsla).bid !== null && engine.quote(aapl).bid !== null, 10_000, "quotes on both");
      expect(engine.quote(tsla).flags & QualityFlag.Delayed).toBe(QualityFlag.Delayed);
      expect(engine.quote(aapl).flags & QualityFlag.Delayed).toBe(0);
      expect(feed.delayed).toBe(true);
      expect(feed.stats.delayedFallbacks).toBe(1);
      await feed.stop();
    } finally {
      sim.setNotSubscribed("TSLA", false);
    }
  });

  test("after a dropped socket, and after 1101, every instrument is subscribed again; 1102 keeps them", async () => {
    const { feed, engine, specs } = await running();
    const aapl = engine.instrument("AAPL")!.index;
    const subscribed = () => sim.marketData.subscriptionCount;
    await waitFor(() => subscribed() === specs.length, 10_000, "all subscribed");
    sim.dropConnections();
    await waitFor(() => feed.stats.resubscriptions === 1 && subscribed() === specs.length, 10_000, "resubscribed after reconnect");
    const seq = engine.quote(aapl).seq;
    await waitFor(() => engine.quote(aapl).seq > seq + 5, 10_000, "quotes again after reconnect");
    sim.loseConnectivity();
    sim.restoreConnectivity(false); // 1101: TWS forgot every subscription
    expect(subscribed()).toBe(0);
    await waitFor(() => feed.stats.resubscriptions === 2 && subscribed() === specs.length, 10_000, "resubscribed after 1101");
    sim.loseConnectivity();
    sim.restoreConnectivity(true); // 1102: kept
    const seq2 = engine.quote(aapl).seq;
    await waitFor(() => engine.quote(aapl).seq > seq2 + 5, 10_000, "quotes after 1102");
    expect(feed.stats.resubscriptions).toBe(2);
    await feed.stop();
    // The simulator forgets a closed client's subscriptions.
    await waitFor(() => subscribed() === 0, 5000, "no subscriptions left at the simulator");
  });
});
