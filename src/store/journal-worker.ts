// The journal's writer thread: owns the only writing connection and commits the batches the
// main thread sends, one transaction (and, with durability "full", one fsync) each. On the
// main thread an fsync would stall every request and every quote for its whole duration —
// measured at 10–300 ms on a busy shared disk — so it happens here instead.
//
// Batches arrive through a shared buffer, not postMessage: at a few thousand orders a second
// a commit carries few orders, and a postMessage per commit cost the main thread 9 % of its
// time in the REST benchmark. The main thread writes a batch's bytes and bumps a counter; this
// thread sleeps on the counter (Atomics.wait, which only a worker may do), commits, and answers
// with a message. One batch is in flight at a time, so one buffer region suffices.

import { openDatabase, type Durability } from "./db.ts";
import { CLOSE, CONTROL_BYTES, LENGTH, SENT } from "./journal-channel.ts";
import { isConstraintError, type RefusedRow, statements, writeEncoded, type EncodedBatch } from "./write.ts";

/** The one message from the main thread: open the database and serve batches from `shared`. */
/** `timing`: the stage timer is on (src/oms/stages.ts); send wake, decode and commit times with each commit. */
export type ToWriter = { type: "open"; path: string; durability: Durability; shared: SharedArrayBuffer; timing?: boolean };

/** Messages to the main thread. */
export type FromWriter =
  | { type: "ready" }
  | { type: "committed"; ms: number; refused?: RefusedRow[]; at?: [woke: number, decoded: number, committed: number] }
  | { type: "closed" }
  | { type: "failed"; message: string };

declare const self: Worker;

const post = (m: FromWriter) => self.postMessage(m);

self.onmessage = (e: MessageEvent<ToWriter>) => {
  const m = e.data;
  let db;
  try {
    db = openDatabase(m.path, m.durability);
  } catch (err) {
    post({ type: "failed", message: String((err as Error)?.message ?? err) });
    return;
  }
  const s = statements(db);
  const write = db.transaction((batch: EncodedBatch, refused?: RefusedRow[]) => writeEncoded(s, batch, refused));
  const control = new Int32Array(m.shared, 0, CONTROL_BYTES / 4);
  const bytes = new Uint8Array(m.shared, CONTROL_BYTES);
  const decoder = new TextDecoder();
  post({ type: "ready" });
  // This handler never returns while the journal is open: the thread has nothing else to do.
  for (let seen = 0; ;) {
    Atomics.wait(control, SENT, seen);
    const sent = Atomics.load(control, SENT);
    if (sent === seen) continue;
    seen = sent;
    const length = Atomics.load(control, LENGTH);
    if (length === CLOSE) {
      db.close();
      post({ type: "closed" });
      return;
    }
    try {
      const t0 = performance.now();
      // slice() copies out of the shared buffer: decoders refuse shared memory.
      const batch = JSON.parse(decoder.decode(bytes.slice(0, length))) as EncodedBatch;
      try {
        if (m.timing) {
          // Absolute times (timeOrigin + now): the main thread's clock has another origin.
          const origin = performance.timeOrigin, t1 = performance.now();
          write(batch);
          const t2 = performance.now();
          post({ type: "committed", ms: t2 - t0, at: [origin + t0, origin + t1, origin + t2] });
          continue;
        }
        write(batch);
        post({ type: "committed", ms: performance.now() - t0 });
      } catch (err) {
        // A constraint: the transaction rolled back; write it again row by row, skipping what is refused.
        if (!isConstraintError(err)) throw err;
        const refused: RefusedRow[] = [];
        write(batch, refused);
        post({ type: "committed", ms: performance.now() - t0, refused });
      }
    } catch (err) {
      post({ type: "failed", message: String((err as Error)?.message ?? err) });
    }
  }
};
