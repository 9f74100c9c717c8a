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
// `--edges N` (bench/e2e-cluster.ts): the same load on a nats-server, one `--role core` and N
// `--role edge` processes, the client processes spread over the edges; CPU is read per node.
// `--compare-edges N --runs R` runs the single process and core + 1..N edges in the same run,
// alternating their order, and reports medians: delivered msgs/s, tick→client p50/p99, CPU per
// delivered message per node, and the added hop (p50 of each cluster minus the single
// process's, same round).
//
// Rerun: npm run bench -- e2e     (or: bun bench/e2e.ts --clients 100 --symbols 10 --rate 100000 --seconds 10 [--msgpack] [--client ws|raw])
// Edges, same run: bun bench/e2e.ts --compare-edges 2 --runs 3 --clients 100 --symbols 10 --rate 1000 --seconds 8 [--msgpack]
// Feed thread, same run: bun bench/e2e.ts --compare-threads --runs 3 [--msgpack]   (main-thread feed vs worker feed, medians, ratios)
// Before and after, same run (bench/e2e-compare.ts; the server of another checkout against this tree's, same load clients):
//   bun bench/e2e.ts --baseline /tmp/base-b6388e3 --runs 3 --clients 1000 --symbols 10 --rate 100000 --seconds 10

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { counter, startServers } from "./e2e-cluster.ts";

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
  /** Edges behind one core over NATS (bench/e2e-cluster.ts); 0 or absent: the single process. */
  edges?: number;
}

/** One process's share of a run. */
export interface NodeLoad {
  name: string;
  /** CPU over the measurement window, % of one core. */
  cpuPercent: number;
  /** CPU per delivered message (all messages of the run), µs. */
  cpuUsPerMsg: number;
  /** Messages its own clients received (edges and the single server only). */
  messages?: number;
  /** NATS quote messages per second: published (core) or applied (edge), from its /metrics. */
  natsPerS?: number;
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
  /** Every server-side process: the single server, or core, edges and nats-server. */
  nodes: NodeLoad[];
  /** Clients the server(s) disconnected for falling behind (alluse_ws_slow_disconnects_total at the end); NaN when not exported. */
  slowDisconnects: number;
  /** The checkout whose server ran. */
  tree: string;
}

const ROOT = join(import.meta.dir, "..");
/** Most edges a run starts (each is a process on the same machine). */
const MAX_EDGES = 8;
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

/** Runs one scenario end to end with the server of checkout `tree` and returns its measurements; the load clients are always this tree's. */
export async function runE2e(s: E2eScenario, tree = ROOT): Promise<E2eResult> {
  const symbols = SYMBOLS.slice(0, s.symbolsPerClient);
  const client = s.client ?? "raw";
  const dir = mkdtempSync(join(tmpdir(), "alluse-e2e-"));
  if ((s.edges ?? 0) > MAX_EDGES || (s.edges ?? 0) < 0) throw new Error(`--edges must be 0 to ${MAX_EDGES}`);
  const servers = await startServers({ symbols, ticksPerS: s.ticksPerS, clients: s.clients, edges: s.edges, feedThread: s.feedThread,
    serverCommand: s.serverCommand, dataDir: join(dir, "data"), tree });
  const server = servers.nodes[0]!;
  try {
    // The list is paged: `total` counts every instrument, not just this page.
    const instruments = ((await (await fetch(`${servers.http}/v1/instruments?limit=1`)).json()) as { total: number }).total;
    const rssPid = servers.nodes.find((n) => n.name !== "nats" && n.name !== "core")?.pid ?? server.pid;
    let rssMax = rssMb(rssPid);
    const rssTimer = setInterval(() => { rssMax = Math.max(rssMax, rssMb(rssPid)); }, 200);
    // At least one client process per edge, so every edge carries clients.
    const clientProcesses = Math.max(s.clientProcesses, servers.wsUrls.length);
    const perProc = Math.ceil(s.clients / clientProcesses);
    const procs = [];
    for (let p = 0, left = s.clients; left > 0; p++, left -= perProc) {
      const n = Math.min(perProc, left);
      procs.push(Bun.spawn([process.execPath, join(ROOT, CLIENT_FIXTURES[client]), servers.wsUrls[p % servers.wsUrls.length]!, String(n), symbols.join(","),
        String(s.seconds), s.format, join(dir, `samples-${p}.f64`)], { cwd: ROOT, stdout: "pipe", stderr: "inherit" }));
    }
    // The clients measure for s.seconds once all are subscribed; sample the server over the same span.
    const cpu0 = servers.nodes.map((n) => cpuSeconds(n.pid));
    const busCounter = (n: { name: string; http?: string }) =>
      counter(n.http, n.name === "core" ? "alluse_nats_quotes_published_total" : "alluse_edge_quotes_received_total");
    const bus0 = await Promise.all(servers.nodes.map(busCounter));
    const t0 = performance.now();
    const outs = await Promise.all(procs.map(async (p) => {
      const text = await new Response(p.stdout).text();
      if ((await p.exited) !== 0) throw new Error(`client process failed: ${text}`);
      return JSON.parse(text.trim().split("\n").at(-1)!) as { messages: number; elapsedS: number; gaps: number; missed: number; samples: number; cpuPercent: number };
    }));
    const windowS = (performance.now() - t0) / 1000;
    const cpuUsed = servers.nodes.map((n, i) => cpuSeconds(n.pid) - cpu0[i]!);
    const bus1 = await Promise.all(servers.nodes.map(busCounter));
    const slow = await Promise.all(servers.nodes.filter((n) => n.name !== "core" && n.name !== "nats")
      .map((n) => counter(n.http, "alluse_ws_slow_disconnects_total")));
    clearInterval(rssTimer);
    const ingest: number[] = [];
    const exchange: number[] = [];
    outs.forEach((o, p) => {
      const all = new Float64Array(readFileSync(join(dir, `samples-${p}.f64`)).buffer.slice(0));
      for (let i = 0; i < o.samples; i++) { ingest.push(all[i]!); exchange.push(all[o.samples + i]!); }
    });
    const messages = outs.reduce((a, o) => a + o.messages, 0);
    const elapsed = Math.max(...outs.map((o) => o.elapsedS));
    const ownMessages = (url: number) => outs.reduce((a, o, p) => a + (p % servers.wsUrls.length === url ? o.messages : 0), 0);
    const nodes: NodeLoad[] = servers.nodes.map((n, i) => {
      const served = n.name === "server" ? 0 : n.name.startsWith("edge") ? Number(n.name.slice(4)) - 1 : -1;
      return { name: n.name, cpuPercent: (cpuUsed[i]! / windowS) * 100, cpuUsPerMsg: (cpuUsed[i]! * 1e6) / messages,
        ...(served >= 0 ? { messages: ownMessages(served) } : {}),
        ...(Number.isFinite(bus1[i]! - bus0[i]!) ? { natsPerS: (bus1[i]! - bus0[i]!) / windowS } : {}) };
    });
    return {
      ...s, client, instruments, messages, deliveredPerS: messages / elapsed,
      gaps: outs.reduce((a, o) => a + o.gaps, 0), missed: outs.reduce((a, o) => a + o.missed, 0),
      ingestToClientMs: percentiles(Float64Array.from(ingest)), exchangeToClientMs: percentiles(Float64Array.from(exchange)),
      serverRssMbMax: rssMax, serverCpuPercent: nodes.reduce((a, n) => a + n.cpuPercent, 0), clientCpuPercent: outs.reduce((a, o) => a + o.cpuPercent, 0),
      nodes, slowDisconnects: slow.reduce((a, x) => a + x, 0), tree,
    };
  } finally {
    await servers.stop();
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

/**
 * The single process against core + 1..maxEdges edges in the same run: `runs` rounds, each
 * running every variant (in reverse order on odd rounds), so all see the same load from other
 * processes. Per variant the medians over rounds; the hop is each round's cluster p50 minus that
 * round's single-process p50, median over rounds.
 */
export async function compareEdges(s: E2eScenario, maxEdges: number, runs: number) {
  const variants = Array.from({ length: maxEdges + 1 }, (_, e) => e);
  const all: E2eResult[][] = variants.map(() => []);
  const loadAvg = [loadavg()[0]!];
  for (let r = 0; r < runs; r++) {
    for (const edges of r % 2 === 0 ? variants : [...variants].reverse()) {
      all[edges]!.push(await runE2e({ ...s, edges }));
      loadAvg.push(loadavg()[0]!);
    }
  }
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const summary = (rs: E2eResult[], edges: number) => {
    const nodeNames = rs[0]!.nodes.map((n) => n.name);
    return {
      edges,
      deliveredPerS: Math.round(median(rs.map((x) => x.deliveredPerS))),
      ingestToClientMs: { p50: r3(median(rs.map((x) => x.ingestToClientMs.p50))), p99: r3(median(rs.map((x) => x.ingestToClientMs.p99))) },
      addedHopMsP50: edges === 0 ? 0 : r3(median(rs.map((x, i) => x.ingestToClientMs.p50 - all[0]![i]!.ingestToClientMs.p50))),
      gaps: rs.reduce((a, x) => a + x.gaps, 0),
      clientCpuPercent: Math.round(median(rs.map((x) => x.clientCpuPercent))),
      nodes: nodeNames.map((name) => {
        const of = rs.map((x) => x.nodes.find((n) => n.name === name)!);
        const msgs = of.every((n) => n.messages !== undefined) ? median(of.map((n) => n.messages! / rs[0]!.seconds)) : undefined;
        const ownUs = of.every((n) => n.messages) ? median(of.map((n, i) => (n.cpuUsPerMsg * rs[i]!.messages) / n.messages!)) : undefined;
        return {
          name, cpuPercent: Math.round(median(of.map((n) => n.cpuPercent))), cpuUsPerDeliveredMsg: r3(median(of.map((n) => n.cpuUsPerMsg))),
          // Its own clients' messages: what one edge carries, and its CPU per message it delivered.
          ...(msgs !== undefined ? { ownMsgsPerS: Math.round(msgs) } : {}),
          ...(ownUs !== undefined ? { cpuUsPerOwnMsg: r3(ownUs), ownMsgsPerCoreS: Math.round(1e6 / ownUs) } : {}),
          ...(of.every((n) => n.natsPerS !== undefined) ? { natsPerS: Math.round(median(of.map((n) => n.natsPerS!))) } : {}),
        };
      }),
    };
  };
  return { date: new Date().toISOString(), loadAvg1m: loadAvg, scenario: s, variants: variants.map((e) => summary(all[e]!, e)), runs: all };
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
  const edges = arg("edges", 0);
  if (edges > 0) scenario.edges = edges;
  const baselineAt = process.argv.indexOf("--baseline");
  if (baselineAt > 0) {
    const { compareBaseline, e2eCompareTable } = await import("./e2e-compare.ts");
    const c = await compareBaseline(scenario, process.argv[baselineAt + 1]!, arg("runs", 3));
    console.log(`${new Date().toISOString()} — baseline ${process.argv[baselineAt + 1]}`);
    console.log(e2eCompareTable(scenario, c).join("\n"));
    console.log(JSON.stringify({ date: new Date().toISOString(), scenario, ...c }));
  } else if (process.argv.includes("--compare-edges")) console.log(JSON.stringify(await compareEdges(scenario, arg("compare-edges", 2), arg("runs", 3)), null, 2));
  else if (process.argv.includes("--compare-threads")) console.log(JSON.stringify(await compareThreads(scenario, arg("runs", 3)), null, 2));
  else console.log(JSON.stringify(await runE2e(scenario), null, 2));
}
