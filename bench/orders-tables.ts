// Markdown tables of the order benchmark (bench/orders.ts): one run's scenarios, a server's
// per-stage breakdown, and medians of a baseline against this tree.

import { median } from "./compare.ts";
import type { OrdersResult } from "./orders.ts";

const f = (n: number, d = 2) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const cpu = (x: OrdersResult) => (x.mainCpuUsPerOrder === undefined ? "" : `${f(x.mainCpuUsPerOrder, 0)} / ${f(x.processCpuUsPerOrder!, 0)}${x.marginalCpuUsPerOrder === undefined ? "" : ` / ${f(x.marginalCpuUsPerOrder, 0)}`}`);
const sent = (x: OrdersResult) => (x.fromSentMs ? `${f(x.fromSentMs.p50, 3)} / ${f(x.fromSentMs.p99, 3)} (lag p99 ${f(x.sendLagMs!.p99, 2)})` : "");

/** Markdown rows for the results. */
export function ordersTable(r: OrdersResult[]): string[] {
  const rows = ["## Orders (pre-trade hook + journal + paper ack)",
    "| scenario | orders/s | from schedule p50 / p99 / p99.9 / max ms | from send p50 / p99 ms | records per commit | CPU µs/order main / process / above idle |", "|---|---:|---:|---:|---:|---:|"];
  for (const x of r) {
    const l = x.latencyMs;
    rows.push(`| ${x.name} | ${f(x.ordersPerS, 0)} | ${f(l.p50, 3)} / ${f(l.p99, 3)} / ${f(l.p999, 3)} / ${f(l.max, 1)} | ${sent(x)} | ${x.recordsPerCommit === undefined ? "" : f(x.recordsPerCommit, 1)} | ${cpu(x)} |`);
  }
  rows.push("Budgets: REST order → paper ack p99 at 2 k orders/s ≤ 2× the one-row fsync commit's p99, same run; ≤ 60 µs process CPU per order; ≥ 20 k durable orders/s closed loop.", "");
  return rows;
}

/** Markdown rows of a server's per-stage breakdown (µs): the stage timer's p50, p99 and mean per stage. */
export function stagesTable(x: OrdersResult): string[] {
  if (!x.stages) return [];
  const rows = [`Stages of ${x.stages.orders} orders (${x.name}):`, "| stage (from → to) | p50 µs | p99 µs | mean µs |", "|---|---:|---:|---:|"];
  for (const st of x.stages.stages) rows.push(`| ${st.from} → ${st.stage} | ${f(st.p50Us, 0)} | ${f(st.p99Us, 0)} | ${f(st.meanUs, 0)} |`);
  const t = x.stages.totalUs;
  if (t) rows.push(`| total in the server | ${f(t.p50Us, 0)} | ${f(t.p99Us, 0)} | ${f(t.meanUs, 0)} |`);
  rows.push(`| client round trip (ms → µs) | ${f(x.latencyMs.p50 * 1000, 0)} | ${f(x.latencyMs.p99 * 1000, 0)} | |`, "");
  return rows;
}

/** Markdown rows comparing medians of baseline and current runs; ratios are current ÷ baseline. */
export function compareTable(c: { base: OrdersResult[][]; cur: OrdersResult[][] }): string[] {
  const rows = ["| scenario | orders/s base → now (×) | p50 ms base → now | p99 ms base → now (×) | p99 from send ms base → now (×) | main-thread CPU µs/order base → now (×) | process CPU µs/order base → now (×) |", "|---|---:|---:|---:|---:|---:|---:|"];
  const m = (rs: OrdersResult[], g: (x: OrdersResult) => number | undefined) => median(rs.map((x) => g(x) ?? NaN));
  for (let i = 0; i < c.base.length; i++) {
    const b = c.base[i]!, n = c.cur[i]!;
    const rate = [m(b, (x) => x.ordersPerS), m(n, (x) => x.ordersPerS)] as const;
    const p50 = [m(b, (x) => x.latencyMs.p50), m(n, (x) => x.latencyMs.p50)] as const;
    const p99 = [m(b, (x) => x.latencyMs.p99), m(n, (x) => x.latencyMs.p99)] as const;
    const sentP99 = [m(b, (x) => x.fromSentMs?.p99), m(n, (x) => x.fromSentMs?.p99)] as const;
    const main = [m(b, (x) => x.mainCpuUsPerOrder), m(n, (x) => x.mainCpuUsPerOrder)] as const;
    const proc = [m(b, (x) => x.processCpuUsPerOrder), m(n, (x) => x.processCpuUsPerOrder)] as const;
    const ratio = (v: readonly [number, number]) => (Number.isNaN(v[0]) ? "" : `${f(v[0], 1)} → ${f(v[1], 1)} (${f(v[1] / v[0])}×)`);
    rows.push(`| ${b[0]!.name} | ${f(rate[0], 0)} → ${f(rate[1], 0)} (${f(rate[1] / rate[0])}×) | ${f(p50[0], 3)} → ${f(p50[1], 3)} | ` +
      `${f(p99[0], 3)} → ${f(p99[1], 3)} (${f(p99[1] / p99[0])}×) | ${Number.isNaN(sentP99[0]) ? "" : `${f(sentP99[0], 3)} → ${f(sentP99[1], 3)} (${f(sentP99[1] / sentP99[0])}×)`} | ${ratio(main)} | ${ratio(proc)} |`);
  }
  const loads = [...c.base, ...c.cur].flat().map((x) => x.load1 ?? NaN);
  rows.push(`Medians of ${c.base[0]!.length} runs each, baseline and current alternating; 1-minute load average ${f(Math.min(...loads), 1)}–${f(Math.max(...loads), 1)}.`, "");
  return rows;
}

