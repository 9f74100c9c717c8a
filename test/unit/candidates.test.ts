// The candidates' figures against numbers worked by hand (probItm: N(±d2) evaluated with
// Python's math.erf), the sizing rules, and IV rank / percentile on a hand-worked series.

import { describe, expect, test } from "bun:test";
import { annualizedYield, probItm, sizeContracts } from "../../src/options/candidates.ts";
import { ivRankPercentile } from "../../src/options/iv-history.ts";

describe("probItm", () => {
  test("a put: S 100, K 95, 30 days, vol 0.25, r 0.04 → d2 = 0.725694, N(−d2) = 0.234013", () => {
    expect(probItm("put", 100, 95, 30 / 365, 0.25, 0.04, 0)).toBeCloseTo(0.23401331195607977, 12);
    expect(probItm("call", 100, 95, 30 / 365, 0.25, 0.04, 0)).toBeCloseTo(0.7659866880439202, 12);
  });
  test("a call: S 250, K 260, 7 days, vol 0.5, r 0.04 → d2 = −0.589968, N(d2) = 0.277606", () => {
    expect(probItm("call", 250, 260, 7 / 365, 0.5, 0.04, 0)).toBeCloseTo(0.2776060285336587, 12);
  });
  test("no time or no vol: 1 when in the money, else 0", () => {
    expect(probItm("put", 90, 95, 0, 0.3, 0.04, 0)).toBe(1);
    expect(probItm("call", 90, 95, 0.1, 0, 0.04, 0)).toBe(0);
  });
});

test("annualizedYield: a 1.50 bid on a 95 put, 30 days out → 1.5 / 95 × 365 / 30 = 0.192105; breakeven 93.50", () => {
  expect(annualizedYield(1.5, 95, 30 / 365)).toBeCloseTo(0.19210526315789475, 12);
});

describe("sizeContracts", () => {
  test("a put: whole contracts the buying power secures, in cents (no float slop at the boundary)", () => {
    expect(sizeContracts("put", 248, 100, 99_200, 0, undefined, 0)).toBe(4);
    expect(sizeContracts("put", 248, 100, 99_199.99, 0, undefined, 0)).toBe(3);
    expect(sizeContracts("put", 0.7, 100, 0.7 * 100 * 3, 0, undefined, 0)).toBe(3);
    expect(sizeContracts("put", 248, 100, -5, 0, undefined, 0)).toBe(0);
  });
  test("a call: whole hundreds of free shares", () => {
    expect(sizeContracts("call", 260, 100, 1e9, 250, undefined, 0)).toBe(2);
    expect(sizeContracts("call", 260, 100, 1e9, 99, undefined, 0)).toBe(0);
  });
  test("capped by maxQty and by what maxPositionQty leaves beside the position held", () => {
    expect(sizeContracts("put", 10, 100, 1e6, 0, { maxQty: 50, maxPositionQty: 1000 }, 0)).toBe(50);
    expect(sizeContracts("put", 10, 100, 1e6, 0, { maxQty: 500, maxPositionQty: 100 }, -70)).toBe(30);
    expect(sizeContracts("put", 10, 100, 1e6, 0, { maxQty: 500, maxPositionQty: 100 }, -120)).toBe(0);
  });
});

describe("IV rank and percentile", () => {
  // History 0.20, 0.30, 0.25, 0.40 (min 0.20, max 0.40).
  const h = [0.2, 0.3, 0.25, 0.4];
  test("current 0.28: rank (0.28 − 0.20) / 0.20 = 40; percentile 2 of 4 below = 50", () => {
    const r = ivRankPercentile(h, 0.28);
    expect(r.ivRank!).toBeCloseTo(40, 9);
    expect(r.ivPercentile).toBe(50);
  });
  test("current 0.35: rank 75, percentile 75; a new high 0.50: rank 100, percentile 100; a new low 0.10: 0 and 0", () => {
    expect(ivRankPercentile(h, 0.35).ivRank!).toBeCloseTo(75, 9);
    expect(ivRankPercentile(h, 0.35).ivPercentile).toBe(75);
    expect(ivRankPercentile(h, 0.5)).toEqual({ ivRank: 100, ivPercentile: 100 });
    expect(ivRankPercentile(h, 0.1)).toEqual({ ivRank: 0, ivPercentile: 0 });
  });
  test("a day equal to the current is not below it; no history or a flat one gives null", () => {
    expect(ivRankPercentile(h, 0.3).ivPercentile).toBe(50);
    expect(ivRankPercentile([], 0.3)).toEqual({ ivRank: null, ivPercentile: null });
    expect(ivRankPercentile([0.3, 0.3], 0.3)).toEqual({ ivRank: null, ivPercentile: 0 });
  });
});

describe("the strategy config", () => {
  test("defaults: the ALL-USE presets, a 252-day window kept 400 days; a keep shorter than the window or an unknown right is refused in one line", async () => {
    const { configSchema } = await import("../../src/config.ts");
    const ok = configSchema.parse({});
    expect(ok.strategy.accounts).toEqual({ "Gen-Acc": { right: "put" }, "Rev-Acc": { right: "put" }, "Com-Acc": { right: "call" } });
    expect([ok.strategy.ivWindowDays, ok.strategy.ivKeepDays]).toEqual([252, 400]);
    const short = configSchema.safeParse({ strategy: { ivKeepDays: 10 } });
    expect(short.success ? [] : short.error.issues.map((i) => [i.path.join("."), i.message])).toEqual([["strategy.ivKeepDays", "must be at least ivWindowDays"]]);
    const bad = configSchema.safeParse({ strategy: { accounts: { X: { right: "straddle" } } } });
    expect(bad.success ? [] : bad.error.issues.map((i) => i.path.join("."))).toEqual(["strategy.accounts.X.right"]);
  });
});
