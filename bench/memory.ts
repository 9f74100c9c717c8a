// Memory benchmark: server RSS at 10 k instruments and 1 k WebSocket clients (DESIGN.md budget
// ≤ 250 MB). The server runs on the synthetic feed with 13 underlyings × 8 weekly expiries ×
// 51 strikes × calls and puts (10,621 instruments) at 20 k ticks/s; 1,000 clients in two client
// processes each subscribe to 10 stocks and stay connected for the window. Reports the server's
// RSS before any client and its peak with all clients attached. The engine prefaults its
// tables, so RSS includes every table at full size from the start (a table filling up later
// cannot add to it). Bars: 120 per instrument (2 hours) — at 10 k instruments a full session
// of 390 bars alone is 194 MB of tables, which does not fit the budget with the rest.
//
// `--baseline DIR --runs N` runs the same scenario with the server of another checkout (DIR,
// exported as bench/compare.ts says) and of this one, alternating, and prints the medians base →
// now (×). Only the server differs: the load clients are always this tree's; each run's server
// gets a fresh data directory.
//
// Rerun: npm run bench -- memory     (or: bun bench/memory.ts [--clients 1000 --seconds 8])
// Rerun, same run against b6388e3: bun bench/memory.ts --baseline /tmp/base-b6388e3 --runs 3 --clients 1000 --seconds 8

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { readLineMatching } from "../test/helpers/process.ts";
import { alternate, compareTable, type Metric } from "./compare.ts";

const ROOT = resolve(import.meta.dir, "..");
const UNDERLYINGS = ["TSLA", "NVDA", "AAPL", "AMZN", "MSFT", "SPY", "QQQ", "META", "GOOGL", "AMD", "NFLX", "ORCL", "INTC"];

/** What the memory run measured. */
export interface MemoryResult {
  instruments: number;
  clients: number;
  rssIdleMb: number;
  rssPeakMb: number;
  ticksPerS: number;
  barHistory: number;
  messages: number;
  /** The checkout whose server ran. */
  tree: string;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * Runs the memory scenario with the server of checkout `tree` (its src/main.ts, cwd there); the
 * load clients are this tree's whichever server runs. Every flag passed exists at b6388e3 too.
 */
export async function benchMemory(clients = 1000, seconds = 8, ticksPerS = 20_000, barHistory = 120, tree = ROOT): Promise<MemoryResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "alluse-bench-memory-"));
  const server = Bun.spawn([process.execPath, join(tree, "src/main.ts"), "--port", "0", "--data-dir", dataDir, "--symbols", UNDERLYINGS.join(","),
    "--option-expiries", "8", "--strikes-per-side", "25", "--tick-rate", String(ticksPerS), "--max-connections", String(clients + 24), "--bar-history", String(barHistory)], {
    cwd: tree, stdout: "pipe", stderr: "inherit",
  });
  try {
    const { ws, http } = JSON.parse(await readLineMatching(server.stdout, (l) => l.includes('"msg":"listening"'), 30_000)) as { ws: string; http: string };
    const first = (await (await fetch(`${http}/v1/instruments?limit=1`)).json()) as { total?: number };
    const instruments = first.total ?? NaN;
    // Let the feed reach steady state before the idle reading (every row has been ticked).
    await Bun.sleep(2000); // a fixed warm-up window of the measurement, not a wait for a condition
    const rssIdleMb = rssMb(server.pid);
    let rssPeakMb = rssIdleMb;
    const timer = setInterval(() => { rssPeakMb = Math.max(rssPeakMb, rssMb(server.pid)); }, 100);
    const half = Math.ceil(clients / 2);
    const procs = [half, clients - half].map((n) => Bun.spawn([process.execPath, join(ROOT, "bench/e2e-client-fixture.ts"), ws, String(n),
      UNDERLYINGS.slice(0, 10).join(","), String(seconds), "json"], { cwd: ROOT, stdout: "pipe", stderr: "inherit" }));
    const outs = await Promise.all(procs.map(async (p) => {
      const text = await new Response(p.stdout).text();
      if ((await p.exited) !== 0) throw new Error(`client process failed: ${text}`);
      return JSON.parse(text.trim().split("\n").at(-1)!) as { messages: number };
    }));
    clearInterval(timer);
    rssPeakMb = Math.max(rssPeakMb, rssMb(server.pid));
    return { instruments, clients, rssIdleMb, rssPeakMb, ticksPerS, barHistory, messages: outs.reduce((a, o) => a + o.messages, 0), tree };
  } finally {
    server.kill("SIGTERM");
    await server.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The rows of the baseline comparison. */
export const MEMORY_METRICS: Metric<MemoryResult>[] = [
  { name: "idle RSS MB (before any client)", get: (r) => r.rssIdleMb, digits: 1 },
  { name: "peak RSS MB with all clients", get: (r) => r.rssPeakMb, digits: 1 },
  { name: "messages delivered", get: (r) => r.messages, digits: 0 },
];

if (import.meta.main) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const clients = Number(arg("--clients") ?? 1000), seconds = Number(arg("--seconds") ?? 8);
  const baseline = arg("--baseline");
  if (baseline) {
    const c = await alternate(Number(arg("--runs") ?? 3), resolve(baseline), ROOT, (tree) => benchMemory(clients, seconds, 20_000, 120, tree));
    console.log(`${new Date().toISOString()} — memory, ${clients} clients, ${seconds} s: baseline ${resolve(baseline)} against ${ROOT}`);
    console.log(compareTable(`Memory at ${clients} clients (server of each tree, same load clients)`, MEMORY_METRICS, c).join("\n"));
    console.log(JSON.stringify({ date: new Date().toISOString(), baseline: resolve(baseline), clients, seconds, ...c }));
  } else {
    console.log(JSON.stringify(await benchMemory(clients, seconds), null, 2));
  }
}
