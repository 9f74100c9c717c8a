// `npm run bench`: every benchmark in one run, a table on stdout, the numbers as JSON in
// bench/results/<date>.json. Pass names to run a subset: `npm run bench -- ingest codec e2e`.
// Budgets are DESIGN.md's; ratios compare against a baseline measured in the same run. The run
// ends with one summary table (bench/summary.ts): each headline figure, its same-run yardstick,
// the ratio, the budget and whether it is met. `fanout` is bench/ws-baseline.ts (the app against
// a bare Bun.serve pub/sub server, one round).

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { benchCodec } from "./codec.ts";
import { runE2e, type E2eScenario } from "./e2e.ts";
import { benchIngest } from "./ingest.ts";
import { benchMemory } from "./memory.ts";
import { benchMetrics } from "./metrics.ts";
import { benchSynthetic } from "./synthetic.ts";
import { benchOrders, ordersTable } from "./orders.ts";
import { benchPretrade } from "./pretrade.ts";
import { benchGreeks } from "./greeks.ts";
import { summaryRows, summaryTable, type SummaryInput } from "./summary.ts";

const wanted = process.argv.slice(2);
const all = wanted.length === 0 || wanted.includes("all");
const runs = (name: string) => all || wanted.includes(name);
const summary: SummaryInput = {};
const results: Record<string, unknown> = { date: new Date().toISOString(), bun: Bun.version, cpus: navigator.hardwareConcurrency };
const rows: string[] = [];
const fmt = (n: number, digits = 2) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

if (runs("ingest")) {
  const r = await benchIngest();
  results.ingest = summary.ingest = r;
  const wasm = r.find((x) => x.name.startsWith("ingest wasm"))!;
  const ts = r.find((x) => x.name.startsWith("ingest ts"))!;
  rows.push("## Ingest (1,024-tick batches, median)", "| variant | M ticks/s | µs / batch | vs TS reference |", "|---|---:|---:|---:|");
  for (const x of r) rows.push(`| ${x.name} | ${fmt(x.ticksPerS / 1e6)} | ${fmt(x.batchNsP50 / 1000, 1)} | ${fmt(x.ticksPerS / ts.ticksPerS)}× |`);
  rows.push(`Budget ≥ 20 M ticks/s and faster than TS: WASM ${fmt(wasm.ticksPerS / 1e6)} M/s, ${fmt(wasm.ticksPerS / ts.ticksPerS)}× TS.`, "");
}

if (runs("codec")) {
  const r = await benchCodec();
  results.codec = r;
  const base = r.find((x) => x.name === "encode quote JSON.stringify")!;
  rows.push("## Quote frame codecs (median)", "| operation | ns | M ops/s | bytes | vs JSON.stringify |", "|---|---:|---:|---:|---:|");
  for (const x of r) rows.push(`| ${x.name} | ${fmt(x.nsP50, 0)} | ${fmt(x.opsPerS / 1e6)} | ${x.bytes} | ${fmt(base.nsP50 / x.nsP50)}× |`);
  rows.push("");
}

if (runs("synthetic")) {
  const r = await benchSynthetic();
  results.synthetic = r;
  rows.push("## Synthetic market (4,096-tick batches, median)", "| variant | M ticks/s |", "|---|---:|");
  for (const x of r) rows.push(`| ${x.name} | ${fmt(x.ticksPerS / 1e6)} |`);
  rows.push("Requirement: the synthetic feed reaches at least 1 M ticks/s total.", "");
}

if (runs("e2e")) {
  const scenarios: E2eScenario[] = [
    { clients: 100, symbolsPerClient: 10, ticksPerS: 100_000, seconds: 10, clientProcesses: 2, format: "json" },
    { clients: 100, symbolsPerClient: 10, ticksPerS: 100_000, seconds: 10, clientProcesses: 2, format: "msgpack" },
    { clients: 100, symbolsPerClient: 10, ticksPerS: 10_000, seconds: 10, clientProcesses: 2, format: "json" },
  ];
  const r = [];
  for (const s of scenarios) r.push(await runE2e(s));
  results.e2e = r;
  rows.push("## End to end (server + client processes on the same 2 cores)",
    "| clients × symbols | ticks/s in | format | delivered msgs/s | tick→client p50 / p99 / p99.9 ms | gaps (missed) | server RSS MB | CPU % server / clients |",
    "|---|---:|---|---:|---:|---:|---:|---:|");
  for (const x of r) {
    const l = x.exchangeToClientMs;
    rows.push(`| ${x.clients} × ${x.symbolsPerClient} | ${fmt(x.ticksPerS, 0)} | ${x.format} | ${fmt(x.deliveredPerS, 0)} | ${fmt(l.p50)} / ${fmt(l.p99)} / ${fmt(l.p999)} | ${x.gaps} (${x.missed}) | ${fmt(x.serverRssMbMax, 0)} | ${fmt(x.serverCpuPercent, 0)} / ${fmt(x.clientCpuPercent, 0)} |`);
  }
  rows.push("Budget: ≥ 1 M msgs/s delivered at 100 × 10 and 100 k ticks/s, p99 ≤ 1 ms, nothing dropped for clients that keep up.", "");
}

if (runs("memory")) {
  const r = await benchMemory();
  results.memory = r;
  rows.push("## Memory (server RSS, tables prefaulted)", "| instruments | bars kept | clients | ticks/s | RSS before clients MB | RSS peak with clients MB |", "|---:|---:|---:|---:|---:|---:|");
  rows.push(`| ${fmt(r.instruments, 0)} | ${r.barHistory} | ${fmt(r.clients, 0)} | ${fmt(r.ticksPerS, 0)} | ${fmt(r.rssIdleMb, 0)} | ${fmt(r.rssPeakMb, 0)} |`);
  rows.push("Budget: ≤ 250 MB RSS at 10 k instruments and 1 k clients.", "");
}

if (runs("metrics")) {
  const r = await benchMetrics();
  results.metrics = r;
  const h = r.hotPath, s = r.scrape;
  rows.push("## Metrics cost (host path: 1,024 × Engine.write + flush; paired rounds, medians)", "| variant | M ticks/s | ratio |", "|---|---:|---:|");
  rows.push(`| without metrics | ${fmt(h.baselineTicksPerS / 1e6)} | 1.00 |`, `| with metrics (flushes timed) | ${fmt(h.withMetricsTicksPerS / 1e6)} | ${fmt(h.ratio, 3)} |`);
  rows.push(`A/A calibration (two plain engines): ${fmt(h.calibrationRatio, 3)}. Scrape at ${fmt(s.instruments, 0)} instruments: render ${fmt(s.renderUsP50, 0)} µs, GET /metrics ${fmt(s.httpMsP50)} ms (p50), ${fmt(s.bytes, 0)} bytes, ${s.families} families.`, "");
}

if (runs("orders")) {
  const r = await benchOrders();
  results.orders = summary.orders = r;
  rows.push(...ordersTable(r));
}

if (runs("greeks")) {
  // WASM against the same formulas in plain TS, and the IV solve (bench/greeks.ts).
  const r = await benchGreeks();
  results.greeks = summary.greeks = r;
  rows.push("## Greeks and implied volatility (1,024-option batches)", "| variant | M options/s | µs / batch |", "|---|---:|---:|");
  for (const x of r) rows.push(`| ${x.name} | ${fmt(x.optionsPerS / 1e6)} | ${fmt(x.batchNsP50 / 1000, 1)} |`);
  rows.push("");
}

if (runs("pretrade")) {
  const r = await benchPretrade();
  results.pretrade = summary.pretrade = r;
  rows.push("## Pre-trade check (one order through the hook, timed singly)", "| variant | positions | p50 µs | p99 µs | p99.9 µs |", "|---|---:|---:|---:|---:|");
  for (const x of r) rows.push(`| ${x.name} | ${x.positions} | ${fmt(x.nsP50 / 1000)} | ${fmt(x.nsP99 / 1000)} | ${fmt(x.nsP999 / 1000)} |`);
  rows.push("Budget: p99 ≤ 2 µs in process, flat in the number of positions.", "");
}

if (runs("ib")) {
  // The IBKR benchmark drives the simulator, the server and clients as processes of its own and
  // prints its own tables; run it as one more process and keep what it printed.
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "ib.ts"), "--seconds", "8"], { stdout: "pipe", stderr: "inherit" });
  const text = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error("bench/ib.ts failed");
  results.ib = text;
  // Its last line is the JSON of what it measured: the library's decode rate is the yardstick.
  const last = text.trim().split("\n").at(-1)!;
  summary.ib = JSON.parse(last);
  rows.push("## IBKR: TWS simulator → @stoqey/ib → engine", text.trim().split("\n").slice(0, -1).join("\n"), "");
}

if (runs("fanout")) {
  // The app's fan-out against a bare Bun.serve pub/sub server, same load clients, same run.
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "ws-baseline.ts"), "--runs", "1"], { stdout: "pipe", stderr: "inherit" });
  const text = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error("bench/ws-baseline.ts failed");
  const r = JSON.parse(text);
  results.fanout = r;
  summary.fanout = r;
  rows.push("## Fan-out: the app against a bare Bun.serve pub/sub server (100 clients × 10 symbols, 100 k ticks/s)",
    "| server | delivered msgs/s | ingest→client p50 / p99 ms | server CPU % | server CPU µs per delivered msg |", "|---|---:|---:|---:|---:|");
  for (const [name, x] of [["app", r.app], ["bare Bun.serve", r.bare]] as const) {
    rows.push(`| ${name} | ${fmt(x.deliveredPerS, 0)} | ${fmt(x.ingestToClientMs.p50)} / ${fmt(x.ingestToClientMs.p99)} | ${fmt(x.serverCpuPercent, 0)} | ${fmt(x.serverCpuUsPerMsg, 3)} |`);
  }
  rows.push("");
}

rows.push(...summaryTable(summaryRows(summary)));

const dir = join(import.meta.dir, "results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(rows.join("\n"));
console.log(`results: ${file}`);
