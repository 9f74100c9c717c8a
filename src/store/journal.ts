// The journal: every order event, fill, cash entry and account goes through append(), which
// gives it a sequence number and queues it. A writer thread (journal-worker.ts) commits what is
// queued in one transaction (group commit: one fsync for many orders); while it commits, new
// records queue up and go together in the next batch, so the disk sets the batch size and the
// main thread never waits for an fsync (a turn that appends EAGER_BATCH_RECORDS sends them at
// once, so the writer need not wait for its end). A caller that must not acknowledge before
// the disk has it awaits durable(seq). The queue is bounded: append() past maxPending throws
// JournalFullError, so a caller checks room() before it changes state. A failed commit (disk
// full, I/O error) fails the journal for good: nothing after it can be acknowledged. A row the
// database refuses on a constraint does not: the writer skips it and commits the rest of its
// batch (write.ts), and the journal counts it (stats.refusedRows) and tells onRefused listeners.

import type { Database } from "bun:sqlite";
import type { CashEntry, Fill, Order } from "../domain/order.ts";
import type { Logger } from "../log.ts";
import type { Durability } from "./db.ts";
import { Checkpointer, type CheckpointOptions, type CheckpointStats } from "./checkpointer.ts";
import { CLOSE, CONTROL_BYTES, LENGTH, SENT } from "./journal-channel.ts";
import type { FromWriter, ToWriter } from "./journal-worker.ts";
import { encodeBatch, type RefusedRow } from "./write.ts";
import { lastCommit, STAGE_TIMING } from "../oms/stages.ts";

/** One journaled fact. */
export type JournalRecord =
  | { t: "order"; seq: number; order: Order; kind: string; detail?: Record<string, unknown>; ts: number }
  | { t: "fill"; seq: number; fill: Fill }
  | { t: "cash"; seq: number; entry: CashEntry }
  | { t: "account"; seq: number; id: string; mode: string; ts: number };

/** A record before the journal numbers it. */
export type NewRecord = JournalRecord extends infer R ? (R extends { seq: number } ? Omit<R, "seq"> : never) : never;

/** The queue is full: the caller must refuse the request (and change nothing). */
export class JournalFullError extends Error {
  readonly code = "JOURNAL_FULL";
  constructor(readonly maxPending: number) {
    super(`journal queue is full (${maxPending} records waiting for disk); retry shortly`);
    this.name = "JournalFullError";
  }
}

/** A commit failed (disk full, I/O error): nothing further can be made durable. */
export class JournalFailedError extends Error {
  readonly code = "JOURNAL_FAILED";
  constructor(cause: unknown) {
    super(`journal commit failed: ${String((cause as Error)?.message ?? cause)}`, { cause });
    this.name = "JournalFailedError";
  }
}

/** Commit and checkpoint counters. */
export interface JournalStats extends CheckpointStats {
  commits: number;
  records: number;
  largestBatch: number;
  /** Total time spent inside commits, ms. */
  commitMs: number;
  /** Rows the database refused on a constraint and the writer skipped. */
  refusedRows: number;
}

/** One promise shared by everyone waiting for the same commit. */
interface Waiters {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

const encoder = new TextEncoder();

/**
 * Bytes for one batch on its way to the writer (allocated once; pages are touched only as far
 * as batches reach). ~2,000 records (512 orders) take ~300 KB; a larger queue is sent in parts.
 */
export const BATCH_BUFFER_BYTES = 8 << 20;

/**
 * Records after which a batch leaves at once, mid-turn, when the writer is idle. A turn that
 * appends thousands of records (a burst, or hundreds of orders answered by one commit) would
 * otherwise make one batch at its end, and the writer would idle while the main thread built it
 * and the main thread idle while the writer committed it; sent in parts, the two overlap.
 * 1,024 records (~256 orders) is still a large enough commit to amortize an fsync.
 */
export const EAGER_BATCH_RECORDS = 1024;
const RESOLVED = Promise.resolve();

/** What else the journal needs: where to log, and its checkpointer (false: none, the writer's backstop only). */
export interface JournalOptions {
  log?: Logger;
  checkpoint?: CheckpointOptions | false;
}

/** Bun's Worker has ref/unref (like a timer); the DOM typings do not know them. */
type RefWorker = Worker & { ref(): void; unref(): void };

/** Group-committing journal with a writer thread; see the file comment. */
export class Journal {
  readonly stats: JournalStats = {
    commits: 0, records: 0, largestBatch: 0, commitMs: 0, refusedRows: 0, checkpoints: 0, checkpointedFrames: 0, checkpointerFailures: 0,
  };
  private checkpointer: Checkpointer | undefined;
  private pending: JournalRecord[] = [];
  private inFlight: JournalRecord[] | undefined;
  // A record is either in the batch being committed or in the next one, so every waiter waits
  // for one of two commits: one shared promise each, resolved in one step, however many
  // replies wait on it (thousands per commit under load).
  private waitInFlight: Waiters | undefined;
  private waitPending: Waiters | undefined;
  private seq: number;
  private committed: number;
  private scheduled = false;
  private failure: JournalFailedError | undefined;
  private closed: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private stopping = false;
  /** When the batch in flight was handed to the writer (stage timer only). */
  private sentAt = NaN;
  private readonly control: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly listeners: ((records: readonly JournalRecord[]) => void)[] = [];
  private readonly refusedListeners: ((rows: readonly RefusedRow[]) => void)[] = [];

  private constructor(private readonly worker: RefWorker, shared: SharedArrayBuffer, lastSeq: number, readonly maxPending: number) {
    this.seq = this.committed = lastSeq;
    this.control = new Int32Array(shared, 0, CONTROL_BYTES / 4);
    this.bytes = new Uint8Array(shared, CONTROL_BYTES);
    worker.onmessage = (e: MessageEvent<FromWriter>) => this.onWriter(e.data);
  }

  /**
   * Starts the writer thread on the database at `path`, then the checkpointer (checkpointer.ts;
   * none for ":memory:"); `db` (a reading connection) gives the last sequence number.
   */
  static async start(db: Database, path: string, durability: Durability, maxPending: number, opts: JournalOptions = {}): Promise<Journal> {
    if (!Number.isInteger(maxPending) || maxPending < 1) throw new Error(`journal maxPending must be a positive integer, got ${maxPending}`);
    const worker = new Worker(new URL("./journal-worker.ts", import.meta.url).href) as RefWorker;
    const shared = new SharedArrayBuffer(CONTROL_BYTES + BATCH_BUFFER_BYTES);
    const ready = await new Promise<FromWriter>((resolve) => {
      worker.onmessage = (e: MessageEvent<FromWriter>) => resolve(e.data);
      worker.onerror = (e) => resolve({ type: "failed", message: e.message });
      worker.postMessage({ type: "open", path, durability, shared, timing: STAGE_TIMING } satisfies ToWriter);
    });
    if (ready.type !== "ready") {
      worker.terminate();
      throw new Error(`journal writer failed to open ${path}: ${ready.type === "failed" ? ready.message : ready.type}`);
    }
    // An idle writer must not keep the process alive; a commit in flight does (see send()).
    worker.unref();
    const journal = new Journal(worker, shared, lastSeq(db), maxPending);
    if (path !== ":memory:" && opts.checkpoint !== false) {
      journal.checkpointer = await Checkpointer.start(path, durability, journal.stats, opts.log, opts.checkpoint);
    }
    return journal;
  }

  /** Highest sequence number handed out. */
  get appendedSeq(): number {
    return this.seq;
  }

  /** Highest sequence number on disk. */
  get committedSeq(): number {
    return this.committed;
  }

  /** Records that can still be appended before the queue is full (queued plus being committed). */
  room(): number {
    return this.failure ? 0 : this.maxPending - this.pending.length - (this.inFlight?.length ?? 0);
  }

  /** True while a checkpointer thread copies the WAL into the database (checkpointer.ts). */
  get checkpointing(): boolean {
    return this.checkpointer?.running ?? false;
  }

  /** The failure that stopped the journal, if any. */
  get failed(): JournalFailedError | undefined {
    return this.failure;
  }

  /** Calls `listener` after each commit with the records it made durable, in order. */
  onCommit(listener: (records: readonly JournalRecord[]) => void): void {
    this.listeners.push(listener);
  }

  /** Calls `listener` with the rows of a commit the database refused (skipped; the rest committed). */
  onRefused(listener: (rows: readonly RefusedRow[]) => void): void {
    this.refusedListeners.push(listener);
  }

  /**
   * Queues a record and returns its sequence number; throws JournalFullError or
   * JournalFailedError. The record must not change afterwards: pass copies of live objects.
   * `force` appends past the bound: for facts that already happened (a broker's fill), which
   * must be recorded; the caller bounds them by admitting requests only while room() is ample.
   */
  append(record: NewRecord, force = false): number {
    if (this.failure) throw this.failure;
    if (!force && this.room() <= 0) throw new JournalFullError(this.maxPending);
    // The record is the caller's to give away: numbering it in place saves a copy per record.
    const r = record as JournalRecord;
    r.seq = ++this.seq;
    if (r.t === "fill") r.fill.seq = r.seq;
    else if (r.t === "cash") r.entry.seq = r.seq;
    this.pending.push(r);
    if (this.inFlight) return r.seq; // goes when the commit in flight is done
    if (this.pending.length >= EAGER_BATCH_RECORDS) this.send();
    else if (!this.scheduled) {
      // Everything else appended in this turn of the event loop goes in one batch.
      this.scheduled = true;
      setImmediate(() => this.send());
    }
    return r.seq;
  }

  /**
   * Resolves once everything up to `seq` (default: everything appended) is on disk. Callers
   * share one promise per commit, so waiting costs no memory per waiter.
   */
  durable(seq: number = this.seq): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (seq <= this.committed) return RESOLVED;
    const inFlightUpTo = this.inFlight ? this.inFlight[this.inFlight.length - 1]!.seq : this.committed;
    if (seq <= inFlightUpTo) return (this.waitInFlight ??= Promise.withResolvers<void>()).promise;
    return (this.waitPending ??= Promise.withResolvers<void>()).promise;
  }

  /** Commits everything appended so far, then stops the writer and checkpointer threads; later calls wait for the first. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await this.durable().catch(() => undefined);
    const { promise, resolve } = Promise.withResolvers<void>();
    this.closed = resolve;
    this.stopping = true;
    this.worker.ref();
    this.signal(CLOSE);
    await promise;
    this.worker.terminate();
    await this.checkpointer?.stop();
  }

  private send(): void {
    this.scheduled = false;
    if (this.inFlight || this.pending.length === 0 || this.failure || this.stopping) return;
    // One flat JSON array per batch with each order's row once (encodeBatch): a structured
    // clone of every record cost the main thread about ten times more.
    let batch = this.pending;
    let json = JSON.stringify(encodeBatch(batch));
    let put = encoder.encodeInto(json, this.bytes);
    while (put.read < json.length) {
      // Larger than the buffer: send the first half now, the rest as the next batch.
      if (batch.length === 1) return this.fail(new JournalFailedError(new Error(`record ${batch[0]!.seq} does not fit the ${BATCH_BUFFER_BYTES}-byte batch buffer`)));
      batch = batch.slice(0, batch.length >> 1);
      json = JSON.stringify(encodeBatch(batch));
      put = encoder.encodeInto(json, this.bytes);
    }
    if (batch === this.pending) {
      this.pending = [];
      this.waitInFlight = this.waitPending;
      this.waitPending = undefined;
    } else {
      // Waiters of the pending commit may wait for records of the rest: they stay pending.
      this.pending = this.pending.slice(batch.length);
    }
    this.inFlight = batch;
    this.worker.ref();
    if (STAGE_TIMING) this.sentAt = performance.now();
    this.signal(put.written);
  }

  /** Hands the writer a batch of `length` bytes (already in the buffer), or CLOSE. */
  private signal(length: number): void {
    Atomics.store(this.control, LENGTH, length);
    Atomics.add(this.control, SENT, 1);
    Atomics.notify(this.control, SENT);
  }

  private onWriter(m: FromWriter): void {
    if (m.type === "failed") return this.fail(new JournalFailedError(new Error(m.message)));
    if (m.type === "closed") return this.closed?.();
    if (m.type !== "committed") return;
    const batch = this.inFlight!;
    this.inFlight = undefined;
    this.worker.unref();
    const s = this.stats;
    s.commits++;
    s.records += batch.length;
    s.largestBatch = Math.max(s.largestBatch, batch.length);
    s.commitMs += m.ms;
    if (m.refused && m.refused.length > 0) {
      s.refusedRows += m.refused.length;
      for (const l of this.refusedListeners) l(m.refused);
    }
    this.committed = batch[batch.length - 1]!.seq;
    if (STAGE_TIMING && m.at) {
      // The writer's marks are on its own clock; performance.timeOrigin maps them to ours.
      const shift = performance.timeOrigin;
      lastCommit.sent = this.sentAt;
      lastCommit.woke = m.at[0] - shift;
      lastCommit.decoded = m.at[1] - shift;
      lastCommit.committed = m.at[2] - shift;
      lastCommit.received = performance.now();
    }
    const done = this.waitInFlight;
    this.waitInFlight = undefined;
    done?.resolve();
    // Whatever queued during the commit goes next, at once.
    if (this.pending.length > 0) this.send();
    for (const l of this.listeners) l(batch);
  }

  private fail(err: JournalFailedError): void {
    this.failure = err;
    this.inFlight = undefined;
    this.worker.unref();
    this.waitInFlight?.reject(err);
    this.waitPending?.reject(err);
    this.waitInFlight = this.waitPending = undefined;
    this.closed?.();
  }
}

/** The highest sequence number already in the tables. */
function lastSeq(db: Database): number {
  const row = db.query(`SELECT MAX(s) AS s FROM (SELECT MAX(seq) AS s FROM order_event_groups UNION ALL SELECT MAX(seq) FROM fills
    UNION ALL SELECT MAX(seq) FROM cash)`).get() as { s: number | null };
  return row.s ?? 0;
}

