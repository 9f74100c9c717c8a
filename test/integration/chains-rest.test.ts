// GET /v1/chains through a real server over the WASM test market: the expiries of an underlying,
// a chain whose every leg agrees with GET /v1/greeks/{symbol} for the same option, the right and
// delta-band filters, and the errors (unknown underlying 404, malformed expiry 400, an expiry
// without options 404, bad filters 400 naming the field).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { bsPrice } from "../../src/domain/blackscholes.ts";
import { optionSymbol } from "../../src/domain/instrument.ts";
import { DEFAULT_GREEKS_CONFIG, yearsToExpiry } from "../../src/server/greeks.ts";
import { TestMarket } from "../helpers/market.ts";
import { setQuote } from "../helpers/quotes.ts";
import { serveMarket, type TestServer } from "../helpers/server.ts";
import { RestClient } from "../../src/client/rest.ts";

let market: TestMarket;
let server: TestServer;
// An expiry ~30 days out, so the test does not age.
const expiry = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10).replaceAll("-", "");
const iso = `${expiry.slice(0, 4)}-${expiry.slice(4, 6)}-${expiry.slice(6, 8)}`;
const STRIKES = [90, 95, 100, 105, 110];
/** A strike with a put but no call, and a put with no quote at all. */
const LONE_PUT = 85;

beforeAll(async () => {
  market = await TestMarket.create();
  const e = market.engine;
  const spec = { kind: "option" as const, tickSize: 0.01, multiplier: 100, currency: "USD", underlying: "MSFT", expiry };
  // Defined in descending order, so the reply's ascending order is the route's doing.
  for (const k of [...STRIKES].reverse()) {
    for (const right of ["C", "P"] as const) e.addInstrument({ ...spec, symbol: optionSymbol("MSFT", expiry, right, k), right, strike: k });
  }
  e.addInstrument({ ...spec, symbol: optionSymbol("MSFT", expiry, "P", LONE_PUT), right: "P", strike: LONE_PUT });
  server = await serveMarket(market);
  const ts = Date.now();
  const t = yearsToExpiry(expiry, ts);
  setQuote(e, "MSFT", 99.99, 100, 100.01, 100, ts);
  for (const k of STRIKES) {
    for (const isCall of [true, false]) {
      const fair = Math.max(0.05, Math.round(bsPrice(isCall, 100, k, t, 0.3, DEFAULT_GREEKS_CONFIG.rate) * 100) / 100);
      setQuote(e, optionSymbol("MSFT", expiry, isCall ? "C" : "P", k), fair - 0.03, 10, fair + 0.03, 10, ts);
    }
  }
});
afterAll(() => server.stop());

async function get(path: string): Promise<{ status: number; body: any }> {
  const r = await fetch(server.url + path);
  return { status: r.status, body: await r.json() };
}

describe("chains", () => {
  test("an underlying lists its expiries as YYYY-MM-DD with its spot; a stock without options lists none", async () => {
    const r = await get("/v1/chains/MSFT");
    expect(r.status).toBe(200);
    // No IV history source in this server: the IV fields are there, null.
    expect(r.body).toEqual({ underlying: "MSFT", spot: 100, expiries: [iso], ivRank: null, ivPercentile: null, ivWindowDays: null, ivHistoryDays: 0 });
    const tsla = await get("/v1/chains/TSLA");
    expect(tsla.body.expiries).toEqual(["2026-11-27", "2026-12-04"]);
    const none = await get("/v1/chains/NVDA");
    expect(none.body).toMatchObject({ underlying: "NVDA", expiries: [] });
  });

  test("every leg of a chain agrees with /v1/greeks/{symbol}; rows are sorted by strike", async () => {
    const r = await get(`/v1/chains/MSFT/${iso}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ underlying: "MSFT", expiry: iso, spot: 100 });
    expect(r.body.tYears).toBeCloseTo(yearsToExpiry(expiry, Date.now()), 6);
    expect(r.body.rows.map((x: any) => x.strike)).toEqual([LONE_PUT, ...STRIKES]);
    let compared = 0;
    for (const row of r.body.rows.slice(1)) {
      for (const leg of [row.call, row.put]) {
        expect(Object.keys(leg).sort()).toEqual(["ask", "bid", "delta", "gamma", "ibDelta", "ibIv", "iv", "last", "mid", "status", "symbol", "theta", "vega"]);
        // IBKR's model values exist only with --feed ib: always present, null here.
        expect([leg.ibDelta, leg.ibIv]).toEqual([null, null]);
        const one = (await get(`/v1/greeks/${leg.symbol}`)).body;
        expect(leg.status).toBe("ok");
        expect(one.status).toBe("ok");
        expect(leg.mid).toBe(one.mid);
        // The two requests are a few ms apart: time to expiry moves by ~1e-10 years between them.
        for (const k of ["iv", "delta", "gamma", "vega", "theta"]) expect(leg[k]).toBeCloseTo(one[k], 5);
        compared++;
      }
    }
    expect(compared).toBe(STRIKES.length * 2);
    // The call's delta falls with the strike; the put's rises towards 0.
    const calls = r.body.rows.slice(1).map((x: any) => x.call.delta);
    expect([...calls].sort((a, b) => b - a)).toEqual(calls);
  });

  test("a strike with only a put has call null; a leg without a quote has status no_quote and null greeks", async () => {
    const r = await get(`/v1/chains/MSFT/${iso}`);
    const lone = r.body.rows[0];
    expect(lone.call).toBeNull();
    expect(lone.put).toMatchObject({ symbol: optionSymbol("MSFT", expiry, "P", LONE_PUT), bid: null, ask: null, mid: null, iv: null, delta: null, status: "no_quote" });
  });

  test("filters: right keeps one side; minDelta/maxDelta keep |delta| in the band and drop empty strikes", async () => {
    const puts = await get(`/v1/chains/MSFT/${iso}?right=put`);
    expect(puts.body.rows.length).toBe(STRIKES.length + 1);
    for (const row of puts.body.rows) expect(row.call).toBeNull();
    const band = await get(`/v1/chains/MSFT/${iso}?right=put&minDelta=0.3&maxDelta=0.6`);
    expect(band.status).toBe(200);
    expect(band.body.rows.length).toBeGreaterThan(0);
    expect(band.body.rows.length).toBeLessThan(STRIKES.length);
    for (const row of band.body.rows) {
      expect(row.call).toBeNull();
      expect(Math.abs(row.put.delta)).toBeGreaterThanOrEqual(0.3);
      expect(Math.abs(row.put.delta)).toBeLessThanOrEqual(0.6);
    }
    // The unpriced put never passes a band.
    expect(band.body.rows.some((x: any) => x.strike === LONE_PUT)).toBe(false);
    const both = await get(`/v1/chains/MSFT/${iso}?minDelta=0.45&maxDelta=0.55`);
    for (const row of both.body.rows) for (const leg of [row.call, row.put]) if (leg) expect(Math.abs(leg.delta)).toBeGreaterThanOrEqual(0.45);
  });

  test("errors: unknown underlying 404, malformed expiry 400, expiry without options 404, bad filters 400 naming the field", async () => {
    const unknown = await get(`/v1/chains/NOPE/${iso}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: "NOT_FOUND", field: "underlying" });
    expect((await get("/v1/chains/NOPE")).status).toBe(404);
    for (const bad of [expiry, "2026-13-01", "2026-02-30", "soon"]) {
      const r = await get(`/v1/chains/MSFT/${bad}`);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: "BAD_REQUEST", field: "expiry" });
    }
    const missing = await get("/v1/chains/MSFT/2030-01-04");
    expect(missing.status).toBe(404);
    expect(missing.body.error.field).toBe("expiry");
    expect(missing.body.error.message).toContain(iso);
    const cases: [string, string][] = [
      ["right=both", "right"], ["minDelta=abc", "minDelta"], ["maxDelta=1.5", "maxDelta"], ["minDelta=-0.1", "minDelta"],
      ["minDelta=0.6&maxDelta=0.4", "minDelta"], ["maxDelta=", "maxDelta"],
    ];
    for (const [q, field] of cases) {
      const r = await get(`/v1/chains/MSFT/${iso}?${q}`);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: "BAD_REQUEST", field });
    }
  });
});

test("RestClient: chainExpiries, chain with a filter, calcGreeks", async () => {
  const rest = new RestClient(server.url);
  expect((await rest.chainExpiries("MSFT")).expiries).toEqual([iso]);
  const puts = await rest.chain("MSFT", iso, { right: "put", minDelta: 0.3, maxDelta: 0.6 });
  expect(puts.rows.length).toBeGreaterThan(0);
  for (const row of puts.rows) expect(row.call).toBeNull();
  const [r] = await rest.calcGreeks([{ spot: 100, strike: 100, tYears: 1, rate: 0.05, right: "call", vol: 0.2 }]);
  expect(r!.price).toBeCloseTo(10.4506, 4);
  await expect(rest.chain("MSFT", "bad")).rejects.toMatchObject({ code: "BAD_REQUEST", field: "expiry" });
});
