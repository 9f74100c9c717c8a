// The Broker contract: what every broker (paper, IBKR over the TWS simulator) guarantees to the
// order manager. Run it with brokerContract(name, makeHarness) from a *.test.ts file. The
// harness owns a market the test can move; quotes are set with generous sizes so a broker with
// any honest fill model fills the orders marked "marketable" here in full.

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Broker, BrokerEvent, BrokerFill, BrokerOrder } from "../../src/broker/broker.ts";
import type { Instrument } from "../../src/domain/instrument.ts";
import { toUnits } from "../../src/domain/price.ts";
import { waitFor } from "../helpers/wait.ts";

/** A broker plus the market it fills against. */
export interface BrokerHarness {
  broker: Broker;
  /** A stock symbol and an option symbol the market defines, both with a 0.01 tick. */
  stock: string;
  option: string;
  instrument(symbol: string): Instrument;
  /** Sets the touch of a symbol; resolves once the broker can see it. */
  quote(symbol: string, bid: number, bidSize: number, ask: number, askSize: number): Promise<void>;
  /** Prints a trade; resolves once the broker can see it. */
  trade(symbol: string, price: number, size: number): Promise<void>;
  /** Tells the venue its session closed, for a venue that expires DAY orders itself (IBKR); absent for simulated brokers. */
  sessionClosed?(): Promise<void>;
  close(): Promise<void>;
}

let nextId = 1;

/** Runs the shared contract against brokers built by `make` (a fresh one per test). */
export function brokerContract(name: string, make: () => Promise<BrokerHarness>): void {
  describe(`Broker contract: ${name}`, () => {
    let h: BrokerHarness;
    let events: BrokerEvent[];
    const order = (symbol: string, o: Partial<BrokerOrder> = {}): BrokerOrder => ({
      orderId: `c${process.pid}-${nextId++}`, account: "T1", instrument: h.instrument(symbol),
      side: "buy", type: "market", tif: "DAY", qty: 10, ...o,
    });
    const of = (id: string) => events.filter((e) => ("orderId" in e ? e.orderId : e.fill.orderId) === id);
    const fillsOf = (id: string): BrokerFill[] => of(id).flatMap((e) => (e.kind === "fill" ? [e.fill] : []));
    const filledQty = (id: string) => fillsOf(id).reduce((s, f) => s + f.qty, 0);
    const until = (what: string, cond: () => boolean) => waitFor(cond, 5000, what);
    const kinds = (id: string) => of(id).map((e) => e.kind);

    beforeEach(async () => {
      h = await make();
      events = [];
      h.broker.onEvent((e) => events.push(e));
      await h.quote(h.stock, 100, 1000, 100.02, 1000);
      await h.quote(h.option, 5, 100, 5.1, 100);
    });
    afterEach(async () => {
      await h.close();
    });

    test("a marketable market order is accepted and fills in full at the touch or better", async () => {
      const o = order(h.stock, { qty: 100 });
      h.broker.submit(o);
      await until("the order to fill", () => filledQty(o.orderId) === 100);
      expect(kinds(o.orderId)).toContain("accepted");
      const fills = fillsOf(o.orderId);
      for (const f of fills) {
        expect(f.priceUnits).toBeLessThanOrEqual(toUnits(100.02));
        expect(f.commissionMicros).toBeGreaterThanOrEqual(0);
        expect(f).toMatchObject({ account: "T1", symbol: h.stock, side: "buy" });
      }
      expect(new Set(fills.map((f) => f.fillId)).size).toBe(fills.length);
    });

    test("a marketable sell limit fills at its limit or better", async () => {
      const o = order(h.stock, { side: "sell", type: "limit", limitPriceUnits: toUnits(99.5), qty: 50 });
      h.broker.submit(o);
      await until("the order to fill", () => filledQty(o.orderId) === 50);
      for (const f of fillsOf(o.orderId)) expect(f.priceUnits).toBeGreaterThanOrEqual(toUnits(99.5));
    });

    test("an option order fills against the option's own quote", async () => {
      const o = order(h.option, { qty: 2 });
      h.broker.submit(o);
      await until("the option order to fill", () => filledQty(o.orderId) === 2);
      for (const f of fillsOf(o.orderId)) expect(f.priceUnits).toBe(toUnits(5.1));
    });

    test("a resting limit is accepted, listed as open, and canceled without fills", async () => {
      const o = order(h.stock, { type: "limit", limitPriceUnits: toUnits(95), tif: "GTC" });
      h.broker.submit(o);
      await until("accepted", () => kinds(o.orderId).includes("accepted"));
      const open = await h.broker.openOrders();
      expect(open.find((x) => x.orderId === o.orderId)).toMatchObject({ qty: 10, filledQty: 0, limitPriceUnits: toUnits(95) });
      h.broker.cancel(o.orderId);
      await until("canceled", () => kinds(o.orderId).includes("canceled"));
      expect(filledQty(o.orderId)).toBe(0);
      expect((await h.broker.openOrders()).some((x) => x.orderId === o.orderId)).toBe(false);
    });

    test("modify replaces a resting limit's terms, and a marketable new limit fills", async () => {
      const o = order(h.stock, { type: "limit", limitPriceUnits: toUnits(95) });
      h.broker.submit(o);
      await until("accepted", () => kinds(o.orderId).includes("accepted"));
      h.broker.modify(o.orderId, { qty: 20 });
      await until("replaced", () => kinds(o.orderId).includes("replaced"));
      expect(of(o.orderId).find((e) => e.kind === "replaced")).toMatchObject({ qty: 20, limitPriceUnits: toUnits(95) });
      h.broker.modify(o.orderId, { limitPriceUnits: toUnits(100.05) });
      await until("the order to fill", () => filledQty(o.orderId) === 20);
      for (const f of fillsOf(o.orderId)) expect(f.priceUnits).toBeLessThanOrEqual(toUnits(100.05));
    });

    test("a resting buy limit fills when the market trades through it", async () => {
      const o = order(h.stock, { type: "limit", limitPriceUnits: toUnits(99.9), qty: 10 });
      h.broker.submit(o);
      await until("accepted", () => kinds(o.orderId).includes("accepted"));
      expect(filledQty(o.orderId)).toBe(0);
      await h.quote(h.stock, 99.7, 1000, 99.8, 1000);
      await until("the order to fill", () => filledQty(o.orderId) === 10);
      for (const f of fillsOf(o.orderId)) expect(f.priceUnits).toBeLessThanOrEqual(toUnits(99.9));
    });

    test("a buy stop does nothing until the market reaches it, then fills", async () => {
      const o = order(h.stock, { type: "stop", stopPriceUnits: toUnits(101), tif: "GTC" });
      h.broker.submit(o);
      await until("accepted", () => kinds(o.orderId).includes("accepted"));
      await h.quote(h.stock, 100.5, 1000, 100.52, 1000);
      expect(filledQty(o.orderId)).toBe(0);
      await h.quote(h.stock, 101.0, 1000, 101.02, 1000);
      await h.trade(h.stock, 101.01, 100);
      await until("the stop to fill", () => filledQty(o.orderId) === 10);
      for (const f of fillsOf(o.orderId)) expect(f.priceUnits).toBeGreaterThanOrEqual(toUnits(101));
    });

    test("IOC with nothing marketable is canceled without fills", async () => {
      const o = order(h.stock, { type: "limit", limitPriceUnits: toUnits(90), tif: "IOC" });
      h.broker.submit(o);
      await until("canceled", () => kinds(o.orderId).includes("canceled"));
      expect(filledQty(o.orderId)).toBe(0);
    });

    test("FOK for more than the market offers within the limit is canceled without fills", async () => {
      const o = order(h.stock, { type: "limit", limitPriceUnits: toUnits(100.02), tif: "FOK", qty: 5000 });
      h.broker.submit(o);
      await until("canceled", () => kinds(o.orderId).includes("canceled"));
      expect(filledQty(o.orderId)).toBe(0);
    });

    test("cancel and modify of an unknown order are refused by events", async () => {
      h.broker.cancel("no-such-order");
      h.broker.modify("no-such-order-2", { qty: 5 });
      await until("both refusals", () => kinds("no-such-order").includes("cancel_rejected") && kinds("no-such-order-2").includes("modify_rejected"));
    });

    test("a second order with a working order's id is rejected", async () => {
      const o = order(h.stock, { type: "limit", limitPriceUnits: toUnits(95) });
      h.broker.submit(o);
      await until("accepted", () => kinds(o.orderId).includes("accepted"));
      h.broker.submit({ ...o });
      await until("rejected", () => kinds(o.orderId).includes("rejected"));
    });

    test("executionsSince returns the fills that happened, by id", async () => {
      const since = Date.now() - 1;
      const o = order(h.stock, { qty: 30 });
      h.broker.submit(o);
      await until("the order to fill", () => filledQty(o.orderId) === 30);
      const execs = (await h.broker.executionsSince(since)).filter((f) => f.orderId === o.orderId);
      expect(execs.map((f) => f.fillId).sort()).toEqual(fillsOf(o.orderId).map((f) => f.fillId).sort());
    });

    test("the session close expires DAY orders and keeps GTC orders", async () => {
      const day = order(h.stock, { type: "limit", limitPriceUnits: toUnits(95), tif: "DAY" });
      const gtc = order(h.stock, { type: "limit", limitPriceUnits: toUnits(95), tif: "GTC" });
      h.broker.submit(day);
      h.broker.submit(gtc);
      await until("both accepted", () => kinds(day.orderId).includes("accepted") && kinds(gtc.orderId).includes("accepted"));
      h.broker.sessionClosed(Date.now());
      await h.sessionClosed?.();
      await until("the DAY order to expire", () => kinds(day.orderId).includes("expired"));
      expect(kinds(gtc.orderId)).not.toContain("expired");
      expect((await h.broker.openOrders()).map((x) => x.orderId)).toContain(gtc.orderId);
    });
  });
}
