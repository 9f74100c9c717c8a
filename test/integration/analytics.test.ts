import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SpreadSampler } from "../../src/analytics/spread.ts";
import { TickKind } from "../../src/domain/tick.ts";
import { analyticsRoutes } from "../../src/server/analytics-routes.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { TestMarket } from "../helpers/market.ts";

const MINUTE = 60_000;

describe("/v1/analytics over the engine's bars", () => {
  let market: TestMarket;
  let server: RunningServer;
  let spreads: SpreadSampler;
  const t0 = Math.floor(Date.now() / MINUTE) * MINUTE - 40 * MINUTE;

  /** One bar per minute from OHLC trades (volume 100 each), then one trade in the next minute to close it. */
  const writeBars = (symbol: string, bars: [number, number, number, number][], volumes?: number[]) => {
    bars.forEach(([o, h, l, c], i) => {
      const start = t0 + i * MINUTE;
      const size = (volumes?.[i] ?? 400) / 4;
      [o, h, l, c].forEach((p, k) => market.tradeAt(symbol, p, size, start + 1000 * (k + 1)));
    });
    const last = bars[bars.length - 1]![3];
    market.tradeAt(symbol, last, 1, t0 + bars.length * MINUTE + 1000);
  };

  beforeAll(async () => {
    market = await TestMarket.create();
    spreads = new SpreadSampler(market.engine, { capacity: 4, maxInstruments: 3 });
    server = await startServer(market.engine, { host: "127.0.0.1", port: 0, rest: { routes: [analyticsRoutes(market.engine, spreads)] } });
    // AAPL: true ranges 2, max(3, |103 − 100|, 0) = 3, max(1, 0, |101 − 102|) = 1, a gap max(1, |106 − 101.5|, 3.5) = 4.5,
    // and max(2, 0.5, 1.5) = 2 (all moves inside the engine's 10 % jump band).
    writeBars("AAPL", [[100, 101, 99, 100], [100, 103, 100, 102], [102, 102, 101, 101.5], [105, 106, 105, 105.5], [105.5, 106, 104, 105]]);
    // MSFT: 30 quiet bars (returns spread evenly over ±5 bp, volumes over 400..440) and, in the
    // 25th bar, a 3 % jump on a hundred times the volume.
    const msft: [number, number, number, number][] = [];
    const vols: number[] = [];
    let c = 100;
    for (let i = 0; i < 30; i++) {
      c = Math.round(c * (i === 24 ? 1.03 : 1 + 0.0005 * (((i * 7919) % 13) - 6) / 6) * 100) / 100;
      msft.push([c, c + 0.02, c - 0.02, c]);
      vols.push(i === 24 ? 40_000 : 400 + ((i * 37) % 11) * 4);
    }
    writeBars("MSFT", msft, vols);
  });
  afterAll(() => server.stop());

  const get = async (path: string) => {
    const res = await fetch(`${server.url}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  test("summary: window, ATR by hand, VWAP deviation and volatility of the bars", async () => {
    const { status, body } = await get("/v1/analytics/AAPL?bars=10");
    expect(status).toBe(200);
    expect(body.window).toEqual({ bars: 5, barMs: MINUTE, from: t0, to: t0 + 5 * MINUTE });
    // ATR(5) with exactly five bars is the mean of the true ranges: (2 + 3 + 1 + 4.5 + 2) / 5.
    expect(body.atr).toMatchObject({ period: 5, oneMinute: 2.5, daily: null });
    expect((await get("/v1/analytics/AAPL?bars=4")).body.atr.oneMinute).toBeNull();
    expect(body.returns.n).toBe(4);
    expect(body.returns.mean).toBeCloseTo(Math.log(105 / 100) / 4, 12);
    // Trades: 4 × 100 at each bar's O, H, L, C and 1 at 105; VWAP = Σ p·q / Σ q.
    const prices = [100, 101, 99, 100, 100, 103, 100, 102, 102, 102, 101, 101.5, 105, 106, 105, 105.5, 105.5, 106, 104, 105];
    const vwap = (prices.reduce((a, p) => a + p * 100, 0) + 105) / (prices.length * 100 + 1);
    expect(body.vwap.vwap).toBeCloseTo(vwap, 6);
    expect(body.vwap.deviation).toBeCloseTo(105 / body.vwap.vwap - 1, 12);
    expect(body.volatility.closeToClose).toBeGreaterThan(0);
    expect(body.volatility.parkinson).toBeGreaterThan(0);
    expect(body.trend.n).toBe(5);
    expect(body.ema).toBeNull();
  });

  test("anomalies: the 3 % jump and the volume spike of bar 25 are flagged, nothing else", async () => {
    const { body } = await get("/v1/analytics/MSFT/anomalies?bars=60");
    expect(body.window.bars).toBe(30);
    expect(body.threshold).toBe(3.5);
    expect(body.returns.map((a: { at: number }) => a.at)).toEqual([t0 + 24 * MINUTE]);
    expect(body.volume).toEqual([expect.objectContaining({ at: t0 + 24 * MINUTE, value: 40_000 })]);
  });

  test("forecast: horizon points after the last bar, intervals widening, and a backtest", async () => {
    const { status, body } = await get("/v1/analytics/MSFT/forecast?bars=30&horizon=5&level=0.9&test=5");
    expect(status).toBe(200);
    expect(body.points).toHaveLength(5);
    expect(body.points[0].start).toBe(t0 + 30 * MINUTE);
    for (let i = 1; i < 5; i++) expect(body.points[i].upper - body.points[i].lower).toBeGreaterThanOrEqual(body.points[i - 1].upper - body.points[i - 1].lower);
    expect(body.backtest).toMatchObject({ n: 5 });
    expect(body.backtest.mae).toBeGreaterThanOrEqual(0);
    expect(body.level).toBe(0.9);
  });

  test("spread statistics come from the sampler's ring, oldest overwritten", async () => {
    const row = market.row("AAPL");
    const quote = (bid: number, ask: number) => {
      market.engine.write(row, TickKind.Bid, bid, 100, Date.now());
      market.engine.write(row, TickKind.Ask, ask, 100, Date.now());
      market.engine.flush();
      spreads.sample();
    };
    quote(105, 105.02);
    quote(105, 105.04);
    let s = (await get("/v1/analytics/AAPL")).body.spread;
    expect(s.samples).toBe(2);
    expect(s.absolute.mean).toBeCloseTo(0.03, 12);
    expect(s.relativeBps.max).toBeCloseTo((0.04 / 105.02) * 1e4, 3);
    for (const ask of [105.01, 105.01, 105.01, 105.01]) quote(105, ask);
    s = (await get("/v1/analytics/AAPL")).body.spread;
    expect(s.samples).toBe(4);
    expect(s.absolute.max).toBeCloseTo(0.01, 12);
    // Rows past maxInstruments are not sampled, and say so with null.
    expect((await get("/v1/analytics/BRK%2FB")).body.spread).toBeNull();
  });

  test("bad parameters and unknown symbols are errors with the field", async () => {
    expect(await get("/v1/analytics/NOPE")).toEqual({ status: 404, body: { error: { code: "NOT_FOUND", message: 'unknown symbol "NOPE"', field: "symbol" } } });
    expect((await get("/v1/analytics/AAPL?bars=1")).body.error.field).toBe("bars");
    expect((await get("/v1/analytics/AAPL/forecast?horizon=1000")).body.error.field).toBe("horizon");
    expect((await get("/v1/analytics/AAPL/forecast?level=0.5")).body.error.field).toBe("level");
    expect((await get("/v1/analytics/AAPL/anomalies?threshold=abc")).body.error.field).toBe("threshold");
  });
});
