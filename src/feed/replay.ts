// The replay feed: plays a tick file (CSV or binary) back into the engine at the recorded pace,
// at a multiple of it, or as fast as possible. The file is streamed a batch at a time.
//
// Timestamps. By default exchange times are re-stamped so the engine's staleness rules hold:
// when paced, each tick is stamped with the wall time it is released at (start + recorded
// offset / speed), which keeps the recorded spacing; at "max" speed there is no spacing to keep
// and each batch is stamped with the current time. With keepTime the recorded times are kept
// and the engine is flushed on the recording's clock instead of the wall clock, so a recording
// replays into a fresh engine exactly as it was first ingested.
//
// Damaged files. By default (strict) the whole file is read once before the feed exists, so a
// damaged row is refused at start with its file and line rather than found halfway through a
// replay; an error that still happens while playing (the file changed underneath) ends the
// replay with `error` set, which /readyz and the log report. With strict off, damaged rows are
// skipped and counted instead.

import type { InstrumentSpec } from "../domain/instrument.ts";
import { nowMs } from "../domain/time.ts";
import type { Feed, FeedStats, InstrumentIndex, TickSink } from "./feed.ts";
import { Waiter } from "./synthetic.ts";
import { openTickReader, scanTickFile, TickBatch, type TickFileError, type TickFileFormat, type TickReader } from "./tickfile.ts";

/** Options of the replay feed. */
export interface ReplayFeedOptions {
  /** "recorded" (the recorded pace), a multiple of it such as 10, or "max" (default "recorded"). */
  speed?: "recorded" | "max" | number;
  /** Keep the recorded exchange times and run the engine on the recording's clock (default false). */
  keepTime?: boolean;
  /** Start again at the end of the file (default false; not with keepTime, whose clock cannot go back). */
  loop?: boolean;
  /** Most ticks written between two flushes (default 16384). */
  maxBatchTicks?: number;
  /** File format; detected from the content and name by default. */
  format?: TickFileFormat;
  /** Refuse a file with any damaged row before starting (default true); false skips and counts them. */
  strict?: boolean;
}

/**
 * With keepTime, a batch spans at most this much recorded time, so that no tick in it is older
 * than the batch's clock by more than this (the engine rejects ticks older than maxTickAgeMs).
 */
const KEEP_TIME_BATCH_SPAN_MS = 100;

/** Replays a tick file as a Feed. */
export class ReplayFeed implements Feed {
  readonly name = "replay";
  readonly stats: FeedStats = { ticks: 0, batches: 0, badTicks: 0 };
  /** Completed passes through the file. */
  passes = 0;
  /** What ended the replay early (a bad row, a throwing sink), if anything. */
  error: Error | null = null;
  /** Resolves when the replay has ended: end of file, stop() or error. */
  readonly ended: Promise<void>;
  private readonly speed: number;
  private readonly keepTime: boolean;
  private readonly loop: boolean;
  private readonly maxBatchTicks: number;
  private readonly format: TickFileFormat | undefined;
  private readonly strict: boolean;
  /** Damaged rows skipped in finished passes (the reader counts the current one). */
  private skippedBefore = 0;
  private firstSkipBefore: TickFileError | null = null;
  private reader: TickReader;
  private readonly specs: InstrumentSpec[];
  private readonly waiter = new Waiter();
  private running = false;
  private started = false;
  private run: Promise<void> | null = null;
  private resolveEnded!: () => void;

  /** Opens `path` and reads its instrument table (strict: the whole file); throws TickFileError for a bad file. */
  constructor(readonly path: string, opts: ReplayFeedOptions = {}) {
    const speed = opts.speed ?? "recorded";
    this.speed = speed === "recorded" ? 1 : speed === "max" ? Infinity : speed;
    this.keepTime = opts.keepTime ?? false;
    this.loop = opts.loop ?? false;
    this.maxBatchTicks = opts.maxBatchTicks ?? 16384;
    this.format = opts.format;
    this.strict = opts.strict ?? true;
    if (!(this.speed > 0)) throw new Error("replay: speed must be \"recorded\", \"max\" or a positive number");
    if (this.loop && this.keepTime) throw new Error("replay: loop cannot be combined with keepTime (recorded times would go backwards)");
    if (!(Number.isInteger(this.maxBatchTicks) && this.maxBatchTicks >= 1)) throw new Error("replay: maxBatchTicks must be a positive integer");
    if (this.strict) scanTickFile(path, this.format);
    this.reader = openTickReader(path, this.format, { skipBadRows: !this.strict });
    this.specs = this.reader.instruments;
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  /** Damaged rows skipped so far (strict off only). */
  get skipped(): number {
    return this.skippedBefore + this.reader.skipped;
  }

  /** The first damaged row skipped, naming file and line. */
  get firstSkip(): TickFileError | null {
    return this.firstSkipBefore ?? this.reader.firstSkip;
  }

  /** True while ticks are being replayed. */
  get live(): boolean {
    return this.running;
  }

  /** The file's instruments. */
  instruments(): InstrumentSpec[] {
    return this.specs.map((s) => ({ ...s }));
  }

  /** Starts replaying from the beginning of the file; instruments must be defined in the sink. */
  async start(sink: TickSink, indexOf: InstrumentIndex): Promise<void> {
    if (this.started) throw new Error("replay: already started");
    const rows = new Int32Array(this.specs.length);
    this.specs.forEach((s, i) => {
      const row = indexOf(s.symbol);
      if (row === undefined) throw new Error(`replay: instrument ${s.symbol} is not defined in the sink`);
      rows[i] = row;
    });
    this.started = this.running = true;
    this.run = this.play(sink, rows);
  }

  /** Stops the replay; no write happens after this resolves. */
  async stop(): Promise<void> {
    this.running = false;
    this.waiter.cancel();
    if (this.run) await this.run;
    else this.finish();
  }

  private finish(): void {
    this.running = false;
    this.reader.close();
    this.resolveEnded();
  }

  private reopen(): void {
    this.firstSkipBefore ??= this.reader.firstSkip;
    this.skippedBefore += this.reader.skipped;
    this.reader.close();
    this.reader = openTickReader(this.path, this.format, { skipBadRows: !this.strict });
    if (this.reader.instruments.length !== this.specs.length) throw new Error(`replay: ${this.path} changed its instrument table while replaying`);
    this.passes++;
  }

  private async play(sink: TickSink, rows: Int32Array): Promise<void> {
    const paced = Number.isFinite(this.speed), keep = this.keepTime, speed = this.speed;
    const batch = new TickBatch(Math.min(this.maxBatchTicks, 4096));
    let cursor = 0;
    let firstTs = NaN, wallStartMs = 0, passTicks = 0;
    try {
      while (this.running) {
        const now = nowMs();
        let n = 0, maxStamp = -Infinity, spanStart = NaN, nextDueMs = now, atEnd = false;
        while (n < this.maxBatchTicks) {
          if (cursor === batch.length) {
            cursor = 0;
            if (this.reader.read(batch) > 0) continue;
            // End of file: stop, or begin another pass unless the file has nothing to replay.
            if (!this.loop || passTicks === 0) { atEnd = true; if (!this.loop) this.passes++; break; }
            this.reopen();
            passTicks = 0;
            firstTs = NaN;
            continue;
          }
          const ts = batch.tsMs[cursor]!;
          let stamp = ts;
          if (Number.isFinite(ts)) {
            if (Number.isNaN(firstTs)) { firstTs = ts; wallStartMs = now; }
            if (paced) {
              const due = wallStartMs + (ts - firstTs) / speed;
              if (due > now) { nextDueMs = due; break; }
              if (!keep) stamp = due;
            } else if (!keep) stamp = now;
            if (keep) {
              if (Number.isNaN(spanStart)) spanStart = ts;
              else if (ts > spanStart + KEEP_TIME_BATCH_SPAN_MS) break;
            }
          }
          sink.write(rows[batch.instrument[cursor]!]!, batch.kind[cursor]!, batch.price[cursor]!, batch.size[cursor]!, stamp);
          if (stamp > maxStamp) maxStamp = stamp;
          cursor++;
          n++;
          passTicks++;
        }
        if (n > 0) {
          // With keepTime the engine's clock is the recording's: its pace-scaled clock, or the latest tick.
          const clock = !keep ? now : paced && !Number.isNaN(firstTs) ? firstTs + (now - wallStartMs) * speed : maxStamp > -Infinity ? maxStamp : now;
          sink.flush(clock);
          this.stats.ticks += n;
          this.stats.batches++;
        }
        if (atEnd || !this.running) break;
        // A full batch, an unpaced replay or a batch cut by the keepTime span leaves work due now.
        await this.waiter.wait(n === this.maxBatchTicks || nextDueMs <= now ? 0 : Math.max(0, nextDueMs - nowMs()));
      }
    } catch (e) {
      this.error = e instanceof Error ? e : new Error(String(e));
    } finally {
      this.finish();
    }
  }
}
