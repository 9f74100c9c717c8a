// The synthetic feed: drives SyntheticMarket in real time at a fixed total tick rate.
// At each wake-up it works out how many ticks are due since start by the wall clock, writes
// them stamped with the current time and flushes once. Pacing by the clock rather than by
// timer counts keeps the rate right however late the timers fire; the batch size adapts.

import type { InstrumentSpec } from "../domain/instrument.ts";
import { nowMs } from "../domain/time.ts";
import type { Feed, FeedStats, InstrumentIndex, TickSink } from "./feed.ts";
import { SyntheticMarket, type SyntheticMarketOptions } from "./market.ts";
import { recordTo, type RecordingSink } from "./record.ts";

/** Options of the synthetic feed: the market's, plus pacing and recording. */
export interface SyntheticFeedOptions extends SyntheticMarketOptions {
  /** Total ticks per second over all instruments, 1 to 10 M (default 2000). */
  tickRatePerS?: number;
  /** Most ticks written between two flushes (default 16384); the rest carry to the next wake-up. */
  maxBatchTicks?: number;
  /** Shortest interval from one wake-up to the next when nothing is carried (default 1 ms): bounds the wake-up rate. */
  minWakeMs?: number;
  /** Largest backlog kept, in ms of ticks (default 1000); beyond it the feed skips ahead and counts the shortfall. */
  maxLagMs?: number;
  /** Records every tick written to this tick file (.csv or .altk). */
  record?: string;
}

/** Real-time driver of the synthetic market. */
export class SyntheticFeed implements Feed {
  readonly name = "synthetic";
  /** The generator; its instruments and model state are readable. */
  readonly market: SyntheticMarket;
  readonly stats: FeedStats = { ticks: 0, batches: 0, badTicks: 0 };
  /** Ticks never generated because the feed fell more than maxLagMs behind the clock. */
  shortfallTicks = 0;
  /** What stopped the loop early (a throwing sink), if anything. */
  error: Error | null = null;
  private readonly rateTicksPerS: number;
  private readonly maxBatchTicks: number;
  private readonly minWakeMs: number;
  private readonly maxLagMs: number;
  private readonly recordPath: string | undefined;
  private readonly waiter = new Waiter();
  private running = false;
  private loop: Promise<void> | null = null;
  private recorder: RecordingSink | null = null;

  constructor(opts: SyntheticFeedOptions = {}) {
    this.rateTicksPerS = opts.tickRatePerS ?? 2000;
    this.maxBatchTicks = opts.maxBatchTicks ?? 16384;
    this.minWakeMs = opts.minWakeMs ?? 1;
    this.maxLagMs = opts.maxLagMs ?? 1000;
    this.recordPath = opts.record;
    if (!(this.rateTicksPerS >= 1 && this.rateTicksPerS <= 10_000_000)) throw new Error("synthetic feed: tickRatePerS must be in [1, 10000000]");
    if (!(Number.isInteger(this.maxBatchTicks) && this.maxBatchTicks >= 1)) throw new Error("synthetic feed: maxBatchTicks must be a positive integer");
    if (!(this.minWakeMs >= 0 && this.minWakeMs <= 1000)) throw new Error("synthetic feed: minWakeMs must be in [0, 1000]");
    if (!(this.maxLagMs > 0)) throw new Error("synthetic feed: maxLagMs must be positive");
    this.market = new SyntheticMarket(opts);
  }

  /** True while the feed is producing. */
  get live(): boolean {
    return this.running;
  }

  /** The market's instruments, stocks first. */
  instruments(): InstrumentSpec[] {
    return this.market.instruments();
  }

  /** Starts the pacing loop; the instruments must already be defined in the sink. */
  async start(sink: TickSink, indexOf: InstrumentIndex): Promise<void> {
    if (this.running || this.loop) throw new Error("synthetic feed: already started");
    let out = sink;
    if (this.recordPath !== undefined) out = this.recorder = recordTo(this.recordPath, sink, this.market.instruments(), indexOf);
    this.running = true;
    this.loop = this.run(out, indexOf);
  }

  /** Stops the loop and closes the recording; no write happens after this resolves. */
  async stop(): Promise<void> {
    this.running = false;
    this.waiter.cancel();
    await this.loop;
    this.recorder?.close();
    this.recorder = null;
  }

  private async run(sink: TickSink, indexOf: InstrumentIndex): Promise<void> {
    const rate = this.rateTicksPerS, market = this.market;
    const maxBacklog = Math.max(this.maxBatchTicks, Math.ceil((rate * this.maxLagMs) / 1000));
    const startMs = nowMs();
    const badAtStart = market.badTicks;
    let emitted = 0;
    try {
      while (this.running) {
        const now = nowMs();
        const due = Math.floor(((now - startMs) * rate) / 1000);
        if (due - emitted > maxBacklog) {
          this.shortfallTicks += due - emitted - maxBacklog;
          emitted = due - maxBacklog;
        }
        const n = Math.min(due - emitted, this.maxBatchTicks);
        if (n > 0) {
          market.generate(n, now, sink, indexOf);
          sink.flush(now);
          emitted += n;
          this.stats.ticks += n;
          this.stats.batches++;
          this.stats.badTicks = market.badTicks - badAtStart;
        }
        if (!this.running) break;
        // Carrying a backlog: come back at once. Otherwise wake when the next tick is due, but at
        // most once per minWakeMs counted from the start of this wake-up, not from its end: the
        // time spent generating, ingesting and publishing is part of the interval, so a busy
        // server does not add a full sleep after every batch.
        const nextDueMs = startMs + ((emitted + 1) * 1000) / rate;
        const wakeAtMs = Math.max(now + this.minWakeMs, nextDueMs);
        await this.waiter.wait(due - emitted > 0 ? 0 : Math.max(0, wakeAtMs - nowMs()));
      }
    } catch (e) {
      this.error = e instanceof Error ? e : new Error(String(e));
    } finally {
      this.running = false;
    }
  }
}

/** A cancellable pause for feed loops: setImmediate for 0 ms, setTimeout otherwise. */
export class Waiter {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private resolve: (() => void) | null = null;

  /** Resolves after `ms`, or at once when cancel() is called. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.resolve = resolve;
      const fire = () => this.cancel();
      if (ms > 0) this.timer = setTimeout(fire, ms);
      else this.immediate = setImmediate(fire);
    });
  }

  /** Ends the current wait now. */
  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = this.immediate = null;
    const r = this.resolve;
    this.resolve = null;
    r?.();
  }
}
