// GET /v1/greeks/:symbol through a real server: IV from the option's mid and greeks at that vol,
// and the errors for an unknown symbol, a stock, and an option without quotes.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { bsPrice } from "../../src/domain/blackscholes.ts";
import { optionSymbol } from "../../src/domain/instrument.ts";
import { TickKind } from "../../src/domain/tick.ts";
import { DEFAULT_GREEKS_CONFIG, yearsToExpiry } from "../../src/server/greeks.ts";
import { TestMarket } from "../helpers/market.ts";
import { serveMarket, type TestServer } from "../helpers/server.ts";

let market: TestMarket;
let server: TestServer;
// An expiry ~90 days out, so the test does not age.
const expiry = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10).replaceAll("-", "");
const CALL = optionSymbol("MSFT", expiry, "C", 105);
const QUIET = optionSymbol("MSFT", expiry, "P", 95);

beforeAll(async () => {
  market = await TestMarket.create();
  const spec = { kind: "option" as const, tickSize: 0.01, multiplier: 100, currency: "USD", underlying: "MSFT", expiry };
  market.engine.addInstrument({ ...spec, symbol: CALL, right: "C", strike: 105 });
  market.engine.addInstrument({ ...spec, symbol: QUIET, right: "P", strike: 95 });
  server = await serveMarket(market);
});
afterAll(() => server.stop());

async function get(path: string): Promise<{ status: number; body: any }> {
  const r = await fetch(server.url + path);
  return { status: r.status, body: await r.json() };
}

test("an option's IV is solved from its mid and the greeks are at that IV", async () => {
  const e = market.engine;
  const ts = Date.now();
  const t = yearsToExpiry(expiry, ts);
  const fair = Math.round(bsPrice(true, 100, 105, t, 0.3, DEFAULT_GREEKS_CONFIG.rate) * 100) / 100;
  e.write(market.row("MSFT"), TickKind.Bid, 99.99, 100, ts);
  e.write(market.row("MSFT"), TickKind.Ask, 100.01, 100, ts);
  e.write(market.row(CALL), TickKind.Bid, fair - 0.05, 10, ts);
  e.write(market.row(CALL), TickKind.Ask, fair + 0.05, 10, ts);
  e.flush();
  const r = await get(`/v1/greeks/${CALL}`);
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ symbol: CALL, underlying: "MSFT", right: "C", strike: 105, expiry, spot: 100, status: "ok", rate: 0.04 });
  expect(r.body.mid).toBeCloseTo(fair, 9);
  expect(r.body.iv).toBeCloseTo(0.3, 2);
  expect(r.body.price).toBeCloseTo(r.body.mid, 8);
  expect(r.body.delta).toBeGreaterThan(0.3);
  expect(r.body.delta).toBeLessThan(0.6);
  for (const k of ["gamma", "vega", "rho"]) expect(r.body[k]).toBeGreaterThan(0);
  expect(r.body.theta).toBeLessThan(0);
});

test("spot and mid are printed without float noise: the mid of 100.07 / 100.08 is 100.075", async () => {
  const e = market.engine;
  const ts = Date.now();
  // (100.07 + 100.08) / 2 is 100.07499999999999 in binary floating point, (2.96 + 2.98) / 2 is 2.9699999999999998.
  // Ask first: a bid of 100.07 against the earlier ask of 100.01 would be a crossed book, rejected.
  e.write(market.row("MSFT"), TickKind.Ask, 100.08, 100, ts);
  e.write(market.row("MSFT"), TickKind.Bid, 100.07, 100, ts);
  e.write(market.row(CALL), TickKind.Bid, 2.96, 10, ts);
  e.write(market.row(CALL), TickKind.Ask, 2.98, 10, ts);
  e.flush();
  const r = await fetch(`${server.url}/v1/greeks/${CALL}`);
  const text = await r.text();
  expect(text).toContain('"spot":100.075,');
  expect(text).toContain('"mid":2.97,');
});

test("errors: unknown symbol 404, a stock 400, an option without quotes 503 with a reason", async () => {
  const unknown = await get("/v1/greeks/NOPE");
  expect(unknown.status).toBe(404);
  expect(unknown.body.error.code).toBe("NOT_FOUND");
  const stock = await get("/v1/greeks/MSFT");
  expect(stock.status).toBe(400);
  expect(stock.body.error).toMatchObject({ code: "BAD_REQUEST", field: "symbol" });
  const quiet = await get(`/v1/greeks/${QUIET}`);
  expect(quiet.status).toBe(503);
  expect(quiet.body.error.message).toContain("no two-sided quote");
});
