// Exercise at expiry in a cash account, through the REST API over a real Bun.serve, a real
// SQLite file and the paper broker: long calls the cash cannot pay for at the strike lapse
// (IBKR may prohibit an exercise that would put the account in deficit), and the lapse is a
// fill of kind "lapse" the account's fills list shows.

import { afterEach, expect, test } from "bun:test";
import { KeyStore } from "../../src/auth/keys.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { orderRoutes, ORDER_ROUTE_DEFAULTS } from "../../src/server/orders.ts";
import { OPTIONS } from "../helpers/market.ts";
import { OmsHarness } from "../helpers/oms.ts";

const FRIDAY_10AM = Date.parse("2026-11-27T15:00:00Z");
const FRIDAY_AFTER_CLOSE = Date.parse("2026-11-27T21:00:00Z");
const CALL = OPTIONS[0]; // TSLA 250 call expiring 2026-11-27

let h: OmsHarness | undefined;
let server: RunningServer | undefined;
afterEach(async () => {
  await server?.stop();
  await h?.dispose();
  h = server = undefined;
});

/** A one-account cash book funded with `capital`, serving the order routes; returns a GET helper. */
async function book(capital: number, mode: "cash" | "regT" = "cash") {
  h = await OmsHarness.start({ nowMs: FRIDAY_10AM, accounts: { capital, list: [{ id: "Gen-Acc", share: 1, mode, broker: "paper" }] } });
  const keys = new KeyStore(h.store.db);
  const admin = keys.create(["admin"], []).secret;
  server = await startServer(h.market.engine, { host: "127.0.0.1", port: 0, rest: { routes: [orderRoutes({ oms: h.oms, keys, maxRows: 50, ...ORDER_ROUTE_DEFAULTS })] } });
  const url = server.url;
  return async (path: string) => (await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${admin}` } })).json() as Promise<any>;
}

/** Buys `qty` calls at the $4.10 ask, then lets them expire with TSLA at $260.01 (mid), $10.01 in the money. */
async function holdCallsThroughExpiry(harness: OmsHarness, qty: number): Promise<void> {
  harness.quote(CALL, 4, 100, 4.1, 100);
  const r = await harness.oms.submit({ account: "Gen-Acc", clientOrderId: "calls", symbol: CALL, side: "buy", type: "market", qty });
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  harness.quote("TSLA", 260, 100, 260.02, 100);
  harness.clock.now = FRIDAY_AFTER_CLOSE;
  harness.oms.sessionClosed(harness.clock.now);
  await harness.store.journal.durable();
}

test("5 long ITM calls with $2,497 cash lapse instead of leaving cash at −$122,503", async () => {
  // $4,550.25 − 5 × $410 − 5 × $0.65 commission = $2,497.00 in cash before expiry.
  const get = await book(4_550.25);
  await holdCallsThroughExpiry(h!, 5);
  // Exercise would buy 500 TSLA at $250 = $125,000: $2,497 − $125,000 = −$122,503. Not one
  // contract ($25,000) is paid for, so all five lapse: no shares, cash untouched.
  expect(await get("/v1/accounts/Gen-Acc")).toMatchObject({ cash: 2_497, positions: 0 });
  const { fills } = await get("/v1/accounts/Gen-Acc/fills");
  expect(fills[0]).toMatchObject({ symbol: CALL, side: "sell", qty: 5, price: 0, commission: 0, kind: "lapse", orderId: null });
  expect(fills.filter((f: { symbol: string }) => f.symbol === "TSLA")).toEqual([]);
  expect(h!.logs.some((l) => l.includes("in-the-money options lapse") && l.includes('"lapsed":5'))).toBe(true);
});

test("a cash account exercises the calls its cash pays for and lets the rest lapse: $60,000 buys 2 of 5", async () => {
  // $62,053.25 − $2,053.25 = $60,000: two contracts at $25,000 each are paid for, three lapse.
  const get = await book(62_053.25);
  await holdCallsThroughExpiry(h!, 5);
  expect(await get("/v1/accounts/Gen-Acc")).toMatchObject({ cash: 10_000, positions: 1 });
  // The two exercised calls' premium goes into the shares: (200 × $250 + 2 × ($410 + $0.65)) / 200
  // = $254.1065; the three that lapsed realise their $1,231.95 as a loss.
  expect((await get("/v1/accounts/Gen-Acc/positions")).positions).toMatchObject([{ symbol: "TSLA", qty: 200, avgCost: 254.1065 }]);
  expect((await get("/v1/accounts/Gen-Acc")).realizedPnl).toBeCloseTo(-1_231.95, 6);
  const kinds = (await get("/v1/accounts/Gen-Acc/fills")).fills.filter((f: { kind: string }) => f.kind !== "trade")
    .map((f: { symbol: string; qty: number; kind: string }) => [f.kind, f.symbol, f.qty]).sort();
  expect(kinds).toEqual([["exercise", "TSLA", 200], ["exercise", CALL, 2], ["lapse", CALL, 3]]);
});

test("assignments take their cash before long calls are exercised, whatever order the positions opened in", async () => {
  // Bought first: 2 AAPL 202.5 calls at $7.10 ($1,420 + $1.30); then sold 1 TSLA 250 put at $5.00
  // ($500 − $1.00 − SEC $0.02 − TAF $0.01): $50,922.33 − $922.33 = $50,000 before expiry.
  const get = await book(50_922.33);
  const hh = h!;
  hh.quote(OPTIONS[3], 7, 100, 7.1, 100);
  hh.quote(OPTIONS[1], 5, 100, 5.1, 100);
  for (const [symbol, side, qty] of [[OPTIONS[3], "buy", 2], [OPTIONS[1], "sell", 1]] as const) {
    const r = await hh.oms.submit({ account: "Gen-Acc", clientOrderId: `${side}-${symbol}`, symbol, side, type: "market", qty });
    if (!r.ok) throw new Error(JSON.stringify(r.error));
  }
  expect((await get("/v1/accounts/Gen-Acc")).cash).toBeCloseTo(50_000, 6);
  hh.quote("TSLA", 240, 100, 240.02, 100);
  hh.quote("AAPL", 210, 100, 210.02, 100);
  hh.clock.now = FRIDAY_AFTER_CLOSE;
  hh.oms.sessionClosed(hh.clock.now);
  await hh.store.journal.durable();
  // The put is assigned first: 100 TSLA at $250 → $25,000 left, which pays for one call
  // (100 AAPL at $202.50 = $20,250) → $4,750; the other call lapses.
  expect((await get("/v1/accounts/Gen-Acc")).cash).toBeCloseTo(4_750, 6);
  const qty = Object.fromEntries((await get("/v1/accounts/Gen-Acc/positions")).positions.map((p: { symbol: string; qty: number }) => [p.symbol, p.qty]));
  expect(qty).toEqual({ TSLA: 100, AAPL: 100 });
});

test("a cash account exercises only the long puts whose shares it holds: 150 TSLA and 3 ITM puts sell 100 and 2 puts lapse, never a short", async () => {
  // 150 TSLA at $240.02 = $36,003 + $1.00; 3 TSLA 250 puts at $5.10 = $1,530 + 3 × $0.65:
  // $40,000 − $36,004 − $1,531.95 = $2,464.05 in cash before expiry.
  const get = await book(40_000);
  const hh = h!;
  hh.quote("TSLA", 240, 1000, 240.02, 1000);
  hh.quote(OPTIONS[1], 5, 100, 5.1, 100);
  for (const [symbol, qty] of [["TSLA", 150], [OPTIONS[1], 3]] as const) {
    const r = await hh.oms.submit({ account: "Gen-Acc", clientOrderId: `buy-${symbol}`, symbol, side: "buy", type: "market", qty });
    if (!r.ok) throw new Error(JSON.stringify(r.error));
  }
  expect((await get("/v1/accounts/Gen-Acc")).cash).toBeCloseTo(2_464.05, 6);
  hh.clock.now = FRIDAY_AFTER_CLOSE;
  hh.oms.sessionClosed(hh.clock.now); // TSLA mid $240.01: the puts are $9.99 in the money
  await hh.store.journal.durable();
  // Exercising all three would sell 300 shares of the 150 held: short 150, which a cash account
  // cannot hold. One contract is delivered (100 at $250 = +$25,000 → $27,464.05), two lapse.
  expect(await get("/v1/accounts/Gen-Acc")).toMatchObject({ cash: 27_464.05, positions: 1 });
  expect((await get("/v1/accounts/Gen-Acc/positions")).positions).toMatchObject([{ symbol: "TSLA", qty: 50 }]);
  const kinds = (await get("/v1/accounts/Gen-Acc/fills")).fills.filter((f: { kind: string }) => f.kind !== "trade")
    .map((f: { symbol: string; side: string; qty: number; kind: string }) => [f.kind, f.symbol, f.side, f.qty]).sort();
  expect(kinds).toEqual([["exercise", "TSLA", "sell", 100], ["exercise", OPTIONS[1], "sell", 1], ["lapse", OPTIONS[1], "sell", 2]]);
  expect(hh.logs.some((l) => l.includes("in-the-money puts lapse") && l.includes('"lapsed":2'))).toBe(true);
});
