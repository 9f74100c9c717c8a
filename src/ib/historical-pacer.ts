// IBKR's historical data pacing, enforced before a request reaches the outbound queue. TWS
// answers a broken rule with error 162 and counts it against the client, so a request that
// would break one waits here instead: at most `maxRequests` (60) in any rolling `windowMs`
// (10 minutes), no identical request (contract, end, duration, bar size, what-to-show, RTH)
// within `identicalMs` (15 s), at most `sameContractMax` (6) for one contract, exchange and
// tick type within `sameContractMs` (2 s). Waiting is bounded twice: at most `capacity`
// requests wait (one more is refused at once), and each waits at most until its deadline.
//
// A grant is recorded when the request is actually handed to the socket (ticket.sent()), not
// when it leaves this queue, because the outbound queue may hold it a little longer; until
// then it counts against the limits with an unknown time, and rules that need that time hold
// later requests until it is known. Every window is lengthened by `marginMs` so that delivery
// jitter between our clock and TWS's never turns a legal spacing into a violation.

import { type PacingClock } from "./pacing.ts";
import { IbRequestError } from "./requests.ts";

/** The identity of one historical request, as the pacing rules see it. */
export interface HistoricalKey {
  /** Contract and exchange (conId, or symbol/type/expiry/strike/right/currency, then exchange). */
  contract: string;
  /** What to show: IBKR's "tick type" of the same-contract rule. */
  whatToShow: string;
  endDateTime: string;
  duration: string;
  barSize: string;
  useRTH: boolean;
}

/** The pacing limits; the defaults are IBKR's. */
export interface HistoricalLimits {
  /** Most requests in any rolling window (default 60). */
  maxRequests: number;
  /** The rolling window, ms (default 600 000). */
  windowMs: number;
  /** Least time between identical requests, ms (default 15 000). */
  identicalMs: number;
  /** Most requests for one contract, exchange and tick type within sameContractMs (default 6). */
  sameContractMax: number;
  /** Window of the same-contract rule, ms (default 2 000). */
  sameContractMs: number;
}

/** IBKR's historical data pacing rules. */
export const IB_HISTORICAL_LIMITS: Readonly<HistoricalLimits> = { maxRequests: 60, windowMs: 600_000, identicalMs: 15_000, sameContractMax: 6, sameContractMs: 2_000 };

/** Options of the pacer. */
export interface HistoricalPacerOptions {
  limits?: Partial<HistoricalLimits>;
  /** Most requests waiting at once (default 64: over ten minutes of IBKR's allowance); more are refused. */
  capacity?: number;
  /** Added to every window, ms (default 100). */
  marginMs?: number;
  clock?: PacingClock;
}

/** A granted request: call sent() when it reaches the socket, release() if it never will. */
export interface HistoricalTicket {
  sent(): void;
  release(): void;
}

interface Grant {
  contract: string;
  identity: string;
  /** When it was sent; NaN while granted but not yet sent. */
  atMs: number;
}

interface Waiter {
  key: HistoricalKey;
  identity: string;
  contract: string;
  resolve: (t: HistoricalTicket) => void;
  reject: (err: Error) => void;
  deadline: unknown;
}

const REAL_CLOCK: PacingClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** The identical-request identity of a key. */
export function identityOf(k: HistoricalKey): string {
  return [k.contract, k.whatToShow, k.endDateTime, k.duration, k.barSize, k.useRTH ? 1 : 0].join("|");
}

/** Holds historical requests until IBKR's pacing rules let them go. */
export class HistoricalPacer {
  readonly limits: Readonly<HistoricalLimits>;
  readonly capacity: number;
  readonly marginMs: number;
  /** Counters for metrics and tests. */
  readonly stats = { granted: 0, waited: 0, refusedFull: 0, expired: 0, maxDepth: 0 };
  private readonly clock: PacingClock;
  /** Grants still inside the longest window, oldest first (at most maxRequests of them). */
  private grants: Grant[] = [];
  private readonly waiting: Waiter[] = [];
  private timer: unknown = null;

  constructor(opts: HistoricalPacerOptions = {}) {
    this.limits = { ...IB_HISTORICAL_LIMITS, ...opts.limits };
    this.capacity = opts.capacity ?? 64;
    this.marginMs = opts.marginMs ?? 100;
    this.clock = opts.clock ?? REAL_CLOCK;
    const l = this.limits;
    if (!(Number.isInteger(l.maxRequests) && l.maxRequests >= 1 && Number.isInteger(l.sameContractMax) && l.sameContractMax >= 1)) throw new Error("historical pacer: counts must be positive integers");
    if (!(l.windowMs > 0 && l.identicalMs >= 0 && l.sameContractMs > 0 && this.marginMs >= 0)) throw new Error("historical pacer: windows must be positive");
    if (!(Number.isInteger(this.capacity) && this.capacity >= 1)) throw new Error("historical pacer: capacity must be a positive integer");
  }

  /** Requests waiting for their turn. */
  get depth(): number {
    return this.waiting.length;
  }

  /**
   * Resolves with a ticket once `key` may be sent; rejects with IB_TOO_MANY at once when
   * `capacity` requests already wait, or IB_TIMEOUT when it still may not go after `maxWaitMs`.
   */
  acquire(key: HistoricalKey, maxWaitMs: number): Promise<HistoricalTicket> {
    if (this.waiting.length >= this.capacity) {
      this.stats.refusedFull++;
      return Promise.reject(new IbRequestError("IB_TOO_MANY", `historical data: ${this.capacity} requests already wait for IBKR's pacing; refused ${describe(key)}`));
    }
    return new Promise<HistoricalTicket>((resolve, reject) => {
      const w: Waiter = { key, identity: identityOf(key), contract: `${key.contract}|${key.whatToShow}`, resolve, reject, deadline: null };
      this.waiting.push(w);
      this.stats.maxDepth = Math.max(this.stats.maxDepth, this.waiting.length);
      this.pump();
      if (!this.waiting.includes(w)) return;
      this.stats.waited++;
      w.deadline = this.clock.setTimeout(() => {
        const i = this.waiting.indexOf(w);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        this.stats.expired++;
        reject(new IbRequestError("IB_TIMEOUT", `historical data: ${describe(key)} still held by IBKR's pacing rules after ${maxWaitMs} ms`));
        this.pump();
      }, maxWaitMs);
    });
  }

  /** Earliest time `w` may go, or NaN while it depends on a grant not yet sent. */
  private freeAt(w: Waiter, now: number): number {
    const l = this.limits, m = this.marginMs;
    let at = now;
    if (this.grants.length >= l.maxRequests) at = Math.max(at, this.grants[this.grants.length - l.maxRequests]!.atMs + l.windowMs + m);
    const same: number[] = [];
    for (const g of this.grants) {
      if (g.identity === w.identity) at = Math.max(at, g.atMs + l.identicalMs + m);
      if (g.contract === w.contract) same.push(g.atMs);
    }
    if (same.length >= l.sameContractMax) at = Math.max(at, same[same.length - l.sameContractMax]! + l.sameContractMs + m);
    return at;
  }

  private pump(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    const now = this.clock.now();
    this.forget(now);
    let nextAt = Infinity;
    for (let i = 0; i < this.waiting.length;) {
      const w = this.waiting[i]!;
      const at = this.freeAt(w, now);
      if (at <= now) {
        this.waiting.splice(i, 1);
        this.grant(w);
        continue;
      }
      // NaN (a grant in flight): sent() pumps again. Otherwise wake at the earliest time.
      if (at < nextAt) nextAt = at;
      i++;
    }
    if (nextAt < Infinity && this.waiting.length > 0) this.timer = this.clock.setTimeout(() => this.pump(), nextAt - now);
  }

  private grant(w: Waiter): void {
    if (w.deadline !== null) this.clock.clearTimeout(w.deadline);
    const g: Grant = { contract: w.contract, identity: w.identity, atMs: NaN };
    this.grants.push(g);
    this.stats.granted++;
    let done = false;
    w.resolve({
      sent: () => {
        if (done) return;
        done = true;
        // Recorded in send order, so the list stays sorted by time for the rolling window.
        this.grants.splice(this.grants.indexOf(g), 1);
        g.atMs = this.clock.now();
        this.grants.push(g);
        this.pump();
      },
      release: () => {
        if (done) return;
        done = true;
        this.grants.splice(this.grants.indexOf(g), 1);
        this.pump();
      },
    });
  }

  /** Drops grants no rule can see any more: what is left is at most maxRequests sent ones (the rule holds) plus those in flight. */
  private forget(now: number): void {
    const l = this.limits;
    const horizon = Math.max(l.windowMs, l.identicalMs, l.sameContractMs) + this.marginMs;
    while (this.grants.length > 0 && now - this.grants[0]!.atMs >= horizon) this.grants.shift();
  }
}

function describe(k: HistoricalKey): string {
  return `${k.contract} ${k.whatToShow} ${k.duration} of ${k.barSize} ending ${k.endDateTime || "now"}`;
}
