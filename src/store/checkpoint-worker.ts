// The checkpointer thread: its own connection to the journal's database copies what the WAL
// holds into the database file (a checkpoint), so that the writer thread never has to do it
// inside a commit. See checkpointer.ts for when and why; this file only runs the loop.

import { Database } from "bun:sqlite";
import { synchronousOf, type Durability } from "./db.ts";

/** Messages from the main thread: start on a database, or stop. */
export type ToCheckpointer =
  | { type: "open"; path: string; durability: Durability; intervalMs: number; idleMs: number; restartPages: number; failForTest?: string }
  | { type: "close" };

/** Messages to the main thread. `frames`: WAL frames copied into the database by one checkpoint. */
export type FromCheckpointer =
  | { type: "ready" }
  | { type: "checkpointed"; frames: number; ms: number; restarted: boolean }
  | { type: "failed"; message: string }
  | { type: "closed" };

/** One row of PRAGMA wal_checkpoint: busy flag, frames in the WAL, frames already in the database. */
interface CheckpointRow {
  busy: number;
  log: number;
  checkpointed: number;
}

declare const self: Worker;

const post = (m: FromCheckpointer) => self.postMessage(m);
const message = (err: unknown) => String((err as Error)?.message ?? err);

let stop: (() => void) | undefined;

self.onmessage = (e: MessageEvent<ToCheckpointer>) => {
  const m = e.data;
  if (m.type === "close") {
    stop?.();
    post({ type: "closed" });
    return;
  }
  let db: Database;
  try {
    if (m.failForTest) throw new Error(m.failForTest);
    // Not migrated: the writer thread did that before this starts. strict: named results.
    db = new Database(m.path, { strict: true });
    // A checkpoint fsyncs the database file unless synchronous is OFF: the same level as the writer's.
    db.exec(`PRAGMA synchronous = ${synchronousOf(m.durability)}`);
    // Bounds how long a RESTART checkpoint waits for the writer's transaction and old readers.
    db.exec("PRAGMA busy_timeout = 200");
  } catch (err) {
    post({ type: "failed", message: message(err) });
    return;
  }
  const passive = db.query("PRAGMA wal_checkpoint(PASSIVE)");
  const restart = db.query("PRAGMA wal_checkpoint(RESTART)");
  let lastLog = 0, lastDone = 0, delay = m.intervalMs, timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    timer = undefined;
    try {
      const t0 = performance.now();
      let r = passive.get() as CheckpointRow;
      // The WAL only grows until SQLite starts it over; a shorter one is a new one.
      const before = r.log >= lastLog ? lastDone : 0;
      let restarted = false;
      if (r.log >= m.restartPages) {
        // The writer never found everything copied when it began a transaction (it commits
        // without pause), so the WAL was never started over: wait for the few frames committed
        // since the passive copy and let the next transaction start the WAL from its beginning.
        const rr = restart.get() as CheckpointRow;
        if (rr.busy === 0) (r = rr), (restarted = true);
      }
      lastLog = r.log;
      lastDone = r.checkpointed;
      const frames = r.checkpointed - before;
      if (frames > 0 || restarted) post({ type: "checkpointed", frames, ms: performance.now() - t0, restarted });
      // Nothing new: look less often, up to idleMs apart (an idle server wakes this thread rarely).
      delay = frames > 0 ? m.intervalMs : Math.min(delay * 2, m.idleMs);
      timer = setTimeout(tick, delay);
    } catch (err) {
      post({ type: "failed", message: message(err) });
      stop?.();
    }
  };
  timer = setTimeout(tick, delay);
  stop = () => {
    clearTimeout(timer);
    stop = undefined;
    db.close();
  };
  post({ type: "ready" });
};
