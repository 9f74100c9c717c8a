// Memory benchmark: server RSS at 10 k instruments and 1 k WebSocket clients (DESIGN.md budget
// ≤ 250 MB). The server runs on the synthetic feed with 13 underlyings × 8 weekly expiries ×
// 51 strikes × calls and puts (10,621 instruments) at 20 k ticks/s; 1,000 clients in two client
// processes each subscribe to 10 stocks and stay connected for the window. Reports the server's
// RSS before any client and its peak with all clients attached. The engine prefaults its
// tables, so RSS includes every table at full size from the start (a table filling up later
// cannot add to it). Bars: 120 per instrument (2 hours) — at 10 k instruments a full session
// of 390 bars alone is 194 MB of tables, which does not fit the budget with the rest.
//
// Rerun: npm run bench -- memory     (or: bun bench/memory.ts)

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readLineMatching } from "../test/helpers/process.ts";

const ROOT = join(import.meta.dir, "..");
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
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Runs the memory scenario. */
export async function benchMemory(clients = 1000, seconds = 8, ticksPerS = 20_000, barHistory = 120): Promise<MemoryResult> {
  const server = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), "--port", "0", "--symbols", UNDERLYINGS.join(","),
    "--option-expiries", "8", "--strikes-per-side", "25", "--tick-rate", String(ticksPerS), "--max-connections", String(clients + 24), "--bar-history", String(barHistory)], {
    cwd: ROOT, stdout: "pipe", stderr: "inherit",
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
    return { instruments, clients, rssIdleMb, rssPeakMb, ticksPerS, barHistory, messages: outs.reduce((a, o) => a + o.messages, 0) };
  } finally {
    server.kill("SIGTERM");
    await server.exited;
  }
}

if (import.meta.main) console.log(JSON.stringify(await benchMemory(), null, 2));
