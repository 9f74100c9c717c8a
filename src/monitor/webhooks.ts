// Webhook delivery of alert transitions. Each URL has its own lane: a queue of *alerts* waiting,
// each holding the latest transition not yet sent to that URL. A newer transition of an alert
// replaces the waiting one in place (coalescing: the receiver gets every alert's latest state,
// and `superseded` says how many it missed), so a burst of transitions (458 raised, 101 resolved
// in one evaluation) never pushes out another alert's only notice. The lane sends the waiting
// alerts in POSTs of up to maxBatch transitions (format "batch"), oldest first, with at most
// maxInFlight POSTs in flight over all URLs; an alert is never in two POSTs at once, so its
// transitions arrive in order.
//
// A failed attempt (network error, timeout, 408, 429 or 5xx) is retried with the same body and
// delivery id after an exponential back-off (backoffBaseMs × 2^(attempt−1), capped at
// backoffMaxMs), at most `retries` times; meanwhile the lane starts no new POST, since its
// receiver is failing. Notices are lost only when the receiver stays down past that bound (the
// POST is abandoned) or when more than maxQueue distinct alerts wait for one URL (the oldest
// waiting one is evicted): both are counted per URL (the alerts.webhook_drops rule reads them)
// and logged. A receiver drops duplicates by the delivery id; ids start with a random
// per-process prefix, so they do not repeat after a restart. With a secret configured, each
// body is signed (HMAC-SHA256) so a receiver can tell our POSTs from anyone else's.

import { createHmac, randomBytes } from "node:crypto";
import type { Logger } from "../log.ts";
import type { AlertTransition } from "./alert-types.ts";

/** Where and how hard to deliver. */
export interface WebhookOptions {
  urls: string[];
  /** Alerts waiting per URL, each counted once however many transitions it had. */
  maxQueue: number;
  /** Transitions per POST in format "batch". */
  maxBatch: number;
  /** "batch": {"transitions":[…]} per POST; "single": one {type, ts, alert} per POST. */
  format: "batch" | "single";
  /** Attempts after the first. */
  retries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Bound of one attempt, response included. */
  timeoutMs: number;
  /** POSTs in flight at once, over all URLs. */
  maxInFlight: number;
  /** Signs each body: x-alluse-signature = "sha256=" + hex HMAC-SHA256(secret, body). */
  secret?: string;
}

/**
 * Defaults: 5 retries over ~15 s cover a receiver restart; 4,000 waiting alerts (~2.5 MB a URL)
 * hold two evaluations' worth of transitions at the engine's default 1,000 active alerts.
 */
export const WEBHOOK_DEFAULTS: Omit<WebhookOptions, "urls"> = {
  maxQueue: 4000, maxBatch: 100, format: "batch", retries: 5, backoffBaseMs: 500, backoffMaxMs: 30_000, timeoutMs: 5000, maxInFlight: 4,
};

/** Counters for metrics and tests. */
export interface WebhookStats {
  /** POSTs a receiver accepted (2xx). */
  delivered: number;
  /** Transitions in accepted POSTs. */
  notices: number;
  /** Attempts that failed, retried or not. */
  failures: number;
  /** Attempts that were retries. */
  retries: number;
  /** Transitions replaced, before they were sent, by a later transition of the same alert. */
  coalesced: number;
  /** Transitions lost: evicted from a full queue, or in an abandoned POST with nothing newer waiting. */
  dropped: number;
  /** POSTs abandoned after their last attempt or a final status. */
  gaveUp: number;
}

/** One URL's drop count, for the alerts.webhook_drops rule. */
export interface LaneDrops {
  /** "#<position in urls> <origin>": URLs often carry a token in the path, so only the origin shows. */
  key: string;
  dropped: number;
}

/** The latest transition of one alert waiting for one URL. */
interface Notice {
  t: AlertTransition;
  /** Earlier transitions of the alert this one replaced before they were sent. */
  superseded: number;
}

interface Lane {
  url: string;
  key: string;
  /** Alert id → its latest unsent transition; Map order is the order alerts started waiting. */
  waiting: Map<number, Notice>;
  /** Ids of alerts in a POST in flight or waiting to be retried. */
  sending: Set<number>;
  /** POSTs waiting out their back-off. */
  retrying: Post[];
  /** True from a retryable failure until a POST succeeds or is abandoned: no new POSTs then. */
  failing: boolean;
  dropped: number;
}

interface Post {
  id: string;
  lane: Lane;
  notices: Notice[];
  body: string;
  signature: string | undefined;
  /** Attempts made so far. */
  attempts: number;
  dueMs: number;
}

/** The delivery lanes and their worker; see the file comment. */
export class WebhookSender {
  readonly stats: WebhookStats = { delivered: 0, notices: 0, failures: 0, retries: 0, coalesced: 0, dropped: 0, gaveUp: 0 };
  private readonly opts: WebhookOptions;
  private readonly lanes: Lane[];
  private readonly inFlight = new Set<AbortController>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerDueMs = Infinity;
  private nextId = 1;
  private readonly idPrefix = randomBytes(4).toString("hex");
  private stopped = false;
  private pumpQueued = false;
  /** Evictions not yet logged: one log line per burst, not one per notice. */
  private readonly evictedUnlogged = new Map<Lane, number>();

  constructor(options: Partial<WebhookOptions> & Pick<WebhookOptions, "urls">, private readonly log?: Logger) {
    this.opts = { ...WEBHOOK_DEFAULTS, ...options };
    const o = this.opts;
    this.lanes = o.urls.map((url, i) => {
      const p = new URL(url).protocol;
      if (p !== "http:" && p !== "https:") throw new Error(`webhook URL ${url} must be http or https`);
      return { url, key: `#${i + 1} ${redact(url)}`.slice(0, 128), waiting: new Map(), sending: new Set(), retrying: [], failing: false, dropped: 0 };
    });
    if (!(o.maxQueue >= 1 && o.maxInFlight >= 1 && o.maxBatch >= 1 && o.retries >= 0)) throw new Error("webhook bounds must be positive");
    if (o.format !== "batch" && o.format !== "single") throw new Error(`webhook format must be batch or single, got ${o.format}`);
  }

  /** Alerts waiting over all URLs (each counted once per URL), not counting those in flight. */
  get queued(): number {
    let n = 0;
    for (const l of this.lanes) n += l.waiting.size;
    return n;
  }

  /** POSTs in flight now. */
  get active(): number {
    return this.inFlight.size;
  }

  /** Notices lost per URL since start, in the order of `urls`. */
  drops(): LaneDrops[] {
    return this.lanes.map((l) => ({ key: l.key, dropped: l.dropped }));
  }

  /**
   * Queues a transition for every URL, replacing a waiting transition of the same alert. POSTs
   * start once the current task ends, so the transitions of one evaluation share POSTs.
   */
  send(t: AlertTransition): void {
    if (this.stopped) return;
    for (const lane of this.lanes) this.enqueue(lane, t);
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /** Stops delivering: waiting notices are dropped (not counted) and attempts in flight are aborted. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const l of this.lanes) (l.waiting.clear(), (l.retrying.length = 0));
    for (const c of this.inFlight) c.abort();
  }

  private enqueue(lane: Lane, t: AlertTransition): void {
    const prev = lane.waiting.get(t.alert.id);
    if (prev) {
      // Map.set on an existing key keeps its place: the alert keeps its turn.
      lane.waiting.set(t.alert.id, { t, superseded: prev.superseded + 1 });
      this.stats.coalesced++;
      return;
    }
    if (lane.waiting.size >= this.opts.maxQueue) {
      const oldest = lane.waiting.keys().next().value!;
      lane.waiting.delete(oldest);
      this.lost(lane, 1);
      if (this.evictedUnlogged.size === 0) queueMicrotask(() => this.logEvictions());
      this.evictedUnlogged.set(lane, (this.evictedUnlogged.get(lane) ?? 0) + 1);
    }
    lane.waiting.set(t.alert.id, { t, superseded: 0 });
  }

  private lost(lane: Lane, n: number): void {
    this.stats.dropped += n;
    lane.dropped += n;
  }

  private logEvictions(): void {
    for (const [lane, n] of this.evictedUnlogged) {
      this.log?.error("webhook notices dropped: queue full", { url: lane.key, dropped: n, maxQueue: this.opts.maxQueue });
    }
    this.evictedUnlogged.clear();
  }

  /** Starts every POST the in-flight bound allows, one per lane in turn, then sleeps until a retry is due. */
  private pump(): void {
    if (this.stopped) return;
    const now = performance.now();
    for (let progress = true; progress && this.inFlight.size < this.opts.maxInFlight;) {
      progress = false;
      for (const lane of this.lanes) {
        if (this.inFlight.size >= this.opts.maxInFlight) break;
        const post = this.nextPost(lane, now);
        if (post) {
          void this.attempt(post);
          progress = true;
        }
      }
    }
    let nextDue = Infinity;
    for (const l of this.lanes) for (const p of l.retrying) nextDue = Math.min(nextDue, p.dueMs);
    if (nextDue === Infinity || nextDue >= this.timerDueMs) return;
    clearTimeout(this.timer);
    this.timerDueMs = nextDue;
    this.timer = setTimeout(() => {
      this.timerDueMs = Infinity;
      this.pump();
    }, Math.max(0, nextDue - now));
  }

  /** A due retry of the lane, else (unless its receiver is failing) a new POST of its oldest waiting alerts. */
  private nextPost(lane: Lane, now: number): Post | undefined {
    const due = lane.retrying.findIndex((p) => p.dueMs <= now);
    if (due >= 0) return lane.retrying.splice(due, 1)[0];
    if (lane.failing) return undefined;
    const notices: Notice[] = [];
    const max = this.opts.format === "single" ? 1 : this.opts.maxBatch;
    for (const [id, n] of lane.waiting) {
      if (lane.sending.has(id)) continue;
      notices.push(n);
      if (notices.length >= max) break;
    }
    if (notices.length === 0) return undefined;
    for (const n of notices) {
      lane.waiting.delete(n.t.alert.id);
      lane.sending.add(n.t.alert.id);
    }
    const items = notices.map((n) => ({ type: n.t.type, ts: n.t.ts, alert: n.t.alert, superseded: n.superseded }));
    const body = JSON.stringify(this.opts.format === "single" ? items[0] : { transitions: items });
    const signature = this.opts.secret === undefined ? undefined : `sha256=${createHmac("sha256", this.opts.secret).update(body).digest("hex")}`;
    return { id: `${this.idPrefix}-${this.nextId++}`, lane, notices, body, signature, attempts: 0, dueMs: now };
  }

  private async attempt(p: Post): Promise<void> {
    const ctl = new AbortController();
    this.inFlight.add(ctl);
    const timeout = setTimeout(() => ctl.abort(), this.opts.timeoutMs);
    if (p.attempts > 0) this.stats.retries++;
    p.attempts++;
    let retryable = true;
    let outcome = "delivered";
    try {
      const res = await fetch(p.lane.url, {
        method: "POST", body: p.body, signal: ctl.signal,
        headers: {
          "content-type": "application/json", "x-alluse-delivery": p.id, "x-alluse-attempt": String(p.attempts),
          ...(p.signature === undefined ? {} : { "x-alluse-signature": p.signature }),
        },
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) {
        outcome = `HTTP ${res.status}`;
        retryable = res.status === 408 || res.status === 429 || res.status >= 500;
      }
    } catch (err) {
      outcome = ctl.signal.aborted ? `timed out after ${this.opts.timeoutMs} ms` : String(err);
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(ctl);
    }
    if (this.stopped) return;
    if (outcome === "delivered") {
      this.stats.delivered++;
      this.stats.notices += p.notices.length;
      p.lane.failing = false;
      this.release(p);
    } else {
      this.stats.failures++;
      this.retryOrAbandon(p, retryable, outcome);
    }
    this.pump();
  }

  private retryOrAbandon(p: Post, retryable: boolean, outcome: string): void {
    if (retryable && p.attempts <= this.opts.retries) {
      p.dueMs = performance.now() + Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** (p.attempts - 1));
      p.lane.retrying.push(p);
      p.lane.failing = true;
      return;
    }
    this.stats.gaveUp++;
    p.lane.failing = p.lane.retrying.length > 0;
    this.release(p);
    // A notice whose alert has a newer one waiting is superseded, not lost: the receiver still gets the latest state.
    let lost = 0;
    for (const n of p.notices) if (p.lane.waiting.has(n.t.alert.id)) this.stats.coalesced++; else lost++;
    this.lost(p.lane, lost);
    this.log?.error("webhook POST abandoned: notices dropped", { url: p.lane.key, delivery: p.id, attempts: p.attempts, outcome, dropped: lost });
  }

  private release(p: Post): void {
    for (const n of p.notices) p.lane.sending.delete(n.t.alert.id);
  }
}

/** A URL for logs: webhook URLs often carry a token in the path or query, so only the origin is shown. */
function redact(url: string): string {
  return new URL(url).origin;
}
