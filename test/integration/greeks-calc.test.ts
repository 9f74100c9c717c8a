// POST /v1/greeks/calc through a real server: prices and greeks against hand-worked
// Black-Scholes values, the implied-vol round trip, expiry dates, mixed batches, the row bound
// (413) and zod errors that name the row and field.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expiryMs } from "../../src/domain/instrument.ts";
import { CALC_MAX_ROWS } from "../../src/options/calc.ts";
import { TestMarket } from "../helpers/market.ts";
import { serveMarket, type TestServer } from "../helpers/server.ts";

let server: TestServer;

beforeAll(async () => {
  server = await serveMarket(await TestMarket.create());
});
afterAll(() => server.stop());

async function calc(body: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(`${server.url}/v1/greeks/calc`, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

// S = K = 100, T = 1, r = 5 %, q = 0, vol = 20 %: d1 = 0.35, d2 = 0.15, N(d1) = 0.636831,
// N(d2) = 0.559618, φ(d1) = 0.375240, e^-rT = 0.951229 (Hull's textbook example).
const ATM = { spot: 100, strike: 100, tYears: 1, rate: 0.05, divYield: 0 };

describe("calculator", () => {
  test("vol given: price and greeks match hand-worked Black-Scholes values", async () => {
    const r = await calc({ rows: [{ ...ATM, right: "call", vol: 0.2 }, { ...ATM, right: "P", vol: 0.2 }] });
    expect(r.status).toBe(200);
    const [call, put] = r.body.rows;
    expect(call.status).toBe("ok");
    expect(call.iv).toBe(0.2);
    expect(call.tYears).toBe(1);
    expect(call.price).toBeCloseTo(10.4506, 4);
    expect(call.delta).toBeCloseTo(0.636831, 5);
    expect(call.gamma).toBeCloseTo(0.375240 / 20, 5);
    expect(call.vega).toBeCloseTo(37.524, 2);
    // Θ = -Sφ(d1)σ/(2√T) - rK e^-rT N(d2) = -3.75240 - 2.66160, per year.
    expect(call.theta).toBeCloseTo(-6.4140, 3);
    expect(call.rho).toBeCloseTo(100 * 0.951229 * 0.559618, 2);
    expect(put.price).toBeCloseTo(5.5735, 4);
    expect(put.delta).toBeCloseTo(0.636831 - 1, 5);
    expect(put.gamma).toBeCloseTo(call.gamma, 10);
    // Put-call parity: C - P = S - K e^-rT.
    expect(call.price - put.price).toBeCloseTo(100 - 100 * Math.exp(-0.05), 9);
  });

  test("price given: the implied vol round-trips to the vol that priced it, within 1e-6", async () => {
    const vols = [0.08, 0.2, 0.45, 0.9];
    const rows = vols.flatMap((vol) => [
      { spot: 250, strike: 240, tYears: 7 / 365, right: "P", vol }, { spot: 250, strike: 265, tYears: 30 / 365, right: "C", vol },
    ]);
    const priced = await calc({ rows });
    expect(priced.body.rows.every((x: any) => x.status === "ok")).toBe(true);
    const solved = await calc({ rows: rows.map(({ vol: _v, ...r }, i) => ({ ...r, price: priced.body.rows[i].price })) });
    expect(solved.status).toBe(200);
    solved.body.rows.forEach((x: any, i: number) => {
      expect(x.status).toBe("ok");
      expect(Math.abs(x.iv - rows[i]!.vol)).toBeLessThan(1e-6);
      expect(x.delta).toBeCloseTo(priced.body.rows[i].delta, 6);
    });
  });

  test("mixed rows keep their order; an expiry date gives ACT/365 time; out-of-bounds prices and no time get a status", async () => {
    const expiry = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    const r = await calc({ rows: [
      { spot: 100, strike: 100, expiry, right: "C", price: 2.5 },
      { spot: 100, strike: 100, tYears: 0.1, right: "C", vol: 0.3 },
      { spot: 100, strike: 90, tYears: 0.1, right: "C", price: 5 }, // below intrinsic (10)
      { spot: 100, strike: 100, tYears: 0, right: "P", vol: 0.3 },
    ] });
    expect(r.status).toBe(200);
    const [byDate, byVol, below, expired] = r.body.rows;
    const want = (expiryMs(expiry.replaceAll("-", "")) - Date.now()) / (365 * 86_400_000);
    expect(byDate.tYears).toBeCloseTo(want, 6);
    expect(byDate.status).toBe("ok");
    expect(byVol.iv).toBe(0.3);
    expect(below).toMatchObject({ status: "below_bound", iv: null, price: null, delta: null });
    expect(expired).toMatchObject({ status: "no_time", price: null });
  });

  test("at most 1,024 rows: 1,024 are answered, 1,025 are refused with 413", async () => {
    const row = { spot: 100, strike: 100, tYears: 0.5, right: "C", vol: 0.25 };
    const full = await calc({ rows: Array.from({ length: CALC_MAX_ROWS }, () => row) });
    expect(full.status).toBe(200);
    expect(full.body.rows.length).toBe(CALC_MAX_ROWS);
    const over = await calc({ rows: Array.from({ length: CALC_MAX_ROWS + 1 }, () => row) });
    expect(over.status).toBe(413);
    expect(over.body.error).toMatchObject({ code: "TOO_MANY_ROWS", field: "rows" });
    expect(over.body.error.message).toContain("1024");
  });

  test("bad input: 400 naming the row and field; bad JSON 400; nothing is half-answered", async () => {
    const ok = { spot: 100, strike: 100, tYears: 0.5, right: "C", vol: 0.25 };
    const cases: [unknown, string][] = [
      [{ rows: [] }, "rows"],
      [{}, "rows"],
      [{ rows: [ok, { ...ok, tYears: undefined }] }, "rows[1].expiry"],
      [{ rows: [ok, { ...ok, expiry: "2026-12-18" }] }, "rows[1].expiry"],
      [{ rows: [{ ...ok, price: 3 }] }, "rows[0].vol"],
      [{ rows: [{ ...ok, vol: undefined }] }, "rows[0].vol"],
      [{ rows: [ok, ok, { ...ok, right: "X" }] }, "rows[2].right"],
      [{ rows: [{ ...ok, spot: -1 }] }, "rows[0].spot"],
      [{ rows: [{ ...ok, tYears: undefined, expiry: "2026-02-30" }] }, "rows[0].expiry"],
      [{ rows: [{ ...ok, extra: 1 }] }, "rows[0].extra"],
    ];
    for (const [body, field] of cases) {
      const r = await calc(body);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: "BAD_REQUEST", field });
    }
    const bad = await calc("{not json");
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("BAD_JSON");
  });
});
