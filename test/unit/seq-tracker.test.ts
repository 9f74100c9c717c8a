// SeqTracker: gaps within a connection, the snapshot baseline, and the reconnect gap that a
// failover to another edge (same core seq) must report rather than hide.

import { expect, test } from "bun:test";
import { SeqTracker } from "../../src/client/seq-tracker.ts";
import type { QuoteFrame } from "../../src/client/protocol.ts";

const q = (s: string, seq: number, snap?: true) => ({ t: "q", s, seq, ...(snap ? { snap } : {}) }) as QuoteFrame;

test("within a connection: a jump is a gap, a snapshot resets the baseline", () => {
  const t = new SeqTracker();
  expect(t.check(q("A", 5, true))).toBeUndefined();
  expect(t.check(q("A", 6))).toBeUndefined();
  expect(t.check(q("A", 9))).toEqual({ symbol: "A", previous: 6, got: 9, missed: 2 });
  expect(t.check(q("A", 20, true))).toBeUndefined();
  expect(t.check(q("A", 21))).toBeUndefined();
});

test("across a reconnect: the first snapshot is checked against the last seq; a lower one (restarted server) is not a gap", () => {
  const t = new SeqTracker();
  t.check(q("A", 5, true));
  t.check(q("B", 7, true));
  t.check(q("C", 3, true));
  t.reconnected();
  expect(t.check(q("A", 9, true))).toEqual({ symbol: "A", previous: 5, got: 9, missed: 3, reconnect: true });
  expect(t.check(q("B", 8, true))).toBeUndefined();
  expect(t.check(q("A", 10))).toBeUndefined();
  t.forget("C");
  expect(t.check(q("C", 1, true))).toBeUndefined();
  // Two reconnects before the snapshot: still checked against the last seq seen.
  t.reconnected();
  t.reconnected();
  expect(t.check(q("B", 12, true))).toEqual({ symbol: "B", previous: 8, got: 12, missed: 3, reconnect: true });
});
