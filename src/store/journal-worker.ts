// The journal's writer thread: owns the only writing connection and commits the batches the
// main thread sends, one transaction (and, with durability "full", one fsync) each. On the
// main thread an fsync would stall every request and every quote for its whole duration —
// measured at 10–300 ms on a busy shared disk — so it happens here instead.

import { openDatabase, type Durability } from "./db.ts";
import { statements, writeEncoded, type EncodedBatch } from "./write.ts";

/** Messages from the main thread. */
export type ToWriter = { type: "open"; path: string; durability: Durability } | { type: "write"; bytes: Uint8Array; upTo: number } | { type: "close" };

/** Messages to the main thread. */
export type FromWriter =
  | { type: "ready" }
  | { type: "committed"; upTo: number; ms: number }
  | { type: "failed"; message: string };

declare const self: Worker;

const decoder = new TextDecoder();
let write: ((batch: EncodedBatch) => void) | undefined;
let close: (() => void) | undefined;

const post = (m: FromWriter) => self.postMessage(m);

self.onmessage = (e: MessageEvent<ToWriter>) => {
  const m = e.data;
  try {
    if (m.type === "open") {
      const db = openDatabase(m.path, m.durability);
      const s = statements(db);
      write = db.transaction((batch: EncodedBatch) => writeEncoded(s, batch));
      close = () => db.close();
      post({ type: "ready" });
    } else if (m.type === "write") {
      const t0 = performance.now();
      write!(JSON.parse(decoder.decode(m.bytes)) as EncodedBatch);
      post({ type: "committed", upTo: m.upTo, ms: performance.now() - t0 });
    } else {
      close?.();
      close = undefined;
      post({ type: "committed", upTo: -1, ms: 0 });
    }
  } catch (err) {
    post({ type: "failed", message: String((err as Error)?.message ?? err) });
  }
};
