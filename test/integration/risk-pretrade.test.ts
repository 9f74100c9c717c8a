// Every pre-trade check through the real order API (REST over Bun.serve on port 0, the order
// manager, the paper broker, a SQLite file) with the WASM risk engine as the hook: each passes
// just inside its limit and is denied just outside it, with its reason code.

import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { expiryMs } from "../../src/domain/instrument.ts";
import { GreeksEngine } from "../../src/risk/greeks.ts";
import type { RiskLimitsOverride } from "../../src/risk/settings.ts";
import { PUT, CALL, startRiskRig, type RiskRig } from "../helpers/risk.ts";

type Rig = RiskRig;
let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  if (rig) rmSync(rig.h.dir, { recursive: true, force: true });
  rig = undefined;
});

async function start(limits: RiskLimitsOverride, mode: "cash" | "regT" = "cash"): Promise<Rig> {
  rig = await startRiskRig(limits, { mode });
  return rig;
}

/** Places and expects the order to pass the risk check (any status but denied). */
async function passes(r: Rig, o: Record<string, unknown>): Promise<any> {
  const res = await r.place(o);
  expect(res.status).toBe(201);
  expect(res.json.status).not.toBe("denied");
  return res.json;
}

/** Places and expects a denial with `code`. */
async function denied(r: Rig, o: Record<string, unknown>, code: string): Promise<any> {
  const res = await r.place(o);
  expect(res.status).toBe(201);
  expect(res.json.status).toBe("denied");
  expect(res.json.reason).toStartWith(`${code}: `);
  return res.json;
}

const resting = (qty: number, extra: Record<string, unknown> = {}) => ({ type: "limit", limitPrice: 99, qty, ...extra });

describe("pre-trade checks, just inside and just outside", () => {
  test("notional per order", async () => {
    const r = await start({ maxOrderNotional: 0.1 }); // $10,000
    await passes(r, resting(100, { limitPrice: 100 }));
    await denied(r, resting(101, { limitPrice: 100 }), "NOTIONAL");
  });

  test("quantity bounds", async () => {
    const r = await start({ maxQty: 100, minQty: 10 });
    await passes(r, resting(100));
    await passes(r, resting(10));
    await denied(r, resting(101), "BAD_QTY");
    await denied(r, resting(9), "BAD_QTY");
  });

  test("fat-finger band around the mid", async () => {
    const r = await start({ priceBand: 0.1 }); // mid 100.01: 90.009 .. 110.011
    await passes(r, resting(1, { limitPrice: 110.01 }));
    await denied(r, resting(1, { limitPrice: 110.02 }), "PRICE_BAND");
    await passes(r, resting(1, { limitPrice: 90.01, side: "buy" }));
    await denied(r, resting(1, { limitPrice: 90 }), "PRICE_BAND");
  });

  test("a market order needs a fresh quote", async () => {
    const r = await start({ quoteMaxAgeMs: 1000 });
    r.h.quote("AAPL", 100, 100_000, 100.02, 100_000); // stamped with the clock
    r.h.clock.now += 1000;
    await passes(r, { type: "market", qty: 1 });
    r.h.clock.now += 1;
    await denied(r, { type: "market", qty: 1 }, "NO_QUOTE");
  });

  test("submit rate per account", async () => {
    const r = await start({ submitRatePerS: 5 });
    for (let i = 0; i < 5; i++) await passes(r, resting(1));
    await denied(r, resting(1), "SUBMIT_RATE");
    r.h.clock.now += 200; // one token back at 5/s
    await passes(r, resting(1));
  });

  test("open orders", async () => {
    const r = await start({ maxOpenOrders: 3 });
    for (let i = 0; i < 3; i++) await passes(r, resting(1));
    await denied(r, resting(1), "MAX_OPEN_ORDERS");
  });

  test("position per instrument counts working orders (worst case)", async () => {
    const r = await start({ maxPositionQty: 100 });
    await passes(r, resting(60));
    await passes(r, resting(40));
    await denied(r, resting(1), "POSITION_LIMIT");
  });

  test("gross exposure", async () => {
    const r = await start({ maxGrossExposure: 0.2 }); // $20,000; AAPL marks at 100.01
    await passes(r, resting(199));
    await denied(r, resting(1), "GROSS_EXPOSURE");
  });

  test("net exposure", async () => {
    const r = await start({ maxNetExposure: 0.15 }); // $15,000
    await passes(r, resting(149));
    await denied(r, resting(1), "NET_EXPOSURE");
  });

  test("concentration per underlying, against equity", async () => {
    const r = await start({ maxConcentration: 0.25 }); // $25,000 of AAPL delta on $100,000
    await passes(r, resting(249));
    await denied(r, resting(1), "CONCENTRATION");
    await passes(r, resting(1, { symbol: "MSFT" }));
  });

  test("portfolio dollar delta", async () => {
    const r = await start({ maxDelta: 0.3 }); // $30,000
    await passes(r, resting(299));
    await denied(r, resting(1), "DELTA_LIMIT");
  });

  test("buying power of a cash account: buys", async () => {
    const r = await start({});
    await passes(r, resting(1000, { limitPrice: 100 })); // exactly the $100,000 of cash
    await denied(r, resting(1, { limitPrice: 90.01 }), "BUYING_POWER");
  });

  test("cash-secured puts need strike × 100 × qty of cash", async () => {
    const r = await start({});
    await passes(r, { symbol: PUT, side: "sell", type: "limit", limitPrice: 10.5, qty: 4 }); // 4 × $25,000
    await denied(r, { symbol: PUT, side: "sell", type: "limit", limitPrice: 10.5, qty: 1 }, "BUYING_POWER");
  });

  test("buying back a cash-secured put passes even when every dollar is reserved", async () => {
    const r = await start({});
    expect((await passes(r, { symbol: PUT, side: "sell", type: "market", qty: 4 })).status).toBe("filled");
    await r.h.store.journal.durable();
    // Cash: $100,000 + 4 × $980 premium − $2.60 commission = $103,917.40, $100,000 of it securing the
    // puts; 39 AAPL at $100.02 + $1 leave $100,015.62. A new sale, or more stock, is denied; buying one
    // put back ($1,000 at the ask) passes because it frees the $25,000 that secured it.
    expect((await passes(r, { type: "market", qty: 39 })).status).toBe("filled");
    await r.h.store.journal.durable();
    await denied(r, { symbol: PUT, side: "sell", type: "limit", limitPrice: 10.5, qty: 1 }, "BUYING_POWER");
    await denied(r, { type: "limit", limitPrice: 100, qty: 1 }, "BUYING_POWER");
    expect((await passes(r, { symbol: PUT, side: "buy", type: "market", qty: 1 })).status).toBe("filled");
  });

  test("covered calls need the shares; a cash account cannot sell short", async () => {
    const r = await start({});
    await denied(r, { symbol: "TSLA", side: "sell", type: "limit", limitPrice: 251, qty: 1 }, "SHORT_SALE");
    await denied(r, { symbol: CALL, side: "sell", type: "limit", limitPrice: 10.5, qty: 1 }, "UNCOVERED_CALL");
    const bought = await passes(r, { symbol: "TSLA", side: "buy", type: "market", qty: 100 });
    expect(bought.status).toBe("filled");
    await passes(r, { symbol: CALL, side: "sell", type: "limit", limitPrice: 10.5, qty: 1 });
    await denied(r, { symbol: CALL, side: "sell", type: "limit", limitPrice: 10.5, qty: 1 }, "UNCOVERED_CALL");
    // Selling the shares under a working covered call would uncover it.
    await denied(r, { symbol: "TSLA", side: "sell", type: "limit", limitPrice: 251, qty: 1 }, "UNCOVERED_CALL");
  });

  test("Reg-T margin: 50 % of a stock purchase against equity", async () => {
    const r = await start({}, "regT");
    await passes(r, resting(1999)); // 0.5 × 1999 × 100.01 = $99,960 of $100,000 equity
    await denied(r, resting(1), "BUYING_POWER"); // 0.5 × 2000 × 100.01 = $100,010
  });

  test("ALL-USE delta band on option sales: just inside and just outside", async () => {
    const ge = await GreeksEngine.create();
    let r = await start({});
    const t = (expiryMs("20261127") - r.h.clock.now) / (365 * 86_400_000);
    const [g] = ge.impliedVols([{ spot: 250.05, strike: 250, tYears: t, rate: 0.04, divYield: 0, right: "P", price: 9.9 }]);
    const points = Math.abs(g!.delta) * 100;
    await r.close();
    rmSync(r.h.dir, { recursive: true, force: true });
    rig = undefined;
    r = await start({ deltaBand: { lo: points - 0.01, hi: points + 5, mode: "deny" } });
    await passes(r, { symbol: PUT, side: "sell", type: "limit", limitPrice: 10.5, qty: 1 });
    await r.close();
    rmSync(r.h.dir, { recursive: true, force: true });
    rig = undefined;
    r = await start({ deltaBand: { lo: points + 0.01, hi: points + 5, mode: "deny" } });
    const below = await denied(r, { symbol: PUT, side: "sell", type: "limit", limitPrice: 10.5, qty: 1 }, "DELTA_BAND");
    expect(below.reason).toContain(`(bound ${points + 0.01})`);
    // The upper bound too: just under it passes, just over it is denied, naming it.
    await r.close();
    rmSync(r.h.dir, { recursive: true, force: true });
    rig = undefined;
    r = await start({ deltaBand: { lo: points - 5, hi: points + 0.01, mode: "deny" } });
    await passes(r, { symbol: PUT, side: "sell", type: "limit", limitPrice: 10.5, qty: 1 });
    await r.close();
    rmSync(r.h.dir, { recursive: true, force: true });
    rig = undefined;
    r = await start({ deltaBand: { lo: points - 5, hi: points - 0.01, mode: "deny" } });
    const above = await denied(r, { symbol: PUT, side: "sell", type: "limit", limitPrice: 10.5, qty: 1 }, "DELTA_BAND");
    expect(above.reason).toContain(`(bound ${points - 0.01})`);
    // Warn mode lets it through.
    await r.close();
    rmSync(r.h.dir, { recursive: true, force: true });
    rig = undefined;
    r = await start({ deltaBand: { lo: points + 0.01, hi: points + 5, mode: "warn" } });
    await passes(r, { symbol: PUT, side: "sell", type: "limit", limitPrice: 10.5, qty: 1 });
    expect(r.h.risk!.hook.warnings).toBe(1);
  });

  test("halted denies everything; reducing allows only orders that reduce", async () => {
    const r = await start({});
    await passes(r, { type: "market", qty: 10 });
    r.h.risk!.setState("test", "T", "reducing", "test");
    await denied(r, { type: "market", qty: 1 }, "REDUCE_ONLY");
    await denied(r, { side: "sell", type: "market", qty: 11 }, "REDUCE_ONLY");
    await passes(r, { side: "sell", type: "market", qty: 4 });
    r.h.risk!.setState("test", "*", "halted", "firm halt");
    await denied(r, { side: "sell", type: "market", qty: 1 }, "HALTED");
  });

  test("a modify is checked too: 422 RISK_DENIED and the order is unchanged", async () => {
    const r = await start({ maxPositionQty: 100 });
    const o = await passes(r, resting(50));
    await r.h.store.journal.durable();
    const ok = await r.call("PATCH", `/v1/orders/${o.id}`, { qty: 100 });
    expect(ok.status).toBe(200);
    const res = await r.call("PATCH", `/v1/orders/${o.id}`, { qty: 101 });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("RISK_DENIED");
    expect(res.json.error.message).toStartWith("POSITION_LIMIT: ");
  });
});
