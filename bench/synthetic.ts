// Benchmark: how many ticks per second the synthetic market can produce, alone (into a sink
// that discards) and feeding the WASM engine (generate + ingest), on the default 10 underlyings
// with their option chains (450 instruments). The real-time SyntheticFeed is bounded by this.
// Rerun: npm run bench -- synthetic     (or: bun bench/synthetic.ts)

import { measure } from "mitata";
import { Engine } from "../src/engine/engine.ts";
import type { TickSink } from "../src/feed/feed.ts";
import { SyntheticMarket } from "../src/feed/market.ts";

const BATCH = 4096;

/** One benchmark line. */
export interface SyntheticResult {
  name: string;
  ticksPerS: number;
}

/** Runs the generator benchmarks. */
export async function benchSynthetic(): Promise<SyntheticResult[]> {
  const t0 = Date.UTC(2026, 10, 20, 15);
  const out: SyntheticResult[] = [];

  const alone = new SyntheticMarket({ seed: 3, startMs: t0 });
  const rows = new Map(alone.instruments().map((s, i) => [s.symbol, i]));
  const discard: TickSink = { write() {}, flush: () => 0 };
  let ts = t0;
  const a = await measure(() => alone.generate(BATCH, (ts += 1), discard, (s) => rows.get(s)), { min_cpu_time: 1_000_000_000 });
  out.push({ name: "synthetic market alone", ticksPerS: (BATCH / a.p50) * 1e9 });

  const market = new SyntheticMarket({ seed: 3, startMs: t0 });
  const engine = await Engine.create({ maxTickAgeMs: Infinity, maxFutureMs: Infinity });
  for (const spec of market.instruments()) engine.addInstrument(spec);
  const indexOf = (s: string) => engine.instrument(s)?.index;
  let t = t0;
  const b = await measure(() => {
    t += 1;
    market.generate(BATCH, t, engine, indexOf);
    engine.flush(t + 1);
  }, { min_cpu_time: 1_000_000_000 });
  out.push({ name: "synthetic market + WASM engine", ticksPerS: (BATCH / b.p50) * 1e9 });
  return out;
}

if (import.meta.main) {
  for (const r of await benchSynthetic()) console.log(`${r.name.padEnd(34)} ${(r.ticksPerS / 1e6).toFixed(2)} M ticks/s`);
}
