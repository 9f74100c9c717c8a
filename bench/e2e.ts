// End-to-end load driver: the real server in its own process on the synthetic feed at R
// ticks/s, K WebSocket clients spread over P client processes, each subscribed to the same S
// stock symbols. Reports delivered quote frames per second, tick-to-client latency
// percentiles (client receipt minus the engine's ingest stamp, and minus the feed's exchange
// stamp), sequence gaps (conflations or drops), and the server's peak RSS.
//
// The clients are bench/e2e-raw-client-fixture.ts by default: hand-written WebSocket framing over
// node:net that reads each quote frame in place, so that the load generator costs far less per
// message than the server. `--client ws` uses bench/e2e-client-fixture.ts (Bun's WebSocket
// client, one event per message) instead, for comparison.
//
// Rerun: npm run bench -- e2e     (or: bun bench/e2e.ts --clients 100 --symbols 10 --rate 100000 --seconds 10 [--msgpack] [--client ws|raw])
// Feed thread, same run: bun bench/e2e.ts --compare-threads --runs 3 [--msgpack]   (main-thread feed vs worker feed, medians, ratios)

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { readLineMatching } from "../test/helpers/process.ts";

/** One load scenario. */
export interface E2eScenario {
  clients: number;
  symbolsPerClient: number;
  ticksPerS: number;
  seconds: number;
  clientProcesses: number;
  format: "json" | "msgpack";
  /** Load client: "raw" (hand-written framing, the default) or "ws" (Bun's WebSocket client). */
  client?: "ws" | "raw";
  /** Where the server runs the synthetic feed (--feed-thread); the server's default when absent. */
  feedThread?: "main" | "worker";
  /** Another server to load instead of the app (bench/ws-baseline.ts): a command line to which `--symbols` is appended; it prints the app's "listening" line. */
  serverCommand?: string[];
}

/** What one scenario measured. */
export interface E2eResult extends E2eScenario {
  deliveredPerS: number;
  messages: number;
  gaps: number;
  missed: number;
  ingestToClientMs: { p50: number; p99: number; p999: number };
  exchangeToClientMs: { p50: number; p99: number; p999: number };
  serverRssMbMax: number;
  /** Server CPU over the measurement window, % of one core. */
  serverCpuPercent: number;
  /** Sum over the client processes, % of one core. */
  clientCpuPercent: number;
  instruments: number;
}

const ROOT = join(import.meta.dir, "..");
const CLIENT_FIXTURES = { raw: "bench/e2e-raw-client-fixture.ts", ws: "bench/e2e-client-fixture.ts" } as const;
const SYMBOLS = ["TSLA", "NVDA", "AAPL", "AMZN", "MSFT", "SPY", "QQQ", "META", "GOOGL", "AMD", "NFLX", "ORCL", "INTC", "CRM", "ADBE", "AVGO"];

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Process CPU time (user + system) in seconds, from /proc. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks of 10 ms
  } catch {
    return NaN;
  }
}

function percentiles(a: Float64Array) {
  a.sort();
  const p = (q: number) => (a.length === 0 ? NaN : a[Math.min(a.length - 1, Math.floor(q * a.length))]!);
  return { p50: p(0.5), p99: p(0.99), p999: p(0.999) };
}

/** Runs one scenario end to end and returns its measurements. */
export async function runE2e(s: E2eScenario): Promise<E2eResult> {
  const symbols = SYMBOLS.slice(0, s.symbolsPerClient);
  const client = s.client ?? "raw";
  const dir = mkdtempSync(join(tmpdir(), "alluse-e2e-"));
  const server = Bun.spawn(s.serverCommand ? [...s.serverCommand, "--symbols", symbols.join(",")] : [process.execPath, join(ROOT, "src/main.ts"), "--port", "0", "--symbols", symbols.join(","),
    "--tick-rate", String(s.ticksPerS), "--max-connections", String(s.clients + 16), "--bad-tick-rate", "0",
    ...(s.feedThread ? ["--feed-thread", s.feedThread] : [])], {
    cwd: ROOT, stdout: "pipe", stderr: "inherit",
  });
  try {
    const listening = JSON.parse(await readLineMatching(server.stdout, (l) => l.includes('"msg":"listening"'), 30_000)) as { ws: string; http: string };
    // The list is paged: `total` counts every instrument, not just this page.
    const instruments = ((await (await fetch(`${listening.http}/v1/instruments?limit=1`)).json()) as { total: number }).total;
    let rssMax = rssMb(server.pid);
    const rssTimer = setInterval(() => { rssMax = Math.max(rssMax, rssMb(server.pid)); }, 200);
    const perProc = Math.ceil(s.clients / s.clientProcesses);
    const procs = [];
    for (let p = 0, left = s.clients; left > 0; p++, left -= perProc) {
      const n = Math.min(perProc, left);
      procs.push(Bun.spawn([process.execPath, join(ROOT, CLIENT_FIXTURES[client]), listening.ws, String(n), symbols.join(","),
        String(s.seconds), s.format, join(dir, `samples-${p}.f64`)], { cwd: ROOT, stdout: "pipe", stderr: "inherit" }));
    }
    // The clients measure for s.seconds once all are subscribed; sample the server over the same span.
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    const outs = await Promise.all(procs.map(async (p) => {
      const text = await new Response(p.stdout).text();
      if ((await p.exited) !== 0) throw new Error(`client process failed: ${text}`);
      return JSON.parse(text.trim().split("\n").at(-1)!) as { messages: number; elapsedS: number; gaps: number; missed: number; samples: number; cpuPercent: number };
    }));
    const serverCpuPercent = ((cpuSeconds(server.pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100;
    clearInterval(rssTimer);
    const ingest: number[] = [];
    const exchange: number[] = [];
    outs.forEach((o, p) => {
      const all = new Float64Array(readFileSync(join(dir, `samples-${p}.f64`)).buffer.slice(0));
      for (let i = 0; i < o.samples; i++) { ingest.push(all[i]!); exchange.push(all[o.samples + i]!); }
    });
    const messages = outs.reduce((a, o) => a + o.messages, 0);
    const elapsed = Math.max(...outs.map((o) => o.elapsedS));
    return {
      ...s, client, instruments, messages, deliveredPerS: messages / elapsed,
      gaps: outs.reduce((a, o) => a + o.gaps, 0), missed: outs.reduce((a, o) => a + o.missed, 0),
      ingestToClientMs: percentiles(Float64Array.from(ingest)), exchangeToClientMs: percentiles(Float64Array.from(exchange)),
      serverRssMbMax: rssMax, serverCpuPercent, clientCpuPercent: outs.reduce((a, o) => a + o.cpuPercent, 0),
    };
  } finally {
    server.kill("SIGTERM");
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The feed on the main thread against the feed in a worker in the same run: `runs` rounds, each
 * running both (alternating which goes first), so both see the same load from other processes.
 * Returns every run, the medians per variant and the ratios worker ÷ main.
 */
export async function compareThreads(s: E2eScenario, runs: number) {
  const all: Record<"main" | "worker", E2eResult[]> = { main: [], worker: [] };
  const loadAvg = [loadavg()[0]!];
  for (let r = 0; r < runs; r++) {
    for (const feedThread of r % 2 === 0 ? ["main", "worker"] as const : ["worker", "main"] as const) {
      all[feedThread].push(await runE2e({ ...s, feedThread }));
      loadAvg.push(loadavg()[0]!);
    }
  }
  const summary = (rs: E2eResult[]) => ({
    deliveredPerS: median(rs.map((x) => x.deliveredPerS)),
    ingestToClientMs: { p50: median(rs.map((x) => x.ingestToClientMs.p50)), p99: median(rs.map((x) => x.ingestToClientMs.p99)), p999: median(rs.map((x) => x.ingestToClientMs.p999)) },
    exchangeToClientMs: { p50: median(rs.map((x) => x.exchangeToClientMs.p50)), p99: median(rs.map((x) => x.exchangeToClientMs.p99)), p999: median(rs.map((x) => x.exchangeToClientMs.p999)) },
    gaps: rs.reduce((a, x) => a + x.gaps, 0),
    serverCpuPercent: median(rs.map((x) => x.serverCpuPercent)),
    clientCpuPercent: median(rs.map((x) => x.clientCpuPercent)),
    serverRssMbMax: Math.max(...rs.map((x) => x.serverRssMbMax)),
  });
  const main = summary(all.main), worker = summary(all.worker);
  return {
    date: new Date().toISOString(), loadAvg1m: loadAvg, scenario: s, main, worker,
    ratios: {
      delivered: worker.deliveredPerS / main.deliveredPerS,
      exchangeP50: worker.exchangeToClientMs.p50 / main.exchangeToClientMs.p50,
      exchangeP99: worker.exchangeToClientMs.p99 / main.exchangeToClientMs.p99,
      exchangeP999: worker.exchangeToClientMs.p999 / main.exchangeToClientMs.p999,
      serverCpu: worker.serverCpuPercent / main.serverCpuPercent,
    },
    runs: all,
  };
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

if (import.meta.main) {
  const format = process.argv.includes("--msgpack") ? "msgpack" : "json";
  const clientAt = process.argv.indexOf("--client");
  const client = clientAt > 0 ? process.argv[clientAt + 1] : "raw";
  if (client !== "raw" && client !== "ws") throw new Error(`--client must be ws or raw, not ${client}`);
  const threadAt = process.argv.indexOf("--feed-thread");
  const feedThread = threadAt > 0 ? process.argv[threadAt + 1] : undefined;
  if (feedThread !== undefined && feedThread !== "main" && feedThread !== "worker") throw new Error(`--feed-thread must be main or worker, not ${feedThread}`);
  const scenario: E2eScenario = {
    clients: arg("clients", 100), symbolsPerClient: arg("symbols", 10), ticksPerS: arg("rate", 100_000),
    seconds: arg("seconds", 10), clientProcesses: arg("procs", 2), format, client, ...(feedThread ? { feedThread } : {}),
  };
  if (process.argv.includes("--compare-threads")) console.log(JSON.stringify(await compareThreads(scenario, arg("runs", 3)), null, 2));
  else console.log(JSON.stringify(await runE2e(scenario), null, 2));
}
