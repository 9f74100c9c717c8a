// Where and when the market client dials next: round-robin over the URLs it was given (edges of
// one core, docs/scaling.md), each attempt after the bounded back-off of its ReconnectPolicy. A
// lost connection moves to the next URL at once, so a killed edge is left for a live one on the
// first retry; a list of one URL redials that URL, as before.

import type { ReconnectPolicy } from "./client-types.ts";

/** The dialling state of one client: the current URL and the failed attempts since the last welcome. */
export class Redial {
  /** Failed attempts since the last welcome (over all URLs). */
  attempts = 0;
  private index = 0;

  constructor(readonly urls: readonly string[], private readonly policy: ReconnectPolicy | undefined) {
    if (urls.length === 0) throw new Error("MarketClient needs at least one ws:// URL");
  }

  /** The URL of the current (or next) connection. */
  get url(): string {
    return this.urls[this.index]!;
  }

  /** Whether a lost connection may be redialled: reconnecting is on and attempts are left. */
  get canRetry(): boolean {
    return this.policy !== undefined && this.attempts < this.policy.maxAttempts;
  }

  /** After a lost or failed connection: moves to the next URL and returns the delay before dialling it. */
  next(): number {
    const p = this.policy!;
    const base = Math.min(p.maxDelayMs, p.initialDelayMs * p.factor ** this.attempts);
    this.attempts++;
    this.index = (this.index + 1) % this.urls.length;
    return base * (1 - p.jitter * Math.random());
  }

  /** A welcome arrived: the back-off starts over; the URL stays the one that answered. */
  opened(): void {
    this.attempts = 0;
  }
}
