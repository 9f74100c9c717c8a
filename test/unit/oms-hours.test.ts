// The order manager with exchange hours and the new IBKR order fields: a held order's events and
// reason, and outsideRth and triggerMethod through validation, idempotency, the view and a
// restart. Clock and calendar are injected (OmsHarness), so these pass at any hour of the real day.

import { describe, expect, test } from "bun:test";
import { toUnits } from "../../src/domain/price.ts";
import { orderView } from "../../src/oms/views.ts";
import { OPTIONS } from "../helpers/market.ts";
import { err, harnessSet, ok, OmsHarness } from "../helpers/oms.ts";

const { start, track } = harnessSet();

let n = 0;
const body = (o: Record<string, unknown> = {}) => ({ account: "Gen-Acc", clientOrderId: `h${++n}`, symbol: "AAPL", side: "buy", type: "market", qty: 10, ...o });

describe("held orders", () => {
  test("a market order on a Sunday is accepted and held: its events and reason say until when; it fills at Monday's open", async () => {
    const h = await start({ nowMs: Date.parse("2026-11-22T20:00:00Z") }); // Sunday 15:00 New York
    const { order } = ok(await h.oms.submit(body()));
    expect(order).toMatchObject({ status: "accepted", filledQty: 0, reason: "held until the regular session opens at 2026-11-23 09:30 America/New_York" });
    const held = h.oms.events(order.id).find((e) => e.kind === "held")!;
    expect(held.detail).toEqual({ reason: order.reason, untilTs: Date.parse("2026-11-23T14:30:00Z") });
    h.quote("AAPL", 101, 1000, 101.02, 1000); // a night quote: nothing
    expect(h.oms.openOrders("Gen-Acc").map((o) => o.filledQty)).toEqual([0]);
    h.clock.now = Date.parse("2026-11-23T14:30:00Z");
    h.quote("AAPL", 100.5, 1000, 100.52, 1000);
    await h.store.journal.durable();
    const done = (await h.oms.order(order.id))!;
    expect(done).toMatchObject({ status: "filled", filledQty: 10, avgFillPriceUnits: toUnits(100.52) });
    expect(done.reason).toBeUndefined();
    expect(h.oms.events(order.id).map((e) => e.kind)).toEqual(["submitted", "accepted", "held", "released", "fill"]);
  });
});

describe("outsideRth and triggerMethod", () => {
  test("validated, resolved to the instrument's default, shown in the view, idempotent, and kept across a restart", async () => {
    const h = await start();
    const opt = OPTIONS[0];
    h.quote(opt, 5, 10, 5.1, 10);
    const stopBody = body({ symbol: opt, type: "stop", stopPrice: 5.5, qty: 1, tif: "GTC" });
    const { order } = ok(await h.oms.submit(stopBody));
    expect(order.triggerMethod).toBe("double_bid_ask");
    expect(orderView(order)).toMatchObject({ outsideRth: false, triggerMethod: "double_bid_ask" });
    // The same request naming the default explicitly is the same order.
    expect(ok(await h.oms.submit({ ...stopBody, triggerMethod: "default" })).created).toBe(false);
    expect(err(await h.oms.submit({ ...stopBody, triggerMethod: "last" }))).toMatchObject({ status: 409, code: "DUPLICATE_CLIENT_ORDER_ID" });
    expect(err(await h.oms.submit(body({ type: "limit", limitPrice: 99, triggerMethod: "last" })))).toMatchObject({ status: 400, field: "triggerMethod" });
    expect(err(await h.oms.submit(body({ type: "limit", limitPrice: 99, outsideRth: "yes" })))).toMatchObject({ status: 400, field: "outsideRth" });
    const lim = ok(await h.oms.submit(body({ type: "limit", limitPrice: 90, outsideRth: true, tif: "GTC" }))).order;
    expect(orderView(lim)).toMatchObject({ outsideRth: true, triggerMethod: null });
    await h.stop();
    const again = await OmsHarness.start({ dir: h.dir, nowMs: h.clock.now });
    track(again);
    expect(again.oms.openOrders("Gen-Acc").map((o) => [o.id, o.outsideRth ?? false, o.triggerMethod ?? null]).sort())
      .toEqual([[order.id, false, "double_bid_ask"], [lim.id, true, null]].sort());
    expect((await again.broker.openOrders()).find((o) => o.orderId === lim.id)).toMatchObject({ outsideRth: true });
  });
});

describe("a DAY order's end across a restart", () => {
  // Monday 2026-11-23 (EST, UTC−5): the after-hours close is 20:00 New York = 01:00Z Tuesday.
  const MON_20H = Date.parse("2026-11-24T01:00:00Z");

  test("an outsideRth DAY limit placed after hours ends at that evening's 20:00, not the next day's, when the server restarts after it", async () => {
    const h = await start({ nowMs: Date.parse("2026-11-23T22:00:00Z") }); // Monday 17:00 New York
    const { order } = ok(await h.oms.submit(body({ type: "limit", limitPrice: 99, outsideRth: true })));
    expect(order.status).toBe("accepted");
    expect(order.reason).toBeUndefined(); // working in after-hours, not held
    await h.stop();
    // Restart at 20:30: the order's day (Monday's after-hours) is over.
    const again = await OmsHarness.start({ dir: h.dir, nowMs: MON_20H + 30 * 60_000 });
    track(again);
    await again.store.journal.durable();
    expect(again.oms.openOrders("Gen-Acc")).toEqual([]);
    expect(await again.oms.order(order.id)).toMatchObject({ status: "expired", reason: "session closed while the server was down" });
    expect(await again.broker.openOrders()).toEqual([]);
  });

  test("an outsideRth DAY limit placed in the regular session survives a restart at 17:00, fills after hours, and a twin expires at 20:00", async () => {
    const h = await start(); // Monday 10:00
    const a = ok(await h.oms.submit(body({ type: "limit", limitPrice: 99, outsideRth: true }))).order;
    const b = ok(await h.oms.submit(body({ type: "limit", limitPrice: 98, outsideRth: true }))).order;
    await h.stop();
    const again = await OmsHarness.start({ dir: h.dir, nowMs: Date.parse("2026-11-23T22:00:00Z") }); // 17:00
    track(again);
    expect(again.oms.openOrders("Gen-Acc").map((o) => o.id).sort()).toEqual([a.id, b.id].sort());
    again.quote("AAPL", 98.9, 1000, 98.95, 1000); // after hours: the 99 limit is marketable
    await again.store.journal.durable();
    expect(await again.oms.order(a.id)).toMatchObject({ status: "filled", avgFillPriceUnits: toUnits(98.95) });
    again.clock.now = MON_20H;
    again.quote("AAPL", 98.9, 1000, 98.95, 1000);
    await again.store.journal.durable();
    expect(await again.oms.order(b.id)).toMatchObject({ status: "expired" });
    expect(again.oms.events(b.id).find((e) => e.kind === "expired")!.ts).toBe(MON_20H);
  });
});
