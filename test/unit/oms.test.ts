// The order manager over real parts (WASM engine, SQLite file, paper broker): validation that
// journals nothing, idempotent client order ids, the lifecycle through the broker, bounds,
// DAY expiry, option settlement, restarts, and the state machine refusing illegal events.

import { describe, expect, test } from "bun:test";
import { toUnits } from "../../src/domain/price.ts";
import type { Order } from "../../src/domain/order.ts";
import type { OmsUpdate } from "../../src/oms/manager.ts";
import { OPTIONS } from "../helpers/market.ts";
import { err, harnessSet, MONDAY_10AM, ok, OmsHarness } from "../helpers/oms.ts";

const { start, track } = harnessSet();

let n = 0;
const body = (o: Record<string, unknown> = {}) => ({ account: "Gen-Acc", clientOrderId: `c${++n}`, symbol: "AAPL", side: "buy", type: "market", qty: 10, ...o });

describe("validation", () => {
  test("each bad request is a clear error naming its field, and nothing is journaled", async () => {
    const h = await start();
    const before = h.store.journal.appendedSeq;
    const cases: [Record<string, unknown>, number, string, string][] = [
      [{ side: undefined }, 400, "BAD_REQUEST", "side"],
      [{ sied: "buy" }, 400, "BAD_REQUEST", "sied"],
      [{ qty: "10" }, 400, "BAD_REQUEST", "qty"],
      [{ symbol: "NOPE" }, 400, "UNKNOWN_INSTRUMENT", "symbol"],
      [{ qty: -5 }, 400, "BAD_QUANTITY", "qty"],
      [{ qty: 1.5 }, 400, "BAD_QUANTITY", "qty"],
      [{ qty: 2_000_000 }, 400, "BAD_QUANTITY", "qty"],
      [{ type: "limit", limitPrice: 100.005 }, 400, "PRICE_OFF_TICK", "limitPrice"],
      [{ type: "limit" }, 400, "BAD_REQUEST", "limitPrice"],
      [{ type: "market", stopPrice: 99 }, 400, "BAD_REQUEST", "stopPrice"],
      [{ type: "stop", stopPrice: 99, tif: "IOC" }, 400, "BAD_REQUEST", "tif"],
      [{ account: "Nobody" }, 404, "UNKNOWN_ACCOUNT", "account"],
      [{ clientOrderId: "" }, 400, "BAD_REQUEST", "clientOrderId"],
    ];
    for (const [change, status, code, field] of cases) {
      const e = err(await h.oms.submit(body(change)));
      expect({ status: e.status, code: e.code, field: e.field }).toEqual({ status, code, field });
      expect(e.message.length).toBeGreaterThan(5);
    }
    expect(h.store.journal.appendedSeq).toBe(before);
  });

  test("an option past the close of its expiry date is refused", async () => {
    const h = await start({ nowMs: Date.parse("2026-11-27T18:00:01Z") });
    const e = err(await h.oms.submit(body({ symbol: OPTIONS[0], qty: 1 })));
    expect(e).toMatchObject({ code: "OPTION_EXPIRED", field: "symbol" });
    expect(h.oms.positions("Gen-Acc")).toEqual([]);
  });
});

describe("lifecycle", () => {
  test("a market buy fills, and position, cash and commission follow", async () => {
    const h = await start();
    const { order, created } = ok(await h.oms.submit(body({ qty: 100 })));
    expect(created).toBe(true);
    expect(order).toMatchObject({ status: "filled", filledQty: 100, avgFillPriceUnits: toUnits(100.02), brokerOrderId: `paper-${order.id}` });
    expect(h.store.journal.committedSeq).toBe(h.store.journal.appendedSeq);
    // Average cost includes the $1 commission, as at IBKR: (10,002 + 1) / 100 = 100.03; at the 100.01 mid, −2.
    expect(h.oms.positions("Gen-Acc")).toMatchObject([{ symbol: "AAPL", qty: 100, avgCost: 100.03, mark: 100.01, unrealizedPnl: -2 }]);
    expect(h.oms.account("Gen-Acc")).toMatchObject({ cash: 120_000 - 10_002 - 1, commissions: 1, positions: 1 });
    const events = h.store.events(order.id).map((e) => [e.kind, e.status]);
    expect(events).toEqual([["submitted", "submitted"], ["accepted", "accepted"], ["fill", "filled"]]);
  });

  test("the same client order id and body returns the original; a different body is a 409", async () => {
    const h = await start();
    const b = body({ type: "limit", limitPrice: 99, tif: "GTC" });
    const first = ok(await h.oms.submit(b)).order;
    const seq = h.store.journal.appendedSeq;
    const again = ok(await h.oms.submit({ ...b }));
    expect(again).toMatchObject({ created: false, order: { id: first.id, status: "accepted" } });
    expect(err(await h.oms.submit({ ...b, qty: 11 }))).toMatchObject({ status: 409, code: "DUPLICATE_CLIENT_ORDER_ID", field: "clientOrderId" });
    expect(h.store.journal.appendedSeq).toBe(seq);
    expect(ok(await h.oms.submit({ ...b, account: "Rev-Acc" })).created).toBe(true);
  });

  test("cancel a resting limit; canceling it again is a 409", async () => {
    const h = await start();
    const { order } = ok(await h.oms.submit(body({ type: "limit", limitPrice: 99 })));
    expect(h.oms.openOrders("Gen-Acc").map((o) => o.id)).toEqual([order.id]);
    expect(ok(await h.oms.cancel(order.id)).status).toBe("canceled");
    expect(h.oms.openOrders("Gen-Acc")).toEqual([]);
    expect(err(await h.oms.cancel(order.id))).toMatchObject({ status: 409, code: "ORDER_NOT_CANCELABLE" });
    expect(err(await h.oms.cancel("O999"))).toMatchObject({ status: 404, code: "NOT_FOUND" });
  });

  test("modify a resting limit; modifying a filled order is a clear 409", async () => {
    const h = await start();
    const { order } = ok(await h.oms.submit(body({ type: "limit", limitPrice: 99 })));
    expect(ok(await h.oms.modify(order.id, { qty: 25, limitPrice: 99.5 }))).toMatchObject({ status: "accepted", qty: 25, limitPriceUnits: toUnits(99.5) });
    expect(ok(await h.oms.modify(order.id, { limitPrice: 100.02 }))).toMatchObject({ status: "filled", filledQty: 25 });
    const e = err(await h.oms.modify(order.id, { qty: 30 }));
    expect(e).toMatchObject({ status: 409, code: "ORDER_NOT_MODIFIABLE", field: "id" });
    expect(e.message).toContain("filled");
    const seq = h.store.journal.appendedSeq;
    const { order: other } = ok(await h.oms.submit(body({ type: "limit", limitPrice: 99 })));
    expect(err(await h.oms.modify(other.id, { limitPrice: 99.001 }))).toMatchObject({ code: "PRICE_OFF_TICK" });
    expect(err(await h.oms.modify(other.id, { qty: 0 }))).toMatchObject({ code: "BAD_QUANTITY" });
    expect(err(await h.oms.modify(other.id, {}))).toMatchObject({ code: "BAD_REQUEST" });
    expect(h.store.journal.appendedSeq).toBe(seq + 2);
  });

  test("a modify to the filled quantity is refused naming what is filled: 300 of 500 filled, qty 300 → 'above the 300 already filled'", async () => {
    const h = await start({ paper: { marketRemainder: "work" } });
    h.quote("AAPL", 100, 300, 100.02, 300);
    const { order } = ok(await h.oms.submit(body({ qty: 500 })));
    expect(order).toMatchObject({ status: "partially_filled", filledQty: 300 });
    expect(err(await h.oms.modify(order.id, { qty: 300 }))).toEqual({
      status: 400, code: "BAD_QUANTITY", message: "qty 300 must be above the 300 already filled", field: "qty",
    });
    expect(ok(await h.oms.modify(order.id, { qty: 301 }))).toMatchObject({ qty: 301 });
  });

  test("an external broker sees an order, a cancel and a modify only once they are on disk; paper needs no write-ahead", async () => {
    for (const external of [true, false]) {
      const h = await start({ external });
      const seen: (string | undefined)[] = [];
      const b = h.broker;
      const [submit, cancel, modify] = [b.submit.bind(b), b.cancel.bind(b), b.modify.bind(b)];
      b.submit = (o) => (seen.push(h.store.order(o.orderId)?.status), submit(o));
      b.cancel = (id) => (seen.push(h.store.order(id)?.status), cancel(id));
      b.modify = (id, c) => (seen.push(h.store.order(id)?.status), modify(id, c));
      const { order } = ok(await h.oms.submit(body({ type: "limit", limitPrice: 90, tif: "GTC" })));
      ok(await h.oms.modify(order.id, { qty: 20 }));
      ok(await h.oms.cancel(order.id));
      expect(seen).toEqual(external ? ["submitted", "pending_replace", "pending_cancel"] : [undefined, "accepted", "accepted"]);
      expect(h.store.events(order.id).map((e) => e.status)).toEqual(["submitted", "accepted", "pending_replace", "accepted", "pending_cancel", "canceled"]);
    }
  });

  test("the pre-trade hook can deny: the order is journaled as denied and never reaches the broker", async () => {
    const seen: string[] = [];
    const h = await start({ preTrade: { checkNew: (o) => (seen.push(o.id), { ok: false, code: "MAX_NOTIONAL", message: "too big" }), checkModify: () => ({ ok: true }) } });
    const { order } = ok(await h.oms.submit(body()));
    expect(order).toMatchObject({ status: "denied", reason: "MAX_NOTIONAL: too big" });
    expect(seen).toEqual([order.id]);
    expect(await h.broker.openOrders()).toEqual([]);
    expect(h.store.order(order.id)?.status).toBe("denied");
  });

  test("updates reach listeners only once durable, in order", async () => {
    const h = await start();
    const got: OmsUpdate[] = [];
    h.oms.onUpdate((u) => {
      // What a listener is told is already readable from the file.
      if (u.type === "order") expect(h.store.order(u.order.id)!.version).toBeGreaterThanOrEqual(u.order.version);
      else expect(h.store.fills({ orderId: u.fill.orderId }, 10, 0).items.map((f) => f.fillId)).toContain(u.fill.fillId);
      got.push(u);
    });
    ok(await h.oms.submit(body({ qty: 5 })));
    expect(got.map((u) => (u.type === "order" ? u.order.status : `fill ${u.position.qty}`))).toEqual(["submitted", "accepted", "fill 5", "filled"]);
  });
});

describe("bounds", () => {
  test("working orders per account are bounded", async () => {
    const h = await start({ oms: { maxOpenOrdersPerAccount: 2 } });
    for (let i = 0; i < 2; i++) ok(await h.oms.submit(body({ type: "limit", limitPrice: 90 })));
    expect(err(await h.oms.submit(body({ type: "limit", limitPrice: 90 })))).toMatchObject({ status: 429, code: "TOO_MANY_OPEN_ORDERS" });
    ok(await h.oms.submit(body({ account: "Rev-Acc", type: "limit", limitPrice: 90 })));
  });

  test("a journal short of room refuses requests with 503 and changes nothing", async () => {
    const h = await start({ maxPending: 8 });
    const results = await Promise.all(Array.from({ length: 10 }, () => h.oms.submit(body({ type: "limit", limitPrice: 90 }))));
    const refused = results.filter((r) => !r.ok).map((r) => err(r));
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toMatchObject({ status: 503, code: "JOURNAL_FULL" });
    const accepted = results.filter((r) => r.ok).length;
    expect(h.oms.openOrders("Gen-Acc").length).toBe(accepted);
  });
});

describe("session close and expiry", () => {
  test("DAY orders expire at the close; GTC orders stay", async () => {
    const h = await start();
    const day = ok(await h.oms.submit(body({ type: "limit", limitPrice: 90 }))).order;
    const gtc = ok(await h.oms.submit(body({ type: "limit", limitPrice: 90, tif: "GTC" }))).order;
    h.oms.sessionClosed(Date.parse("2026-11-23T21:00:00Z"));
    await h.store.journal.durable();
    expect((await h.oms.order(day.id))?.status).toBe("expired");
    expect((await h.oms.order(gtc.id))?.status).toBe("accepted");
  });

  test("a short put in the money at expiry is assigned; an out-of-the-money one expires", async () => {
    const h = await start({ nowMs: Date.parse("2026-11-27T15:00:00Z") });
    const put = OPTIONS[1]; // TSLA 250 put, 2026-11-27
    const call = OPTIONS[0]; // TSLA 250 call, same expiry
    h.quote(put, 5, 100, 5.1, 100);
    h.quote(call, 4, 100, 4.1, 100);
    ok(await h.oms.submit(body({ symbol: put, side: "sell", qty: 2 })));
    ok(await h.oms.submit(body({ symbol: call, side: "sell", qty: 1 })));
    const cashBefore = h.oms.account("Gen-Acc")!.cash;
    h.quote("TSLA", 240, 100, 240.02, 100);
    h.clock.now = Date.parse("2026-11-27T21:00:00Z");
    h.oms.sessionClosed(h.clock.now);
    await h.store.journal.durable();
    const pos = Object.fromEntries(h.oms.positions("Gen-Acc").map((p) => [p.symbol, p.qty]));
    expect(pos).toEqual({ TSLA: 200 });
    expect(h.oms.account("Gen-Acc")!.cash).toBeCloseTo(cashBefore - 250 * 200, 6);
    // The call sold at the 4.00 bid for $400 less $1.03 (commission $1.00, SEC fee on $400 → $0.02, TAF → $0.01) expires worthless.
    expect(h.oms.portfolio.position("Gen-Acc", call)).toMatchObject({ qty: 0, realizedMicros: 398_970_000 });
  });
});

describe("restart", () => {
  test("open orders, positions, cash and P&L come back; a restored order still fills, once", async () => {
    const h = await start({ nowMs: MONDAY_10AM });
    ok(await h.oms.submit(body({ qty: 100 })));
    const resting = ok(await h.oms.submit(body({ type: "limit", limitPrice: 99.9, tif: "GTC", qty: 50 }))).order;
    const account = h.oms.account("Gen-Acc");
    await h.stop();

    const h2 = await OmsHarness.start({ dir: h.dir, nowMs: h.clock.now + 1000 });
    track(h2);
    h2.quote("AAPL", 100, 1000, 100.02, 1000);
    expect(h2.oms.account("Gen-Acc")).toEqual(account);
    expect(h2.oms.openOrders("Gen-Acc").map((o) => o.id)).toEqual([resting.id]);
    expect((await h2.broker.openOrders()).map((o) => o.orderId)).toEqual([resting.id]);
    h2.quote("AAPL", 99.8, 1000, 99.85, 1000);
    await h2.store.journal.durable();
    expect((await h2.oms.order(resting.id))?.status).toBe("filled");
    expect(h2.oms.positions("Gen-Acc")[0]!.qty).toBe(150);
    const ids = [...h2.store.allFills()].map((f) => f.fillId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("a partly filled order costs the same across a restart: 100 + 300 shares = $1.00 + $1.00 = $2.00", async () => {
    // IBKR Pro fixed, per order: 400 × $0.005 = $2.00; the first 100 pay the $1.00 minimum, the
    // other 300 the rest. Charged as a new order after the restart they would pay $1.50.
    const commissions = async (restart: boolean): Promise<number[]> => {
      let h = await start();
      h.quote("AAPL", 100, 1000, 100.02, 100);
      const o = ok(await h.oms.submit(body({ type: "limit", limitPrice: 100.02, tif: "GTC", qty: 400 }))).order;
      if (restart) {
        await h.stop();
        h = await OmsHarness.start({ dir: h.dir, nowMs: h.clock.now + 1000 });
        track(h);
      }
      h.quote("AAPL", 100, 1000, 100.02, 300);
      await h.store.journal.durable();
      expect((await h.oms.order(o.id))?.status).toBe("filled");
      return [...h.store.allFills()].filter((f) => f.orderId === o.id).map((f) => f.commissionMicros / 1e6);
    };
    expect(await commissions(false)).toEqual([1, 1]);
    expect(await commissions(true)).toEqual([1, 1]);
  });

  test("a modified stock order is a new order for the minimum: 100 + 100 shares around a modify = $1.00 + $1.00, restart or not", async () => {
    // IBKR's own example (fixed pricing notes): 200 ordered, 100 execute, the order is modified,
    // another 100 execute: a minimum on both. One order would pay 200 × $0.005 = $1.00 in all.
    const commissions = async (restart: boolean): Promise<number[]> => {
      let h = await start();
      h.quote("AAPL", 100, 1000, 100.02, 100);
      const o = ok(await h.oms.submit(body({ type: "limit", limitPrice: 100.02, tif: "GTC", qty: 200 }))).order;
      ok(await h.oms.modify(o.id, { limitPrice: 100.03 }));
      await h.store.journal.durable();
      if (restart) {
        await h.stop();
        h = await OmsHarness.start({ dir: h.dir, nowMs: h.clock.now + 1000 });
        track(h);
      }
      h.quote("AAPL", 100, 1000, 100.02, 100);
      await h.store.journal.durable();
      expect((await h.oms.order(o.id))?.status).toBe("filled");
      return [...h.store.allFills()].filter((f) => f.orderId === o.id).map((f) => f.commissionMicros / 1e6);
    };
    expect(await commissions(false)).toEqual([1, 1]);
    expect(await commissions(true)).toEqual([1, 1]);
  });

  test("a stock order that persists overnight is a new order for the minimum: 300 Monday + 100 Tuesday = $1.50 + $1.00, restart or not", async () => {
    // One order: 400 × $0.005 = $2.00, so Tuesday's 100 would pay $0.50; as a new order they pay
    // the $1.00 minimum. A second fill on Tuesday stays in Tuesday's order (100 more: $0.50 → $1.00, +$0).
    const TUESDAY_10AM = MONDAY_10AM + 86_400_000;
    const commissions = async (restart: boolean): Promise<number[]> => {
      let h = await start();
      h.quote("AAPL", 100, 1000, 100.02, 300);
      const o = ok(await h.oms.submit(body({ type: "limit", limitPrice: 100.02, tif: "GTC", qty: 500 }))).order;
      await h.store.journal.durable();
      if (restart) {
        await h.stop();
        h = await OmsHarness.start({ dir: h.dir, nowMs: TUESDAY_10AM });
        track(h);
      } else h.clock.now = TUESDAY_10AM;
      h.quote("AAPL", 100, 1000, 100.02, 100);
      h.quote("AAPL", 100, 1000, 100.02, 100);
      await h.store.journal.durable();
      expect((await h.oms.order(o.id))?.status).toBe("filled");
      return [...h.store.allFills()].filter((f) => f.orderId === o.id).map((f) => f.commissionMicros / 1e6);
    };
    expect(await commissions(false)).toEqual([1.5, 1, 0]);
    expect(await commissions(true)).toEqual([1.5, 1, 0]);
  });

  test("a DAY order whose session closed while the server was down expires at start-up", async () => {
    const h = await start();
    const day = ok(await h.oms.submit(body({ type: "limit", limitPrice: 90 }))).order;
    await h.stop();
    const h2 = await OmsHarness.start({ dir: h.dir, nowMs: Date.parse("2026-11-24T15:00:00Z") });
    track(h2);
    expect(await h2.oms.order(day.id)).toMatchObject({ status: "expired", reason: "session closed while the server was down" });
    expect(await h2.broker.openOrders()).toEqual([]);
  });

  test("an order journaled as submitted but never acknowledged is accepted once the restored broker works it", async () => {
    const h = await start();
    // Only the write-ahead record: as if the process died before the broker's answer was journaled.
    h.store.journal.append({ t: "order", kind: "submitted", ts: h.clock.now, order: {
      id: "O500", account: "Gen-Acc", clientOrderId: "lost-ack", symbol: "AAPL", side: "buy", type: "limit", tif: "GTC", qty: 5,
      limitPriceUnits: toUnits(90), multiplier: 1, status: "submitted", filledQty: 0, avgFillPriceUnits: 0, triggered: false,
      createdTs: h.clock.now, updatedTs: h.clock.now, version: 1 } });
    await h.store.journal.durable();
    await h.stop();
    const h2 = await OmsHarness.start({ dir: h.dir, nowMs: h.clock.now + 1 });
    track(h2);
    expect(await h2.oms.order("O500")).toMatchObject({ status: "accepted", brokerOrderId: "paper-O500", version: 2 });
    expect(h2.oms.openOrders("Gen-Acc").map((o) => o.id)).toEqual(["O500"]);
  });

  test("the ALL-USE accounts are funded once, not again on restart", async () => {
    const h = await start();
    expect(["Gen-Acc", "Rev-Acc", "Com-Acc"].map((a) => h.oms.account(a)!.cash)).toEqual([120_000, 90_000, 90_000]);
    await h.stop();
    const h2 = await OmsHarness.start({ dir: h.dir, accounts: { capital: 1_000_000 } });
    track(h2);
    expect(h2.oms.account("Gen-Acc")!.cash).toBe(120_000);
  });
});

describe("state machine at the broker boundary", () => {
  test("an illegal event is logged and not applied; a duplicate fill id is applied once", async () => {
    const h = await start();
    const { order } = ok(await h.oms.submit(body({ qty: 10 })));
    const emit = (e: Parameters<Parameters<typeof h.broker.onEvent>[0]>[0]) => {
      // The paper broker's listeners are the order manager's: feed them an event directly.
      (h.broker as unknown as { listeners: ((e: unknown) => void)[] }).listeners.forEach((l) => l(e));
    };
    emit({ kind: "canceled", orderId: order.id, reason: "late", ts: 1 });
    expect(h.oms.stats.illegalTransitions).toBe(1);
    expect(h.logs.some((l) => l.includes("illegal order transition filled -> canceled"))).toBe(true);
    const fillId = h.store.fills({ orderId: order.id }, 10, 0).items[0]?.fillId ?? `${order.id}-10`;
    emit({ kind: "fill", fill: { orderId: order.id, fillId, account: "Gen-Acc", symbol: "AAPL", side: "buy", qty: 10, priceUnits: 1, commissionMicros: 0, ts: 1 } });
    expect(h.oms.stats.duplicateFills).toBe(1);
    await h.store.journal.durable();
    expect((await h.oms.order(order.id)) as Order).toMatchObject({ status: "filled", filledQty: 10 });
    expect(h.oms.positions("Gen-Acc")[0]!.qty).toBe(10);
  });

  test("a fill id another order already used (a restarted gateway's execId) is recorded under a qualified id; the journal never fails", async () => {
    // An outside broker's ids are checked (IBKR's execIds); the paper broker's are unique by construction.
    const h = await start({ external: true });
    const emit = (e: unknown) => (h.broker as unknown as { listeners: ((e: unknown) => void)[] }).listeners.forEach((l) => l(e));
    const a = ok(await h.oms.submit(body({ type: "limit", limitPrice: 90, qty: 10 }))).order;
    const b = ok(await h.oms.submit(body({ type: "limit", limitPrice: 90, qty: 10 }))).order;
    const fill = (orderId: string) => ({ kind: "fill", fill: { orderId, fillId: "0000e0d5.00000001.01.01", account: "Gen-Acc", symbol: "AAPL", side: "buy", qty: 10, priceUnits: 90_00000000, commissionMicros: 1_000_000, ts: 1 } });
    emit(fill(a.id));
    // In the same batch, and again once the first is on disk.
    emit(fill(b.id));
    emit(fill(b.id));
    await h.store.journal.durable();
    expect(h.store.journal.failed).toBeUndefined();
    expect(h.oms.stats).toMatchObject({ reusedFillIds: 1, duplicateFills: 1 });
    expect(h.store.fills({ orderId: b.id }, 10, 0).items.map((f) => f.fillId)).toEqual([`0000e0d5.00000001.01.01#${b.id}`]);
    expect(await h.oms.order(b.id)).toMatchObject({ status: "filled", filledQty: 10 });
    // A third order with the same id: found among the recent ids, again recorded apart.
    const c = ok(await h.oms.submit(body({ type: "limit", limitPrice: 90, qty: 10 }))).order;
    emit(fill(c.id));
    await h.store.journal.durable();
    expect(h.oms.stats.reusedFillIds).toBe(2);
    expect(h.oms.positions("Gen-Acc")[0]!.qty).toBe(30);
  });

  test("a broker fill with an unusable field is refused before the journal, logged and counted", async () => {
    const h = await start();
    const emit = (e: unknown) => (h.broker as unknown as { listeners: ((e: unknown) => void)[] }).listeners.forEach((l) => l(e));
    const o = ok(await h.oms.submit(body({ type: "limit", limitPrice: 90, qty: 10 }))).order;
    const fill = (f: Record<string, unknown>) => ({ kind: "fill", fill: { orderId: o.id, fillId: "x1", account: "Gen-Acc", symbol: "AAPL", side: "buy", qty: 5, priceUnits: 90_00000000, commissionMicros: 0, ts: 1, ...f } });
    for (const bad of [{ qty: Number.NaN }, { qty: 2.5 }, { priceUnits: Number.POSITIVE_INFINITY }, { commissionMicros: Number.NaN }, { fillId: "" }, { fillId: "x".repeat(200) }, { ts: Number.NaN }]) emit(fill(bad));
    emit(fill({ fillId: "good" }));
    await h.store.journal.durable();
    expect(h.store.journal.failed).toBeUndefined();
    expect(h.oms.stats.invalidBrokerMessages).toBe(7);
    expect(h.logs.filter((l) => l.includes("broker fill refused"))).toHaveLength(7);
    expect(await h.oms.order(o.id)).toMatchObject({ status: "partially_filled", filledQty: 5 });
  });

  test("any other broker event with an unusable field is refused before the journal, and the order keeps its terms", async () => {
    const h = await start();
    const emit = (e: unknown) => (h.broker as unknown as { listeners: ((e: unknown) => void)[] }).listeners.forEach((l) => l(e));
    const o = ok(await h.oms.submit(body({ type: "limit", limitPrice: 90, qty: 10 }))).order;
    emit({ kind: "replaced", orderId: o.id, qty: Number.NaN, ts: 1 });
    emit({ kind: "replaced", orderId: o.id, qty: 5, limitPriceUnits: Number.POSITIVE_INFINITY, ts: 1 });
    emit({ kind: "accepted", orderId: o.id, brokerOrderId: "", ts: 1 });
    emit({ kind: "canceled", orderId: o.id, reason: "x", ts: Number.NaN });
    await h.store.journal.durable();
    expect(h.store.journal.failed).toBeUndefined();
    expect(h.oms.stats.invalidBrokerMessages).toBe(4);
    expect(await h.oms.order(o.id)).toMatchObject({ qty: 10, status: "accepted" });
  });
});
