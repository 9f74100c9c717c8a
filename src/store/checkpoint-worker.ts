// The checkpointer thread: its own connection to the journal's database copies what the WAL
// holds into the database file (a checkpoint), so that the writer thread never has to do it
// inside a commit. See checkpointer.ts for when and why; this file only runs the loop.

import { Database } from "bun:sqlite";
import { synchronousOf, type Durability } from "./db.ts";

/** Messages from the main thread: start on a database, or stop. */
export type ToCheckpointer =
  | { type: "open"; path: string; durability: Durability; intervalMs: number; idleMs: number; failForTest?: string }
  | { type: "close" };

/** Messages to the main thread. `frames`: WAL frames copied into the database by one checkpoint. */
export type FromCheckpointer =
  | { type: "ready" }
  | { type: "checkpointed"; frames: number; ms: number }
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
    // A PASSIVE checkpoint never waits on locks; this only covers opening the WAL index while
    // another connection recovers it.
    db.exec("PRAGMA busy_timeout = 100");
  } catch (err) {
    post({ type: "failed", message: message(err) });
    return;
  }
  const passive = db.query("PRAGMA wal_checkpoint(PASSIVE)");
  let lastLog = 0, lastDone = 0, delay = m.intervalMs, timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    timer = undefined;
    try {
      const t0 = performance.now();
      const r = passive.get() as CheckpointRow;
      // The WAL only grows until SQLite starts it over; a shorter one is a new one.
      const frames = r.checkpointed - (r.log >= lastLog ? lastDone : 0);
      lastLog = r.log;
      lastDone = r.checkpointed;
      if (frames > 0) post({ type: "checkpointed", frames, ms: performance.now() - t0 });
      // Nothing new: look less often, up to idleMs apart (an idle server wakes this thread rarely).
      delay = frames > 0 ? m.intervalMs : Math.min(delay * 2, m.idleMs);
      timer = setTimeout(tick, delay);
    } catch (err) {
      // Busy or locked: another connection holds the database for now; look again next tick.
      if (/^SQLITE_(BUSY|LOCKED)/.test(String((err as { code?: unknown })?.code))) {
        timer = setTimeout(tick, delay);
        return;
      }
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
