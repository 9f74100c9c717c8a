// Benchmark of the IBKR reconnect: how long after TWS accepts connections again quotes reach the
// engine. The TWS simulator (in this process, loopback) restarts: every socket drops and nothing
// listens for `downMs`; then it listens again. The clock starts when it is listening and stops
// at the first tick the IB feed writes into the engine on the new connection (connect,
// handshake, nextValidId, reqMktData, the subscribe-time image). The session runs with its
// default back-off, which is what decides most of this time. A down time of 0 is a dropped
// socket with TWS still up.
//
// Rerun: bun bench/ib-reconnect.ts [--rounds 20] [--down 0,1000,3000]

import { Engine } from "../src/engine/engine.ts";
import type { TickSink } from "../src/feed/feed.ts";
import { IbFeed } from "../src/feed/ib.ts";
import { IbSession } from "../src/ib/session.ts";
import { createLogger } from "../src/log.ts";
import { TwsSimulator } from "../src/sim/tws/simulator.ts";

const quiet = createLogger("error", "bench", () => {});

/** Quotes-back times of one down time. */
export interface ReconnectResult {
  downMs: number;
  rounds: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** The q-quantile (nearest rank) of unsorted samples. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** A sink that forwards to the engine and notes when the first tick after arm() arrived. */
export class FirstTickProbe implements TickSink {
  private armed = false;
  private waiter: ((atMs: number) => void) | null = null;
  constructor(private readonly engine: Engine) {}
  /** Resolves with the performance.now() of the next tick written. */
  next(): Promise<number> {
    this.armed = true;
    return new Promise((resolve) => (this.waiter = resolve));
  }
  /** Forgets a waiting next() (the round gave up). */
  disarm(): void {
    this.armed = false;
    this.waiter = null;
  }
  /** Forwards a tick, noting the time of the first one after next(). */
  write(i: number, kind: number, price: number, size: number, ts: number): void {
    if (this.armed) {
      this.armed = false;
      this.waiter?.(performance.now());
      this.waiter = null;
    }
    this.engine.write(i, kind, price, size, ts);
  }
  /** Ends the engine's batch. */
  flush(now?: number): number {
    return this.engine.flush(now);
  }
}

/** Restarts the simulator `rounds` times per down time and measures quotes back after each. */
export async function benchReconnect(downs: readonly number[], rounds: number): Promise<ReconnectResult[]> {
  const sim = new TwsSimulator({ port: 0, symbols: ["AAPL", "MSFT"], optionExpiries: 0, tickRatePerS: 200, log: quiet });
  await sim.start();
  const session = new IbSession({ host: "127.0.0.1", port: sim.port, clientId: 1, log: quiet });
  const feed = new IbFeed({ session, ownsSession: true, symbols: ["AAPL", "MSFT"], optionExpiries: 0, strikesPerSide: 0, log: quiet });
  const out: ReconnectResult[] = [];
  try {
    await feed.prepare();
    const engine = await Engine.create({ maxInstruments: 16 });
    for (const s of feed.instruments()) engine.addInstrument(s);
    const probe = new FirstTickProbe(engine);
    await feed.start(probe, (s) => engine.instrument(s)?.index);
    await probe.next();
    for (const downMs of downs) {
      const samples: number[] = [];
      for (let r = 0; r < rounds; r++) {
        await sim.restart(downMs);
        const listeningAt = performance.now();
        const first = await Promise.race([probe.next(), Bun.sleep(30_000).then(() => NaN)]);
        probe.disarm();
        if (Number.isNaN(first)) throw new Error(`no quote within 30 s of the simulator listening again (down ${downMs} ms)`);
        samples.push(first - listeningAt);
      }
      out.push({ downMs, rounds, p50Ms: quantile(samples, 0.5), p99Ms: quantile(samples, 0.99), maxMs: Math.max(...samples) });
    }
  } finally {
    await feed.stop();
    await sim.stop();
  }
  return out;
}

if (import.meta.main) {
  const arg = (name: string, dflt: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1]! : dflt;
  };
  const rounds = Number(arg("--rounds", "20"));
  const downs = arg("--down", "0,1000,3000").split(",").map(Number);
  const load = (await Bun.file("/proc/loadavg").text().catch(() => "")).split(" ").slice(0, 3).join(" ");
  for (const r of await benchReconnect(downs, rounds)) {
    console.log(`ib reconnect: down=${r.downMs}ms rounds=${r.rounds} quotes_back_ms p50=${r.p50Ms.toFixed(0)} p99=${r.p99Ms.toFixed(0)} max=${r.maxMs.toFixed(0)} (load ${load})`);
  }
}
