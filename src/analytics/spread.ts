// Spread samples for spread statistics. The quote table holds only the current spread, so a
// timer reads bid and ask of the first `maxInstruments` rows (stocks come first, so every
// underlying is covered) every `intervalMs` into a fixed ring per row. Sampling by time, not by
// tick, weights each spread by how long it was displayed, which is what a trader pays; and it
// costs nothing on the hot path. Memory is fixed at start: rows × capacity × 12 bytes (the
// absolute spread as a float64, so decimal prices stay exact; basis points as a float32).

import type { Engine } from "../engine/engine.ts";
import { summarize, type Summary } from "./stats.ts";

/** Sampler sizing. */
export interface SpreadSamplerOptions {
  /** Time between samples (default 1000 ms). */
  intervalMs?: number;
  /** Samples kept per instrument (default 300: five minutes at 1 s). */
  capacity?: number;
  /** Rows sampled, from row 0 (default 1024). */
  maxInstruments?: number;
}

/** Spread statistics of one instrument over the samples kept. */
export interface SpreadStats {
  samples: number;
  intervalMs: number;
  /** Absolute spread, price units of the instrument (e.g. dollars). */
  absolute: Summary;
  /** Spread over mid, basis points. */
  relativeBps: Summary;
}

/** Periodic sampler of bid/ask spreads into bounded rings. */
export class SpreadSampler {
  readonly intervalMs: number;
  readonly capacity: number;
  readonly rows: number;
  private readonly abs: Float64Array;
  private readonly bps: Float32Array;
  /** Samples written per row (ring index = count % capacity). */
  private readonly counts: Float64Array;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly engine: Engine, o: SpreadSamplerOptions = {}) {
    this.intervalMs = o.intervalMs ?? 1000;
    this.capacity = o.capacity ?? 300;
    this.rows = Math.min(o.maxInstruments ?? 1024, engine.options.maxInstruments);
    if (!(this.intervalMs >= 10)) throw new RangeError("spread sampling interval must be at least 10 ms");
    if (!(Number.isInteger(this.capacity) && this.capacity >= 2 && this.capacity <= 100_000)) throw new RangeError("spread capacity must be an integer in [2, 100000]");
    this.abs = new Float64Array(this.rows * this.capacity);
    this.bps = new Float32Array(this.rows * this.capacity);
    this.counts = new Float64Array(this.rows);
  }

  /** Starts the timer (unref'd: it never keeps the process alive). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref?.();
  }

  /** Stops the timer. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample of every covered row that has both sides; exposed for tests. */
  sample(): void {
    const e = this.engine, L = e.layout;
    const n = Math.min(this.rows, e.instruments.length);
    for (let row = 0; row < n; row++) {
      const bid = e.field(row, L.Q_BID), ask = e.field(row, L.Q_ASK);
      if (!(bid > 0 && ask >= bid)) continue;
      const at = row * this.capacity + (this.counts[row]! % this.capacity);
      this.abs[at] = (ask - bid) / L.PRICE_SCALE;
      this.bps[at] = ((ask - bid) / ((ask + bid) / 2)) * 1e4;
      this.counts[row]!++;
    }
  }

  /** True when the row is within the sampled range. */
  covers(row: number): boolean {
    return row >= 0 && row < this.rows;
  }

  /** Kept relative spreads of a row in basis points, oldest first; empty when the row is not sampled. */
  recentBps(row: number): number[] {
    if (!this.covers(row)) return [];
    const count = this.counts[row]!;
    const n = Math.min(count, this.capacity);
    const out: number[] = [];
    for (let k = count - n; k < count; k++) out.push(this.bps[row * this.capacity + (k % this.capacity)]!);
    return out;
  }

  /** Statistics over the kept samples of a row; null when the row is not sampled. */
  stats(row: number): SpreadStats | null {
    if (!this.covers(row)) return null;
    const n = Math.min(this.counts[row]!, this.capacity);
    const base = row * this.capacity;
    const abs: number[] = [], bps: number[] = [];
    for (let i = 0; i < n; i++) {
      abs.push(this.abs[base + i]!);
      bps.push(this.bps[base + i]!);
    }
    return { samples: n, intervalMs: this.intervalMs, absolute: summarize(abs), relativeBps: summarize(bps) };
  }
}
