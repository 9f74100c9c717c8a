// Every expected value below is worked by hand in the comment beside it.
import { describe, expect, test } from "bun:test";
import { flagAnomalies, robustZ } from "../../src/analytics/anomaly.ts";
import { backtestHolt, holtForecast, holtSmooth } from "../../src/analytics/forecast.ts";
import { bucketDelta, histogramQuantile } from "../../src/analytics/histogram.ts";
import { drawdown, equityReturns, performance, sharpe, sortino, tradeStats } from "../../src/analytics/performance.ts";
import { excessKurtosis, mad, mean, median, quantile, skewness, stdev, summarize, variance } from "../../src/analytics/stats.ts";
import { detectTrend, ema, emaCrossover, olsOnIndex, studentTwoSidedP } from "../../src/analytics/trend.ts";
import { atr, barsPerYear, closeToCloseVol, parkinsonVol, trueRanges } from "../../src/analytics/volatility.ts";

const close = (a: number | null, b: number, digits = 9) => expect(a).toBeCloseTo(b, digits);

describe("descriptive statistics on 2, 4, 4, 4, 5, 5, 7, 9", () => {
  const xs = [2, 4, 4, 4, 5, 5, 7, 9];
  // Deviations from the mean 5: −3 −1 −1 −1 0 0 2 4.
  test("mean and sample variance: Σd² = 32, so 32 / 7", () => {
    expect(mean(xs)).toBe(5);
    close(variance(xs), 32 / 7);
    close(stdev(xs), Math.sqrt(32 / 7));
  });
  test("skewness G1: m3 = 42/8 = 5.25, m2 = 4, g1 = 0.65625, G1 = g1 √(8·7) / 6", () => {
    close(skewness(xs), (0.65625 * Math.sqrt(56)) / 6);
    close(skewness(xs), 0.818487553, 8);
  });
  test("excess kurtosis G2: m4 = 356/8 = 44.5, g2 = 44.5/16 − 3 = −0.21875, G2 = 7/30 × (9 g2 + 6) = 0.940625", () => {
    close(excessKurtosis(xs), 0.940625);
  });
  test("type-7 quantiles: p25 at h = 1.75 → 4, p50 at 3.5 → 4.5, p75 at 5.25 → 5.5, p95 at 6.65 → 8.3", () => {
    expect(quantile(xs, 0.25)).toBe(4);
    expect(median(xs)).toBe(4.5);
    expect(quantile(xs, 0.75)).toBe(5.5);
    close(quantile(xs, 0.95), 8.3);
    expect(quantile(xs, 0)).toBe(2);
    expect(quantile(xs, 1)).toBe(9);
  });
  test("MAD: |x − 4.5| sorted is .5 .5 .5 .5 .5 2.5 2.5 4.5, median 0.5", () => {
    expect(mad(xs)).toBe(0.5);
  });
  test("undefined for the sample size is null, not NaN", () => {
    expect(mean([])).toBeNull();
    expect(stdev([1])).toBeNull();
    expect(skewness([1, 2])).toBeNull();
    expect(excessKurtosis([1, 2, 3])).toBeNull();
    expect(skewness([3, 3, 3])).toBeNull();
    const s = summarize([]);
    expect(s).toMatchObject({ n: 0, mean: null, min: null, max: null });
    expect(s.quantiles.p50).toBeNull();
    expect(summarize(xs).quantiles).toMatchObject({ p25: 4, p50: 4.5, p75: 5.5 });
  });
});

describe("volatility and ATR", () => {
  test("close-to-close: returns ln 1.1 and ln 0.9, sample stdev = |r1 − r2| / √2", () => {
    const expected = Math.abs(Math.log(1.1) - Math.log(0.9)) / Math.SQRT2;
    close(closeToCloseVol([100, 110, 99], 1), expected);
    close(closeToCloseVol([100, 110, 99], 252), expected * Math.sqrt(252));
    expect(closeToCloseVol([100, 110], 1)).toBeNull();
  });
  test("Parkinson: one bar 110/100 gives σ² = ln(1.1)² / (4 ln 2)", () => {
    close(parkinsonVol([{ open: 100, high: 110, low: 100, close: 105 }], 1), Math.sqrt(Math.log(1.1) ** 2 / (4 * Math.LN2)));
  });
  test("a trading year is 252 × 390 one-minute bars", () => {
    expect(barsPerYear(60_000)).toBe(98_280);
    expect(barsPerYear(6.5 * 3600 * 1000)).toBe(252);
  });
  // TR: bar 0 = 10 − 8 = 2; bar 1 = max(3, |12 − 9|, |9 − 9|) = 3; bar 2 = max(1, 0, |10 − 11|) = 1;
  // bar 3 gaps up: max(1, |15 − 10.5|, |14 − 10.5|) = 4.5.
  const bars = [
    { open: 9, high: 10, low: 8, close: 9 }, { open: 9, high: 12, low: 9, close: 11 },
    { open: 11, high: 11, low: 10, close: 10.5 }, { open: 14, high: 15, low: 14, close: 14.5 },
  ];
  test("true ranges include gaps from the previous close", () => {
    expect(trueRanges(bars)).toEqual([2, 3, 1, 4.5]);
  });
  test("Wilder ATR(3): mean(2, 3, 1) = 2, then (2 × 2 + 4.5) / 3 = 8.5 / 3", () => {
    close(atr(bars, 3), 8.5 / 3);
    expect(atr(bars, 5)).toBeNull();
  });
});

describe("trend", () => {
  // x = 0..4, y = 1 3 2 5 4: mx = 2, my = 3, Sxy = 8, Sxx = 10, Syy = 10 → slope 0.8, intercept 1.4,
  // SSE = 10 − 0.8 × 8 = 3.6, R² = 0.64, se = √(3.6 / 3 / 10) = 0.2√3, t = 4/√3.
  // With 3 df, P(|T| > t) = 1 − (2/π)[u/(1 + u²) + atan u] at u = t/√3 = 4/3: 1 − (2/π)(12/25 + atan 4/3).
  test("OLS slope, t, R² and the two-sided p-value by the closed form for 3 df", () => {
    const fit = olsOnIndex([1, 3, 2, 5, 4])!;
    close(fit.slope, 0.8, 12);
    close(fit.intercept, 1.4, 12);
    close(fit.r2, 0.64, 12);
    close(fit.t, 4 / Math.sqrt(3), 12);
    close(fit.p, 1 - (2 / Math.PI) * (12 / 25 + Math.atan(4 / 3)), 10);
  });
  test("Student t tails: Cauchy (1 df) at 1 is 0.5; 2 df at 1 is 1 − 1/√3; many df approach the normal", () => {
    close(studentTwoSidedP(1, 1), 0.5, 12);
    close(studentTwoSidedP(1, 2), 1 - 1 / Math.sqrt(3), 12);
    close(studentTwoSidedP(1.959963984540054, 1e7), 0.05, 6);
    close(studentTwoSidedP(2.228138851986274, 10), 0.05, 9);
    expect(studentTwoSidedP(0, 5)).toBe(1);
  });
  test("a trend is called only when significant", () => {
    const rising = Array.from({ length: 30 }, (_, i) => 100 * Math.exp(0.001 * i + (i % 2 ? 0.0002 : -0.0002)));
    expect(detectTrend(rising)!.direction).toBe("up");
    close(detectTrend(rising)!.slopePerBar, 0.001, 4);
    const noisy = [100, 101, 100, 101, 100, 101, 100, 101];
    expect(detectTrend(noisy)!.direction).toBe("none");
    expect(detectTrend([100, 100, 100])).toBeNull();
  });
  test("EMA(3) of 1..6: seed mean(1, 2, 3) = 2, then halfway to each new value: 3, 4, 5", () => {
    const e = ema([1, 2, 3, 4, 5, 6], 3);
    expect(e.slice(0, 2).every(Number.isNaN)).toBe(true);
    expect(e.slice(2)).toEqual([2, 3, 4, 5]);
  });
  // EMA2 (k = 2/3) of 5 4 3 2 3 4 5 from index 1: 4.5, 3.5, 2.5, 2.833, 3.611, 4.537;
  // EMA3 (k = 1/2) from index 2: 4, 3, 3, 3.5, 4.25. Fast − slow: − − − + + : a bullish cross at index 5.
  test("EMA crossover: state and the bar of the last cross", () => {
    const x = emaCrossover([5, 4, 3, 2, 3, 4, 5], 2, 3)!;
    expect(x.state).toBe("bullish");
    expect(x.lastCross).toEqual({ direction: "bullish", barsAgo: 1 });
    close(x.fast, 4.537037037, 8);
    close(x.slow, 4.25);
    expect(emaCrossover([1, 2], 2, 3)).toBeNull();
  });
});

describe("Holt forecast", () => {
  // α = β* = 0.5 on 10 12 13 15: level 12, trend 2; t = 2: forecast 14, error −1, level 13.5, trend 1.75;
  // t = 3: forecast 15.25, error −0.25, level 15.125, trend 1.6875. σ² = (1 + 0.0625) / 2 = 0.53125.
  const s = holtSmooth([10, 12, 13, 15], { alpha: 0.5, beta: 0.5 });
  test("smoothing by hand", () => {
    expect(s.errors).toEqual([-1, -0.25]);
    expect(s.level).toBe(15.125);
    expect(s.trend).toBe(1.6875);
  });
  test("forecasts and ETS(A,A,N) intervals: var(2) = σ²(1 + (α + αβ*)²) = 1.5625 σ²", () => {
    const [p1, p2] = holtForecast(s, 2, 0.95);
    expect(p1!.mean).toBe(16.8125);
    expect(p2!.mean).toBe(18.5);
    close(p1!.upper - p1!.mean, 1.959963984540054 * Math.sqrt(0.53125));
    close(p2!.upper - p2!.mean, 1.959963984540054 * Math.sqrt(0.53125 * 1.5625));
    expect(() => holtForecast(s, 1, 0.5)).toThrow(/interval level/);
  });
  test("backtest on a straight line: no error, while the naive forecast is off by the slope", () => {
    const line = Array.from({ length: 20 }, (_, t) => 10 + 2 * t);
    const b = backtestHolt(line, 5)!;
    expect(b.n).toBe(5);
    close(b.mae, 0);
    close(b.mape, 0);
    expect(b.naiveMae).toBe(2);
    expect(backtestHolt(line.slice(0, 6), 5)).toBeNull();
  });
});

describe("robust anomalies", () => {
  test("median 3 and MAD 1 on 1 2 3 4 100: z(100) = 0.6745 × 97", () => {
    const z = robustZ([1, 2, 3, 4, 100]);
    close(z[4]!, 0.6745 * 97);
    close(z[0]!, -0.6745 * 2);
    expect(flagAnomalies([1, 2, 3, 4, 100])).toEqual([{ index: 4, value: 100, z: 0.6745 * 97 }]);
  });
  test("MAD 0 falls back to the mean absolute deviation: 4 / (1.253314 × 4/7)", () => {
    const z = robustZ([5, 5, 5, 5, 5, 5, 9]);
    close(z[6]!, 4 / (1.253314 * (4 / 7)));
    expect(flagAnomalies([5, 5, 5, 5, 5, 5, 9]).map((f) => f.index)).toEqual([6]);
    expect(flagAnomalies([2, 2, 2])).toEqual([]);
  });
});

describe("trading performance", () => {
  // Returns of 100 110 99 108.9: +0.1, −0.1, +0.1; mean 1/30; sample sd √(0.02667 / 2) = 0.11547;
  // Sharpe = (1/30) / 0.11547 = 1/(2√3). Downside: only −0.1, DD = √(0.01 / 3), Sortino = 1/√3.
  const equity = [100, 110, 99, 108.9];
  test("Sharpe and Sortino, per period and annualised by √252", () => {
    const r = equityReturns(equity);
    close(sharpe(r, 1), 1 / (2 * Math.sqrt(3)));
    close(sharpe(r), Math.sqrt(252) / (2 * Math.sqrt(3)));
    close(sortino(r, 1), 1 / Math.sqrt(3));
    expect(sortino([0.01, 0.02], 1)).toBeNull();
    expect(sharpe([0.01, 0.01], 1)).toBeNull();
  });
  test("drawdown: 120 → 90 is 25 %, under water for 2 periods; the end (117 < 130) is not recovered", () => {
    expect(drawdown([100, 120, 90, 110, 130, 117])).toEqual({ maxDrawdown: 0.25, peakIndex: 1, troughIndex: 2, longestPeriods: 2, recovered: false });
    expect(drawdown([100, 100])).toMatchObject({ maxDrawdown: 0, recovered: true });
  });
  test("win rate over decided trades, profit factor 130 / 70, expectancy 60 / 5", () => {
    expect(tradeStats([100, -50, 0, 30, -20])).toEqual({
      trades: 5, wins: 2, losses: 2, breakeven: 1, winRate: 0.5, profitFactor: 130 / 70, grossProfit: 130, grossLoss: 70, expectancy: 12,
    });
    expect(tradeStats([10]).profitFactor).toBeNull();
  });
  test("the whole report", () => {
    const p = performance(equity, 1);
    close(p.totalReturn, 0.089);
    expect(p.periods).toBe(3);
    expect(p.drawdown!.maxDrawdown).toBeCloseTo(0.1, 12);
  });
});

describe("histogram quantiles (Prometheus histogram_quantile)", () => {
  const b = [{ le: 0.1, count: 10 }, { le: 0.5, count: 30 }, { le: 1, count: 40 }, { le: Infinity, count: 40 }];
  test("interpolates inside the bucket holding the rank", () => {
    close(histogramQuantile(0.5, b), 0.3); // rank 20 in (0.1, 0.5] holding 10..30: 0.1 + 0.4 × 10/20
    close(histogramQuantile(0.99, b), 0.98); // rank 39.6 in (0.5, 1] holding 30..40: 0.5 + 0.5 × 9.6/10
    close(histogramQuantile(0.1, b), 0.04); // rank 4 in [0, 0.1]
  });
  test("a rank in +Inf answers the highest finite bound; no observations answers null", () => {
    expect(histogramQuantile(0.9, [{ le: 1, count: 5 }, { le: Infinity, count: 10 }])).toBe(1);
    expect(histogramQuantile(0.5, [{ le: 1, count: 0 }, { le: Infinity, count: 0 }])).toBeNull();
  });
  test("the window between two scrapes is their bucket-wise difference", () => {
    const later = b.map((x) => ({ ...x, count: x.count + 5 }));
    expect(bucketDelta(later, b).map((x) => x.count)).toEqual([5, 5, 5, 5]);
  });
});
