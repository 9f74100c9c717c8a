// Greeks and implied volatility in WASM: textbook values (Hull), put-call parity, greeks
// against finite differences of the price, the IV round trip, and the no-solution flags.

import { beforeAll, describe, expect, test } from "bun:test";
import { GreeksEngine, type GreeksInput } from "../../src/risk/greeks.ts";
import { Engine } from "../../src/engine/engine.ts";
import { bsPrice, normCdf } from "../../src/domain/blackscholes.ts";
import { wasmInstanceOf } from "../../src/engine/wasm.ts";

let g: GreeksEngine;
let wasmNormCdf: (x: number) => number;
beforeAll(async () => {
  const engine = await Engine.create({ maxInstruments: 8, ringCapacity: 64, barHistory: 4 });
  g = await GreeksEngine.create(engine);
  wasmNormCdf = (wasmInstanceOf(engine.core.buffer)!.exports as unknown as { normCdf: (x: number) => number }).normCdf;
});

// N(x) from mpmath.ncdf at 40 digits, rounded to the nearest double.
const CDF_REFERENCE: [number, number][] = [
  [-37, 5.725571222524577e-300], [-20, 2.7536241186062337e-89], [-8, 6.220960574271784e-16],
  [-5.5, 1.8989562465887718e-08], [-3, 0.0013498980316300946], [-1.5, 0.06680720126885807],
  [-0.6, 0.2742531177500736], [-0.001, 0.49960105778608893], [0.3, 0.6179114221889527],
  [0.67448975, 0.7499999999376898], [0.7, 0.758036347776927], [2, 0.9772498680518208],
  [5.7, 0.9999999940096286], [9, 1.0],
];

test("the WASM normal CDF is accurate to ~1e-15 relative over both tails", () => {
  for (const [x, want] of CDF_REFERENCE) {
    const got = wasmNormCdf(x);
    expect(Math.abs(got - want)).toBeLessThanOrEqual(5e-15 * want);
    expect(Math.abs(wasmNormCdf(x) + wasmNormCdf(-x) - 1)).toBeLessThan(2e-16);
  }
  expect(Number.isNaN(wasmNormCdf(NaN))).toBe(true);
});

const opt = (right: "C" | "P", spot: number, strike: number, tYears: number, rate: number, vol: number, divYield = 0): GreeksInput =>
  ({ right, spot, strike, tYears, rate, divYield, vol });

describe("greeks (WASM)", () => {
  test("Hull example 15.6: S=42, K=40, r=0.1, vol=0.2, T=0.5 gives call 4.76, put 0.81", () => {
    const [c, p] = g.greeks([opt("C", 42, 40, 0.5, 0.1, 0.2), opt("P", 42, 40, 0.5, 0.1, 0.2)]);
    expect(c!.status).toBe("ok");
    expect(c!.price).toBeCloseTo(4.7594, 3);
    expect(p!.price).toBeCloseTo(0.8086, 3);
  });

  test("Hull's greeks example: S=49, K=50, r=0.05, vol=0.2, T=20 weeks", () => {
    const [c] = g.greeks([opt("C", 49, 50, 0.3846, 0.05, 0.2)]);
    expect(c!.price).toBeCloseTo(2.40, 2);
    expect(c!.delta).toBeCloseTo(0.522, 3);
    expect(c!.gamma).toBeCloseTo(0.066, 3);
    expect(c!.vega).toBeCloseTo(12.1, 1);
    expect(c!.theta).toBeCloseTo(-4.31, 2);
    expect(c!.rho).toBeCloseTo(8.91, 2);
  });

  test("put-call parity to 1e-10 over a grid, with dividends", () => {
    for (const spot of [60, 90, 100, 110, 150]) for (const t of [0.01, 0.25, 1, 3]) for (const vol of [0.05, 0.3, 1.2]) {
      for (const q of [0, 0.03]) {
        const [c, p] = g.greeks([opt("C", spot, 100, t, 0.04, vol, q), opt("P", spot, 100, t, 0.04, vol, q)]);
        const parity = spot * Math.exp(-q * t) - 100 * Math.exp(-0.04 * t);
        expect(Math.abs(c!.price - p!.price - parity)).toBeLessThan(1e-10);
        expect(Math.abs(c!.delta - p!.delta - Math.exp(-q * t))).toBeLessThan(1e-12);
      }
    }
  });

  test("greeks equal central finite differences of the price", () => {
    for (const right of ["C", "P"] as const) for (const spot of [80, 100, 125]) {
      const base = opt(right, spot, 100, 0.7, 0.04, 0.35, 0.02);
      const price = (o: GreeksInput) => g.greeks([o])[0]!.price;
      const [r] = g.greeks([base]);
      const hS = 1e-2, hV = 1e-5, hT = 1e-5, hR = 1e-5;
      const up = price({ ...base, spot: spot + hS }), dn = price({ ...base, spot: spot - hS });
      expect(r!.delta).toBeCloseTo((up - dn) / (2 * hS), 6);
      expect(r!.gamma).toBeCloseTo((up - 2 * r!.price + dn) / (hS * hS), 5);
      expect(r!.vega).toBeCloseTo((price({ ...base, vol: 0.35 + hV }) - price({ ...base, vol: 0.35 - hV })) / (2 * hV), 5);
      expect(r!.theta).toBeCloseTo(-(price({ ...base, tYears: 0.7 + hT }) - price({ ...base, tYears: 0.7 - hT })) / (2 * hT), 5);
      expect(r!.rho).toBeCloseTo((price({ ...base, rate: 0.04 + hR }) - price({ ...base, rate: 0.04 - hR })) / (2 * hR), 5);
    }
  });

  test("the WASM normal CDF (as call delta N(d1)) agrees with the TS one", () => {
    for (let x = -8; x <= 8; x += 0.37) {
      // With q = 0, r = 0 and t = 1, the strike below makes d1 = x, so delta = N(x).
      const spot = 100, vol = 0.5, t = 1, lnSK = (x - 0.5 * vol) * vol;
      const [r] = g.greeks([opt("C", spot, spot / Math.exp(lnSK), t, 0, vol)]);
      expect(Math.abs(r!.delta - normCdf(x))).toBeLessThan(1e-13);
    }
  });

  test("expiry: intrinsic value and status no_time; bad inputs flagged", () => {
    const [c, bad] = g.greeks([opt("C", 110, 100, 0, 0.04, 0.3), opt("C", -1, 100, 1, 0.04, 0.3)]);
    expect(c!.status).toBe("no_time");
    expect(c!.price).toBeCloseTo(10, 12);
    expect(bad!.status).toBe("bad_input");
  });

  test("at vol 0 an in-the-money option's theta and rho are those of its discounted intrinsic value", () => {
    // S=110/90, K=100, T=0.5, r=5 %, q=2 %: e^{-qT} = 0.990049834, e^{-rT} = 0.975309912.
    // Call: theta = qSe^{-qT} - rKe^{-rT} = 2.178109635 - 4.876549560; rho = KTe^{-rT}.
    // Put:  theta = rKe^{-rT} - qSe^{-qT} = 4.876549560 - 1.782089701; rho = -KTe^{-rT}.
    const [c, p, cOtm, pOtm] = g.greeks([
      opt("C", 110, 100, 0.5, 0.05, 0, 0.02), opt("P", 90, 100, 0.5, 0.05, 0, 0.02),
      opt("C", 90, 100, 0.5, 0.05, 0, 0.02), opt("P", 110, 100, 0.5, 0.05, 0, 0.02),
    ]);
    expect(c!.status).toBe("ok");
    expect(c!.theta).toBeCloseTo(-2.698439925, 8);
    expect(c!.rho).toBeCloseTo(48.765495600, 8);
    expect(p!.theta).toBeCloseTo(3.094459859, 8);
    expect(p!.rho).toBeCloseTo(-48.765495600, 8);
    for (const r of [cOtm!, pOtm!]) {
      expect([r.price, r.delta, r.theta, r.rho]).toEqual([0, 0, 0, 0]);
    }
  });

  test("the vol-0 greeks are the limits of the greeks at small vol and the derivatives of the TS price", () => {
    for (const [right, spot] of [["C", 110], ["P", 90]] as const) {
      const [zero, tiny] = g.greeks([opt(right, spot, 100, 0.5, 0.05, 0, 0.02), opt(right, spot, 100, 0.5, 0.05, 1e-3, 0.02)]);
      expect(zero!.price).toBeCloseTo(tiny!.price, 10);
      expect(zero!.delta).toBeCloseTo(tiny!.delta, 10);
      expect(zero!.theta).toBeCloseTo(tiny!.theta, 10);
      expect(zero!.rho).toBeCloseTo(tiny!.rho, 10);
      // The TS reference price (src/domain/blackscholes.ts) at vol 0, differenced by hand.
      const ts = (t: number, r: number) => bsPrice(right === "C", spot, 100, t, 0, r, 0.02);
      const h = 1e-6;
      expect(zero!.price).toBeCloseTo(ts(0.5, 0.05), 12);
      expect(zero!.theta).toBeCloseTo(-(ts(0.5 + h, 0.05) - ts(0.5 - h, 0.05)) / (2 * h), 6);
      expect(zero!.rho).toBeCloseTo((ts(0.5, 0.05 + h) - ts(0.5, 0.05 - h)) / (2 * h), 6);
    }
  });

  test("batches larger than the region are split", () => {
    const many = Array.from({ length: g.capacity * 2 + 3 }, (_, i) => opt(i % 2 ? "C" : "P", 90 + (i % 20), 100, 0.5, 0.04, 0.25));
    const out = g.greeks(many);
    expect(out.length).toBe(many.length);
    expect(out.every((r) => r.status === "ok")).toBe(true);
  });
});

describe("implied volatility (WASM)", () => {
  test("round trip within 1e-6 over moneyness, expiry and vol", () => {
    const inputs: GreeksInput[] = [];
    const vols: number[] = [];
    for (const right of ["C", "P"] as const) for (const k of [70, 85, 95, 100, 105, 115, 130]) {
      for (const t of [0.02, 0.1, 0.5, 1, 2]) for (const vol of [0.08, 0.2, 0.45, 0.9]) {
        const o = opt(right, 100, k, t, 0.04, vol, 0.01);
        const price = g.greeks([o])[0]!.price;
        // Below ~1e-9 of time value no solver can recover the vol to 1e-6 from a double price.
        if (g.greeks([{ ...o, vol: vol * 1.01 }])[0]!.price - price < 1e-9) continue;
        inputs.push({ ...o, vol: undefined, price });
        vols.push(vol);
      }
    }
    expect(inputs.length).toBeGreaterThan(200);
    const out = g.impliedVols(inputs);
    out.forEach((r, i) => {
      expect(r.status).toBe("ok");
      expect(Math.abs(r.vol - vols[i]!)).toBeLessThan(1e-6);
    });
  });

  test("prices outside the no-arbitrage bounds, and zero time, are flagged with no solution", () => {
    const base = { spot: 100, strike: 100, tYears: 0.5, rate: 0.04, divYield: 0 };
    const out = g.impliedVols([
      { ...base, right: "C", price: 100 }, // at the upper bound S e^{-qT}
      { ...base, right: "C", price: 150 },
      { ...base, right: "C", strike: 80, price: 20 }, // below S - K e^{-rT}
      { ...base, right: "P", price: 0 },
      { ...base, right: "P", price: 99 }, // above K e^{-rT}
      { ...base, right: "C", tYears: 0, price: 1 },
    ]);
    expect(out.map((r) => r.status)).toEqual(["above_bound", "above_bound", "below_bound", "below_bound", "above_bound", "no_time"]);
    for (const r of out) {
      expect(Number.isNaN(r.vol)).toBe(true);
      expect(Number.isNaN(r.delta)).toBe(true);
    }
  });

  test("a far OTM put at the minimum tick whose IV is above the solver's ceiling of 10 is above_bound", () => {
    // S=100, K=10, 1 day, r=4 %, price 0.01 (one tick): the TS price is 1.8e-5 at vol 10 and
    // brackets 0.01 between vol 14.8 and 14.9, so the true IV (≈ 14.84) is beyond the ceiling.
    const issue = { spot: 100, strike: 10, tYears: 1 / 365, rate: 0.04, divYield: 0, right: "P" as const };
    expect(bsPrice(false, 100, 10, 1 / 365, 10, 0.04)).toBeLessThan(1e-4);
    expect(bsPrice(false, 100, 10, 1 / 365, 14.8, 0.04)).toBeLessThan(0.01);
    expect(bsPrice(false, 100, 10, 1 / 365, 14.9, 0.04)).toBeGreaterThan(0.01);
    const [r] = g.impliedVols([{ ...issue, price: 0.01 }]);
    expect(r!.status).toBe("above_bound");
    expect(Number.isNaN(r!.vol)).toBe(true);
  });

  test("just inside the ceiling still solves to 1e-6; below the floor of 1e-6 is below_bound", () => {
    const put = { spot: 100, strike: 25, tYears: 1 / 365, rate: 0.04, divYield: 0, right: "P" as const };
    for (const vol of [9.9, 9.9999]) {
      const price = g.greeks([{ ...put, vol }])[0]!.price;
      const [r] = g.impliedVols([{ ...put, price }]);
      expect(r!.status).toBe("ok");
      expect(Math.abs(r!.vol - vol)).toBeLessThan(1e-6);
    }
    // ATM, T=1, r=q=0: the price is 4e-5 at vol 1e-6, so 1e-5 needs vol ≈ 2.5e-7.
    const [low] = g.impliedVols([{ spot: 100, strike: 100, tYears: 1, rate: 0, divYield: 0, right: "C", price: 1e-5 }]);
    expect(low!.status).toBe("below_bound");
  });

  test("a standalone instance serves an engine on the TypeScript core", async () => {
    const ts = await GreeksEngine.create(await Engine.create({ core: "ts", maxInstruments: 8, ringCapacity: 64, barHistory: 4 }));
    const [c] = ts.greeks([opt("C", 42, 40, 0.5, 0.1, 0.2)]);
    expect(c!.price).toBeCloseTo(4.7594, 3);
  });
});
