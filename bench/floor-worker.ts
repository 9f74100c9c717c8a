// The writer thread of the order benchmark's floor (bench/orders-floor.ts): the least a durable
// group-commit order path can do on this machine. It sleeps on a shared counter like the
// journal's writer (src/store/journal-worker.ts), and per batch inserts one ~100-byte row per
// order in one transaction with synchronous=FULL (an fsync), then answers with a message. No
// order logic, no JSON, one B-tree: whatever the real path costs above this is ours.

import { Database } from "bun:sqlite";

declare const self: Worker;

/** The one message from the main thread: the database file and the shared control words [sent, orders in the batch]. */
export type ToFloor = { path: string; shared: SharedArrayBuffer };

self.onmessage = (e: MessageEvent<ToFloor>) => {
  const db = new Database(e.data.path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("CREATE TABLE IF NOT EXISTS floor (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  const insert = db.prepare("INSERT INTO floor (body) VALUES (?)");
  const body = "x".repeat(100);
  const write = db.transaction((n: number) => {
    for (let i = 0; i < n; i++) insert.run(body);
  });
  const control = new Int32Array(e.data.shared);
  self.postMessage("ready");
  for (let seen = 0; ;) {
    Atomics.wait(control, 0, seen);
    seen = Atomics.load(control, 0);
    const n = Atomics.load(control, 1);
    if (n < 0) {
      db.close();
      self.postMessage("closed");
      return;
    }
    write(n);
    self.postMessage("committed");
  }
};
