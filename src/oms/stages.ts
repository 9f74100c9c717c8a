// Opt-in stage timer for the order path (issue 14): where one order's time goes, from the
// process's own timestamps. Off unless the process starts with ALLUSE_STAGE_TIMING=1; every
// call site tests the constant STAGE_TIMING first, so production pays one predictable branch
// and no clock reads. On: each order's marks (performance.now(), main thread; the journal
// writer's marks are converted to the same clock) go into fixed arrays, summarised as
// per-stage p50 / p99 / mean. SIGUSR2 clears them (a benchmark's warm-up); with
// ALLUSE_STAGE_TIMING_FILE set, the summary is written there as JSON when the process exits.

import { writeFileSync } from "node:fs";

/** True when the process was started with ALLUSE_STAGE_TIMING=1; read once. */
export const STAGE_TIMING = process.env.ALLUSE_STAGE_TIMING === "1";

/** The marks of one order, in order; a stage is the time between a mark and the one before it. */
export const MARKS = [
  "request", // Bun handed the request to the server's fetch handler
  "handler", // the POST /v1/orders handler runs (routing, middleware)
  "auth", // API key verified, rate bucket taken
  "body", // JSON body read and parsed
  "validated", // schema, terms, admission (OrderManager.submit up to the pre-trade hook)
  "pretrade", // the pre-trade hook answered
  "enqueued", // the order's "submitted" record is in the journal queue
  "broker", // the paper broker accepted and filled it (records applied and queued)
  "sent", // its batch was handed to the writer thread (waits for the commit in flight and the turn's end)
  "woke", // the writer thread woke up for the batch
  "decoded", // the writer decoded the batch
  "committed", // the transaction committed (with durability full, after fsync)
  "received", // the main thread got the writer's "committed" message
  "resumed", // the order's continuation ran (its durable() promise resolved)
  "replied", // the HTTP response object was built
] as const;

/** Index of a mark. */
export type Mark = (typeof MARKS)[number];

const N = MARKS.length;
const CAP = 200_000;
// 15 × 200,000 marks (24 MB): allocated by the first record(), so a process with the timer off never holds them.
let samples: Float64Array[] = [];
let count = 0;

/** One order's marks; NaN where a mark was not reached (e.g. no HTTP in an in-process bench). */
export class StageTrace {
  readonly t = new Float64Array(N).fill(NaN);
  /** Begun by the HTTP server: the route handler records it once it has built the reply. */
  http = false;
  /** Sets `mark` to now (or to `at`, a time on the main thread's performance clock). */
  mark(mark: Mark, at = performance.now()): void {
    this.t[MARKS.indexOf(mark)] = at;
  }
}

let current: StageTrace | undefined;

/** Starts a trace for a request now; the code it calls synchronously picks it up with take(). */
export function beginTrace(mark: Mark = "request"): StageTrace {
  const t = new StageTrace();
  t.mark(mark);
  t.http = true;
  current = t;
  return t;
}

/** The trace begun for the request being handled (consumed), or a fresh one. */
export function takeTrace(): StageTrace {
  const t = current ?? new StageTrace();
  current = undefined;
  return t;
}

/** The trace of the request being handled, without consuming it. */
export function currentTrace(): StageTrace | undefined {
  return current;
}

/** Makes `t` current again after an await (other requests may have begun traces meanwhile). */
export function resumeTrace(t: StageTrace): void {
  current = t;
}

/** Marks the commit that made an order durable, from the journal's lastCommit, and `resumed` now. */
export function markCommit(t: StageTrace): void {
  t.mark("sent", lastCommit.sent);
  t.mark("woke", lastCommit.woke);
  t.mark("decoded", lastCommit.decoded);
  t.mark("committed", lastCommit.committed);
  t.mark("received", lastCommit.received);
  t.mark("resumed");
}

/** The timing of the last commit, set by the journal when timing is on (main-thread clock, ms). */
export const lastCommit = { sent: NaN, woke: NaN, decoded: NaN, committed: NaN, received: NaN };

/** Records a finished trace. */
export function record(t: StageTrace): void {
  if (count >= CAP) return;
  if (samples.length === 0) samples = MARKS.map(() => new Float64Array(CAP));
  for (let i = 0; i < N; i++) samples[i]![count] = t.t[i]!;
  count++;
}

/** Forgets everything recorded (after a warm-up). */
export function resetStages(): void {
  count = 0;
}

/** One stage's figures in µs over the orders that reached both its marks. */
export interface StageRow {
  stage: string;
  from: string;
  n: number;
  p50Us: number;
  p99Us: number;
  meanUs: number;
}

/** Per-stage p50 / p99 / mean in µs, each stage from the previous mark that was reached. */
export function stageSummary(): { orders: number; stages: StageRow[]; totalUs?: StageRow } {
  const rows: StageRow[] = [];
  if (count === 0) return { orders: 0, stages: rows };
  for (let m = 1; m < N; m++) {
    const d: number[] = [];
    let prevMark = -1;
    for (let i = 0; i < count; i++) {
      const b = samples[m]![i]!;
      if (Number.isNaN(b)) continue;
      for (let p = m - 1; p >= 0; p--) {
        const a = samples[p]![i]!;
        if (!Number.isNaN(a)) {
          d.push((b - a) * 1000);
          prevMark = p;
          break;
        }
      }
    }
    if (d.length === 0) continue;
    rows.push({ stage: MARKS[m]!, from: MARKS[prevMark]!, n: d.length, ...stats(d) });
  }
  const total: number[] = [];
  for (let i = 0; i < count; i++) {
    let first = NaN, last = NaN;
    for (let m = 0; m < N; m++) {
      const v = samples[m]![i]!;
      if (Number.isNaN(v)) continue;
      if (Number.isNaN(first)) first = v;
      last = v;
    }
    if (!Number.isNaN(first)) total.push((last - first) * 1000);
  }
  return { orders: count, stages: rows, ...(total.length ? { totalUs: { stage: "total", from: "first", n: total.length, ...stats(total) } } : {}) };
}

function stats(d: number[]): { p50Us: number; p99Us: number; meanUs: number } {
  d.sort((a, b) => a - b);
  const at = (q: number) => d[Math.min(d.length - 1, Math.floor(q * d.length))]!;
  return { p50Us: at(0.5), p99Us: at(0.99), meanUs: d.reduce((a, b) => a + b, 0) / d.length };
}

if (STAGE_TIMING) {
  process.on("SIGUSR2", resetStages);
  const file = process.env.ALLUSE_STAGE_TIMING_FILE;
  if (file) process.on("exit", () => writeFileSync(file, JSON.stringify(stageSummary())));
}
