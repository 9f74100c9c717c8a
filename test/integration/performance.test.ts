// Account performance through the real API (Bun.serve on port 0, SQLite in a temp dir, the
// paper broker on exact quotes): four paper orders, then GET /v1/analytics/accounts/Gen-Acc/
// performance compared with numbers worked out by hand below; plus the daily series, Sharpe and
// Sortino of a three-day history, the access rules and the fill bound.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { accountPerformance, ArrivalMids } from "../../src/analytics/account-performance.ts";
import { dailyPnl, latencyStats, slippageStats } from "../../src/analytics/performance.ts";
import { KeyStore } from "../../src/auth/keys.ts";
import { ClientError, RestClient } from "../../src/client/index.ts";
import { ExchangeCalendar } from "../../src/domain/calendar.ts";
import { toMicros } from "../../src/domain/money.ts";
import { toUnits } from "../../src/domain/price.ts";
import type { Fill } from "../../src/domain/order.ts";
import { performanceRoutes } from "../../src/server/accounts-analytics.ts";
import { orderRoutes, ORDER_ROUTE_DEFAULTS } from "../../src/server/orders.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { OmsHarness } from "../helpers/oms.ts";
import { waitFor } from "../helpers/wait.ts";

let h: OmsHarness;
let server: RunningServer;
let keys: KeyStore;
let rest: RestClient;
const calendar = new ExchangeCalendar();

beforeAll(async () => {
  h = await OmsHarness.start();
  h.quote("AAPL", 100, 1000, 100.02, 1000);
  keys = new KeyStore(h.store.db);
  const arrivals = new ArrivalMids(h.store.journal, h.market.engine);
  server = await startServer(h.market.engine, {
    host: "127.0.0.1", port: 0,
    rest: { routes: [
      orderRoutes({ oms: h.oms, keys, maxRows: 50, ...ORDER_ROUTE_DEFAULTS }),
      performanceRoutes({ oms: h.oms, store: h.store, keys, arrivals, days: calendar, clock: () => h.clock.now, maxFills: 10, keyRatePerS: 1000, keyBurst: 1000 }),
    ] },
  });
  rest = new RestClient(server.url, { key: keys.create(["trade"], ["Gen-Acc"]).secret });
});
afterAll(async () => {
  await server.stop();
  await h.dispose();
});

const perf = (client: RestClient, account = "Gen-Acc") => client.performance(account);

describe("account performance through the API", () => {
  test("four paper orders against hand-worked numbers", async () => {
    const o = { account: "Gen-Acc", symbol: "AAPL" } as const;
    // 1. buy 100 at the ask 100.02 (mid 100.01); 2. sell 100 at the bid 101.00 (mid 101.01): +98.00.
    await rest.placeOrder({ ...o, side: "buy", type: "market", qty: 100 });
    h.quote("AAPL", 101, 1000, 101.02, 1000);
    await rest.placeOrder({ ...o, side: "sell", type: "market", qty: 100 });
    // 3. buy 50 limit 100.50 arriving at mid 101.01; 251 ms later the ask comes down to it: fill 100.50.
    const resting = (await rest.placeOrder({ ...o, side: "buy", type: "limit", qty: 50, limitPrice: 100.5 })).order;
    h.clock.now += 250;
    h.quote("AAPL", 100.4, 1000, 100.5, 1000);
    await waitFor(() => h.oms.openOrders("Gen-Acc").length === 0, 5000, "the resting buy to fill");
    // 4. sell 50 at the bid 100.40 (mid 100.45): −5.00.
    await rest.placeOrder({ ...o, side: "sell", type: "market", qty: 50 });

    const r = await perf(rest);
    // Each fill pays the $1 minimum (100 × $0.005 and 50 × $0.005 are below it); the sales also
    // pay the SEC fee ($27.80/M: $10,100 → $0.29, $5,020 → $0.14) and FINRA TAF (100 and 50
    // shares × $0.000166 → $0.02, $0.01): 1 + 1.31 + 1 + 1.15 = $4.46. Average cost includes
    // commissions, so realised = (10100 − 10003 − 1.31) + (5020 − 5026 − 1.15) = 95.69 − 7.15 = 88.54.
    expect(r).toMatchObject({ account: "Gen-Acc", deposits: 120_000, realizedPnl: 88.54, commissions: 4.46, equity: 120_088.54 });
    expect(r.netPnl).toBeCloseTo(88.54, 6);
    expect(r.returnOnDeposits).toBeCloseTo(88.54 / 120_000, 15);
    // Cash after each event, every position marked at its own last fill price:
    // 120000; −10003 +10002 → 119999; +10100 −1.31 → 120095.69; −5026 +5025 → 120094.69; +5020 −1.15 → 120088.54.
    expect(r.curve.map((p) => p.equity)).toEqual([120_000, 119_999, 120_095.69, 120_094.69, 120_088.54, 120_088.54]);
    expect(r.drawdown!.maxDrawdown).toBeCloseTo(7.15 / 120_095.69, 15);
    expect(r.drawdown).toMatchObject({ peakTs: r.curve[2]!.ts, troughTs: r.curve[4]!.ts, recovered: false });
    expect(r.daily).toMatchObject([{ date: "2026-11-23", equity: 120_088.54, return: null }]);
    expect(r.daily[0]!.pnl).toBeCloseTo(88.54, 6);
    expect(r).toMatchObject({ sharpe: null, sortino: null, periodsPerYear: 252 });
    expect(r.trades).toMatchObject({ trades: 2, wins: 1, losses: 1, breakeven: 0, winRate: 0.5, grossProfit: 95.69, grossLoss: 7.15 });
    expect(r.trades.profitFactor).toBeCloseTo(95.69 / 7.15, 9);
    expect(r.trades.expectancy).toBeCloseTo(44.27, 9);
    // Slippage per share vs arrival mid: +0.01, +0.01, −0.51 (a better price), +0.05 →
    // cost 1 + 1 − 25.5 + 2.5 = −21 over 300 shares and a mid notional of 10001 + 10101 + 5050.5 + 5022.5 = 30175.
    expect(r.slippage.fills).toBe(4);
    expect(r.slippage.measured).toBe(4);
    expect(r.slippage.cost).toBeCloseTo(-21, 9);
    expect(r.slippage.avgPerShare).toBeCloseTo(-0.07, 12);
    expect(r.slippage.avgBps).toBeCloseTo((-21 / 30_175) * 1e4, 9);
    // Latencies 0, 0, 251, 0 ms: type-7 quantiles of [0, 0, 0, 251].
    expect(r.fillLatencyMs).toMatchObject({ count: 4, p50: 0, max: 251 });
    expect(r.fillLatencyMs.p90).toBeCloseTo(0.7 * 251, 9);
    expect(r.fillLatencyMs.p99).toBeCloseTo(0.97 * 251, 9);
    expect(resting.status).toBe("accepted");
    // The same money as the account route reports.
    expect((await rest.account("Gen-Acc")).equity).toBe(r.equity);
  });

  test("who may read it: the account's trade key or an admin key; others 404, read keys 403, no key 401", async () => {
    const admin = new RestClient(server.url, { key: keys.create(["admin"], []).secret });
    expect((await perf(admin)).account).toBe("Gen-Acc");
    const code = async (p: Promise<unknown>) => ((await p.then(() => undefined, (e: ClientError) => e)) as ClientError).code;
    expect(await code(perf(rest, "Rev-Acc"))).toBe("NOT_FOUND");
    expect(await code(perf(admin, "Nope"))).toBe("NOT_FOUND");
    expect(await code(perf(new RestClient(server.url, { key: keys.create(["read"], []).secret })))).toBe("FORBIDDEN");
    expect(await code(perf(new RestClient(server.url)))).toBe("UNAUTHORIZED");
    const empty = await perf(admin, "Rev-Acc");
    expect(empty).toMatchObject({ deposits: 90_000, equity: 90_000, netPnl: 0, trades: { trades: 0 }, slippage: { fills: 0, avgBps: null } });
  });

  test("the history read is bounded: past maxFills the reply is 400 TOO_MANY_ROWS, never a partial report", async () => {
    for (let i = 0; i < 7; i++) await rest.placeOrder({ account: "Gen-Acc", symbol: "AAPL", side: i % 2 ? "sell" : "buy", type: "market", qty: 1 });
    const err = await perf(rest).then(() => undefined, (e: ClientError) => e);
    expect(err).toMatchObject({ code: "TOO_MANY_ROWS", status: 400, field: "account" });
  });
});

describe("arrival mids", () => {
  test("the mid of a clean two-sided quote at the submission's commit; none without one; bounded by capacity", () => {
    let commit: (records: never[]) => void = () => {};
    const mids = new ArrivalMids({ onCommit: (l) => (commit = l as (r: never[]) => void) }, h.market.engine, 2);
    const submitted = (id: string, symbol: string) => ({ t: "order", seq: 0, kind: "submitted", ts: 0, order: { id, symbol } });
    h.quote("AAPL", 100, 10, 100.03, 10);
    commit([submitted("X1", "AAPL"), submitted("X2", "MSFT"), { t: "order", seq: 0, kind: "accepted", ts: 0, order: { id: "X9", symbol: "AAPL" } }] as never[]);
    expect(mids.get("X1")).toBe(100.015);
    expect(mids.get("X2")).toBeUndefined();
    expect(mids.get("X9")).toBeUndefined();
    commit([submitted("X3", "AAPL"), submitted("X4", "AAPL")] as never[]);
    expect([mids.get("X1"), mids.get("X3"), mids.get("X4")]).toEqual([undefined, 100.015, 100.015]);
  });
});

describe("the math on a three-day history", () => {
  const day = (d: string, hhmm = "15:00") => Date.parse(`${d}T${hhmm}:00Z`);
  const fill = (seq: number, ts: number, side: "buy" | "sell", qty: number, price: number, orderId: string): Fill => ({
    seq, fillId: `f${seq}`, orderId, account: "A", symbol: "X", side, qty, priceUnits: toUnits(price), multiplier: 1, commissionMicros: 0, ts, kind: "trade",
  });

  test("daily P&L net of deposits, carried over a weekend, Sharpe and Sortino from daily returns", () => {
    // Fri 2026-11-20 deposit 1000, buy 10 @ 100; Mon 23rd sell 10 @ 110 (+100); Tue 24th deposit 500, buy 10 @ 110, sell @ 104.5 (−55).
    const r = accountPerformance({
      account: "A",
      cash: [{ seq: 1, account: "A", amountMicros: toMicros(1000), ts: day("2026-11-20", "14:00"), memo: "" },
        { seq: 5, account: "A", amountMicros: toMicros(500), ts: day("2026-11-24", "14:00"), memo: "" }],
      fills: [fill(2, day("2026-11-20"), "buy", 10, 100, "O1"), fill(3, day("2026-11-23"), "sell", 10, 110, "O2"),
        fill(6, day("2026-11-24"), "buy", 10, 110, "O3"), fill(7, day("2026-11-24", "16:00"), "sell", 10, 104.5, "O4")],
      orderCreatedTs: () => undefined, arrivalMid: () => undefined, equityNow: 1545, nowMs: day("2026-11-24", "20:00"), days: calendar,
    });
    expect(r.daily).toEqual([
      { date: "2026-11-20", equity: 1000, pnl: 0, return: null },
      { date: "2026-11-23", equity: 1100, pnl: 100, return: 0.1 },
      { date: "2026-11-24", equity: 1545, pnl: -55, return: -0.05 },
    ]);
    // Returns +0.1, −0.05: mean 0.025, sample stdev 0.15/√2, downside deviation √(0.05²/2) = 0.05/√2,
    // so Sharpe = 0.025·√2/0.15·√252 = √504/6 and Sortino = 0.025·√2/0.05·√252 = √504/2.
    expect(r.sharpe).toBeCloseTo(Math.sqrt(504) / 6, 12);
    expect(r.sortino).toBeCloseTo(Math.sqrt(504) / 2, 12);
    expect(r.trades).toMatchObject({ trades: 2, wins: 1, losses: 1, profitFactor: 100 / 55 });
    expect(r.fillLatencyMs.count).toBe(0);
    expect(r.slippage).toMatchObject({ fills: 4, measured: 0, avgBps: null });
    expect(r).toMatchObject({ deposits: 1500, netPnl: 45, realizedPnl: 45 });
  });

  test("an assigned put ends no trade: its premium is in the shares, and the trade that sells them realises it", () => {
    // Sell 1 X 100 put at $2.00, assigned (100 X at $100, basis $9,800), sold at $99: one trade of
    // 9,900 − 9,800 = +$100 — not a $200 option trade and a −$100 stock trade.
    const put = "X-20261127-P-100";
    const r = accountPerformance({
      account: "A",
      cash: [{ seq: 1, account: "A", amountMicros: toMicros(20_000), ts: day("2026-11-20", "14:00"), memo: "" }],
      fills: [{ ...fill(2, day("2026-11-20"), "sell", 1, 2, "O1"), symbol: put, multiplier: 100 },
        { ...fill(3, day("2026-11-27", "21:00"), "buy", 1, 0, "O1"), orderId: undefined, symbol: put, multiplier: 100, kind: "assignment" },
        { ...fill(4, day("2026-11-27", "21:00"), "buy", 100, 100, "O1"), orderId: undefined, kind: "assignment" },
        fill(5, day("2026-11-30"), "sell", 100, 99, "O2")],
      orderCreatedTs: () => undefined, arrivalMid: () => undefined, equityNow: 20_100, nowMs: day("2026-11-30", "20:00"), days: calendar,
    });
    expect(r.trades).toMatchObject({ trades: 1, wins: 1, losses: 0, grossProfit: 100 });
    expect(r).toMatchObject({ realizedPnl: 100, netPnl: 100 });
  });

  test("daily series skips weekends without activity; slippage and latency helpers on small samples", () => {
    const pts = [{ ts: day("2026-11-20"), equity: 100, flow: 100 }, { ts: day("2026-11-24"), equity: 103, flow: 0 }];
    expect(dailyPnl(pts, calendar).map((d) => [d.date, d.pnl])).toEqual([["2026-11-20", 0], ["2026-11-23", 0], ["2026-11-24", 3]]);
    const s = slippageStats([{ side: "sell", qty: 2, multiplier: 100, price: 1.0, arrivalMid: 1.05 }, { side: "buy", qty: 1, multiplier: 1, price: 10, arrivalMid: null }]);
    expect(s.cost).toBeCloseTo(10, 12);
    expect(s.avgPerShare).toBeCloseTo(0.05, 12);
    expect(s.avgBps).toBeCloseTo((10 / 210) * 1e4, 9);
    expect(latencyStats([])).toEqual({ count: 0, p50: null, p90: null, p99: null, max: null });
    const l = latencyStats([5, 1, 3]);
    expect(l).toMatchObject({ count: 3, p50: 3, max: 5 });
    expect(l.p90).toBeCloseTo(4.6, 12);
    expect(l.p99).toBeCloseTo(4.96, 12);
  });
});
