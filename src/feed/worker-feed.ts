// Runs a synthetic or replay feed in a Bun Worker that writes into the engine's tick ring in
// the shared WASM memory (ring-writer.ts), while this thread keeps ingest, the change-list
// walk and publication. Why: on one thread, generating the synthetic market took ~30 % of the
// server's CPU at 100 clients, time the fan-out could not use (docs/benchmarks.md).
//
// This thread drains the ring when the worker publishes: it waits on the head word with
// Atomics.waitAsync, so bursts of publications while it is busy coalesce into one ingest
// batch, and every drain runs in its own macrotask so Bun sends what the last one published.

import type { InstrumentSpec } from "../domain/instrument.ts";
import type { Feed, FeedStats, InstrumentIndex, SharedRing, TickSink } from "./feed.ts";
import { ReplayFeed, type ReplayFeedOptions } from "./replay.ts";
import { WRITER_STAT_COUNT, WriterStat } from "./ring-writer.ts";
import { SyntheticFeed, type SyntheticFeedOptions } from "./synthetic.ts";

/** What the worker builds: plain data, so it can be posted. */
export type FeedRecipe =
  | { kind: "synthetic"; options: SyntheticFeedOptions }
  | { kind: "replay"; path: string; options: Omit<ReplayFeedOptions, "keepTime"> };

/** Builds the feed a recipe describes (on either thread). */
export function buildFeed(recipe: FeedRecipe): SyntheticFeed | ReplayFeed {
  return recipe.kind === "synthetic" ? new SyntheticFeed(recipe.options) : new ReplayFeed(recipe.path, recipe.options);
}

/** Messages between WorkerFeed and src/feed/feed-worker.ts. */
export type ToWorker =
  | { type: "start"; recipe: FeedRecipe; ring: SharedRing; rows: Int32Array; stats: Float64Array }
  | { type: "stop" };
/** Messages from the worker. */
export type FromWorker =
  | { type: "started" }
  | { type: "stopped"; error: string | null }
  | { type: "ended"; error: string | null }
  | { type: "error"; error: string };

/** Longest the drain loop waits on the head word before it looks at its own state again. */
const IDLE_WAIT_MS = 100;
/** Bound on starting and stopping the worker. */
const WORKER_REPLY_TIMEOUT_MS = 10_000;
const WORKER_URL = new URL("./feed-worker.ts", import.meta.url).href;

/** A Feed whose producer runs in a Worker and writes into the engine's shared tick ring. */
export class WorkerFeed implements Feed {
  readonly name: string;
  readonly stats: FeedStats = { ticks: 0, batches: 0, badTicks: 0 };
  /** What stopped the worker's feed early, if anything. */
  error: Error | null = null;
  private readonly specs: InstrumentSpec[];
  private readonly shared = new Float64Array(new SharedArrayBuffer(WRITER_STAT_COUNT * 8));
  private worker: Worker | null = null;
  private running = false;
  private started = false;
  /** Set once the worker has stopped writing: the drain loop makes its last pass. */
  private workerDone = false;
  private drain: Promise<void> | null = null;
  private ctl: Int32Array | null = null;
  private headWord = 0;
  private replies: ((m: FromWorker) => void)[] = [];

  constructor(private readonly recipe: FeedRecipe) {
    // Built here only to list the instruments; the worker builds and runs its own copy.
    const probe = buildFeed(recipe);
    this.name = probe.name;
    this.specs = probe.instruments();
    if (probe instanceof ReplayFeed) void probe.stop();
  }

  /** True while the worker is producing. */
  get live(): boolean {
    return this.running;
  }

  /** Ticks the synthetic market never generated because the worker fell behind the clock. */
  get shortfallTicks(): number {
    return this.shared[WriterStat.Shortfall]!;
  }

  /** Times the worker found the ring full and waited for this thread to drain it. */
  get ringFullWaits(): number {
    return this.shared[WriterStat.FullWaits]!;
  }

  /** The feed's instruments. */
  instruments(): InstrumentSpec[] {
    return this.specs.map((s) => ({ ...s }));
  }

  /** Starts the worker on the sink's shared ring; the sink must implement shareRing(). */
  async start(sink: TickSink, indexOf: InstrumentIndex): Promise<void> {
    if (this.started) throw new Error(`${this.name} worker feed: already started`);
    if (!sink.shareRing) throw new Error(`${this.name} worker feed: the sink has no shared tick ring`);
    this.started = true;
    const rows = new Int32Array(this.specs.length);
    this.specs.forEach((s, i) => {
      const row = indexOf(s.symbol);
      if (row === undefined) throw new Error(`${this.name} worker feed: instrument ${s.symbol} is not defined in the sink`);
      rows[i] = row;
    });
    const ring = sink.shareRing();
    this.ctl = new Int32Array(ring.buffer, ring.ctlOffset, Math.max(ring.headWord, ring.tailWord) + 1);
    this.headWord = ring.headWord;
    // Draining from before the worker exists: its first batches must not find a full ring.
    this.drain = this.drainLoop(sink);
    const worker = (this.worker = new Worker(WORKER_URL));
    worker.onmessage = (e: MessageEvent<FromWorker>) => this.onReply(e.data);
    worker.onerror = (e) => this.onReply({ type: "error", error: e.message });
    this.send({ type: "start", recipe: this.recipe, ring, rows, stats: this.shared });
    const reply = await this.reply("started");
    if (reply.type !== "started") {
      await this.stop();
      throw new Error(`${this.name} worker feed failed to start: ${"error" in reply ? reply.error : "unexpected reply"}`);
    }
    this.running = true;
  }

  /** Stops the worker, ingests what it published last and ends the drain loop. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    // The drain loop keeps running until the worker has stopped, so a worker blocked on a full
    // ring is always freed and can finish.
    this.send({ type: "stop" }, worker);
    const reply = await this.reply("stopped").catch((e: Error) => ({ type: "error" as const, error: e.message }));
    if (reply.type !== "stopped" || reply.error) this.error ??= new Error(("error" in reply && reply.error) || "worker did not stop");
    this.running = false;
    this.workerDone = true;
    if (this.ctl) Atomics.notify(this.ctl, this.headWord);
    await this.drain;
    worker.terminate();
  }

  private async drainLoop(sink: TickSink): Promise<void> {
    const ctl = this.ctl!, word = this.headWord;
    let seen = Atomics.load(ctl, word);
    for (;;) {
      // Read before the head: whatever the worker published before it stopped is ingested below.
      const done = this.workerDone;
      const head = Atomics.load(ctl, word);
      if (head !== seen) {
        seen = head;
        sink.flush();
        this.stats.batches++;
        this.stats.ticks = this.shared[WriterStat.Ticks]!;
        this.stats.badTicks = this.shared[WriterStat.BadTicks]!;
      }
      if (done) return;
      const w = Atomics.waitAsync(ctl, word, seen, IDLE_WAIT_MS);
      if (w.async) await w.value;
      else await new Promise((r) => setImmediate(r));
    }
  }

  private send(m: ToWorker, worker = this.worker): void {
    worker?.postMessage(m);
  }

  private onReply(m: FromWorker): void {
    // The worker's feed ended by itself (end of a replay, a throwing writer): no longer live.
    if (m.type === "error" || m.type === "ended") {
      if (m.error) this.error ??= new Error(m.error);
      this.running = false;
      if (m.type === "ended") return;
    }
    const waiters = this.replies;
    this.replies = [];
    for (const w of waiters) w(m);
  }

  private reply(type: FromWorker["type"]): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} worker feed: no "${type}" within ${WORKER_REPLY_TIMEOUT_MS} ms`)), WORKER_REPLY_TIMEOUT_MS);
      this.replies.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }
}
