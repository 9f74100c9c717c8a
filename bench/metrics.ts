// Benchmark: what metrics cost.
//
// 1. Hot path. The same recorded 1,024-tick batches (the ingest benchmark's stream: 48
//    instruments, every tick kind, 0.5 % bad ticks) go through the host path twice in one run:
//    1,024 × Engine.write + Engine.flush on a plain engine, and the same on an engine whose
//    flushes the app's BatchTimer times (two clock reads, an engine listener and four histogram
//    observations per batch; writes are untouched). Other work on a shared 2-core machine moves throughput by ±20 %
//    between seconds, so the comparison is paired: many short rounds, each timing 64 batches of
//    one variant then 64 of the other (the order alternating), and the median of the per-round
//    ratios is reported beside each variant's median throughput.
// 2. Scrape. The app's whole registry over an engine with 10,000 instruments (the per-flag
//    gauge reads every quote row) plus a running server: registry.render() alone, and a full
//    GET /metrics over loopback.
//
// Rerun: npm run bench -- metrics     (or: bun bench/metrics.ts)

import { measure } from "mitata";
import { Engine } from "../src/engine/engine.ts";
import { SyntheticFeed } from "../src/feed/synthetic.ts";
import { createAppMetrics } from "../src/monitor/metrics.ts";
import { metricsRoutes, observeRequests, registerHttpMetrics } from "../src/server/metrics-http.ts";
import { startServer } from "../src/server/server.ts";
import { createLogger } from "../src/log.ts";
import { tickStream, type RawTickSink } from "../test/fixtures/tick-stream.ts";

const BATCH = 1024;
const BATCHES = 256;
const INSTRUMENTS = 48;
const ROUNDS = 201;
const BATCHES_PER_ROUND = 64;
const SCRAPE_INSTRUMENTS = 10_000;

/** Results of the metrics benchmark. */
export interface MetricsBenchResult {
  /** ratio = with / without metrics; calibrationRatio = the same pairing of two identical plain engines (the noise floor). */
  hotPath: { baselineTicksPerS: number; withMetricsTicksPerS: number; ratio: number; calibrationRatio: number; rounds: number };
  scrape: { instruments: number; renderUsP50: number; httpMsP50: number; bytes: number; families: number };
}

function recordTicks(): { idx: Uint32Array; kind: Uint32Array; price: Float64Array; size: Float64Array; ts: Float64Array; spanMs: number } {
  const n = BATCH * BATCHES;
  const out = { idx: new Uint32Array(n), kind: new Uint32Array(n), price: new Float64Array(n), size: new Float64Array(n), ts: new Float64Array(n), spanMs: n };
  let i = 0;
  const sink: RawTickSink = {
    write(index, kind, price, size, ts) {
      out.idx[i] = index; out.kind[i] = kind; out.price[i] = price; out.size[i] = size; out.ts[i] = ts; i++;
    },
  };
  const next = tickStream(11, INSTRUMENTS, 0.005);
  const t0 = Date.UTC(2026, 10, 20, 14, 30);
  for (let k = 0; k < n; k++) next(sink, t0 + k);
  return out;
}

async function makeEngine(instruments: number): Promise<Engine> {
  const e = await Engine.create({ maxInstruments: instruments, ringCapacity: BATCH, barHistory: 64, maxTickAgeMs: Infinity, maxFutureMs: Infinity });
  for (let i = 0; i < instruments; i++) e.addInstrument({ symbol: `S${i}`, kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" });
  return e;
}

/** One batch of the recording into an engine, time-shifted on each pass so nothing is out of order. */
function plainRunner(sink: Engine, t: ReturnType<typeof recordTicks>) {
  let k = 0, shift = 0;
  return () => {
    const base = k * BATCH;
    for (let i = base; i < base + BATCH; i++) sink.write(t.idx[i]!, t.kind[i]!, t.price[i]!, t.size[i]!, t.ts[i]! + shift);
    sink.flush(t.ts[base + BATCH - 1]! + shift + 1);
    if (++k === BATCHES) { k = 0; shift += t.spanMs; }
  };
}

/** Median of the paired throughput ratios b / a over ROUNDS alternating rounds, and each side's median. */
function paired(runA: () => void, runB: () => void): { a: number; b: number; ratio: number } {
  const time = (run: () => void) => {
    const t0 = performance.now();
    for (let i = 0; i < BATCHES_PER_ROUND; i++) run();
    return ((BATCH * BATCHES_PER_ROUND) / (performance.now() - t0)) * 1000;
  };
  // Warm-up: let the JIT settle on both paths before anything counts.
  for (let i = 0; i < 20; i++) { time(runA); time(runB); }
  const as: number[] = [], bs: number[] = [], ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let a: number, b: number;
    if (r % 2 === 0) { a = time(runA); b = time(runB); } else { b = time(runB); a = time(runA); }
    as.push(a);
    bs.push(b);
    ratios.push(b / a);
  }
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return { a: med(as), b: med(bs), ratio: med(ratios) };
}

/**
 * One pairing in this process: "metrics" pairs a plain engine with one whose flushes are timed,
 * "aa" two plain engines. Each pairing runs in a fresh process: a second pairing in the same
 * process runs on JIT code already specialised to the first one's engines, and measured its new
 * engine 45 % slower whichever it was.
 */
async function pairing(kind: "metrics" | "aa"): Promise<{ a: number; b: number; ratio: number }> {
  const ticks = recordTicks();
  const plain = await makeEngine(INSTRUMENTS);
  const other = await makeEngine(INSTRUMENTS);
  const metrics = kind === "metrics" ? createAppMetrics({ engine: other, feed: new SyntheticFeed({ symbols: ["AAPL"] }) }) : null;
  const r = paired(plainRunner(plain, ticks), plainRunner(other, ticks));
  metrics?.stop();
  return r;
}

async function inChild(kind: "metrics" | "aa"): Promise<{ a: number; b: number; ratio: number }> {
  const child = Bun.spawn([process.execPath, import.meta.path, "--pairing", kind], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(child.stdout).text();
  if ((await child.exited) !== 0) throw new Error(`pairing ${kind} failed`);
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

async function hotPath(): Promise<MetricsBenchResult["hotPath"]> {
  // A/A: two identical plain engines show how far the pairing itself strays on this machine.
  const calibration = await inChild("aa");
  const r = await inChild("metrics");
  return { baselineTicksPerS: r.a, withMetricsTicksPerS: r.b, ratio: r.ratio, calibrationRatio: calibration.ratio, rounds: ROUNDS };
}

async function scrape(): Promise<MetricsBenchResult["scrape"]> {
  const engine = await makeEngine(SCRAPE_INSTRUMENTS);
  const metrics = createAppMetrics({ engine, feed: new SyntheticFeed({ symbols: ["AAPL"] }) });
  const server = await startServer(engine, {
    host: "127.0.0.1", port: 0,
    rest: { middleware: [observeRequests({ metrics: registerHttpMetrics(metrics.registry), log: createLogger("error", "bench", () => {}) })], routes: [metricsRoutes(metrics.registry)] },
  });
  metrics.attachServer(() => server.stats());
  try {
    // Some quoted rows, so the flag scan sees a mix.
    for (let i = 0; i < SCRAPE_INSTRUMENTS; i += 3) { engine.write(i, 0, 100, 100, Date.now()); engine.write(i, 1, 100.01, 100, Date.now()); if (engine.pending > 900) engine.flush(); }
    engine.flush();
    const text = metrics.registry.render();
    const render = await measure(() => metrics.registry.render(), { min_cpu_time: 1_000_000_000 });
    const samples: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      await (await fetch(`${server.url}/metrics`)).text();
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    return { instruments: SCRAPE_INSTRUMENTS, renderUsP50: render.p50 / 1000, httpMsP50: samples[samples.length >> 1]!, bytes: text.length, families: metrics.registry.names().length };
  } finally {
    await server.stop();
    metrics.stop();
  }
}

/** Runs both parts. */
export async function benchMetrics(): Promise<MetricsBenchResult> {
  return { hotPath: await hotPath(), scrape: await scrape() };
}

const pairingArg = process.argv.indexOf("--pairing");
if (import.meta.main && pairingArg > 0) {
  console.log(JSON.stringify(await pairing(process.argv[pairingArg + 1] === "aa" ? "aa" : "metrics")));
} else if (import.meta.main) {
  const r = await benchMetrics();
  const h = r.hotPath, s = r.scrape;
  console.log(`host path without metrics ${(h.baselineTicksPerS / 1e6).toFixed(2)} M ticks/s, with metrics ${(h.withMetricsTicksPerS / 1e6).toFixed(2)} M ticks/s (median paired ratio ${(h.ratio * 100).toFixed(1)} % over ${h.rounds} rounds; A/A calibration ${(h.calibrationRatio * 100).toFixed(1)} %)`);
  console.log(`scrape at ${s.instruments} instruments: render ${s.renderUsP50.toFixed(0)} µs p50, GET /metrics ${s.httpMsP50.toFixed(2)} ms p50, ${s.bytes} bytes, ${s.families} families`);
}
