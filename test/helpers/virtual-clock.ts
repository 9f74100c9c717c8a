// A virtual clock for the IB pacing and event-loop lag tests: time moves only when a test says so.

import type { PacingClock } from "../../src/ib/pacing.ts";

/** A clock that moves only when told to, firing due timers in order. */
export class VirtualClock implements PacingClock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  /** A busy event loop: `ms` pass and no timer fires until the next advance(). */
  block(ms: number): void {
    this.t += ms;
  }
  /** Advances to `until`, firing every timer due on the way. */
  advance(until: number): void {
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > until) break;
      this.timers.shift();
      // A timer overdue after block() fires late, at the current time, as a real one would.
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = Math.max(this.t, until);
  }
}
