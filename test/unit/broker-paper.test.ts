// The paper broker: the shared Broker contract, then the fill model in detail against a real
// WASM engine whose quotes each test sets exactly.

import { beforeEach, describe, expect, test } from "bun:test";
import type { BrokerEvent, BrokerFill, BrokerOrder } from "../../src/broker/broker.ts";
import { IBKR_PRO_FIXED, orderCommissionMicros } from "../../src/broker/commission.ts";
import { PaperBroker, type PaperOptions } from "../../src/broker/paper.ts";
import { QualityFlag, TickKind } from "../../src/domain/tick.ts";
import { toUnits } from "../../src/domain/price.ts";
import { brokerContract } from "./broker.contract.ts";
import { TestMarket, OPTIONS } from "../helpers/market.ts";
import { setQuote, setTrade } from "../helpers/quotes.ts";

brokerContract("paper", async () => {
  const market = await TestMarket.create();
  const broker = new PaperBroker(market.engine);
  return {
    broker, stock: "AAPL", option: OPTIONS[0],
    instrument: (s) => market.engine.instrument(s)!,
    quote: async (s, b, bs, a, as) => setQuote(market.engine, s, b, bs, a, as),
    trade: async (s, p, n) => setTrade(market.engine, s, p, n),
    close: () => broker.close(),
  };
});

describe("paper fill model", () => {
  let market: TestMarket;
  let events: BrokerEvent[];
  let n = 0;
  const T0 = Date.now();
  let now = T0;
  const make = (o: Partial<PaperOptions> = {}) => {
    const b = new PaperBroker(market.engine, { clock: () => now, ...o });
    b.onEvent((e) => events.push(e));
    return b;
  };
  const order = (o: Partial<BrokerOrder> = {}): BrokerOrder => ({
    orderId: `p${n++}`, account: "A", instrument: market.engine.instrument("AAPL")!, side: "buy", type: "market", tif: "DAY", qty: 100, ...o,
  });
  const fills = (id?: string): BrokerFill[] => events.flatMap((e) => (e.kind === "fill" && (id === undefined || e.fill.orderId === id) ? [e.fill] : []));
  const quote = (bid: number, bs: number, ask: number, as: number, symbol = "AAPL") => setQuote(market.engine, symbol, bid, bs, ask, as, ++now);
  const trade = (price: number, size: number, symbol = "AAPL") => setTrade(market.engine, symbol, price, size, ++now);

  beforeEach(async () => {
    market = await TestMarket.create();
    events = [];
    now = T0;
    quote(100, 300, 100.02, 200);
  });

  test("a market buy takes the displayed ask, then one tick worse per further lot", () => {
    const b = make();
    const o = order({ qty: 450 });
    b.submit(o);
    expect(fills(o.orderId).map((f) => [f.priceUnits, f.qty])).toEqual([
      [toUnits(100.02), 200], [toUnits(100.03), 100], [toUnits(100.04), 100], [toUnits(100.05), 50],
    ]);
    expect(events.at(-1)).toMatchObject({ kind: "fill" });
  });

  test("with marketRemainder work, the rest waits for the next quote's displayed size", () => {
    const b = make({ marketRemainder: "work" });
    const o = order({ qty: 450 });
    b.submit(o);
    expect(fills(o.orderId).map((f) => f.qty)).toEqual([200]);
    quote(100, 300, 100.03, 100);
    expect(fills(o.orderId).map((f) => [f.priceUnits, f.qty])).toEqual([[toUnits(100.02), 200], [toUnits(100.03), 100]]);
    quote(100, 300, 100.01, 500);
    expect(fills(o.orderId).reduce((s, f) => s + f.qty, 0)).toBe(450);
  });

  test("displayed size is used once per quote state, across orders", () => {
    const b = make({ marketRemainder: "work" });
    const first = order({ qty: 150 }), second = order({ qty: 150 });
    b.submit(first);
    b.submit(second);
    expect(fills(first.orderId).map((f) => f.qty)).toEqual([150]);
    expect(fills(second.orderId).map((f) => f.qty)).toEqual([50]);
  });

  test("no fill without a fresh, clean quote", () => {
    const b = make({ maxQuoteAgeMs: 1000 });
    now += 5000;
    const o = order({ tif: "IOC" });
    b.submit(o);
    expect(fills(o.orderId)).toEqual([]);
    expect(events.at(-1)).toMatchObject({ kind: "canceled", reason: "IOC: no fresh quote" });
    quote(100, 300, 100.02, 200);
    market.engine.setHostFlag(market.row("AAPL"), QualityFlag.Delayed, true);
    const d = order({ tif: "DAY" });
    b.submit(d);
    expect(fills(d.orderId)).toEqual([]);
    market.engine.setHostFlag(market.row("AAPL"), QualityFlag.Delayed, false);
    quote(100, 300, 100.02, 200);
    expect(fills(d.orderId).length).toBeGreaterThan(0);
  });

  test("a resting limit at the bid fills only when trades go through it (queue: through)", () => {
    const b = make();
    const o = order({ type: "limit", limitPriceUnits: toUnits(100), qty: 300 });
    b.submit(o);
    trade(100, 500);
    expect(fills(o.orderId)).toEqual([]);
    trade(99.99, 120);
    expect(fills(o.orderId).map((f) => [f.priceUnits, f.qty])).toEqual([[toUnits(100), 120]]);
  });

  test("queue: touch fills on trades at the limit, up to the traded volume, earliest order first", () => {
    const b = make({ queue: "touch" });
    const early = order({ type: "limit", limitPriceUnits: toUnits(100), qty: 100 });
    const late = order({ type: "limit", limitPriceUnits: toUnits(100), qty: 100 });
    b.submit(early);
    b.submit(late);
    trade(100, 150);
    expect(fills(early.orderId).map((f) => f.qty)).toEqual([100]);
    expect(fills(late.orderId).map((f) => f.qty)).toEqual([50]);
  });

  test("touchFillProbability draws from the seed: the same seed gives the same fills", async () => {
    const run = async (seed: number) => {
      market = await TestMarket.create();
      events = [];
      now = T0;
      quote(100, 300, 100.02, 200);
      const b = make({ queue: "touch", touchFillProbability: 0.5, seed });
      for (let i = 0; i < 20; i++) b.submit(order({ orderId: `s${i}`, type: "limit", limitPriceUnits: toUnits(100), qty: 10 }));
      for (let i = 0; i < 20; i++) trade(100, 10);
      return fills().map((f) => f.fillId).join(",");
    };
    const a = await run(7), again = await run(7), other = await run(8);
    expect(a).toBe(again);
    expect(a).not.toBe(other);
  });

  test("a sell stop-limit triggers on the last trade, then rests as a limit", () => {
    const b = make();
    const o = order({ side: "sell", type: "stop_limit", stopPriceUnits: toUnits(99.5), limitPriceUnits: toUnits(99.4), qty: 100 });
    b.submit(o);
    expect(events.map((e) => e.kind)).toEqual(["accepted"]);
    quote(99.3, 300, 99.35, 300);
    expect(events.map((e) => e.kind)).toEqual(["accepted"]);
    trade(99.35, 100);
    expect(events.map((e) => e.kind)).toEqual(["accepted", "triggered"]);
    quote(99.45, 300, 99.5, 300);
    expect(fills(o.orderId).map((f) => [f.priceUnits, f.qty])).toEqual([[toUnits(99.45), 100]]);
  });

  test("stopTrigger touch triggers on the opposite touch without a trade", () => {
    const b = make({ stopTrigger: "touch" });
    const o = order({ type: "stop", stopPriceUnits: toUnits(100.5), qty: 10 });
    b.submit(o);
    quote(100.49, 300, 100.5, 300);
    expect(fills(o.orderId).map((f) => f.priceUnits)).toEqual([toUnits(100.5)]);
  });

  test("FOK fills everything within the limit or nothing", () => {
    const b = make();
    const ok = order({ type: "limit", tif: "FOK", limitPriceUnits: toUnits(100.03), qty: 300 });
    b.submit(ok);
    expect(fills(ok.orderId).reduce((s, f) => s + f.qty, 0)).toBe(300);
    quote(100, 300, 100.02, 200);
    const no = order({ type: "limit", tif: "FOK", limitPriceUnits: toUnits(100.03), qty: 301 });
    b.submit(no);
    expect(fills(no.orderId)).toEqual([]);
    expect(events.at(-1)).toMatchObject({ kind: "canceled", orderId: no.orderId });
  });

  test("IOC fills what it can and cancels the rest", () => {
    const b = make({ marketRemainder: "work" });
    const o = order({ tif: "IOC", qty: 500 });
    b.submit(o);
    expect(fills(o.orderId).map((f) => f.qty)).toEqual([200]);
    expect(events.at(-1)).toMatchObject({ kind: "canceled", reason: "IOC: remainder canceled" });
  });

  test("commissions follow IBKR Pro fixed, per order: minimum once, sum over fills equals one fill", () => {
    const b = make();
    const small = order({ qty: 10 });
    b.submit(small);
    expect(fills(small.orderId)[0]!.commissionMicros).toBe(1_000_000);
    quote(100, 300, 100.02, 200);
    const big = order({ qty: 450 });
    b.submit(big);
    const fs = fills(big.orderId);
    const value = fs.reduce((s, f) => s + (f.priceUnits / 100) * f.qty, 0);
    expect(fs.reduce((s, f) => s + f.commissionMicros, 0)).toBe(orderCommissionMicros(IBKR_PRO_FIXED, "stock", 450, value, 450 * 5_000));
    expect(fs.reduce((s, f) => s + f.commissionMicros, 0)).toBe(2_250_000);
    const opt = order({ instrument: market.engine.instrument(OPTIONS[0])!, qty: 3 });
    quote(5, 10, 5.1, 10, OPTIONS[0]);
    b.submit(opt);
    expect(fills(opt.orderId).reduce((s, f) => s + f.commissionMicros, 0)).toBe(1_950_000);
  });

  test("a tiny stock trade is capped at 1 % of its value", () => {
    expect(orderCommissionMicros(IBKR_PRO_FIXED, "stock", 1, 5_000_000, 5_000)).toBe(50_000);
  });

  test("restored orders work again without new events, keeping their filled quantity", async () => {
    const b = make();
    await b.restore([{ ...order({ orderId: "r1", type: "limit", limitPriceUnits: toUnits(99.9), qty: 100 }), filledQty: 40, triggered: false }]);
    expect(events).toEqual([]);
    expect((await b.openOrders())[0]).toMatchObject({ orderId: "r1", filledQty: 40 });
    quote(99.8, 300, 99.85, 300);
    expect(fills("r1").map((f) => [f.qty, f.fillId])).toEqual([[60, "r1-100"]]);
  });

  test("a restored order handed its fills is charged as if there had been no restart: 200 + 200 shares = $2.00", async () => {
    // IBKR Pro fixed: 400 × $0.005 = $2.00 for the order; its first 200 paid the $1.00 minimum.
    const b = make();
    const restored = { ...order({ orderId: "r2", type: "limit", limitPriceUnits: toUnits(100.02), qty: 400 }), filledQty: 200, triggered: false,
      fills: [{ qty: 200, priceUnits: toUnits(100.02), commissionMicros: 1_000_000 }] };
    await b.restore([restored]);
    expect((await b.openOrders())[0]).toMatchObject({ filledValueMicros: 20_004_000_000, commissionMicros: 1_000_000 });
    quote(100, 300, 100.02, 300);
    expect(fills("r2").map((f) => [f.qty, f.commissionMicros])).toEqual([[200, 1_000_000]]);
  });

  test("option commissions follow the premium bands, per order: 5 contracts at $0.03 cost $1.25, in one fill or two", () => {
    const b = make();
    quote(0.02, 2, 0.03, 2, OPTIONS[0]);
    const o = order({ instrument: market.engine.instrument(OPTIONS[0])!, qty: 5, type: "limit", limitPriceUnits: toUnits(0.03) });
    b.submit(o);
    quote(0.02, 5, 0.03, 5, OPTIONS[0]);
    // 2 contracts: $0.50 raw, $1.00 minimum; then 3 more: the order's 5 × $0.25 = $1.25, so $0.25.
    expect(fills(o.orderId).map((f) => [f.qty, f.commissionMicros])).toEqual([[2, 1_000_000], [3, 250_000]]);
  });

  test("a sale pays the SEC fee and FINRA TAF on top: 100 shares sold at $100 cost $1.00 + $0.28 + $0.02", () => {
    const b = make();
    const o = order({ side: "sell", qty: 100 });
    b.submit(o);
    // At the $100.00 bid: commission $1.00 (minimum); SEC $10,000 × $27.80/M = $0.278 → $0.28; TAF 100 × $0.000166 → $0.02.
    expect(fills(o.orderId).map((f) => [f.priceUnits, f.commissionMicros])).toEqual([[toUnits(100), 1_300_000]]);
  });

  test("working orders are bounded: the one past maxOpenOrders is rejected", () => {
    const b = make({ maxOpenOrders: 2 });
    for (let i = 0; i < 3; i++) b.submit(order({ type: "limit", limitPriceUnits: toUnits(90) }));
    expect(events.map((e) => e.kind)).toEqual(["accepted", "accepted", "rejected"]);
    expect(events[2]).toMatchObject({ reason: "paper broker holds 2 working orders, its limit" });
  });

  test("the execution ring keeps the newest maxFillsKept fills", async () => {
    const b = make({ maxFillsKept: 3 });
    for (let i = 0; i < 5; i++) {
      quote(100, 300, 100.02, 200);
      b.submit(order({ orderId: `f${i}`, qty: 1 }));
    }
    expect((await b.executionsSince(0)).map((f) => f.orderId).sort()).toEqual(["f2", "f3", "f4"]);
  });

  test("only instruments that changed are evaluated", () => {
    const b = make();
    const o = order({ type: "limit", limitPriceUnits: toUnits(99.9) });
    b.submit(o);
    let reads = 0;
    const quoteFn = market.engine.quote.bind(market.engine);
    market.engine.quote = (i: number) => (reads++, quoteFn(i));
    // Ticks written directly: the quote helper reads quotes itself.
    market.engine.write(market.row("MSFT"), TickKind.Bid, 300, 10, ++now);
    market.engine.flush(now);
    expect(reads).toBe(0);
    market.engine.write(market.row("AAPL"), TickKind.Bid, 99.95, 10, ++now);
    market.engine.flush(now);
    expect(reads).toBe(1);
  });
});
