// Micro benchmark: engine ingest, WASM against the TypeScript reference, on the same batches.
//
// What one measured operation is: copy a prepared 1,024-tick batch into the tick ring (a
// 32 KiB memcpy, as a feed's writes would leave it) and call ingest(1024) — validate,
// round, update quotes, bars, VWAP, volatility and the change list. The stream is the test
// fixture's: 48 instruments, random-walk mids, every tick kind, 0.5 % bad ticks.
// A third line measures the whole host path: 1,024 Engine.write() calls plus flush().
//
// Rerun: npm run bench -- ingest     (or: bun bench/ingest.ts)

import { measure } from "mitata";
import { Engine } from "../src/engine/engine.ts";
import { tickStream, type RawTickSink } from "../test/fixtures/tick-stream.ts";

const BATCH = 1024;
const BATCHES = 512;
const INSTRUMENTS = 48;
const TICK_SPACING_MS = 1;

/** One benchmark line. */
export interface IngestResult {
  name: string;
  /** Median time of one 1,024-tick batch, ns. */
  batchNsP50: number;
  /** Ticks per second at the median. */
  ticksPerS: number;
}

/** Records a stream into contiguous tick records laid out exactly as the ring's. */
function recordStream(strideBytes: number, layout: Engine["layout"]) {
  const bytes = new ArrayBuffer(BATCH * BATCHES * strideBytes);
  const f64 = new Float64Array(bytes);
  const u32 = new Uint32Array(bytes);
  let n = 0;
  const sink: RawTickSink = {
    write(index, kind, price, size, ts) {
      const at = n * strideBytes;
      f64[(at + layout.T_PRICE) >> 3] = price;
      f64[(at + layout.T_SIZE) >> 3] = size;
      f64[(at + layout.T_TS) >> 3] = ts;
      u32[(at + layout.T_INSTRUMENT) >> 2] = index >>> 0;
      u32[(at + layout.T_KIND) >> 2] = kind >>> 0;
      n++;
    },
  };
  const next = tickStream(11, INSTRUMENTS, 0.005);
  const t0 = Date.UTC(2026, 10, 20, 14, 30);
  for (let i = 0; i < BATCH * BATCHES; i++) next(sink, t0 + i * TICK_SPACING_MS);
  return { bytes: new Uint8Array(bytes), f64, t0, spanMs: BATCH * BATCHES * TICK_SPACING_MS };
}

async function makeEngine(core: "wasm" | "ts"): Promise<Engine> {
  const e = await Engine.create({ core, maxInstruments: 64, ringCapacity: BATCH, barHistory: 64, maxTickAgeMs: Infinity, maxFutureMs: Infinity });
  for (let i = 0; i < INSTRUMENTS; i++) {
    e.addInstrument({ symbol: `S${i}`, kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" });
  }
  return e;
}

/** Builds the measured operation for one core: next batch into the ring, then ingest. */
function batchRunner(e: Engine, stream: ReturnType<typeof recordStream>) {
  const L = e.layout;
  const ring = new Uint8Array(e.core.buffer, L.ringOffset, BATCH * L.TICK_STRIDE_BYTES);
  const ctl = new Uint32Array(e.core.buffer, L.ctlOffset, L.CTL_WORDS);
  const batchBytes = BATCH * L.TICK_STRIDE_BYTES;
  const tsField = L.T_TS >> 3;
  const strideF64 = L.TICK_STRIDE_BYTES >> 3;
  const ringF64 = new Float64Array(e.core.buffer, L.ringOffset, batchBytes >> 3);
  let k = 0;
  let cycle = 0;
  let head = 0;
  return () => {
    ring.set(stream.bytes.subarray(k * batchBytes, (k + 1) * batchBytes));
    // Past the end of the recording the stream repeats, shifted in time so nothing is out of order.
    if (cycle > 0) {
      const shift = cycle * stream.spanMs;
      for (let i = 0; i < BATCH; i++) ringF64[i * strideF64 + tsField] += shift;
    }
    head = (head + BATCH) >>> 0;
    ctl[L.CTL_HEAD] = head;
    const now = ringF64[(BATCH - 1) * strideF64 + tsField]! + 1;
    const changed = e.core.ingest(BATCH, now);
    if (changed < 0) throw new Error(`ingest failed: ${changed}`);
    if (++k === BATCHES) { k = 0; cycle++; }
  };
}

/** Runs the ingest benchmarks and returns one line per variant. */
export async function benchIngest(): Promise<IngestResult[]> {
  const results: IngestResult[] = [];
  const probe = await makeEngine("wasm");
  const stream = recordStream(probe.layout.TICK_STRIDE_BYTES, probe.layout);
  for (const core of ["wasm", "ts"] as const) {
    const run = batchRunner(await makeEngine(core), stream);
    const stats = await measure(run, { min_cpu_time: 1_500_000_000 });
    results.push({ name: `ingest ${core} (1,024-tick batches)`, batchNsP50: stats.p50, ticksPerS: (BATCH / stats.p50) * 1e9 });
  }
  const host = await makeEngine("wasm");
  const f64 = stream.f64;
  const stride = probe.layout.TICK_STRIDE_BYTES;
  const u32 = new Uint32Array(stream.bytes.buffer);
  const L = probe.layout;
  let k = 0;
  let shift = 0;
  const stats = await measure(() => {
    for (let i = 0; i < BATCH; i++) {
      const at = (k * BATCH + i) * stride;
      host.write(u32[(at + L.T_INSTRUMENT) >> 2]!, u32[(at + L.T_KIND) >> 2]!, f64[(at + L.T_PRICE) >> 3]!,
        f64[(at + L.T_SIZE) >> 3]!, f64[(at + L.T_TS) >> 3]! + shift);
    }
    host.flush(f64[((k * BATCH + BATCH - 1) * stride + L.T_TS) >> 3]! + shift + 1);
    if (++k === BATCHES) { k = 0; shift += stream.spanMs; }
  }, { min_cpu_time: 1_500_000_000 });
  results.push({ name: "host path wasm (1,024 × Engine.write + flush)", batchNsP50: stats.p50, ticksPerS: (BATCH / stats.p50) * 1e9 });
  return results;
}

if (import.meta.main) {
  for (const r of await benchIngest()) {
    console.log(`${r.name.padEnd(48)} ${(r.ticksPerS / 1e6).toFixed(2).padStart(8)} M ticks/s   (${(r.batchNsP50 / 1000).toFixed(1)} µs per batch)`);
  }
}
