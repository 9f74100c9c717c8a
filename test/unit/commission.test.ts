// Commissions and regulatory fees against figures worked by hand from IBKR's published
// examples and the fee rates cited in docs/orders.md ("Commissions and fees").

import { describe, expect, test } from "bun:test";
import { IBKR_PRO_FIXED, chargeFill, costsOf, currentMinimumFrom, newOrderForMinimum, noCosts, regulatoryFeesMicros, type CommissionSchedule } from "../../src/broker/commission.ts";
import { toUnits } from "../../src/domain/price.ts";

/** What one order costs in dollars, filled by `fills` ([qty, price]) in turn; each fill's charge. */
function charges(kind: "stock" | "option", side: "buy" | "sell", fills: [number, number][], s: CommissionSchedule = IBKR_PRO_FIXED): number[] {
  const c = noCosts();
  return fills.map(([qty, price]) => chargeFill(s, kind, side, c, toUnits(price), qty, kind === "option" ? 100 : 1) / 1e6);
}
const total = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) * 100) / 100;

describe("IBKR Pro fixed, US options: per contract by premium, $1.00 minimum per order", () => {
  test("IBKR's own examples: 1 @ $2 = $1.00, 2 @ $5 = $1.30, 3 @ $0.075 = $1.50, 5 @ $0.03 = $1.25", () => {
    expect(charges("option", "buy", [[1, 2]])).toEqual([1]);
    expect(charges("option", "buy", [[2, 5]])).toEqual([1.3]);
    expect(charges("option", "buy", [[3, 0.075]])).toEqual([1.5]);
    expect(charges("option", "buy", [[5, 0.03]])).toEqual([1.25]);
  });

  test("band edges: $0.05 pays $0.50 a contract, $0.10 pays $0.65, $0.0499 pays $0.25", () => {
    expect(charges("option", "buy", [[10, 0.05]])).toEqual([5]);
    expect(charges("option", "buy", [[10, 0.1]])).toEqual([6.5]);
    expect(charges("option", "buy", [[10, 0.0499]])).toEqual([2.5]);
  });

  test("the minimum is per order: 5 @ $0.03 in fills of 2 and 3 pay $1.00 then $0.25", () => {
    expect(charges("option", "buy", [[2, 0.03], [3, 0.03]])).toEqual([1, 0.25]);
  });

  test("each fill's premium picks its band: 4 @ $0.12 then 4 @ $0.04 = $2.60 + $1.00", () => {
    expect(charges("option", "buy", [[4, 0.12], [4, 0.04]])).toEqual([2.6, 1]);
  });
});

describe("IBKR Pro fixed, US stocks: $0.005 a share, $1.00 minimum, 1 % of trade value maximum", () => {
  test("IBKR's own examples: 100 @ $25 = $1.00, 1,000 @ $25 = $5.00, 1,000 @ $0.25 = $2.50", () => {
    expect(charges("stock", "buy", [[100, 25]])).toEqual([1]);
    expect(charges("stock", "buy", [[1000, 25]])).toEqual([5]);
    expect(charges("stock", "buy", [[1000, 0.25]])).toEqual([2.5]);
  });

  test("400 shares in four fills of 100 pay $1.00, $0, $0.50, $0.50: $2.00, as one fill would", () => {
    expect(charges("stock", "buy", [[100, 50], [100, 50], [100, 50], [100, 50]])).toEqual([1, 0, 0.5, 0.5]);
  });
});

describe("regulatory fees on sales (SEC Section 31 at $27.80 per million, FINRA TAF)", () => {
  test("100 shares sold at $100: $1.00 commission + SEC $0.278 → $0.28 + TAF $0.0166 → $0.02 = $1.30; bought, $1.00", () => {
    expect(charges("stock", "sell", [[100, 100]])).toEqual([1.3]);
    expect(charges("stock", "buy", [[100, 100]])).toEqual([1]);
  });

  test("100,000 shares sold at $10: $500 commission + SEC $27.80 + TAF $16.60 capped at $8.30 = $536.10", () => {
    expect(charges("stock", "sell", [[100_000, 10]])).toEqual([536.1]);
  });

  test("10 contracts sold at $1.50: $6.50 + SEC on $1,500 = $0.0417 → $0.05 + TAF 10 × $0.00279 → $0.03 = $6.58", () => {
    expect(charges("option", "sell", [[10, 1.5]])).toEqual([6.58]);
  });

  test("fees round up per order, not per fill: 100 shares sold at $100 in four fills still pay $1.30", () => {
    expect(total(charges("stock", "sell", [[25, 100], [25, 100], [25, 100], [25, 100]]))).toBe(1.3);
  });

  test("rates of zero turn the fees off", () => {
    const none = { secPerMillion: 0, tafPerShareMicros: 0, tafMaxPerTradeMicros: 0, tafPerContractMicros: 0 };
    expect(regulatoryFeesMicros(none, "stock", "sell", 100, 10_000_000_000)).toBe(0);
    expect(charges("stock", "sell", [[100, 100]], { ...IBKR_PRO_FIXED, fees: none })).toEqual([1]);
  });
});

describe("costs rebuilt from fills (a restart)", () => {
  test("200 shares filled and charged $1.00 before a restart: the next 200 pay $1.00, not a second minimum plus", () => {
    const c = costsOf(IBKR_PRO_FIXED, "stock", "buy", 1, [{ qty: 200, priceUnits: toUnits(100), commissionMicros: 1_000_000 }]);
    expect(c).toMatchObject({ qty: 200, valueMicros: 20_000_000_000, baseMicros: 1_000_000, chargedMicros: 1_000_000 });
    expect(chargeFill(IBKR_PRO_FIXED, "stock", "buy", c, toUnits(100), 200, 1)).toBe(1_000_000);
  });

  test("an option order's premium bands survive the rebuild: 3 @ $0.03 charged $1.00, then 2 more pay $0.25", () => {
    const c = costsOf(IBKR_PRO_FIXED, "option", "buy", 100, [{ qty: 3, priceUnits: toUnits(0.03), commissionMicros: 1_000_000 }]);
    expect(chargeFill(IBKR_PRO_FIXED, "option", "buy", c, toUnits(0.03), 2, 100)).toBe(250_000);
  });
});

describe("a new order for the minimum (a modify or a night), IBKR fixed pricing for stocks", () => {
  const fill = (c: ReturnType<typeof noCosts>, kind: "stock" | "option", side: "buy" | "sell", qty: number, price: number) =>
    chargeFill(IBKR_PRO_FIXED, kind, side, c, toUnits(price), qty, kind === "option" ? 100 : 1) / 1e6;

  test("IBKR's example: 100 of 200 at $25, modified, 100 more: $1.00 + $1.00 (one order: $1.00 + $0)", () => {
    const c = noCosts();
    expect(fill(c, "stock", "buy", 100, 25)).toBe(1);
    newOrderForMinimum(IBKR_PRO_FIXED, "stock", c);
    expect(fill(c, "stock", "buy", 100, 25)).toBe(1);
    expect(c.chargedMicros).toBe(2_000_000);
  });

  test("the fees stay on the whole order: sell 100 @ $100 ($1.30), modify, sell 100 more = $1.00 + SEC $0.56 − $0.28 + TAF $0.04 − $0.02 = $1.30", () => {
    const c = noCosts();
    expect(fill(c, "stock", "sell", 100, 100)).toBe(1.3);
    newOrderForMinimum(IBKR_PRO_FIXED, "stock", c);
    expect(fill(c, "stock", "sell", 100, 100)).toBe(1.3);
  });

  test("the cap starts again too: 1,000 @ $0.25 pays 1 % = $2.50; after a night, 1,000 more pay $2.50 again", () => {
    const c = noCosts();
    expect(fill(c, "stock", "buy", 1000, 0.25)).toBe(2.5);
    newOrderForMinimum(IBKR_PRO_FIXED, "stock", c);
    expect(fill(c, "stock", "buy", 1000, 0.25)).toBe(2.5);
  });

  test("before any fill, and for options (no such note in IBKR's option pricing), nothing changes", () => {
    const c = noCosts();
    newOrderForMinimum(IBKR_PRO_FIXED, "stock", c);
    expect(fill(c, "stock", "buy", 100, 25)).toBe(1);
    const o = noCosts();
    expect(fill(o, "option", "buy", 1, 2)).toBe(1);
    newOrderForMinimum(IBKR_PRO_FIXED, "option", o);
    expect(fill(o, "option", "buy", 1, 2)).toBe(0.3);
  });

  test("rebuilt after a restart from the fills and where the current minimum began: the next 300 @ $25 pay $1.00", () => {
    // 100 then (new order) 100 @ $25, charged $1.00 each; the current order holds 100 ($1.00);
    // 300 more make it 400 × $0.005 = $2.00, so $1.00 more.
    const fills = [{ qty: 100, priceUnits: toUnits(25), commissionMicros: 1_000_000 }, { qty: 100, priceUnits: toUnits(25), commissionMicros: 1_000_000 }];
    const c = costsOf(IBKR_PRO_FIXED, "stock", "buy", 1, fills, 1);
    expect(c).toMatchObject({ qty: 200, segQty: 100, priorCommissionMicros: 1_000_000, chargedMicros: 2_000_000 });
    expect(fill(c, "stock", "buy", 300, 25)).toBe(1);
    // All fills before the current order (a modify after the last fill): the next 100 pay a minimum.
    expect(fill(costsOf(IBKR_PRO_FIXED, "stock", "buy", 1, fills, 2), "stock", "buy", 100, 25)).toBe(1);
  });
});

test("where the current minimum began: after the last modify, among the last fill's trading day", () => {
  const f = (ts?: number) => ({ qty: 1, priceUnits: 1, commissionMicros: 0, ts });
  const dayOf = (ms: number) => String(Math.floor(ms / 10)); // a "day" is 10 ms here
  expect(currentMinimumFrom([f(1), f(12), f(15)], 0, dayOf)).toBe(1); // day 0, then two on day 1
  expect(currentMinimumFrom([f(1), f(12), f(15)], 2, dayOf)).toBe(2); // modified after the second
  expect(currentMinimumFrom([f(1), f(12)], 2, dayOf)).toBe(2); // modified after the last: all closed
  expect(currentMinimumFrom([f(), f()], 0, dayOf)).toBe(0); // no times: one minimum
  expect(currentMinimumFrom([], 0, dayOf)).toBe(0);
});
