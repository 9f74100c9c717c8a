// Our order terms in IBKR's Order fields: outsideRth as is, and the trigger method as IBKR's
// numeric code (TWS API Order.triggerMethod: 0 default, 1 double bid/ask, 2 last, 3 double last,
// 4 bid/ask, 7 last or bid/ask, 8 mid-point).

import { expect, test } from "bun:test";
import { OrderType } from "@stoqey/ib";
import { ibOrderOf } from "../../src/broker/ib-map.ts";
import type { BrokerOrder } from "../../src/broker/broker.ts";
import { toUnits } from "../../src/domain/price.ts";

const aapl = { index: 0, symbol: "AAPL", kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" } as BrokerOrder["instrument"];
const base: BrokerOrder = { orderId: "O1", account: "Gen-Acc", instrument: aapl, side: "sell", type: "stop_limit", tif: "GTC", qty: 100,
  stopPriceUnits: toUnits(99.5), limitPriceUnits: toUnits(99.4) };

test("outsideRth and triggerMethod map to IBKR's fields and codes; absent means false and no trigger field", () => {
  expect(ibOrderOf({ ...base, outsideRth: true, triggerMethod: "double_bid_ask" }, "DU1")).toMatchObject({
    orderType: OrderType.STP_LMT, auxPrice: 99.5, lmtPrice: 99.4, outsideRth: true, triggerMethod: 1,
  });
  const codes = (["default", "double_bid_ask", "last", "double_last", "bid_ask", "last_or_bid_ask", "mid_point"] as const)
    .map((m) => ibOrderOf({ ...base, triggerMethod: m }, "DU1").triggerMethod);
  expect(codes).toEqual([0, 1, 2, 3, 4, 7, 8]);
  const plain = ibOrderOf({ ...base, type: "limit", stopPriceUnits: undefined }, "DU1");
  expect(plain.outsideRth).toBe(false);
  expect("triggerMethod" in plain).toBe(false);
});
