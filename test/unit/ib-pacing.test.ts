// The pacing queue on a virtual clock: the sliding-window bound, cancels first, the capacity
// error, and that every request is either sent or rejected with a code, never dropped.

import { expect, test } from "bun:test";
import { PacingError, PacingQueue } from "../../src/ib/pacing.ts";
import { backoffDelayMs } from "../../src/ib/session.ts";
import { VirtualClock } from "../helpers/virtual-clock.ts";

/** Largest number of sends inside any window of `windowMs` (half-open; 1e-9 ms of float rounding forgiven). */
function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs - 1e-9) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

test("500 requests in one burst go out evenly, at most 45 in any 1 s window, all of them, in order", async () => {
  const clock = new VirtualClock();
  const q = new PacingQueue({ clock });
  q.resume();
  const sentAt: number[] = [];
  const order: number[] = [];
  const done = Array.from({ length: 500 }, (_, i) => q.enqueue("request", `r${i}`, () => { sentAt.push(clock.now()); order.push(i); }));
  expect(sentAt.length).toBe(1);
  clock.advance(20_000);
  await Promise.all(done);
  expect(sentAt.length).toBe(500);
  expect(order).toEqual(Array.from({ length: 500 }, (_, i) => i));
  expect(maxInWindow(sentAt, 1000)).toBe(45);
  for (let i = 1; i < sentAt.length; i++) expect(sentAt[i]! - sentAt[i - 1]!).toBeCloseTo(1000 / 45, 9);
  // Pacing, not starvation: the last of 500 leaves 499 gaps after the first.
  expect(sentAt.at(-1)).toBeCloseTo((499 * 1000) / 45, 6);
  expect(q.stats).toMatchObject({ sent: 500, refusedFull: 0, abandoned: 0 });
});

test("cancels jump the queue", async () => {
  const clock = new VirtualClock();
  const q = new PacingQueue({ clock });
  q.resume();
  const sent: string[] = [];
  const all = [];
  for (let i = 0; i < 100; i++) all.push(q.enqueue("request", `r${i}`, () => sent.push(`r${i}`)));
  all.push(q.enqueue("cancel", "c0", () => sent.push("c0")));
  all.push(q.enqueue("cancel", "c1", () => sent.push("c1")));
  clock.advance(5000);
  await Promise.all(all);
  // One request left at once; the cancels, queued behind 99 more, are the next two sent.
  expect(sent.indexOf("c0")).toBe(1);
  expect(sent.indexOf("c1")).toBe(2);
  expect(q.stats.cancelsSent).toBe(2);
});

test("a full queue refuses with IB_QUEUE_FULL; nothing already queued is lost", async () => {
  const clock = new VirtualClock();
  const q = new PacingQueue({ clock, capacity: 10 });
  const ok = Array.from({ length: 10 }, (_, i) => q.enqueue("request", `r${i}`, () => {}));
  const refused = await q.enqueue("request", "r10", () => {}).then(() => null, (e: unknown) => e);
  expect(refused).toBeInstanceOf(PacingError);
  expect((refused as PacingError).code).toBe("IB_QUEUE_FULL");
  expect((refused as PacingError).message).toContain("r10");
  q.resume();
  clock.advance(1000);
  await Promise.all(ok);
  expect(q.stats).toMatchObject({ sent: 10, refusedFull: 1 });
});

test("paused, nothing is sent; clear rejects every waiting request with its code and label", async () => {
  const clock = new VirtualClock();
  const q = new PacingQueue({ clock });
  let sends = 0;
  const waiting = Array.from({ length: 3 }, (_, i) => q.enqueue(i === 1 ? "cancel" : "request", `x${i}`, () => sends++).catch((e: PacingError) => e));
  clock.advance(10_000);
  expect(sends).toBe(0);
  expect(q.clear("IB_DISCONNECTED", "connection lost")).toBe(3);
  const errors = await Promise.all(waiting);
  expect(errors.map((e) => (e as PacingError).code)).toEqual(["IB_DISCONNECTED", "IB_DISCONNECTED", "IB_DISCONNECTED"]);
  expect((errors[1] as PacingError).message).toContain("x1");
  expect(q.depth).toBe(0);
});

test("a send that throws rejects that request only", async () => {
  const clock = new VirtualClock();
  const q = new PacingQueue({ clock });
  q.resume();
  const a = q.enqueue("request", "bad", () => { throw new Error("boom"); }).catch((e: PacingError) => e.code);
  const b = q.enqueue("request", "good", () => {});
  expect(await a).toBe("IB_SEND_FAILED");
  clock.advance(100);
  await b;
  expect(q.stats.sendFailures).toBe(1);
});

test("the window bound holds even without spacing", async () => {
  const clock = new VirtualClock();
  const q = new PacingQueue({ clock, minGapMs: 0 });
  q.resume();
  const sentAt: number[] = [];
  const done = Array.from({ length: 200 }, () => q.enqueue("request", "r", () => sentAt.push(clock.now())));
  expect(sentAt.length).toBe(45);
  clock.advance(10_000);
  await Promise.all(done);
  expect(maxInWindow(sentAt, 1000)).toBe(45);
});

test("options are bounded: the rate never above IBKR's 50 per second", () => {
  expect(() => new PacingQueue({ ratePerS: 51 })).toThrow();
  expect(() => new PacingQueue({ capacity: 0 })).toThrow();
});

test("back-off grows by the factor, stops at the cap, and jitter only shortens it", () => {
  const none = () => 0, most = () => 0.999999;
  expect([0, 1, 2, 3].map((a) => backoffDelayMs(a, { initialMs: 100, factor: 2, maxMs: 500 }, none))).toEqual([100, 200, 400, 500]);
  expect(backoffDelayMs(50, { initialMs: 100, maxMs: 30_000 }, none)).toBe(30_000);
  const jittered = backoffDelayMs(3, { initialMs: 100, factor: 2, maxMs: 10_000, jitter: 0.5 }, most);
  expect(jittered).toBeGreaterThan(400);
  expect(jittered).toBeLessThanOrEqual(800);
});

test("the default back-off starts short and never waits more than 600 ms between attempts (quotes back within 1 s), nor retries faster than every 450 ms once TWS stays down", () => {
  const none = () => 0, most = () => 0.999999;
  expect(backoffDelayMs(0, {}, none)).toBe(50);
  expect(backoffDelayMs(0, {}, most)).toBeGreaterThan(37);
  for (let a = 0; a < 200; a++) expect(backoffDelayMs(a, {}, none)).toBeLessThanOrEqual(600);
  for (let a = 4; a < 200; a++) expect(backoffDelayMs(a, {}, most)).toBeGreaterThan(450);
});
