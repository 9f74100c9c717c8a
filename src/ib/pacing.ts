// The one outbound queue to TWS. IBKR disconnects clients that send more than 50 messages a
// second; this queue sends at most `ratePerS` (45) in any sliding window of `windowMs` (1 s),
// and spaces messages at least windowMs / ratePerS (22 ms) apart. The spacing matters: TWS counts
// arrivals, and a sender that emits its 45 as one burst per second shows TWS two bursts in one
// second as soon as delivery jitters by a few ms (measured: 86 in a second at the simulator).
// Evenly spaced, jitter moves a message by a slot at most. It always drains cancels before other requests (freeing a market data line or stopping an order
// matters more than asking for something new), holds at most `capacity` waiting requests, and
// never drops one silently: each request's promise resolves when it is handed to the socket,
// or rejects with a coded error (queue full, connection lost, stopped).

/** Why a request never reached TWS. */
export type PacingErrorCode = "IB_QUEUE_FULL" | "IB_DISCONNECTED" | "IB_STOPPED" | "IB_SEND_FAILED";

/** A request that was refused or abandoned by the queue. */
export class PacingError extends Error {
  constructor(readonly code: PacingErrorCode, message: string) {
    super(message);
    this.name = "PacingError";
  }
}

/** Which lane a request waits in: cancels always go first. */
export type Lane = "cancel" | "request";

/** A clock the queue reads and schedules with; tests pass a virtual one. */
export interface PacingClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of the queue; each has a default. */
export interface PacingOptions {
  /** Most messages sent in any window (default 45: IBKR's limit is 50 per second). */
  ratePerS?: number;
  /** Length of the sliding window, ms (default 1000). */
  windowMs?: number;
  /** Most requests waiting at once (default 4096: ~90 s of traffic at 45/s); more are refused. */
  capacity?: number;
  /** Least time between two sends, ms (default windowMs / ratePerS). */
  minGapMs?: number;
  clock?: PacingClock;
}

interface Pending {
  label: string;
  send: () => void;
  resolve: () => void;
  reject: (err: Error) => void;
}

const REAL_CLOCK: PacingClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** The paced outbound queue. */
export class PacingQueue {
  readonly ratePerS: number;
  readonly windowMs: number;
  readonly capacity: number;
  readonly minGapMs: number;
  /** Counters for metrics and tests. */
  readonly stats = { sent: 0, cancelsSent: 0, refusedFull: 0, abandoned: 0, sendFailures: 0, maxDepth: 0 };
  private readonly clock: PacingClock;
  private readonly lanes: Record<Lane, Pending[]> = { cancel: [], request: [] };
  /** Send times of the last `ratePerS` messages, a ring: the oldest is at `head`. */
  private readonly sentAt: Float64Array;
  private head = 0;
  private count = 0;
  private paused = true;
  private nextSendAt = -Infinity;
  private timer: unknown = null;

  constructor(opts: PacingOptions = {}) {
    this.ratePerS = opts.ratePerS ?? 45;
    this.windowMs = opts.windowMs ?? 1000;
    this.capacity = opts.capacity ?? 4096;
    this.clock = opts.clock ?? REAL_CLOCK;
    this.minGapMs = opts.minGapMs ?? this.windowMs / this.ratePerS;
    if (!(Number.isInteger(this.ratePerS) && this.ratePerS >= 1 && this.ratePerS <= 50)) throw new Error("pacing: ratePerS must be an integer in [1, 50]");
    if (!(this.windowMs >= 100)) throw new Error("pacing: windowMs must be at least 100");
    if (!(Number.isInteger(this.capacity) && this.capacity >= 1)) throw new Error("pacing: capacity must be a positive integer");
    if (!(this.minGapMs >= 0)) throw new Error("pacing: minGapMs must be non-negative");
    this.sentAt = new Float64Array(this.ratePerS);
  }

  /** Requests waiting, both lanes. */
  get depth(): number {
    return this.lanes.cancel.length + this.lanes.request.length;
  }

  /**
   * Queues one message; `send` is called when pacing allows and the queue is running.
   * Resolves once sent; rejects with PacingError (IB_QUEUE_FULL at once when full).
   */
  enqueue(lane: Lane, label: string, send: () => void): Promise<void> {
    if (this.depth >= this.capacity) {
      this.stats.refusedFull++;
      return Promise.reject(new PacingError("IB_QUEUE_FULL", `IB request queue is full (${this.capacity} waiting); refused ${label}`));
    }
    return new Promise<void>((resolve, reject) => {
      this.lanes[lane].push({ label, send, resolve, reject });
      this.stats.maxDepth = Math.max(this.stats.maxDepth, this.depth);
      this.pump();
    });
  }

  /** Stops sending (the connection is not usable); waiting requests stay queued. */
  pause(): void {
    this.paused = true;
    this.disarm();
  }

  /** Sends again. */
  resume(): void {
    this.paused = false;
    this.pump();
  }

  /** Rejects every waiting request with `code`; returns how many there were. */
  clear(code: PacingErrorCode, reason: string): number {
    const all = [...this.lanes.cancel, ...this.lanes.request];
    this.lanes.cancel.length = 0;
    this.lanes.request.length = 0;
    this.disarm();
    for (const p of all) p.reject(new PacingError(code, `${p.label} not sent: ${reason}`));
    this.stats.abandoned += all.length;
    return all.length;
  }

  /** Messages sent in the window ending now (for metrics). */
  sentInWindow(): number {
    const now = this.clock.now();
    let n = 0;
    for (let i = 0; i < this.count; i++) if (now - this.sentAt[(this.head + i) % this.ratePerS]! < this.windowMs) n++;
    return n;
  }

  private pump(): void {
    if (this.paused) return;
    this.disarm();
    while (this.depth > 0) {
      const now = this.clock.now();
      // Wait for the spacing, and, with a full window, for the oldest send to leave it.
      const freeAt = Math.max(this.nextSendAt, this.count === this.ratePerS ? this.sentAt[this.head]! + this.windowMs : -Infinity);
      if (now < freeAt) {
        this.timer = this.clock.setTimeout(() => {
          this.timer = null;
          this.pump();
        }, freeAt - now);
        return;
      }
      const lane: Lane = this.lanes.cancel.length > 0 ? "cancel" : "request";
      const p = this.lanes[lane].shift()!;
      this.record(now);
      try {
        p.send();
      } catch (err) {
        this.stats.sendFailures++;
        p.reject(new PacingError("IB_SEND_FAILED", `${p.label} failed: ${(err as Error).message}`));
        continue;
      }
      this.stats.sent++;
      if (lane === "cancel") this.stats.cancelsSent++;
      p.resolve();
      if (this.paused) return;
    }
  }

  private record(now: number): void {
    this.nextSendAt = now + this.minGapMs;
    if (this.count < this.ratePerS) {
      this.sentAt[(this.head + this.count) % this.ratePerS] = now;
      this.count++;
    } else {
      this.sentAt[this.head] = now;
      this.head = (this.head + 1) % this.ratePerS;
    }
  }

  private disarm(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
