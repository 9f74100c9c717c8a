// The new-order fast path must accept only what the zod schema accepts, build the same value,
// and leave every error to zod: checked on valid bodies and on each field made wrong in turn.

import { describe, expect, test } from "bun:test";
import { newOrderSchema, parseBody, parseNewOrder } from "../../src/oms/validate.ts";

const VALID: Record<string, unknown>[] = [
  { account: "Gen-Acc", clientOrderId: "c-1", symbol: "AAPL", side: "buy", type: "market", qty: 1 },
  { account: "Gen-Acc", clientOrderId: "a.b_c:d-9", symbol: "AAPL", side: "sell", type: "limit", tif: "GTC", qty: 10, limitPrice: 100.25 },
  { account: "Rev-Acc", clientOrderId: "x", symbol: "SPY 261218P00500000", side: "buy", type: "stop_limit", tif: "DAY", qty: 2, limitPrice: 1, stopPrice: 1_000_000 },
  { account: "Com-Acc", clientOrderId: "s".repeat(64), symbol: "S", side: "sell", type: "stop", qty: -3.5, stopPrice: 0.01 },
  { account: "Gen-Acc", clientOrderId: "rth", symbol: "AAPL", side: "buy", type: "stop_limit", qty: 1, limitPrice: 2, stopPrice: 1, outsideRth: true, triggerMethod: "double_bid_ask" },
  { account: "Gen-Acc", clientOrderId: "rth2", symbol: "AAPL", side: "buy", type: "limit", qty: 1, limitPrice: 2, outsideRth: false },
];

const WRONG: [string, unknown][] = [
  ["account", "bad acc"], ["account", 7], ["account", ""], ["clientOrderId", ""], ["clientOrderId", "a b"], ["clientOrderId", "a/b"],
  ["clientOrderId", "s".repeat(65)], ["clientOrderId", "_-:"], ["clientOrderId", "a;b"], ["symbol", ""], ["symbol", "S".repeat(33)],
  ["symbol", 1], ["side", "BUY"], ["side", undefined], ["type", "trailing"], ["tif", "day"], ["tif", null], ["tif", undefined],
  ["qty", "1"], ["qty", Number.NaN], ["qty", Infinity], ["qty", null], ["limitPrice", 0], ["limitPrice", -1], ["limitPrice", 1_000_000.01],
  ["limitPrice", "1"], ["limitPrice", undefined], ["stopPrice", Infinity], ["stopPrice", null], ["extra", 1], ["__proto__", {}],
  ["outsideRth", "true"], ["outsideRth", 1], ["outsideRth", null], ["triggerMethod", "LAST"], ["triggerMethod", 2], ["triggerMethod", null],
];

describe("parseNewOrder", () => {
  test("valid bodies give the schema's value", () => {
    for (const b of VALID) {
      const fast = parseNewOrder(b), slow = parseBody(newOrderSchema, b);
      expect(fast.ok).toBe(true);
      expect(fast).toEqual(slow);
    }
  });

  test("every wrong field gives the schema's answer, error for error", () => {
    for (const b of VALID) {
      for (const [k, v] of WRONG) {
        const body = JSON.parse(JSON.stringify(b));
        body[k] = v;
        expect({ k, v, r: parseNewOrder(body) }).toEqual({ k, v, r: parseBody(newOrderSchema, body) });
      }
    }
  });

  test("non-object bodies and missing fields go to the schema", () => {
    for (const body of [null, undefined, 1, "x", [], [VALID[0]], new Map(), Object.create(null), { account: "Gen-Acc" }]) {
      expect(parseNewOrder(body)).toEqual(parseBody(newOrderSchema, body));
    }
  });
});
