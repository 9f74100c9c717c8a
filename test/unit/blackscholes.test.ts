// Black-Scholes: the normal CDF against tabulated values, prices against textbook examples,
// put-call parity everywhere, and the limits at expiry and zero volatility.

import { describe, expect, test } from "bun:test";
import { bsPrice, normCdf, normPdf } from "../../src/domain/blackscholes.ts";

describe("normal distribution", () => {
  test("CDF matches tabulated values to 1e-14 and is symmetric", () => {
    const table: [number, number][] = [
      [0, 0.5], [0.5, 0.6914624612740131], [1, 0.8413447460685429], [1.96, 0.9750021048517795],
      [2, 0.9772498680518208], [3, 0.9986501019683699], [-1, 0.15865525393145707], [-3, 0.0013498980316300933],
      [-5, 2.866515718791939e-7], [-8, 6.22096057427178e-16],
    ];
    for (const [x, p] of table) expect(Math.abs(normCdf(x) - p)).toBeLessThan(1e-14);
    for (let x = -9; x <= 9; x += 0.37) expect(Math.abs(normCdf(x) + normCdf(-x) - 1)).toBeLessThan(1e-15);
    expect(normCdf(-40)).toBe(0);
    expect(normCdf(40)).toBe(1);
    expect(normCdf(NaN)).toBeNaN();
  });

  test("CDF is the integral of the density (Simpson's rule over [-1, 1.5])", () => {
    const n = 2000, a = -1, b = 1.5, h = (b - a) / n;
    let s = normPdf(a) + normPdf(b);
    for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * normPdf(a + i * h);
    expect(Math.abs((s * h) / 3 - (normCdf(b) - normCdf(a)))).toBeLessThan(1e-12);
  });
});

describe("bsPrice", () => {
  test("matches Hull's example: S=K=100, T=1, σ=0.2, r=0.05", () => {
    expect(bsPrice(true, 100, 100, 1, 0.2, 0.05)).toBeCloseTo(10.450583572185565, 10);
    expect(bsPrice(false, 100, 100, 1, 0.2, 0.05)).toBeCloseTo(5.573526022256971, 10);
    // Hull, Options Futures and Other Derivatives, example 15.6: S=42, K=40, T=0.5, σ=0.2, r=0.1.
    expect(bsPrice(true, 42, 40, 0.5, 0.2, 0.1)).toBeCloseTo(4.76, 2);
    expect(bsPrice(false, 42, 40, 0.5, 0.2, 0.1)).toBeCloseTo(0.81, 2);
  });

  test("put-call parity holds across spots, strikes, maturities, vols, rates and yields", () => {
    for (const s of [20, 95, 420]) for (const k of [0.5 * s, 0.97 * s, s, 1.4 * s]) for (const t of [1 / 365, 7 / 365, 0.5, 2])
      for (const v of [0.1, 0.6, 1.5]) for (const [r, q] of [[0, 0], [0.04, 0], [0.05, 0.02]] as const) {
        const parity = s * Math.exp(-q * t) - k * Math.exp(-r * t);
        expect(Math.abs(bsPrice(true, s, k, t, v, r, q) - bsPrice(false, s, k, t, v, r, q) - parity)).toBeLessThan(1e-10 * s);
      }
  });

  test("prices lie within their no-arbitrage bounds and rise with volatility", () => {
    let last = 0;
    for (const v of [0.05, 0.1, 0.2, 0.4, 0.8]) {
      const c = bsPrice(true, 100, 105, 0.25, v, 0.04);
      expect(c).toBeGreaterThan(last);
      expect(c).toBeGreaterThanOrEqual(Math.max(0, 100 - 105 * Math.exp(-0.04 * 0.25)));
      expect(c).toBeLessThan(100);
      last = c;
    }
  });

  test("at or after expiry and at zero volatility the price is the intrinsic value; bad inputs give NaN", () => {
    expect(bsPrice(true, 110, 100, 0, 0.3)).toBe(10);
    expect(bsPrice(false, 110, 100, -0.01, 0.3)).toBe(0);
    expect(bsPrice(false, 90, 100, 0, 0.3)).toBe(10);
    expect(bsPrice(true, 110, 100, 1, 0, 0.05)).toBeCloseTo(110 - 100 * Math.exp(-0.05), 12);
    expect(bsPrice(true, 0, 100, 1, 0.2)).toBeNaN();
    expect(bsPrice(true, 100, -1, 1, 0.2)).toBeNaN();
  });
});
