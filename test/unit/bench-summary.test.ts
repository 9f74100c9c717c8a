// The benchmark summary (bench/summary.ts) on fixed inputs: which rows appear, their ratios,
// budgets and verdicts, and the Markdown it prints. No timing: the inputs are made up.

import { describe, expect, test } from "bun:test";
import type { OrdersResult } from "../../bench/orders.ts";
import { summaryRows, summaryTable, type SummaryInput } from "../../bench/summary.ts";

const lat = (p99: number) => ({ p50: p99 / 2, p99, p999: p99 * 2, max: p99 * 3 });
const orders: OrdersResult[] = [
  { name: "baseline: one-row commit with fsync", durability: "full", mode: "closed", load: 1, orders: 300, ordersPerS: 2000, latencyMs: lat(0.5) },
  { name: "in process, 2000/s, full", durability: "full", mode: "open", load: 2000, orders: 10_000, ordersPerS: 2000, latencyMs: lat(0.6) },
  { name: "in process, 512 in flight, full", durability: "full", mode: "closed", load: 512, orders: 200_000, ordersPerS: 40_000, latencyMs: lat(20) },
  { name: "in process, 512 in flight, none", durability: "none", mode: "closed", load: 512, orders: 250_000, ordersPerS: 50_000, latencyMs: lat(15) },
  { name: "REST round trip, 2000/s, full", durability: "full", mode: "open", load: 2000, orders: 10_000, ordersPerS: 2000, latencyMs: lat(1.5), mainCpuUsPerOrder: 50, processCpuUsPerOrder: 80 },
];

const input: SummaryInput = {
  orders,
  pretrade: [3, 1000].flatMap((positions) => [
    { name: "pass-through hook (yardstick)", positions, nsP50: 50, nsP99: 100, nsP999: 200, checksPerS: 2e7 },
    { name: "WASM pre-trade check (running sums)", positions, nsP50: 500, nsP99: 1000, nsP999: 3000, checksPerS: 2e6 },
    { name: "walking check (reference, as before)", positions, nsP50: positions * 10, nsP99: positions * 20, nsP999: positions * 40, checksPerS: 1e5 },
  ]),
  greeks: [
    { name: "greeks wasm (1,024-option batches)", batchNsP50: 50_000, optionsPerS: 20e6 },
    { name: "greeks ts   (same formulas, same batch)", batchNsP50: 100_000, optionsPerS: 10e6 },
  ],
  ingest: [
    { name: "ingest wasm (1,024-tick batches)", batchNsP50: 30_000, ticksPerS: 30e6 },
    { name: "ingest ts (1,024-tick batches)", batchNsP50: 60_000, ticksPerS: 20e6 },
  ],
  fanout: {
    app: { deliveredPerS: 400_000, serverCpuPercent: 30, ingestToClientMs: { p50: 1.3, p99: 30 }, serverCpuUsPerMsg: 0.75 },
    bare: { deliveredPerS: 410_000, serverCpuPercent: 20, ingestToClientMs: { p50: 1.1, p99: 60 }, serverCpuUsPerMsg: 0.5 },
  },
  ib: {
    decode: { messagesPerS: 1e6, eventsPerS: 2e6 },
    ingest: [
      { name: "capacity", offeredTicksPerS: 1e6, engineTicksPerS: 1.5e6, ibTicksDelivered: 5e6, ibTicksThrottled: 0, engineRejected: 0, instruments: 10, batchesPerS: 1000 },
      { name: "budget rate", offeredTicksPerS: 3e5, engineTicksPerS: 6e5, ibTicksDelivered: 1e6, ibTicksThrottled: 0, engineRejected: 0, instruments: 10, batchesPerS: 500 },
    ],
  },
};

describe("benchmark summary", () => {
  test("one row per headline figure, each against its same-run yardstick", () => {
    const rows = summaryRows(input);
    const by = Object.fromEntries(rows.map((r) => [r.metric, r]));
    expect(rows.map((r) => r.metric)).toEqual([
      "REST order p99 at 2 k/s (vs one-row fsync commit p99)",
      "REST order process CPU (vs main thread's share)",
      "durable orders/s closed loop (vs durability none)",
      "pre-trade p99, 1000 positions (vs walking check)",
      "pre-trade p99, 1000 positions (vs pass-through hook)",
      "pre-trade p99 flatness, 1000 vs 3 positions",
      "greeks (vs same formulas in TS)",
      "ingest (vs same algorithm in TS)",
      "fan-out tick→client p99 (vs bare Bun.serve pub/sub)",
      "fan-out delivered (vs bare Bun.serve pub/sub)",
      "fan-out server CPU per delivered msg (vs bare Bun.serve pub/sub)",
      "IB ingest engine ticks/s (vs @stoqey/ib decode events/s)",
    ]);
    const rest = by["REST order p99 at 2 k/s (vs one-row fsync commit p99)"]!;
    expect(rest).toMatchObject({ ours: 1.5, yardstick: 0.5, ratio: 3, budget: "≤ 2×", met: false });
    expect(by["REST order process CPU (vs main thread's share)"]).toMatchObject({ ours: 80, met: false });
    expect(by["durable orders/s closed loop (vs durability none)"]).toMatchObject({ ours: 40_000, ratio: 0.8, met: true });
    expect(by["pre-trade p99, 1000 positions (vs walking check)"]).toMatchObject({ ours: 1, yardstick: 20, ratio: 0.05, met: true });
    expect(by["pre-trade p99 flatness, 1000 vs 3 positions"]).toMatchObject({ ratio: 1, met: true });
    expect(by["greeks (vs same formulas in TS)"]).toMatchObject({ ratio: 2, met: true });
    // 1.5× is short of the ingest budget's 2×.
    expect(by["ingest (vs same algorithm in TS)"]).toMatchObject({ ratio: 1.5, met: false });
    expect(by["fan-out tick→client p99 (vs bare Bun.serve pub/sub)"]).toMatchObject({ ratio: 0.5, met: true });
    // No budget for the delivered rate: reported, neither met nor missed.
    expect(by["fan-out delivered (vs bare Bun.serve pub/sub)"]!.met).toBeUndefined();
    expect(by["fan-out server CPU per delivered msg (vs bare Bun.serve pub/sub)"]).toMatchObject({ ours: 0.75, yardstick: 0.5, ratio: 1.5, met: undefined });
    expect(summaryTable(rows)).toContain("| fan-out delivered (vs bare Bun.serve pub/sub) | 400,000 msgs/s | 410,000 msgs/s | 0.98× | none (reported) | — |");
    // The best ingest run against the decode ceiling: 1.5 M of 2 M events/s is 0.75, under 0.8.
    expect(by["IB ingest engine ticks/s (vs @stoqey/ib decode events/s)"]).toMatchObject({ ours: 1.5e6, ratio: 0.75, met: false });
  });

  test("a benchmark that did not run gives no row; nothing at all says so", () => {
    expect(summaryRows({ greeks: input.greeks }).map((r) => r.metric)).toEqual(["greeks (vs same formulas in TS)"]);
    // Orders without the fsync baseline cannot state the p99 ratio.
    expect(summaryRows({ orders: orders.slice(1) }).some((r) => r.metric.startsWith("REST order p99"))).toBe(false);
    expect(summaryTable([])).toContain("| (no benchmark with a yardstick ran) | | | | | |");
  });

  test("with the floor scenario: p99 from send and CPU above idle against the bare group commit", () => {
    const withFloor: OrdersResult[] = [
      ...orders.map((o) => (o.name.startsWith("REST") ? { ...o, fromSentMs: lat(1.2), marginalCpuUsPerOrder: 70 }
        : o.name.startsWith("in process, 2000/s") ? { ...o, fromSentMs: lat(0.9) } : o)),
      { name: "floor: bare group commit (1 row per order, fsync), 2000/s", durability: "full", mode: "open", load: 2000, orders: 10_000, ordersPerS: 2000,
        latencyMs: lat(0.8), fromSentMs: lat(0.6), mainCpuUsPerOrder: 20, processCpuUsPerOrder: 50, threadCpuUsPerOrder: { Worker: 30, "bun.exe": 20 } },
      { name: "floor: bare Bun.serve JSON POST → 201, 2000/s", durability: "none", mode: "open", load: 2000, orders: 10_000, ordersPerS: 2000,
        latencyMs: lat(0.5), fromSentMs: lat(0.3), mainCpuUsPerOrder: 19, processCpuUsPerOrder: 20 },
    ];
    const by = Object.fromEntries(summaryRows({ orders: withFloor }).map((r) => [r.metric, r]));
    expect(by["REST order p99 at 2 k/s from send (vs floor: bare group commit)"]).toMatchObject({ ours: 1.2, yardstick: 0.6, ratio: 2, met: undefined });
    expect(by["in-process order p99 at 2 k/s from send (vs floor)"]).toMatchObject({ ours: 0.9, ratio: 1.5, met: undefined });
    // Yardstick: the bare HTTP server's CPU (20) plus the bare commit's writer thread (30).
    expect(by["REST order CPU above the idle server (vs floors: bare HTTP + bare commit's writer)"]).toMatchObject({ ours: 70, yardstick: 50, ratio: 1.4, met: false });
    // The budget's own rows are still there, from schedule and on the whole process.
    expect(by["REST order p99 at 2 k/s (vs one-row fsync commit p99)"]).toMatchObject({ ours: 1.5, met: false });
    // Without a floor result, no floor rows.
    expect(summaryRows({ orders }).some((r) => r.metric.includes("floor"))).toBe(false);
  });

  test("the table has the columns metric, ours, yardstick, ratio, budget, met", () => {
    const t = summaryTable(summaryRows({ orders }));
    expect(t[1]).toBe("| metric | ours | yardstick | ratio | budget | met |");
    expect(t).toContain("| REST order p99 at 2 k/s (vs one-row fsync commit p99) | 1.50 ms | 0.500 ms | 3.00× | ≤ 2× | NO |");
    expect(t).toContain("| durable orders/s closed loop (vs durability none) | 40,000 orders/s | 50,000 orders/s | 0.80× | ≥ 20 k/s | yes |");
  });
});
