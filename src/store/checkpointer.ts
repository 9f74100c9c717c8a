// Checkpoints off the journal's commit path. In WAL mode each commit appends pages to the WAL;
// a checkpoint copies them into the database file and fsyncs it, and only then can SQLite start
// the WAL over. By default the committing connection does that itself once the WAL passes 1,000
// pages, inside the commit: about one journal commit in a hundred took 1–3 ms more, which was
// the order path's p99. Here a thread of its own, with its own connection, checkpoints instead,
// and the writer checkpoints only as a backstop (db.ts, WAL_BACKSTOP_PAGES) should this thread
// stall or die.
//
// Trigger: a timer every CHECKPOINT_INTERVAL_MS runs a PASSIVE checkpoint, which never blocks
// the writer (it copies what was committed when it began while the writer keeps appending). A
// timer rather than a signal from the writer after N frames: the writer then has nothing to do
// for checkpoints at all, and a checkpoint with nothing to copy only reads the WAL index (no
// I/O, no fsync; ~5 µs, plus waking the thread), and while nothing is committed the ticks thin
// out to one a second (CHECKPOINT_IDLE_MS), so an idle server hardly pays. At 50 ms a tick copies a
// few hundred pages at the highest order rates measured; 20 ms did no better, and at 200 ms the
// WAL of a paced load reached 10–15k pages (a larger copy seldom ends between two commits).
//
// SQLite starts the WAL over only when a write transaction begins with every frame copied. A
// writer that pauses between commits (any rate short of its limit) gives the checkpointer that
// moment, and the WAL stays a few thousand pages long. A writer that never pauses never finds
// the copy complete: the WAL then grows to the backstop, where the writer's own checkpoint has
// only the frames of the last tick left to copy (one small copy and fsync per 64 MB of WAL), and
// starts it over. A RESTART checkpoint from this thread was tried for that instead and measured
// worse: it holds the writer off, and SQLite's busy handler makes the writer sleep 1, 2, 5 ms…
// (longest commits of 5–14 ms against 3–4 ms for the writer's own checkpoint, in a loop of
// 3,000 two-order commits with durability "full").

import type { Logger } from "../log.ts";
import { WAL_BACKSTOP_PAGES, type Durability } from "./db.ts";
import type { FromCheckpointer, ToCheckpointer } from "./checkpoint-worker.ts";

/** How often the checkpointer looks for WAL pages to copy. */
export const CHECKPOINT_INTERVAL_MS = 50;

/** Longest wait between looks while nothing is committed (the wait doubles from CHECKPOINT_INTERVAL_MS). */
export const CHECKPOINT_IDLE_MS = 1000;

/** Bound on waiting for the thread to open its connection, or to stop. */
const REPLY_MS = 5000;

/** Options of the checkpointer; tests shorten or break it. */
export interface CheckpointOptions {
  intervalMs?: number;
  idleMs?: number;
  /** Tests only: the thread fails to open with this message. */
  failForTest?: string;
}

/** Checkpoint counters, kept in the journal's stats. */
export interface CheckpointStats {
  /** Checkpoints that copied pages. */
  checkpoints: number;
  /** WAL frames copied into the database file (a page rewritten by many commits counts each time). */
  checkpointedFrames: number;
  /** Times the checkpointer thread failed (the writer's backstop then bounds the WAL). */
  checkpointerFailures: number;
}

type RefWorker = Worker & { ref(): void; unref(): void };

/** The checkpointer thread, seen from the main thread. Never throws: a failure is logged and counted. */
export class Checkpointer {
  private stopping: Promise<void> | undefined;
  private closed: (() => void) | undefined;
  private alive = true;

  private constructor(private readonly worker: RefWorker, private readonly stats: CheckpointStats, private readonly log?: Logger) {
    worker.onmessage = (e: MessageEvent<FromCheckpointer>) => this.onMessage(e.data);
    worker.onerror = (e) => this.failed(e.message);
    // Neither an idle checkpointer nor one mid-checkpoint keeps the process alive.
    worker.unref();
  }

  /** Starts the thread on `path`; resolves once it has its connection or has failed (then undefined). */
  static async start(path: string, durability: Durability, stats: CheckpointStats, log?: Logger, opts: CheckpointOptions = {}): Promise<Checkpointer | undefined> {
    const worker = new Worker(new URL("./checkpoint-worker.ts", import.meta.url).href) as RefWorker;
    const reply = await new Promise<FromCheckpointer>((resolve) => {
      const timer = setTimeout(() => resolve({ type: "failed", message: `no answer in ${REPLY_MS} ms` }), REPLY_MS);
      const done = (m: FromCheckpointer) => (clearTimeout(timer), resolve(m));
      worker.onmessage = (e: MessageEvent<FromCheckpointer>) => done(e.data);
      worker.onerror = (e) => done({ type: "failed", message: e.message });
      worker.postMessage({
        type: "open", path, durability, intervalMs: opts.intervalMs ?? CHECKPOINT_INTERVAL_MS, idleMs: opts.idleMs ?? CHECKPOINT_IDLE_MS, ...(opts.failForTest ? { failForTest: opts.failForTest } : {}),
      } satisfies ToCheckpointer);
    });
    if (reply.type !== "ready") {
      worker.terminate();
      stats.checkpointerFailures++;
      log?.error("journal checkpointer failed to start; the writer checkpoints as a backstop", {
        path, error: reply.type === "failed" ? reply.message : reply.type, backstopPages: WAL_BACKSTOP_PAGES,
      });
      return undefined;
    }
    return new Checkpointer(worker, stats, log);
  }

  /** False once the thread failed or was stopped. */
  get running(): boolean {
    return this.alive && !this.stopping;
  }

  /** Stops the thread and closes its connection; later calls wait for the first. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    if (this.alive) {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.closed = resolve;
      const timer = setTimeout(resolve, REPLY_MS);
      this.worker.ref();
      this.worker.postMessage({ type: "close" } satisfies ToCheckpointer);
      await promise;
      clearTimeout(timer);
    }
    this.worker.terminate();
  }

  private onMessage(m: FromCheckpointer): void {
    if (m.type === "closed") return this.closed?.();
    if (m.type === "failed") return this.failed(m.message);
    if (m.type !== "checkpointed") return;
    this.stats.checkpoints++;
    this.stats.checkpointedFrames += m.frames;
  }

  private failed(message: string): void {
    if (!this.alive) return;
    this.alive = false;
    this.stats.checkpointerFailures++;
    this.log?.error("journal checkpointer failed; the writer checkpoints as a backstop", { error: message, backstopPages: WAL_BACKSTOP_PAGES });
    this.closed?.();
  }
}
