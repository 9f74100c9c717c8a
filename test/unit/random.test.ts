// The seeded generator: the published xoshiro128** sequence, determinism, ranges and moments.

import { describe, expect, test } from "bun:test";
import { hashSeed, Rng } from "../../src/domain/random.ts";

describe("Rng", () => {
  test("matches the xoshiro128** reference output for state {1, 2, 3, 4}", () => {
    const r = Rng.fromState(1, 2, 3, 4);
    expect(Array.from({ length: 6 }, () => r.nextU32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
    expect(() => Rng.fromState(0, 0, 0, 0)).toThrow();
  });

  test("the same seed gives the same stream; different seeds, numbers and strings differ", () => {
    const draw = (seed: number | string) => { const r = new Rng(seed); return Array.from({ length: 64 }, () => r.nextU32()); };
    expect(draw(42)).toEqual(draw(42));
    expect(draw("TSLA")).toEqual(draw("TSLA"));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(1)).not.toEqual(draw(1.5));
    expect(draw("TSLA")).not.toEqual(draw("NVDA"));
    expect(hashSeed("AAPL", 1)).toBe(hashSeed("AAPL", 1));
    expect(hashSeed("AAPL", 1)).not.toBe(hashSeed("AAPL", 2));
  });

  test("uniform, integer and range draws stay in their intervals and are spread evenly", () => {
    const r = new Rng(7);
    const bins = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const u = r.next();
      expect(u >= 0 && u < 1).toBe(true);
      const o = r.nextOpen();
      expect(o > 0 && o <= 1).toBe(true);
      const k = r.int(10);
      expect(Number.isInteger(k) && k >= 0 && k < 10).toBe(true);
      bins[k]++;
      const x = r.range(-2, 3);
      expect(x >= -2 && x < 3).toBe(true);
    }
    for (const b of bins) expect(Math.abs(b - 10_000)).toBeLessThan(500); // > 5 standard deviations
  });

  test("normal draws have mean 0, variance 1 and normal tails", () => {
    const r = new Rng(11);
    const n = 200_000;
    let sum = 0, sumSq = 0, beyond2 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      sum += z; sumSq += z * z;
      if (Math.abs(z) > 2) beyond2++;
    }
    const mean = sum / n;
    expect(Math.abs(mean)).toBeLessThan(0.012); // 5 standard errors
    expect(Math.abs(sumSq / n - mean * mean - 1)).toBeLessThan(0.02);
    expect(Math.abs(beyond2 / n - 0.0455)).toBeLessThan(0.003);
  });
});
