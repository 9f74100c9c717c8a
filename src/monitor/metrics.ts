// The process's metrics: what the engine, the feed, the fan-out and the process itself expose at
// /metrics. Counters that already exist (the engine's counters table in WASM memory, the hub's
// ServerStats, FeedStats) are read at scrape time and never copied on the hot path. The only
// per-batch work is BatchTimer's: two clock reads and four histogram observations per flush.
//
// Other parts add their own families to `registry` (orders by state, fills, broker connection,
// alerts…) with registry.counter/gauge/histogram/scrape; nothing here needs to change for that.

import { QualityFlag, REJECT_REASON_NAMES } from "../domain/tick.ts";
import { nowMs } from "../domain/time.ts";
import { Engine } from "../engine/engine.ts";
import type { Feed, TickSink } from "../feed/feed.ts";
import type { ServerStats } from "../server/hub.ts";
import { MetricsRegistry, type Histogram } from "./registry.ts";

/** Buckets for per-batch engine and fan-out times, seconds: 1 µs (a tiny batch) to 100 ms. */
export const BATCH_SECONDS_BUCKETS = [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1];
/** Buckets for ingest-stamp-to-publish latency, seconds: 10 µs to 1 s. */
export const LATENCY_SECONDS_BUCKETS = [1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1];
/** Buckets for ticks per batch: powers of four up to the default ring capacity. */
export const BATCH_TICKS_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384];
/** Buckets for event-loop lag, seconds: 1 ms to 2.5 s. */
export const LAG_SECONDS_BUCKETS = [1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5];

/** How often the event-loop lag probe wakes; its lateness is the lag. */
export const LAG_PROBE_MS = 100;

/**
 * Times every Engine.flush (ingest time, fan-out time, batch size, stamp-to-publish latency) by
 * replacing `flush` on the engine instance with a timed wrapper around Engine.prototype.flush.
 * Feeds keep writing to the engine itself, so the per-tick path is exactly the engine's, and the
 * wrapper costs two clock reads and four histogram observations per batch (bench/metrics.ts:
 * within the A/A noise). Ingest time is split from listener time by an engine listener, so the
 * timer must be created before any other onBatch listener. Flushes the engine makes itself when
 * the ring is full are timed too; stale sweeps and session rolls are not (they are not ingests).
 */
export class BatchTimer {
  private startedMs = NaN;
  private ingestedMs = NaN;
  private readonly detach: () => void;

  constructor(private readonly engine: Engine, private readonly h: {
    ingestSeconds: Histogram; fanoutSeconds: Histogram; batchTicks: Histogram; publishSeconds: Histogram | null;
  }) {
    if (Object.hasOwn(engine, "flush")) throw new Error("engine flushes are already timed");
    this.detach = engine.onBatch(() => {
      if (this.startedMs === this.startedMs) this.ingestedMs = performance.now();
    });
    const inner = Engine.prototype.flush;
    engine.flush = (now: number = nowMs()) => this.timed(inner, now);
  }

  private timed(inner: Engine["flush"], now: number): number {
    const ticks = this.engine.pending;
    if (ticks === 0) return 0;
    this.ingestedMs = NaN;
    const start = (this.startedMs = performance.now());
    let changed: number;
    try {
      changed = inner.call(this.engine, now);
    } finally {
      this.startedMs = NaN;
    }
    const end = performance.now();
    // No listener ran when nothing changed: the whole flush was ingest.
    const ingested = this.ingestedMs === this.ingestedMs ? this.ingestedMs : end;
    this.h.ingestSeconds.observe((ingested - start) / 1000);
    this.h.batchTicks.observe(ticks);
    if (changed > 0) {
      this.h.fanoutSeconds.observe((end - ingested) / 1000);
      // `now` is the stamp clients see as `its`; performance.timeOrigin + end is the same clock.
      this.h.publishSeconds?.observe(Math.max(0, performance.timeOrigin + end - now) / 1000);
    }
    return changed;
  }

  /** Puts the engine's own flush back and stops listening. */
  close(): void {
    delete (this.engine as { flush?: unknown }).flush;
    this.detach();
  }
}

/** Inputs of the process metrics. */
export interface AppMetricsOptions {
  engine: Engine;
  feed: Feed;
  /** False when batch stamps are not wall-clock time (a replay keeping recorded times). */
  stampsAreWallClock?: boolean;
  /** Version reported by alluse_build_info. */
  version?: string;
  /** Clock of the event-loop lag probe (tests); the real timers by default. */
  lagClock?: ProbeClock;
}

/** The registry plus the pieces the app wires: the batch timer, the server hook and the lag probe. */
export interface AppMetrics {
  readonly registry: MetricsRegistry;
  /** Times the engine's flushes from creation until stop(). */
  readonly timer: BatchTimer;
  /** What to give feeds: the engine itself (its flushes are timed; writes go straight in). */
  readonly sink: TickSink;
  /** The tick-to-publish histogram (the latency alert reads it); null when stamps are not wall-clock time. */
  readonly publishSeconds: Histogram | null;
  /** Adds the fan-out counters once the server is up. */
  attachServer(stats: () => ServerStats): void;
  /** Stops the lag probe and the batch timer. */
  stop(): void;
}

/** Builds the registry with the engine, feed, process and event-loop families. Call before any other engine listener is added. */
export function createAppMetrics(o: AppMetricsOptions): AppMetrics {
  const registry = new MetricsRegistry();
  const { engine, feed } = o;

  registry.gauge({ name: "alluse_build_info", help: "Always 1; the labels say what is running.", labelNames: ["version", "core"] })
    .labels(o.version ?? "0.0.0", engine.core.name).set(1);

  const ingestSeconds = registry.histogram({ name: "alluse_engine_ingest_seconds", help: "Engine ingest time of one batch (validate, normalise, update tables).", buckets: BATCH_SECONDS_BUCKETS });
  const batchTicks = registry.histogram({ name: "alluse_engine_batch_ticks", help: "Ticks in one ingested batch.", buckets: BATCH_TICKS_BUCKETS });
  const fanoutSeconds = registry.histogram({ name: "alluse_fanout_seconds", help: "Time spent by batch listeners (encoding and publishing) on one ingested batch.", buckets: BATCH_SECONDS_BUCKETS });
  const publishSeconds = o.stampsAreWallClock === false ? null
    : registry.histogram({ name: "alluse_tick_to_publish_seconds", help: "From a batch's ingest stamp (its) to the end of its publication to subscribers.", buckets: LATENCY_SECONDS_BUCKETS });
  const timer = new BatchTimer(engine, { ingestSeconds, fanoutSeconds, batchTicks, publishSeconds });

  registerEngine(registry, engine);
  registerFeed(registry, feed);
  const lag = registerProcess(registry, o.lagClock);

  return {
    registry, timer, sink: engine, publishSeconds,
    attachServer: (stats) => registerServer(registry, stats),
    stop() {
      lag.stop();
      timer.close();
    },
  };
}

function registerEngine(registry: MetricsRegistry, engine: Engine): void {
  // One read of the counters table per scrape, shared by the families below.
  let c = engine.counters();
  registry.beforeScrape(() => (c = engine.counters()));
  registry.scrape({ name: "alluse_engine_ticks_total", help: "Ticks ingested by the engine.", type: "counter", collect: (e) => e(c.ticks) });
  registry.scrape({ name: "alluse_engine_ticks_accepted_total", help: "Ticks that passed validation.", type: "counter", collect: (e) => e(c.accepted) });
  registry.scrape({
    name: "alluse_engine_ticks_rejected_total", help: "Ticks rejected, by reason.", type: "counter", labelNames: ["reason"],
    collect: (e) => { for (const r of REJECT_REASON_NAMES.slice(1)) e(c.rejectedByReason[r] ?? 0, r); },
  });
  registry.scrape({ name: "alluse_engine_batches_total", help: "Engine batches (ingests, stale sweeps, session rolls).", type: "counter", collect: (e) => e(c.batches) });
  registry.scrape({ name: "alluse_engine_changed_rows_total", help: "Quote rows put in change lists (published states).", type: "counter", collect: (e) => e(c.changedRows) });
  registry.scrape({ name: "alluse_engine_instruments", help: "Instruments defined in the engine.", type: "gauge", collect: (e) => e(engine.instruments.length) });
  registry.scrape({ name: "alluse_engine_instruments_capacity", help: "Capacity of the instrument table.", type: "gauge", collect: (e) => e(engine.options.maxInstruments) });
  registry.scrape({
    name: "alluse_engine_instruments_flagged", help: "Instruments whose quote has a quality flag set, by flag.", type: "gauge", labelNames: ["flag"],
    collect: (e) => {
      const flags = Object.entries(QualityFlag);
      const counts = new Array<number>(flags.length).fill(0);
      const Q = engine.layout.Q_FLAGS;
      for (let row = 0; row < engine.instruments.length; row++) {
        const f = engine.field(row, Q) >>> 0;
        for (let k = 0; k < flags.length; k++) if ((f & flags[k]![1]) !== 0) counts[k]!++;
      }
      flags.forEach(([name], k) => e(counts[k]!, name));
    },
  });
  registry.scrape({ name: "alluse_engine_memory_bytes", help: "Size of the engine's fixed WebAssembly memory.", type: "gauge", collect: (e) => e(engine.core.buffer.byteLength) });
}

function registerFeed(registry: MetricsRegistry, feed: Feed): void {
  const s = feed.stats;
  registry.scrape({ name: "alluse_feed_ticks_total", help: "Ticks written by the feed.", type: "counter", labelNames: ["feed"], collect: (e) => e(s.ticks, feed.name) });
  registry.scrape({ name: "alluse_feed_batches_total", help: "Batches flushed by the feed.", type: "counter", labelNames: ["feed"], collect: (e) => e(s.batches, feed.name) });
  registry.scrape({ name: "alluse_feed_bad_ticks_total", help: "Ticks the synthetic feed made invalid on purpose.", type: "counter", labelNames: ["feed"], collect: (e) => e(s.badTicks, feed.name) });
  registry.scrape({ name: "alluse_feed_live", help: "1 while the feed is producing.", type: "gauge", labelNames: ["feed"], collect: (e) => e(feed.live ? 1 : 0, feed.name) });
  // Only the synthetic feed can fall behind the clock and skip ahead; others have no such count.
  if ("shortfallTicks" in feed && typeof feed.shortfallTicks === "number") {
    const f = feed as Feed & { shortfallTicks: number };
    registry.scrape({ name: "alluse_feed_shortfall_ticks_total", help: "Ticks the synthetic feed skipped because it fell behind the clock.", type: "counter", labelNames: ["feed"], collect: (e) => e(f.shortfallTicks, feed.name) });
  }
}

/** Registers the fan-out families (connections, subscriptions, frames and bytes out…) read from the server's counters. */
export function registerServer(registry: MetricsRegistry, stats: () => ServerStats): void {
  let s = stats();
  registry.beforeScrape(() => (s = stats()));
  const scalar = (name: string, help: string, type: "counter" | "gauge", read: (s: ServerStats) => number) =>
    registry.scrape({ name, help, type, collect: (e) => e(read(s)) });
  const perCodec = (name: string, help: string, read: (s: ServerStats) => Record<string, number>) =>
    registry.scrape({ name, help, type: "counter", labelNames: ["codec"], collect: (e) => { for (const [k, v] of Object.entries(read(s))) e(v, k); } });
  scalar("alluse_ws_connections", "Open WebSocket connections.", "gauge", (s) => s.connections);
  scalar("alluse_ws_connections_total", "WebSocket connections accepted.", "counter", (s) => s.connectionsTotal);
  scalar("alluse_ws_connections_rejected_total", "WebSocket connections refused by maxConnections.", "counter", (s) => s.connectionsRejected);
  scalar("alluse_ws_subscriptions", "Symbol subscriptions held, over all connections.", "gauge", (s) => s.subscriptions);
  scalar("alluse_ws_slow_clients", "Connections in conflated delivery now.", "gauge", (s) => s.slowClients);
  scalar("alluse_ws_slow_entries_total", "Times a connection entered conflated delivery.", "counter", (s) => s.slowEntries);
  perCodec("alluse_ws_messages_out_total", "Frames handed to sockets, by codec.", (s) => s.messagesOut);
  perCodec("alluse_ws_bytes_out_total", "Payload bytes of those frames, by codec.", (s) => s.bytesOut);
  perCodec("alluse_ws_encodes_total", "Quote frames encoded, by codec.", (s) => s.encodes);
  scalar("alluse_ws_conflations_total", "Quote states a slow connection never saw because a newer one replaced them.", "counter", (s) => s.conflations);
  scalar("alluse_ws_slow_disconnects_total", "Connections closed as slow consumers (4008).", "counter", (s) => s.slowDisconnects);
  scalar("alluse_ws_rate_limited_total", "Inbound messages refused by the rate limit.", "counter", (s) => s.rateLimited);
  scalar("alluse_ws_rate_disconnects_total", "Connections closed for rate abuse (4029).", "counter", (s) => s.rateDisconnects);
  scalar("alluse_ws_error_frames_total", "Error frames sent.", "counter", (s) => s.errorFrames);
}

function registerProcess(registry: MetricsRegistry, clock?: ProbeClock): LagProbe {
  let mem = process.memoryUsage();
  let cpu = process.cpuUsage();
  registry.beforeScrape(() => {
    mem = process.memoryUsage();
    cpu = process.cpuUsage();
  });
  registry.scrape({ name: "process_resident_memory_bytes", help: "Resident set size.", type: "gauge", collect: (e) => e(mem.rss) });
  registry.scrape({ name: "process_heap_used_bytes", help: "JavaScript heap in use.", type: "gauge", collect: (e) => e(mem.heapUsed) });
  registry.scrape({ name: "process_heap_total_bytes", help: "JavaScript heap reserved.", type: "gauge", collect: (e) => e(mem.heapTotal) });
  registry.scrape({ name: "process_cpu_user_seconds_total", help: "User CPU time.", type: "counter", collect: (e) => e(cpu.user / 1e6) });
  registry.scrape({ name: "process_cpu_system_seconds_total", help: "System CPU time.", type: "counter", collect: (e) => e(cpu.system / 1e6) });
  const startS = Math.floor(performance.timeOrigin / 1000);
  registry.scrape({ name: "process_start_time_seconds", help: "Start time of the process, Unix seconds.", type: "gauge", collect: (e) => e(startS) });

  const lag = registry.histogram({ name: "alluse_event_loop_lag_seconds", help: `How late a ${LAG_PROBE_MS} ms timer fires: time the event loop was busy.`, buckets: LAG_SECONDS_BUCKETS });
  return new LagProbe(lag, clock);
}

/** The clock and timers the lag probe runs on; tests pass a virtual one. */
export interface ProbeClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const REAL_CLOCK: ProbeClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // The probe must never keep a stopping process alive.
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * The event-loop lag probe: a timer armed for `intervalMs` that, when it fires, observes how
 * late it is and arms itself again. A timer cannot fire while the loop is blocked, so a block
 * of B ms that starts after the timer was armed shows as a lag of at least B − intervalMs
 * (the timer may have been armed up to intervalMs before the block began) and at most B plus
 * whatever else delayed the loop. One timer re-armed from its own callback (not an interval):
 * each lateness is measured from the arming it belongs to.
 */
export class LagProbe {
  private expectedMs: number;
  private handle: unknown;
  private stopped = false;

  constructor(private readonly histogram: Histogram, private readonly clock: ProbeClock = REAL_CLOCK, private readonly intervalMs = LAG_PROBE_MS) {
    this.expectedMs = this.arm();
  }

  /** Stops the probe; no observation follows. */
  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.handle);
  }

  /** Arms the timer; returns when it is due (it fires then at the earliest). */
  private arm(): number {
    const due = this.clock.now() + this.intervalMs;
    this.handle = this.clock.setTimeout(() => this.wake(), this.intervalMs);
    return due;
  }

  private wake(): void {
    if (this.stopped) return;
    this.histogram.observe(Math.max(0, this.clock.now() - this.expectedMs) / 1000);
    this.expectedMs = this.arm();
  }
}
