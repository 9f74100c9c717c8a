// The order state machine table and the idempotency rule on terms.

import { describe, expect, test } from "bun:test";
import { checkTransition, isTerminal, ORDER_STATUSES, sameTerms, TRANSITIONS, type OrderTerms } from "../../src/domain/order.ts";

describe("order state machine", () => {
  test("the documented happy paths are legal", () => {
    const paths = [
      ["initialized", "submitted", "accepted", "partially_filled", "partially_filled", "filled"],
      ["initialized", "denied"],
      ["initialized", "submitted", "rejected"],
      ["initialized", "submitted", "accepted", "pending_cancel", "canceled"],
      ["initialized", "submitted", "accepted", "pending_replace", "accepted", "expired"],
      ["initialized", "submitted", "filled"],
      ["initialized", "submitted", "accepted", "pending_cancel", "partially_filled", "canceled"],
    ] as const;
    for (const path of paths) for (let i = 1; i < path.length; i++) expect(checkTransition(path[i - 1]!, path[i]!)).toBeUndefined();
  });

  test("terminal states have no way out, and every other move out of them is an error", () => {
    const terminal = ORDER_STATUSES.filter(isTerminal);
    expect(terminal.sort()).toEqual(["canceled", "denied", "expired", "filled", "rejected"]);
    for (const from of terminal) for (const to of ORDER_STATUSES) expect(checkTransition(from, to)).toBe(`illegal order transition ${from} -> ${to}`);
  });

  test("selected illegal transitions", () => {
    expect(checkTransition("accepted", "submitted")).toBeDefined();
    expect(checkTransition("initialized", "filled")).toBeDefined();
    expect(checkTransition("accepted", "rejected")).toBeDefined();
    expect(checkTransition("pending_cancel", "pending_replace")).toBeDefined();
  });

  test("every target in the table is a known state", () => {
    for (const targets of Object.values(TRANSITIONS)) for (const t of targets) expect(ORDER_STATUSES).toContain(t);
  });
});

describe("sameTerms", () => {
  const base: OrderTerms = { symbol: "AAPL", side: "buy", type: "limit", tif: "DAY", qty: 10, limitPriceUnits: 100 };
  test("equal terms match; any difference does not", () => {
    expect(sameTerms(base, { ...base })).toBe(true);
    expect(sameTerms(base, { ...base, qty: 11 })).toBe(false);
    expect(sameTerms(base, { ...base, limitPriceUnits: 101 })).toBe(false);
    expect(sameTerms(base, { ...base, stopPriceUnits: 90 })).toBe(false);
    expect(sameTerms(base, { ...base, tif: "GTC" })).toBe(false);
    expect(sameTerms(base, { ...base, outsideRth: true })).toBe(false);
    expect(sameTerms(base, { ...base, outsideRth: false })).toBe(true);
    expect(sameTerms({ ...base, type: "stop_limit", triggerMethod: "last" }, { ...base, type: "stop_limit", triggerMethod: "double_last" })).toBe(false);
  });
});
