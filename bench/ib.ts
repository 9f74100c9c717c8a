// Benchmark of the IBKR path: the TWS simulator (its own process) → socket → @stoqey/ib →
// IB session and feed → engine, and on to WebSocket clients.
//
// 1. Ingest: the simulator offers a rate far above what one client can take (it throttles a
//    client with more than 4 MiB unread, as TWS does, instead of queueing without bound), and
//    the engine ticks per second the feed writes and flushes is the connector's capacity. A
//    second run offers a fixed rate and checks nothing had to be throttled.
// 2. Tick to client: the server runs `--feed ib` in its own process; this process hosts the
//    simulator and a WebSocket client. Every 5 ms a probe bid size (a unique number) is written
//    into the simulator's fan-out; latency is the client's receipt of that size minus the time
//    the simulator encoded it, on one clock. The market ticks every other name at the background
//    rate; AAPL carries only the probes, so a probe is never overwritten in a batch. A probe
//    that still never arrives is counted as lost, not guessed.
//
// 0. Baseline, same run: @stoqey/ib alone decoding the same kind of messages from memory (64 KiB
//    chunks handed to its socket reader, no network, no-op listeners): the client's ceiling.
//
// Rerun: bun bench/ib.ts [--seconds 5]

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectLines as collect } from "../test/helpers/process.ts";
import { Engine } from "../src/engine/engine.ts";
import { TickKind } from "../src/domain/tick.ts";
import { nowMs } from "../src/domain/time.ts";
import { IbFeed } from "../src/feed/ib.ts";
import { IbSession } from "../src/ib/session.ts";
import { createLogger } from "../src/log.ts";
import { TwsSimulator } from "../src/sim/tws/simulator.ts";
import { EventName, IBApi } from "@stoqey/ib";
import { tickPrice, tickSize } from "../src/sim/tws/messages.ts";
import { OutBuffer } from "../src/sim/tws/wire.ts";

const ROOT = join(import.meta.dir, "..");
const quiet = createLogger("error", "bench", () => {});

/** What the ingest runs measured. */
export interface IbIngestResult {
  name: string;
  offeredTicksPerS: number;
  /** Engine ticks per second written and flushed by the feed (an IB bid is a price and a size: two). */
  engineTicksPerS: number;
  /** IB ticks the simulator sent to the client during the window (read from its status, so approximate at the edges). */
  ibTicksDelivered: number;
  /** IB ticks the simulator held back during the window because the client had 4 MiB unread. */
  ibTicksThrottled: number;
  engineRejected: number;
  instruments: number;
  batchesPerS: number;
}

/** The client's decode ceiling: messages and events per second from memory. */
export interface IbDecodeBaseline {
  messagesPerS: number;
  eventsPerS: number;
}

/**
 * @stoqey/ib decoding a realistic mix (bid price + explicit bid size, ask, last + volume, size
 * updates) handed to its socket reader in 64 KiB chunks. Reaches into the client's internals
 * (controller.socket) because that is the only way to feed it without a socket; measurement only.
 */
export function benchIbDecode(seconds: number): IbDecodeBaseline {
  const ib = new IBApi({ host: "127.0.0.1", port: 1 });
  const sock = (ib as unknown as { controller: { socket: Record<string, unknown> & { onData(b: Buffer): void } } }).controller.socket;
  Object.assign(sock, { neverReceived: false, _status: 3, _serverVersion: 193 });
  let events = 0;
  ib.on(EventName.tickPrice, () => events++);
  ib.on(EventName.tickSize, () => events++);
  const o = new OutBuffer(1 << 22);
  let messages = 0;
  for (let i = 0; i < 10_000; i++) {
    const id = 1_000_000_001 + (i % 44), p = 185 + (i % 50) / 100;
    tickPrice(o, id, 1, p, 300); tickSize(o, id, 0, 300); tickPrice(o, id, 2, p + 0.02, 200);
    tickPrice(o, id, 4, p + 0.01, 100); tickSize(o, id, 8, 1000 + i); tickSize(o, id, 3, 400);
    messages += 6;
  }
  const buf = o.take();
  let sent = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    for (let off = 0; off < buf.length; off += 65536) sock.onData(buf.subarray(off, off + 65536));
    sent += messages;
  }
  const dt = (performance.now() - t0) / 1000;
  return { messagesPerS: sent / dt, eventsPerS: events / dt };
}

/** What the latency run measured. */
export interface IbLatencyResult {
  backgroundTicksPerS: number;
  samples: number;
  lost: number;
  simToClientMs: { p50: number; p99: number; p999: number; max: number };
}

async function lineMatching(lines: string[], match: (l: string) => boolean, timeoutMs: number): Promise<string> {
  return lineMatchingFrom(lines, 0, match, timeoutMs);
}

/** The first line at or after index `from` that matches, waiting up to `timeoutMs` for it. */
async function lineMatchingFrom(lines: string[], from: number, match: (l: string) => boolean, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = lines.slice(from).find(match);
    if (hit !== undefined) return hit;
    if (Date.now() > deadline) throw new Error(`no matching line within ${timeoutMs} ms`);
    await Bun.sleep(5);
  }
}


/** Runs the simulator CLI as a process and returns its port, status query and stopper. */
async function simProcess(rate: number) {
  const proc = Bun.spawn([process.execPath, join(ROOT, "src/sim/tws/main.ts"), "--port", "0", "--symbols", "AAPL,TSLA,NVDA,SPY",
    "--option-expiries", "1", "--strikes-per-side", "2", "--tick-rate", String(rate)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const lines = collect(proc.stdout);
  const { port } = JSON.parse(await lineMatching(lines, (l) => l.includes('"msg":"listening"'), 20_000)) as { port: number };
  const status = async () => {
    const before = lines.length;
    proc.stdin.write("status\n");
    // Both processes are saturated during a run, so the answer may take a while.
    const line = await lineMatchingFrom(lines, before, (l) => l.includes('"ticksDelivered"'), 60_000);
    return JSON.parse(line) as { ticksDelivered: number; ticksSkipped: number };
  };
  return { port, status, stop: async () => { proc.kill("SIGTERM"); await proc.exited; } };
}

/** One ingest run at an offered rate. */
export async function benchIbIngest(name: string, offeredTicksPerS: number, seconds: number): Promise<IbIngestResult> {
  const sim = await simProcess(offeredTicksPerS);
  const session = new IbSession({ host: "127.0.0.1", port: sim.port, clientId: 1, log: quiet });
  const feed = new IbFeed({ session, ownsSession: true, symbols: ["AAPL", "TSLA", "NVDA", "SPY"], optionExpiries: 1, strikesPerSide: 2, maxLines: 1000, log: quiet });
  try {
    await feed.prepare();
    const specs = feed.instruments();
    const engine = await Engine.create({ maxInstruments: 256 });
    for (const s of specs) engine.addInstrument(s);
    await feed.start(engine, (s) => engine.instrument(s)?.index);
    await Bun.sleep(1000); // warm-up: subscriptions, JIT
    const s0 = await sim.status();
    const t0 = performance.now(), ticks0 = feed.stats.ticks, batches0 = feed.stats.batches, rejected0 = engine.counters().rejected;
    await Bun.sleep(seconds * 1000);
    const t1 = performance.now(), ticks1 = feed.stats.ticks, batches1 = feed.stats.batches;
    const s1 = await sim.status();
    const dt = (t1 - t0) / 1000;
    return {
      name, offeredTicksPerS, instruments: specs.length,
      engineTicksPerS: (ticks1 - ticks0) / dt, batchesPerS: (batches1 - batches0) / dt,
      ibTicksDelivered: s1.ticksDelivered - s0.ticksDelivered, ibTicksThrottled: s1.ticksSkipped - s0.ticksSkipped,
      engineRejected: engine.counters().rejected - rejected0,
    };
  } finally {
    await feed.stop();
    await sim.stop();
  }
}

/** Tick-to-client latency through a `--feed ib` server process. */
export async function benchIbLatency(backgroundTicksPerS: number, seconds: number): Promise<IbLatencyResult> {
  const sim = new TwsSimulator({ port: 0, symbols: ["AAPL", "TSLA", "NVDA", "SPY", "QQQ", "MSFT", "AMZN", "META"], optionExpiries: 0, tickRatePerS: backgroundTicksPerS, log: quiet });
  await sim.start();
  const dataDir = mkdtempSync(join(tmpdir(), "bench-ib-"));
  const app = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), "--port", "0", "--feed", "ib", "--ib-port", String(sim.port), "--symbols", "AAPL,TSLA,NVDA,SPY,QQQ,MSFT,AMZN,META",
    "--option-expiries", "0", "--data-dir", dataDir], { stdout: "pipe", stderr: "inherit" });
  try {
    const { ws: wsUrl } = JSON.parse(await lineMatching(collect(app.stdout), (l) => l.includes('"msg":"listening"'), 30_000)) as { ws: string };
    const sentAt = new Map<number, number>();
    const latencies: number[] = [];
    const ws = new WebSocket(wsUrl);
    await new Promise<void>((resolve) => {
      ws.onopen = () => ws.send(JSON.stringify({ op: "subscribe", id: 1, symbols: ["AAPL"] }));
      ws.onmessage = (ev) => {
        const now = nowMs();
        const f = JSON.parse(String(ev.data)) as { t: string; bs?: number };
        if (f.t === "ack") resolve();
        if (f.t !== "q" || f.bs === undefined) return;
        const at = sentAt.get(f.bs);
        if (at !== undefined) {
          latencies.push(now - at);
          sentAt.delete(f.bs);
        }
      };
    });
    await Bun.sleep(1000);
    const aapl = sim.universe.contracts.find((c) => c.ourSymbol === "AAPL")!.number;
    // The market keeps ticking the other names; AAPL carries only the probes, so none is overwritten in a batch.
    sim.marketData.mute(aapl);
    const samples = Math.floor((seconds * 1000) / 5);
    for (let k = 0; k < samples; k++) {
      // A bid size no synthetic tick ever has (they are at most 5,000), unique per sample.
      const size = 1_000_000 + k;
      const t = nowMs();
      sentAt.set(size, t);
      sim.marketData.inject(aapl, TickKind.BidSize, 0, size, t);
      await Bun.sleep(5);
    }
    await Bun.sleep(500);
    ws.close();
    const sorted = Float64Array.from(latencies).sort();
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
    return { backgroundTicksPerS, samples, lost: samples - latencies.length, simToClientMs: { p50: q(0.5), p99: q(0.99), p999: q(0.999), max: sorted.at(-1) ?? NaN } };
  } finally {
    app.kill("SIGTERM");
    await app.exited;
    await sim.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const i = process.argv.indexOf("--seconds");
  const seconds = i > 0 ? Number(process.argv[i + 1]) : 5;
  const fmt = (n: number, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const decode = benchIbDecode(Math.min(seconds, 3));
  console.log(`@stoqey/ib decoding from memory: ${fmt(decode.messagesPerS)} messages/s, ${fmt(decode.eventsPerS)} tick events/s\n`);
  const ingest = [await benchIbIngest("capacity (offered far above)", 1_000_000, seconds), await benchIbIngest("budget rate", 300_000, seconds)];
  console.log("| run | offered IB ticks/s | IB ticks delivered | IB ticks throttled | engine ticks/s | batches/s | rejected |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const r of ingest) {
    console.log(`| ${r.name} | ${fmt(r.offeredTicksPerS)} | ${fmt(r.ibTicksDelivered)} | ${fmt(r.ibTicksThrottled)} | ${fmt(r.engineTicksPerS)} | ${fmt(r.batchesPerS)} | ${r.engineRejected} |`);
  }
  const lat = await benchIbLatency(20_000, seconds);
  console.log(`\ntick → client (simulator encode → WebSocket client), ${fmt(lat.backgroundTicksPerS)} background ticks/s, ${lat.samples} probes, ${lat.lost} lost:`);
  console.log(`p50 ${fmt(lat.simToClientMs.p50, 3)} ms · p99 ${fmt(lat.simToClientMs.p99, 3)} ms · p99.9 ${fmt(lat.simToClientMs.p999, 3)} ms · max ${fmt(lat.simToClientMs.max, 3)} ms`);
  console.log(JSON.stringify({ decode, ingest, latency: lat }));
}
