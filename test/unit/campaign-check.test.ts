// The checks behind the crash and soak campaigns' figures must be able to fail: a lost order, a
// missing or doubled fill, a changed state or cash, and a growing RSS are each reported.

import { expect, test } from "bun:test";
import type { FillView, OrderView } from "../../src/client/protocol.ts";
import { checkAgainstKnown, checkUnchanged, type Snapshot } from "../../bench/campaign/crash-check.ts";
import { emptyKnown } from "../../bench/campaign/crash-flood.ts";
import { fitLine } from "../../bench/campaign/soak.ts";

function order(id: string, over: Partial<OrderView> = {}): OrderView {
  return {
    id, account: "Gen-Acc", clientOrderId: `c-${id}`, symbol: "AAPL", side: "buy", type: "market", tif: "DAY", qty: 10, limitPrice: null, stopPrice: null,
    status: "filled", filledQty: 10, avgFillPrice: 100, triggered: false, brokerOrderId: null, reason: null, createdTs: 1, updatedTs: 1, version: 3,
    outsideRth: false, triggerMethod: null, ...over,
  };
}

function fill(fillId: string, orderId: string, qty = 10): FillView {
  return { fillId, orderId, account: "Gen-Acc", symbol: "AAPL", side: "buy", qty, price: 100, multiplier: 1, commission: 1, ts: 1, kind: "trade" } as FillView;
}

/** A consistent snapshot: one filled order, its fill, the position and the cash that follow. */
function snapshot(): Snapshot {
  const accounts = ["Gen-Acc", "Rev-Acc", "Com-Acc"];
  return {
    orders: new Map([["O1", order("O1")]]), fills: [fill("F1", "O1")],
    positions: new Map(accounts.map((a) => [a, new Map(a === "Gen-Acc" ? [["AAPL", 10]] : [])])),
    cash: new Map(accounts.map((a) => [a, a === "Gen-Acc" ? 1000 - 1001 : 1000])), deposits: new Map(accounts.map((a) => [a, 1000])),
    states: new Map(accounts.map((a) => [a, "active"])), reasons: new Map(accounts.map((a) => [a, ""])),
  };
}

test("a consistent snapshot that holds everything the client knew has no differences", () => {
  const known = emptyKnown();
  known.orders.set("O1", order("O1"));
  known.fillIds.add("F1");
  known.states.set("Gen-Acc", "active");
  const d = checkAgainstKnown(known, snapshot());
  expect({ ...d, notes: [] }).toEqual({ lost: 0, fillsLost: 0, doubled: 0, stateChanges: 0, cashDiffs: 0, positionDiffs: 0, notes: [] });
  expect(checkUnchanged(snapshot(), snapshot()).notes).toEqual([]);
});

test("lost and regressed orders, missing and doubled fills, state and cash changes are each counted", () => {
  const known = emptyKnown();
  known.orders.set("O1", order("O1"));
  known.orders.set("O2", order("O2", { status: "accepted", filledQty: 0, version: 2 }));
  known.fillIds.add("F9");
  known.states.set("Gen-Acc", "active");
  const s = snapshot();
  s.orders.set("O1", order("O1", { status: "accepted", filledQty: 0, version: 2 }));
  s.fills.push(fill("F1", "O1"));
  s.states.set("Gen-Acc", "halted");
  const d = checkAgainstKnown(known, s);
  expect(d.lost).toBe(2); // O1 went back, O2 is missing
  expect(d.fillsLost).toBe(1); // F9
  expect(d.doubled).toBeGreaterThanOrEqual(2); // F1 twice, and O1's fills exceed its filled quantity
  expect(d.stateChanges).toBe(1);
  expect(d.cashDiffs).toBe(1); // cash no longer equals deposits plus both fills
  expect(d.positionDiffs).toBe(1);

  const after = snapshot();
  after.cash.set("Rev-Acc", 999);
  after.states.set("Com-Acc", "reducing");
  after.orders.delete("O1");
  const q = checkUnchanged(snapshot(), after);
  expect([q.lost, q.cashDiffs, q.stateChanges]).toEqual([1, 1, 1]);
});

test("the RSS fit finds a slope and its noise", () => {
  const xs = Array.from({ length: 50 }, (_, i) => i / 10);
  const flat = fitLine(xs, xs.map((_, i) => 200 + (i % 2 === 0 ? 0.5 : -0.5)));
  expect(Math.abs(flat.slope)).toBeLessThan(0.1);
  expect(flat.residualSd).toBeCloseTo(0.5, 1);
  const growing = fitLine(xs, xs.map((x) => 200 + 3 * x));
  expect(growing.slope).toBeCloseTo(3, 6);
});
