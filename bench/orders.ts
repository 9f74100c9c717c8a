// Order benchmarks. What they measure, and how to rerun: `bun bench/orders.ts` (or
// `npm run bench -- orders`).
//
// 1. In process: OrderManager.submit() → validation, pre-trade hook, journal, paper broker
//    (accept + fill against the quote cache), journal commit of the broker's events, reply. A
//    market order for 1 share: 4 journal records. Open loop at 2,000 orders/s (latency measured
//    from each order's scheduled time, so a stall counts against every order queued behind it),
//    then closed loop with many orders in flight for the maximum durable rate. Durability "full"
//    (fsync per commit) against "none", so the cost of the disk is visible. CPU per order is
//    read from /proc: the main thread's, and the whole process's (main + journal writer).
// 2. End to end: the real server process (`src/main.ts`, durability full) and this process as
//    the REST client (bench/raw-http.ts: keep-alive sockets, no client thread): POST /v1/orders
//    round trip at 2,000 orders/s, then the closed-loop maximum. The server's CPU is also read
//    over an idle window first, so the CPU an order adds shows apart from the feed's.
// 3. Floors, the same loops against the least that could be done (bench/orders-floor.ts): a bare
//    group commit of one row per order with an fsync (the disk and two thread wake-ups per
//    commit), and a bare Bun.serve answering the same POSTs (HTTP alone). Latency is reported
//    from each order's schedule (the budget's measure) and from its send (without the
//    generator's 1 ms timer lag, reported beside).
//
// Each scenario runs in a fresh child process. `--baseline DIR` also runs every scenario on
// another checkout of the project (e.g. the commit before a change, exported with `git archive`,
// with node_modules linked and wasm/ built from its own assembly/, as bench/compare.ts says),
// alternating baseline and current round by round (`--runs N`, default 3), and reports medians
// and the ratio: both measured under the same load.
//
// Every order is a real market order that fills; budgets are DESIGN.md's (REST p99 at 2 k
// orders/s ≤ 2× the bare fsync commit's p99 in the same run; ≤ 60 µs process CPU per order;
// ≥ 20 k durable orders/s closed loop). The *-stages scenarios (not run by default) turn the
// server's stage timer on (src/oms/stages.ts) and print where each order's time went.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Durability } from "../src/store/db.ts";
import { benchFloor, benchHttpFloor } from "./orders-floor.ts";
import { childUrl, closedLoop, cpuUs, openLoop, type Percentiles, percentiles, type Submit, threadCpuUs, threadsPerOrder } from "./orders-load.ts";
import { compareTable, ordersTable, stagesTable } from "./orders-tables.ts";
import { RawHttpPool } from "./raw-http.ts";

export type { Percentiles } from "./orders-load.ts";
export { compareTable, ordersTable, stagesTable } from "./orders-tables.ts";

/** Length of the REST scenarios' idle window, ms (the server's CPU with no orders). */
const IDLE_MS = 2000;

/** One measured scenario. */
export interface OrdersResult {
  name: string;
  durability: Durability;
  mode: "open" | "closed";
  /** Target rate (open loop) or orders in flight (closed loop). */
  load: number;
  orders: number;
  ordersPerS: number;
  latencyMs: Percentiles;
  /** Journal commits and the mean records per commit (group commit at work). */
  commits?: number;
  recordsPerCommit?: number;
  /** CPU per order, µs: the order path's main thread, and its whole process (main + journal writer). */
  mainCpuUsPerOrder?: number;
  processCpuUsPerOrder?: number;
  /** CPU µs per order of each of the process's threads, by name (Linux thread names; "#" stands for a number). */
  threadCpuUsPerOrder?: Record<string, number>;
  /** Latency from each request's send (open loop: without the generator's timer lag), and that lag. */
  fromSentMs?: Percentiles;
  sendLagMs?: Percentiles;
  /**
   * REST: process CPU per order above what the server spends with no orders (its synthetic feed,
   * timers), measured over an idle window of the same server just before the load; and that idle rate.
   */
  marginalCpuUsPerOrder?: number;
  idleCpuUsPerS?: number;
  /** 1-minute load average when the scenario started. */
  load1?: number;
  /** The server's own per-stage breakdown (ALLUSE_STAGE_TIMING=1; src/oms/stages.ts), when asked for. */
  stages?: { orders: number; stages: { stage: string; from: string; n: number; p50Us: number; p99Us: number; meanUs: number }[]; totalUs?: { p50Us: number; p99Us: number; meanUs: number } };
}

/** A market order for 1 share; unique client order ids. */
let seq = 0;
const order = () => ({ account: "Gen-Acc", clientOrderId: `b${process.pid}-${++seq}`, symbol: "AAPL", side: seq % 2 ? "buy" : "sell", type: "market", qty: 1 });

/** An order manager of the checkout `tree` on a real engine, SQLite file and paper broker, with AAPL quoted fresh every 100 ms. */
async function inProcess(tree: string, durability: Durability) {
  const src = (f: string) => import(join(tree, "src", f));
  const [{ PaperBroker }, { ExchangeCalendar }, { TickKind }, { Engine }, { createLogger }, { accountsSchema }, { OrderManager }, { Store }] =
    await Promise.all(["broker/paper.ts", "domain/calendar.ts", "domain/tick.ts", "engine/engine.ts", "log.ts", "oms/accounts.ts", "oms/manager.ts", "store/store.ts"].map(src));
  const dir = mkdtempSync(join(tmpdir(), "alluse-bench-orders-"));
  const engine = await Engine.create({ core: "wasm", maxInstruments: 16, prefault: false });
  const aapl = engine.addInstrument({ symbol: "AAPL", kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" });
  const quote = () => {
    const now = Date.now();
    engine.write(aapl.index, TickKind.Bid, 100, 1_000_000, now);
    engine.write(aapl.index, TickKind.Ask, 100.02, 1_000_000, now);
    engine.flush();
  };
  quote();
  const timer = setInterval(quote, 100);
  const store = await Store.open({ path: join(dir, "bench.db"), durability, maxPending: 65_536 });
  // The bench measures the order path, not sessions: the broker trades at any hour it runs.
  const broker = new PaperBroker(engine, { hours: "always" });
  const oms = await OrderManager.start({
    market: engine, store, brokers: { paper: broker }, accounts: accountsSchema.parse({ capital: 1e9 }),
    calendar: new ExchangeCalendar(), log: createLogger("error", "bench", () => {}), options: { maxOpenOrdersPerAccount: 100_000 },
  });
  return {
    oms, store: store as { journal: { stats: { commits: number; records: number } } },
    async close() {
      clearInterval(timer);
      await oms.stop();
      await broker.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function benchInProcess(tree: string, durability: Durability, mode: "open" | "closed", load: number, seconds: number): Promise<OrdersResult> {
  const h = await inProcess(tree, durability);
  const submit: Submit = async () => {
    const sent = performance.now();
    return (await h.oms.submit(order())).ok ? sent : false;
  };
  // Warm-up: JIT and the first commits.
  await closedLoop(submit, 64, 2);
  // With the stage timer on (the *-stages scenarios), forget the warm-up's marks.
  const stages = process.env.ALLUSE_STAGE_TIMING === "1" ? await import(join(tree, "src/oms/stages.ts")) : undefined;
  stages?.resetStages();
  const before = { ...h.store.journal.stats }, main0 = cpuUs(process.pid, process.pid), proc0 = cpuUs(process.pid), threads0 = threadCpuUs(process.pid);
  const r = mode === "open" ? await openLoop(submit, load, seconds) : await closedLoop(submit, load, seconds);
  const mainUs = cpuUs(process.pid, process.pid) - main0, procUs = cpuUs(process.pid) - proc0, threads = threadsPerOrder(threads0, threadCpuUs(process.pid), r.done);
  const commits = h.store.journal.stats.commits - before.commits;
  const records = h.store.journal.stats.records - before.records;
  await h.close();
  return {
    ...(stages ? { stages: stages.stageSummary() } : {}),
    name: `in process, ${mode === "open" ? `${load}/s` : `${load} in flight`}, ${durability}${stages ? ", stage timer on" : ""}`, durability, mode, load,
    orders: r.lat.length, ordersPerS: r.lat.length / r.wallS, latencyMs: percentiles(r.lat), commits, recordsPerCommit: records / Math.max(1, commits),
    fromSentMs: percentiles(r.fromSent), sendLagMs: percentiles(r.lag),
    mainCpuUsPerOrder: mainUs / Math.max(1, r.done), processCpuUsPerOrder: procUs / Math.max(1, r.done), threadCpuUsPerOrder: threads,
  };
}

/** Starts the real server of checkout `tree` on a fresh data dir; returns its URL, pid, an API key and a stop function. */
async function serverProcess(tree: string, durability: Durability, stagesFile?: string): Promise<{ url: string; pid: number; key: string; proc: Bun.Subprocess; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "alluse-bench-server-"));
  const bun = process.execPath;
  // The risk engine checks every order, as in production, with limits a load of 1-share buys never reaches.
  const config = join(dir, "bench-config.json");
  writeFileSync(config, JSON.stringify({ risk: { defaults: { submitRatePerS: 1_000_000, maxOpenOrders: 100_000, maxPositionQty: 100_000_000 } } }));
  const common = ["--data-dir", dir, "--durability", durability, "--config", config];
  const k = Bun.spawnSync([bun, "src/main.ts", "keys", "create", "--scope", "trade", ...common], { cwd: tree, stdout: "pipe", stderr: "pipe" });
  if (k.exitCode !== 0) throw new Error(k.stderr.toString());
  const key = k.stdout.toString().trim();
  // ALLUSE_BENCH_CPU_PROF=<dir>: the server writes a CPU profile (and its markdown summary) there on exit.
  const prof = process.env.ALLUSE_BENCH_CPU_PROF ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${process.env.ALLUSE_BENCH_CPU_PROF}`] : [];
  const env = stagesFile ? { ...process.env, ALLUSE_STAGE_TIMING: "1", ALLUSE_STAGE_TIMING_FILE: stagesFile } : process.env;
  const proc = Bun.spawn([bun, ...prof, "src/main.ts", "--port", "0", "--symbols", "AAPL", "--option-expiries", "0", "--tick-rate", "1000",
    "--log-level", "error", "--capital", "1000000000", "--key-rate", "1000000",
    // As in process: the paper broker trades at any hour the bench runs (else, outside the session,
    // every market order is held working and the account hits its open-order limit).
    "--paper-hours", "always", ...common], { cwd: tree, env, stdout: "pipe", stderr: "inherit" });
  const url = await childUrl(proc);
  return {
    url, key, pid: proc.pid, proc,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function benchRest(tree: string, mode: "open" | "closed", load: number, seconds: number, stages = false): Promise<OrdersResult> {
  const stagesFile = stages ? join(mkdtempSync(join(tmpdir(), "alluse-bench-stages-")), "stages.json") : undefined;
  const s = await serverProcess(tree, "full", stagesFile);
  const pool = new RawHttpPool(s.url, { authorization: `Bearer ${s.key}`, "content-type": "application/json" });
  const submit: Submit = async () => {
    const r = await pool.post("/v1/orders", JSON.stringify(order()));
    return r.status === 201 ? r.sentAt : false;
  };
  // Warm-up: connections, the JIT (a 1 s warm-up left the JIT compiling through the measured
  // window, ~60 µs of CPU per order on its threads), the first commits, quotes from the feed.
  await closedLoop(submit, 8, 3);
  // The server's CPU when no order arrives (its synthetic feed, timers, the JIT settling), over
  // an idle window, so the CPU an order adds can be told from what the process spends anyway.
  const idle0 = cpuUs(s.pid), idleT0 = performance.now();
  await Bun.sleep(IDLE_MS);
  const idleUsPerMs = (cpuUs(s.pid) - idle0) / (performance.now() - idleT0);
  // The stage timer forgets the warm-up.
  if (stagesFile) s.proc.kill("SIGUSR2");
  const main0 = cpuUs(s.pid, s.pid), proc0 = cpuUs(s.pid), threads0 = threadCpuUs(s.pid);
  const r = mode === "open" ? await openLoop(submit, load, seconds) : await closedLoop(submit, load, seconds);
  const mainUs = cpuUs(s.pid, s.pid) - main0, procUs = cpuUs(s.pid) - proc0, threads = threadsPerOrder(threads0, threadCpuUs(s.pid), r.done);
  pool.close();
  await s.stop();
  let stageRows: OrdersResult["stages"];
  if (stagesFile) {
    stageRows = JSON.parse(readFileSync(stagesFile, "utf8"));
    rmSync(join(stagesFile, ".."), { recursive: true, force: true });
  }
  return {
    ...(stageRows ? { stages: stageRows } : {}),
    name: `REST round trip, ${mode === "open" ? `${load}/s` : `${load} in flight`}, full${stages ? ", stage timer on" : ""}`, durability: "full", mode, load,
    orders: r.lat.length, ordersPerS: r.lat.length / r.wallS, latencyMs: percentiles(r.lat),
    // The server's CPU includes its synthetic feed and quote fan-out, not only orders.
    mainCpuUsPerOrder: mainUs / Math.max(1, r.done), processCpuUsPerOrder: procUs / Math.max(1, r.done), threadCpuUsPerOrder: threads,
    marginalCpuUsPerOrder: Math.max(0, procUs - idleUsPerMs * r.wallS * 1000) / Math.max(1, r.done), idleCpuUsPerS: idleUsPerMs * 1000,
    fromSentMs: percentiles(r.fromSent), sendLagMs: percentiles(r.lag),
  };
}

/**
 * The disk's own cost, measured in the same run as the baseline: one-row SQLite commits with
 * synchronous=FULL (an fsync each) on the same file system. No order path can beat it.
 */
async function fsyncBaseline(tree: string, commits = 300): Promise<OrdersResult> {
  const { openDatabase } = await import(join(tree, "src/store/db.ts"));
  const dir = mkdtempSync(join(tmpdir(), "alluse-bench-fsync-"));
  const db = openDatabase(join(dir, "fsync.db"), "full");
  const insert = db.prepare("INSERT INTO cash (seq, account, amount_micros, ts, memo) VALUES (?, 'A', 1, 0, 'bench')");
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 1; i <= commits; i++) {
    const s = performance.now();
    insert.run(i);
    lat.push(performance.now() - s);
  }
  const wallS = (performance.now() - t0) / 1000;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return { name: "baseline: one-row commit with fsync", durability: "full", mode: "closed", load: 1, orders: commits, ordersPerS: commits / wallS, latencyMs: percentiles(lat) };
}

/** The scenarios, by key: each runs alone in a child process. */
const SCENARIOS: Record<string, (tree: string, seconds: number) => Promise<OrdersResult>> = {
  "fsync": (tree) => fsyncBaseline(tree),
  // The floor is the bench's own code, the same on either tree.
  "floor": (_tree, s) => benchFloor(2000, s),
  "http-floor": (_tree, s) => benchHttpFloor(2000, s, order),
  "in-open-full": (tree, s) => benchInProcess(tree, "full", "open", 2000, s),
  "in-closed-full": (tree, s) => benchInProcess(tree, "full", "closed", 512, s),
  "in-open-none": (tree, s) => benchInProcess(tree, "none", "open", 2000, s),
  "in-closed-none": (tree, s) => benchInProcess(tree, "none", "closed", 512, s),
  "rest-open": (tree, s) => benchRest(tree, "open", 2000, s),
  "rest-closed": (tree, s) => benchRest(tree, "closed", 64, s),
  // Not in the default set: the stage timer on (src/oms/stages.ts), for the per-stage breakdown.
  "rest-stages": (tree, s) => benchRest(tree, "open", 2000, s, true),
  "in-open-full-stages": (tree, s) => benchInProcess(tree, "full", "open", 2000, s),
  "in-open-none-stages": (tree, s) => benchInProcess(tree, "none", "open", 2000, s),
};

/** Scenarios run unless named with --only. */
const DEFAULT_KEYS = Object.keys(SCENARIOS).filter((k) => !k.endsWith("-stages"));

/** Runs one scenario on checkout `tree` in a fresh child process. */
async function child(key: string, tree: string, seconds: number): Promise<OrdersResult> {
  const load1 = loadavg()[0]!;
  const env = key.startsWith("in-") && key.endsWith("-stages") ? { ...process.env, ALLUSE_STAGE_TIMING: "1" } : process.env;
  const proc = Bun.spawn([process.execPath, import.meta.path, "--child", key, "--tree", tree, "--seconds", String(seconds)], { env, stdout: "pipe", stderr: "inherit" });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`orders bench scenario ${key} on ${tree} failed`);
  return { ...(JSON.parse(out.trim().split("\n").at(-1)!) as OrdersResult), load1 };
}

const HERE = resolve(import.meta.dir, "..");

/** Runs every order benchmark on this checkout. */
export async function benchOrders(seconds = 5): Promise<OrdersResult[]> {
  const out: OrdersResult[] = [];
  for (const key of DEFAULT_KEYS) out.push(await child(key, HERE, seconds));
  return out;
}

/** Runs every scenario on `baseline` and on this checkout, alternating, `runs` times. */
export async function compareOrders(baseline: string, runs: number, seconds: number, only?: string[]): Promise<{ base: OrdersResult[][]; cur: OrdersResult[][] }> {
  const keys = only ?? DEFAULT_KEYS;
  for (const k of keys) if (!SCENARIOS[k]) throw new Error(`unknown orders scenario ${k}; known: ${Object.keys(SCENARIOS).join(", ")}`);
  const base = keys.map(() => [] as OrdersResult[]), cur = keys.map(() => [] as OrdersResult[]);
  for (let r = 0; r < runs; r++) {
    for (let i = 0; i < keys.length; i++) {
      // Alternate which goes first, so neither side always meets the same moment of the load.
      const order = r % 2 === 0 ? [[baseline, base], [HERE, cur]] as const : [[HERE, cur], [baseline, base]] as const;
      for (const [tree, into] of order) into[i]!.push(await child(keys[i]!, tree, seconds));
    }
  }
  return { base, cur };
}

if (import.meta.main) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const seconds = Number(arg("--seconds") ?? process.env.BENCH_SECONDS ?? 5);
  const key = arg("--child");
  const baseline = arg("--baseline");
  if (key) {
    const run = SCENARIOS[key];
    if (!run) throw new Error(`unknown orders scenario ${key}; known: ${Object.keys(SCENARIOS).join(", ")}`);
    console.log(JSON.stringify(await run(resolve(arg("--tree") ?? HERE), seconds)));
  } else if (baseline) {
    // --only in-closed-full,rest-open: a subset of the scenarios, by key.
    const c = await compareOrders(resolve(baseline), Number(arg("--runs") ?? 3), seconds, arg("--only")?.split(","));
    console.log(compareTable(c).join("\n"));
    for (const x of [...c.base, ...c.cur].flat()) if (x.stages) console.log(stagesTable(x).join("\n"));
    console.log(JSON.stringify(c));
  } else if (arg("--only")) {
    const r: OrdersResult[] = [];
    for (const k of arg("--only")!.split(",")) r.push(await child(k, HERE, seconds));
    console.log(ordersTable(r).join("\n"));
    for (const x of r) console.log(stagesTable(x).join("\n"));
    console.log(JSON.stringify(r, null, 1));
  } else {
    const r = await benchOrders(seconds);
    console.log(ordersTable(r).join("\n"));
    console.log(JSON.stringify(r, null, 1));
  }
}
