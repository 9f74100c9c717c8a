// Soak campaign: the real server process on the synthetic market (10 stocks with one weekly
// expiry of options) serves N WebSocket clients in separate client processes
// (soak-client-fixture.ts) for M minutes while they subscribe, watch accounts and churn
// (re-subscribe, reconnect, watch / unwatch). The server's RSS is sampled every few seconds.
//
// Figures: the RSS slope in MB/min by least squares over the second half of the window (the
// first half includes warm-up: JIT, allocator pools, connection buffers reaching steady size),
// its standard error, delivered quote frames per second, slow-consumer disconnects (4008, from
// the server's own counter), other unexpected closes, dial failures.
//
// Flat, the pass criterion: the growth the slope predicts over the second half is within the
// noise of the samples around the fitted line, or tiny:
//   slope × halfMinutes ≤ max(2 × residual standard deviation, 1 % of the mean RSS)
// and, so that a slow real leak cannot hide in noisy samples, slope ≤ 1 MB/min. Judged only on
// windows of 4 minutes or more: the test version's seconds report flat=untested.
// A leak of 1 MB/min is 1.4 GB a day; the full run's figure is in docs/reliability.md.
//
// Rerun: npm run campaign -- soak --clients 1000 --minutes 10 [--tick-rate 500] [--churn-s 30]
// Test version: --short (100 clients, 8 s).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { within } from "../../test/helpers/wait.ts";
import { BUN, createKey, figureLine, intOption, killAll, load1, parseOptions, rssMb, spawnChild, startServer, type ServerProc } from "./proc.ts";

const SYMBOLS = ["TSLA", "NVDA", "AAPL", "AMZN", "MSFT", "SPY", "QQQ", "META", "GOOGL", "AMD"];
/** Clients per client process. */
const PER_PROCESS = 250;
const MAX_CLIENTS = 5000;
const MAX_MINUTES = 120;
/** Longest the client processes may take to dial everything. */
const READY_TIMEOUT_MS = 180_000;
/** Largest RSS slope called flat, and the shortest window (minutes) over which flatness is judged. */
const SLOPE_CAP_MB_PER_MIN = 1;
const SLOPE_MIN_WINDOW = 4;

/** Totals one client process prints. */
interface FixtureTotals {
  quotes: number;
  other: number;
  risk: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
  dials: number;
  dialFailures: number;
  dialFailureCauses: Record<string, number>;
  redials: number;
  resubscribes: number;
  reconnects: number;
  watchToggles: number;
  elapsedS: number;
}

/** Least-squares line through (x, y): slope, its standard error and the residual standard deviation. */
export function fitLine(xs: number[], ys: number[]): { slope: number; slopeSe: number; residualSd: number } {
  const n = xs.length;
  if (n < 3) return { slope: NaN, slopeSe: NaN, residualSd: NaN };
  const mx = xs.reduce((a, b) => a + b, 0) / n, my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0, sxy = 0;
  for (let i = 0; i < n; i++) (sxx += (xs[i]! - mx) ** 2, sxy += (xs[i]! - mx) * (ys[i]! - my));
  const slope = sxy / sxx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i]! - (my + slope * (xs[i]! - mx))) ** 2;
  const residualSd = Math.sqrt(sse / (n - 2));
  return { slope, slopeSe: residualSd / Math.sqrt(sxx), residualSd };
}

async function readFixture(p: ReturnType<typeof spawnChild>, onReady: () => void): Promise<FixtureTotals> {
  const lines: string[] = [];
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of p.stdout) {
    buffered += decoder.decode(chunk, { stream: true });
    const parts = buffered.split("\n");
    buffered = parts.pop()!;
    for (const l of parts) (l.includes('"ready":true') ? onReady() : lines.push(l));
  }
  const code = await p.exited;
  const last = lines.at(-1);
  if (code !== 0 || !last) throw new Error(`soak client process exited with ${code}: ${await new Response(p.stderr).text()}`);
  return JSON.parse(last) as FixtureTotals;
}

async function metric(s: ServerProc, name: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Runs the campaign; returns 0 when RSS is flat, nothing was dropped as slow, and every client stayed served. */
export async function run(args: string[]): Promise<number> {
  const opts = parseOptions(args);
  const short = opts.has("short");
  const clients = intOption(opts, "clients", short ? 100 : 1000, MAX_CLIENTS);
  const seconds = opts.has("minutes") ? intOption(opts, "minutes", 10, MAX_MINUTES) * 60 : intOption(opts, "seconds", short ? 8 : 600, MAX_MINUTES * 60);
  const tickRate = intOption(opts, "tick-rate", 500, 100_000);
  const churnS = intOption(opts, "churn-s", short ? 5 : 30, 3600);
  const seed = intOption(opts, "seed", 20261206, 2 ** 31);
  const sampleMs = short ? 500 : 2000;
  const dir = mkdtempSync(join(tmpdir(), "alluse-campaign-soak-"));
  const started = performance.now();
  const samples: { tMin: number; mb: number }[] = [];
  const heap: { tMin: number; mb: number }[] = [];
  const totals: FixtureTotals[] = [];
  let slowDisconnects = NaN, alive = false;
  let failure: string | undefined;
  try {
    const key = createKey(dir, "trade");
    const s = await startServer(dir, ["--symbols", SYMBOLS.join(","), "--option-expiries", "1", "--strikes-per-side", "5", "--tick-rate", String(tickRate),
      "--max-connections", String(clients + 200), "--log-level", "error"]);
    const procs = Math.ceil(clients / PER_PROCESS);
    let ready = 0;
    const allReady = Promise.withResolvers<void>();
    const outs = Array.from({ length: procs }, (_, i) => {
      const n = Math.min(PER_PROCESS, clients - i * PER_PROCESS);
      const p = spawnChild([BUN, "bench/campaign/soak-client-fixture.ts", s.wsUrl, String(n), SYMBOLS.join(","), String(seconds), String(churnS), String(seed + i), key]);
      return readFixture(p, () => void (++ready === procs && allReady.resolve()));
    });
    outs.forEach((o) => o.catch((err) => allReady.reject(err)));
    await within(allReady.promise, READY_TIMEOUT_MS, "every soak client to connect");
    const t0 = performance.now();
    const sample = () => {
      const tMin = (performance.now() - t0) / 60_000;
      samples.push({ tMin, mb: rssMb(s.proc.pid) });
      // The JavaScript heap in use, from the server's own gauge: tells retained objects from allocator growth.
      void metric(s, "process_heap_used_bytes").then((b) => heap.push({ tMin, mb: b / 2 ** 20 }), () => undefined);
    };
    sample();
    const timer = setInterval(sample, sampleMs);
    try {
      totals.push(...(await Promise.all(outs)));
    } finally {
      clearInterval(timer);
    }
    slowDisconnects = await metric(s, "alluse_ws_slow_disconnects_total");
    alive = s.proc.exitCode === null && (await fetch(`${s.url}/healthz`)).ok;
  } catch (err) {
    failure = (err as Error).message;
  } finally {
    await killAll();
    rmSync(dir, { recursive: true, force: true });
  }
  const windowMin = samples.at(-1)?.tMin ?? 0;
  const half = samples.filter((x) => x.tMin >= windowMin / 2 && Number.isFinite(x.mb));
  const fit = fitLine(half.map((x) => x.tMin), half.map((x) => x.mb));
  const meanMb = half.reduce((a, x) => a + x.mb, 0) / Math.max(1, half.length);
  const growthMb = fit.slope * (windowMin / 2);
  const heapHalf = heap.filter((x) => x.tMin >= windowMin / 2 && Number.isFinite(x.mb));
  const heapFit = fitLine(heapHalf.map((x) => x.tMin), heapHalf.map((x) => x.mb));
  // Seconds of samples (the test version) cannot tell a trend from GC's sawtooth: flatness is
  // judged only on windows of SLOPE_MIN_WINDOW minutes or more, and reported as untested below.
  const judged = windowMin >= SLOPE_MIN_WINDOW;
  const flat = judged ? growthMb <= Math.max(2 * fit.residualSd, 0.01 * meanMb) && fit.slope <= SLOPE_CAP_MB_PER_MIN : "untested";
  const sum = (f: (t: FixtureTotals) => number) => totals.reduce((a, t) => a + f(t), 0);
  const closes: Record<string, number> = {};
  for (const t of totals) for (const [k, v] of Object.entries(t.closes)) closes[k] = (closes[k] ?? 0) + v;
  const causes: Record<string, number> = {};
  for (const t of totals) for (const [k, v] of Object.entries(t.dialFailureCauses)) causes[k] = (causes[k] ?? 0) + v;
  const errors: Record<string, number> = {};
  for (const t of totals) for (const [k, v] of Object.entries(t.errors)) errors[k] = (errors[k] ?? 0) + v;
  const elapsedS = Math.max(...totals.map((t) => t.elapsedS), 1e-9);
  const unexpectedCloses = Object.values(closes).reduce((a, b) => a + b, 0);
  const dialFailures = sum((t) => t.dialFailures);
  const ok = !failure && alive && flat !== false && slowDisconnects === 0 && unexpectedCloses === 0 && dialFailures === 0 && sum((t) => t.quotes) > 0 && Object.keys(errors).length === 0;
  console.log(figureLine("soak", {
    clients, minutes: Math.round((seconds / 60) * 100) / 100, rssStartMb: Math.round(samples[0]?.mb ?? NaN), rssEndMb: Math.round(samples.at(-1)?.mb ?? NaN),
    rssMaxMb: Math.round(Math.max(...samples.map((x) => x.mb))), rssSlopeMbPerMin: Math.round(fit.slope * 1000) / 1000, slopeSeMbPerMin: Math.round(fit.slopeSe * 1000) / 1000,
    residualSdMb: Math.round(fit.residualSd * 100) / 100, samples: samples.length, flat,
    heapStartMb: Math.round(heap[0]?.mb ?? NaN), heapEndMb: Math.round(heap.at(-1)?.mb ?? NaN), heapSlopeMbPerMin: Math.round(heapFit.slope * 1000) / 1000,
    deliveredPerS: Math.round(sum((t) => t.quotes) / elapsedS), otherPerS: Math.round(sum((t) => t.other) / elapsedS), riskFrames: sum((t) => t.risk),
    slowDisconnects, unexpectedCloses, dialFailures, dials: sum((t) => t.dials), resubscribes: sum((t) => t.resubscribes), reconnects: sum((t) => t.reconnects),
    watchToggles: sum((t) => t.watchToggles), errors: Object.entries(errors).map(([k, v]) => `${k}:${v}`).join(",") || "none",
    closes: Object.entries(closes).map(([k, v]) => `${k}:${v}`).join(",") || "none", tickRate, seed, load1: load1(), ok,
  }));
  // The series, for a plot or a second look at the slope (stderr keeps stdout to the one figure line).
  process.stderr.write(`soak: rss ${JSON.stringify(samples.map((x) => [Math.round(x.tMin * 1000) / 1000, Math.round(x.mb * 10) / 10]))}\n`);
  process.stderr.write(`soak: heap ${JSON.stringify(heap.map((x) => [Math.round(x.tMin * 1000) / 1000, Math.round(x.mb * 10) / 10]))}\n`);
  for (const [k, v] of Object.entries(causes)) process.stderr.write(`soak: ${v} dials failed: ${k}\n`);
  if (failure) process.stderr.write(`soak: failed: ${failure}\n`);
  return ok ? 0 : 1;
}
