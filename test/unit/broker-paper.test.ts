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
import { MONDAY_10AM } from "../helpers/oms.ts";

brokerContract("paper", async () => {
  const market = await TestMarket.create();
  // The contract is about the Broker interface, not sessions: quotes are stamped with the wall
  // clock, so the broker trades round the clock and the contract passes at any hour.
  const broker = new PaperBroker(market.engine, { hours: "always" });
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
  // In a regular session, so orders trade; the session tests move the clock themselves.
  const T0 = MONDAY_10AM;
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

  test("triggerMethod bid_ask triggers a buy stop on one bid at the stop, without a trade", () => {
    const b = make();
    const o = order({ type: "stop", stopPriceUnits: toUnits(100.5), qty: 10, triggerMethod: "bid_ask" });
    b.submit(o);
    quote(100.49, 300, 100.51, 300);
    expect(fills(o.orderId)).toEqual([]);
    quote(100.5, 300, 100.52, 300);
    expect(fills(o.orderId).map((f) => f.priceUnits)).toEqual([toUnits(100.52)]);
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

// Exchange hours: every test injects the clock (batch times and the broker's clock) and the US
// calendar, so it passes at any hour of the real day. Times are New York (EST, UTC-5, in Nov 2026).
describe("paper exchange hours", () => {
  let market: TestMarket;
  let events: BrokerEvent[];
  let now = 0;
  let n = 0;
  const at = (iso: string) => (now = Date.parse(iso));
  const start = async (iso: string, o: Partial<PaperOptions> = {}) => {
    market = await TestMarket.create();
    events = [];
    at(iso);
    const b = new PaperBroker(market.engine, { clock: () => now, ...o });
    b.onEvent((e) => events.push(e));
    quote(100, 300, 100.02, 200);
    return b;
  };
  const order = (o: Partial<BrokerOrder> = {}): BrokerOrder => ({
    orderId: `h${n++}`, account: "A", instrument: market.engine.instrument("AAPL")!, side: "buy", type: "market", tif: "DAY", qty: 100, ...o,
  });
  const quote = (bid: number, bs: number, ask: number, as: number, symbol = "AAPL") => setQuote(market.engine, symbol, bid, bs, ask, as, ++now);
  const trade = (price: number, size: number, symbol = "AAPL") => setTrade(market.engine, symbol, price, size, ++now);
  const fills = (id: string) => events.flatMap((e) => (e.kind === "fill" && e.fill.orderId === id ? [[e.fill.priceUnits, e.fill.qty, e.fill.ts]] : []));
  const kinds = (id: string) => events.filter((e) => ("orderId" in e ? e.orderId === id : e.fill.orderId === id)).map((e) => e.kind);

  test("a market order on a Sunday afternoon is held, with the reason, and fills at Monday's open, not on night quotes", async () => {
    const b = await start("2026-11-22T20:00:00Z"); // Sunday 15:00
    const o = order();
    b.submit(o);
    expect(events).toEqual([
      { kind: "accepted", orderId: o.orderId, brokerOrderId: `paper-${o.orderId}`, ts: now },
      { kind: "held", orderId: o.orderId, reason: "held until the regular session opens at 2026-11-23 09:30 America/New_York",
        untilMs: Date.parse("2026-11-23T14:30:00Z"), ts: now },
    ]);
    at("2026-11-23T14:29:00Z"); // Monday 09:29: the synthetic market ticks on, the broker does not trade
    quote(100.1, 300, 100.12, 200);
    trade(100.11, 500);
    expect(fills(o.orderId)).toEqual([]);
    at("2026-11-23T14:30:00Z"); // 09:30: released, fills at the ask of the first quote of the session
    quote(100.2, 300, 100.22, 200);
    expect(kinds(o.orderId)).toEqual(["accepted", "held", "released", "fill"]);
    expect(fills(o.orderId)).toEqual([[toUnits(100.22), 100, now]]);
  });

  test("20:00 on a Tuesday and Thanksgiving Day both wait for the next regular open", async () => {
    const b = await start("2026-11-25T01:00:00Z"); // Tuesday 20:00
    const evening = order();
    b.submit(evening);
    expect(events.at(-1)).toMatchObject({ kind: "held", untilMs: Date.parse("2026-11-25T14:30:00Z") });
    at("2026-11-26T17:00:00Z"); // Thanksgiving, noon
    quote(100, 300, 100.02, 200);
    const holiday = order();
    b.submit(holiday);
    expect(events.at(-1)).toMatchObject({ kind: "held", reason: "held until the regular session opens at 2026-11-27 09:30 America/New_York" });
    expect(fills(evening.orderId)).toEqual([]);
    expect(fills(holiday.orderId)).toEqual([]);
  });

  test("a stop held overnight does not trigger on night trades; the first session trade through it does", async () => {
    const b = await start("2026-11-24T22:00:00Z"); // Tuesday 17:00
    const o = order({ side: "sell", type: "stop", stopPriceUnits: toUnits(99.5), tif: "GTC" });
    b.submit(o);
    trade(99, 1000); // after hours, through the stop
    at("2026-11-25T14:30:00Z"); // Wednesday 09:30
    quote(99.9, 300, 99.92, 300);
    expect(kinds(o.orderId)).toEqual(["accepted", "held", "released"]);
    trade(99.5, 100); // the first session print at the stop: triggers (last method), sells at the bid
    expect(kinds(o.orderId)).toEqual(["accepted", "held", "released", "triggered", "fill"]);
    expect(fills(o.orderId).map((f) => f.slice(0, 2))).toEqual([[toUnits(99.9), 100]]);
  });

  test("outsideRth: a stock limit fills pre-market; a market order and an option wait, saying outsideRth does not apply", async () => {
    const b = await start("2026-11-24T12:00:00Z"); // Tuesday 07:00, pre-market
    const limit = order({ type: "limit", limitPriceUnits: toUnits(100.05), outsideRth: true });
    b.submit(limit);
    expect(fills(limit.orderId)).toEqual([[toUnits(100.02), 100, now]]);
    const market_ = order({ outsideRth: true });
    b.submit(market_);
    expect(events.at(-1)).toMatchObject({ kind: "held", reason: "held until the regular session opens at 2026-11-24 09:30 America/New_York " +
      "(outsideRth ignored: a market order does not work outside the regular session (extended hours take limit orders))" });
    quote(5, 10, 5.1, 10, OPTIONS[0]);
    const option = order({ instrument: market.engine.instrument(OPTIONS[0])!, type: "limit", limitPriceUnits: toUnits(5.2), qty: 1, outsideRth: true });
    b.submit(option);
    expect(events.at(-1)).toMatchObject({ kind: "held", reason: expect.stringContaining("outsideRth ignored: US options trade in the regular session only") });
  });

  test("without outsideRth a limit waits through pre-market; at 03:59 even outsideRth waits for 04:00", async () => {
    const b = await start("2026-11-24T08:59:00Z"); // Tuesday 03:59
    const early = order({ type: "limit", limitPriceUnits: toUnits(100.05), outsideRth: true, tif: "GTC" });
    const plain = order({ type: "limit", limitPriceUnits: toUnits(100.05), tif: "GTC" });
    b.submit(early);
    b.submit(plain);
    expect(events.filter((e) => e.kind === "held").map((e) => (e as { untilMs: number }).untilMs))
      .toEqual([Date.parse("2026-11-24T09:00:00Z"), Date.parse("2026-11-24T14:30:00Z")]);
    at("2026-11-24T09:00:00Z"); // 04:00
    quote(100, 300, 100.03, 200);
    expect(fills(early.orderId)).toEqual([[toUnits(100.03), 100, now]]);
    expect(fills(plain.orderId)).toEqual([]);
  });

  test("a DAY order entered after the close is for the next session; an outsideRth DAY limit lives to 20:00", async () => {
    const b = await start("2026-11-23T22:00:00Z"); // Monday 17:00
    const next = order({ type: "limit", limitPriceUnits: toUnits(90) });
    const rth = order({ type: "limit", limitPriceUnits: toUnits(90), outsideRth: true });
    b.submit(next);
    b.submit(rth);
    b.sessionClosed(Date.parse("2026-11-23T21:00:00Z")); // Monday's close, reported late
    expect(kinds(next.orderId)).toEqual(["accepted", "held"]);
    expect(kinds(rth.orderId)).toEqual(["accepted"]); // working after hours
    at("2026-11-24T01:00:00Z"); // 20:00: the after-hours close ends the outsideRth DAY order
    quote(100, 300, 100.02, 200);
    expect(events.filter((e) => e.kind === "expired")).toEqual([{ kind: "expired", orderId: rth.orderId, ts: Date.parse("2026-11-24T01:00:00Z") }]);
    at("2026-11-24T15:00:00Z"); // Tuesday 10:00: released, works (far from a fill)
    quote(100, 300, 100.02, 200);
    b.sessionClosed(Date.parse("2026-11-24T21:00:00Z")); // Tuesday's close: its session
    expect(kinds(next.orderId)).toEqual(["accepted", "held", "released", "expired"]);
  });

  test("IOC while closed is canceled at once, saying the market is closed", async () => {
    const b = await start("2026-11-22T20:00:00Z");
    const o = order({ tif: "IOC" });
    b.submit(o);
    expect(events.at(-1)).toMatchObject({ kind: "canceled", reason: "IOC: the market is closed (held until the regular session opens at 2026-11-23 09:30 America/New_York)" });
  });

  test("hours always trades on a Sunday, as --paper-hours always asks", async () => {
    const b = await start("2026-11-22T20:00:00Z", { hours: "always" });
    const o = order();
    b.submit(o);
    expect(fills(o.orderId)).toEqual([[toUnits(100.02), 100, now]]);
  });
});

describe("stop trigger methods (IBKR triggerMethod)", () => {
  let market: TestMarket;
  let events: BrokerEvent[];
  let now = MONDAY_10AM;
  let n = 0;
  const OPT = OPTIONS[0];
  const quote = (bid: number, bs: number, ask: number, as: number, symbol: string = OPT) => setQuote(market.engine, symbol, bid, bs, ask, as, ++now);
  const trade = (price: number, size: number, symbol: string = OPT) => setTrade(market.engine, symbol, price, size, ++now);
  const kinds = (id: string) => events.filter((e) => ("orderId" in e ? e.orderId === id : e.fill.orderId === id)).map((e) => e.kind);
  const fills = (id: string) => events.flatMap((e) => (e.kind === "fill" && e.fill.orderId === id ? [[e.fill.priceUnits, e.fill.qty]] : []));
  const stop = (o: Partial<BrokerOrder> = {}): BrokerOrder => ({
    orderId: `t${n++}`, account: "A", instrument: market.engine.instrument(OPT)!, side: "buy", type: "stop", tif: "DAY", qty: 2,
    stopPriceUnits: toUnits(5.5), ...o,
  });
  let b: PaperBroker;

  beforeEach(async () => {
    market = await TestMarket.create();
    events = [];
    now = MONDAY_10AM;
    b = new PaperBroker(market.engine, { clock: () => now });
    b.onEvent((e) => events.push(e));
    quote(5.3, 10, 5.4, 10);
  });

  test("an option buy stop at 5.50 (default double bid/ask) triggers on the second bid at or above it, with no trade", () => {
    const o = stop();
    b.submit(o);
    quote(5.55, 10, 5.6, 10); // first bid through: 1 of 2
    expect(kinds(o.orderId)).toEqual(["accepted"]);
    quote(5.6, 10, 5.65, 10); // second: triggers, then buys 2 at the ask, 5.65
    expect(kinds(o.orderId)).toEqual(["accepted", "triggered", "fill"]);
    expect(fills(o.orderId)).toEqual([[toUnits(5.65), 2]]);
  });

  test("double bid/ask watches the bid for a buy: asks above 5.50 with the bid below never trigger; a same-price bid needs more size", () => {
    const o = stop();
    b.submit(o);
    quote(5.45, 10, 5.55, 10);
    quote(5.45, 10, 5.6, 10);
    quote(5.45, 10, 5.65, 10);
    expect(kinds(o.orderId)).toEqual(["accepted"]);
    quote(5.5, 10, 5.6, 10); // 1
    quote(5.5, 8, 5.6, 10); // same price, smaller size: not a second
    expect(kinds(o.orderId)).toEqual(["accepted"]);
    quote(5.5, 12, 5.6, 10); // same price, greater size: the second
    expect(kinds(o.orderId)).toEqual(["accepted", "triggered", "fill"]);
  });

  test("with triggerMethod last the option stop waits for a trade: three quotes above do not trigger it, a print at 5.50 does", () => {
    const o = stop({ triggerMethod: "last" });
    b.submit(o);
    for (const bid of [5.55, 5.6, 5.65]) quote(bid, 10, bid + 0.05, 10);
    expect(kinds(o.orderId)).toEqual(["accepted"]);
    trade(5.5, 1);
    expect(kinds(o.orderId)).toEqual(["accepted", "triggered", "fill"]);
    expect(fills(o.orderId)).toEqual([[toUnits(5.7), 2]]);
  });

  test("a stock stop defaults to last; double_last needs two prints; mid_point uses the mid; a sell bid_ask watches the ask", () => {
    quote(100, 300, 100.02, 300, "AAPL");
    const stock = (o: Partial<BrokerOrder>) => stop({ instrument: market.engine.instrument("AAPL")!, stopPriceUnits: toUnits(100.5), qty: 10, ...o });
    const last = stock({}), double = stock({ triggerMethod: "double_last" }), mid = stock({ triggerMethod: "mid_point" });
    const sell = stock({ side: "sell", triggerMethod: "bid_ask", stopPriceUnits: toUnits(99.5) });
    for (const o of [last, double, mid, sell]) b.submit(o);
    quote(100.49, 300, 100.53, 300, "AAPL"); // mid 100.51: only mid_point
    expect([last, double, mid].map((o) => kinds(o.orderId).includes("triggered"))).toEqual([false, false, true]);
    trade(100.5, 100, "AAPL"); // one print: last
    expect([last, double].map((o) => kinds(o.orderId).includes("triggered"))).toEqual([true, false]);
    trade(100.51, 100, "AAPL"); // second print: double_last
    expect(kinds(double.orderId)).toContain("triggered");
    quote(99.4, 300, 99.5, 300, "AAPL"); // the ask at the sell stop
    expect(kinds(sell.orderId)).toContain("triggered");
  });
});

test("a modified stop price restarts the trigger streaks: a print through the old stop does not count for the new one", async () => {
  const market = await TestMarket.create();
  const events: BrokerEvent[] = [];
  let now = MONDAY_10AM;
  const b = new PaperBroker(market.engine, { clock: () => now });
  b.onEvent((e) => events.push(e));
  setQuote(market.engine, "AAPL", 100, 300, 100.02, 300, ++now);
  const o: BrokerOrder = { orderId: "m1", account: "A", instrument: market.engine.instrument("AAPL")!, side: "buy", type: "stop", tif: "DAY", qty: 1,
    stopPriceUnits: toUnits(100.5), triggerMethod: "double_last" };
  b.submit(o);
  setTrade(market.engine, "AAPL", 100.55, 100, ++now); // 1 of 2 for 100.50
  b.modify("m1", { stopPriceUnits: toUnits(100.6) }); // 100.55 is not through 100.60: 0 of 2
  setTrade(market.engine, "AAPL", 100.6, 100, ++now); // 1 of 2 for 100.60
  expect(events.map((e) => e.kind)).toEqual(["accepted", "replaced"]);
  setTrade(market.engine, "AAPL", 100.61, 100, ++now); // 2 of 2
  expect(events.map((e) => e.kind)).toEqual(["accepted", "replaced", "triggered", "fill"]);
});
