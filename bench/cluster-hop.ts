// The added latency of the NATS hop: a real nats-server, a core and an edge as processes, one
// client on each in this process, both subscribed to the same symbols. Ingest→client latency at
// each (client receipt − the core's ingest stamp, one machine's clock): the edge's minus the
// core's is the hop. Per (symbol, seq) receipt differences are printed too, but both clients
// share this event loop, so a frame read in the same turn can be timed in either order (a
// negative median): read their tail, not their median. Also frames and gaps at each client.
//
// Rerun: bun bench/cluster-hop.ts [--rate 2000] [--seconds 5] [--symbols 10]

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MarketClient } from "../src/client/client.ts";
import { TestNats } from "../test/helpers/nats.ts";
import { readLineMatching } from "../test/helpers/process.ts";

const SYMBOLS = ["TSLA", "NVDA", "AAPL", "AMZN", "MSFT", "SPY", "QQQ", "META", "GOOGL", "AMD", "NFLX", "ORCL", "INTC", "CRM", "ADBE", "AVGO"];

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const rate = flag("rate", 2000), seconds = flag("seconds", 5), nSymbols = Math.min(SYMBOLS.length, flag("symbols", 10));
const symbols = SYMBOLS.slice(0, nSymbols);
const main = join(import.meta.dir, "../src/main.ts");
const dir = mkdtempSync(join(tmpdir(), "alluse-hop-"));
await using bus = await TestNats.start();
const start = (args: string[]) => Bun.spawn([process.execPath, main, "--nats", bus.url, "--port", "0", "--log-level", "warn", ...args], { stdout: "pipe", stderr: "inherit" });
const core = start(["--role", "core", "--data-dir", dir, "--symbols", symbols.join(","), "--option-expiries", "0", "--tick-rate", String(rate)]);
const edge = start(["--role", "edge"]);
try {
  const wsOf = async (p: typeof core) => (await readLineMatching(p.stdout, (l) => l.includes("WebSocket"), 20_000)).trim().split(/\s+/)[1]!;
  const [coreWs, edgeWs] = await Promise.all([wsOf(core), wsOf(edge)]);
  const edgeHttp = edgeWs.replace(/^ws/, "http").replace(/\/ws$/, "");
  for (let i = 0; i < 200 && !(await fetch(`${edgeHttp}/readyz`)).ok; i++) await Bun.sleep(50);
  const at = [new Map<string, number>(), new Map<string, number>()];
  const lat: number[][] = [[], []];
  const clients = [await MarketClient.connect(coreWs, { format: "msgpack" }), await MarketClient.connect(edgeWs, { format: "msgpack" })];
  let measuring = false;
  clients.forEach((c, k) => c.onQuote((f) => {
    if (!measuring || f.snap) return;
    at[k]!.set(`${f.s}:${f.seq}`, performance.now());
    lat[k]!.push(performance.timeOrigin + performance.now() - f.its);
  }));
  for (const c of clients) await c.subscribe(symbols);
  await Bun.sleep(500);
  measuring = true;
  await Bun.sleep(seconds * 1000);
  measuring = false;
  const hops: number[] = [];
  for (const [key, t] of at[1]!) {
    const t0 = at[0]!.get(key);
    if (t0 !== undefined) hops.push(t - t0);
  }
  hops.sort((a, b) => a - b);
  for (const l of lat) l.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  console.log(JSON.stringify({
    rate, seconds, symbols: nSymbols,
    frames: { core: at[0]!.size, edge: at[1]!.size, matched: hops.length },
    gaps: { core: clients[0]!.stats.gaps, edge: clients[1]!.stats.gaps },
    addedHopMsP50: r(pct(lat[1]!, 50) - pct(lat[0]!, 50)),
    receiptDiffMs: { p50: r(pct(hops, 50)), p99: r(pct(hops, 99)), max: r(hops.at(-1) ?? NaN) },
    ingestToClientMs: { core: { p50: r(pct(lat[0]!, 50)), p99: r(pct(lat[0]!, 99)) }, edge: { p50: r(pct(lat[1]!, 50)), p99: r(pct(lat[1]!, 99)) } },
  }, null, 1));
  for (const c of clients) c.close();
} finally {
  edge.kill("SIGTERM");
  core.kill("SIGTERM");
  await Promise.all([edge.exited, core.exited]);
  rmSync(dir, { recursive: true, force: true });
}
