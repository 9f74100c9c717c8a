// Webhook delivery of alert transitions: one POST of JSON per transition per configured URL.
// A failed attempt (network error, timeout, 408, 429 or 5xx) is retried after an exponential
// back-off (backoffBaseMs × 2^(attempt−1), capped at backoffMaxMs), at most `retries` times;
// any other status is final. Deliveries wait in one bounded queue: when it is full the oldest
// waiting delivery is dropped and counted, because the newest state of an alert is the one an
// operator needs. Each delivery carries an id that stays the same across its retries, so a
// receiver can drop duplicates (a timed-out attempt may still have arrived); ids start with a
// random per-process prefix, so they do not repeat after a restart. With a secret configured,
// each body is signed (HMAC-SHA256) so a receiver can tell our POSTs from anyone else's.

import { createHmac, randomBytes } from "node:crypto";
import type { Logger } from "../log.ts";

/** Where and how hard to deliver. */
export interface WebhookOptions {
  urls: string[];
  /** Deliveries waiting (not in flight) at most; one transition makes one per URL. */
  maxQueue: number;
  /** Attempts after the first. */
  retries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Bound of one attempt, response included. */
  timeoutMs: number;
  /** Attempts in flight at once, over all URLs. */
  maxInFlight: number;
  /** Signs each body: x-alluse-signature = "sha256=" + hex HMAC-SHA256(secret, body). */
  secret?: string;
}

/** Defaults: 5 retries over ~15 s cover a receiver restart; 1,000 waiting deliveries are ~1 MB. */
export const WEBHOOK_DEFAULTS: Omit<WebhookOptions, "urls"> = {
  maxQueue: 1000, retries: 5, backoffBaseMs: 500, backoffMaxMs: 30_000, timeoutMs: 5000, maxInFlight: 4,
};

/** Counters for metrics and tests. */
export interface WebhookStats {
  /** Deliveries a receiver accepted (2xx). */
  delivered: number;
  /** Attempts that failed, retried or not. */
  failures: number;
  /** Attempts that were retries. */
  retries: number;
  /** Deliveries dropped from a full queue. */
  dropped: number;
  /** Deliveries abandoned after their last attempt or a final status. */
  gaveUp: number;
}

interface Delivery {
  id: string;
  url: string;
  body: string;
  signature: string | undefined;
  /** Attempts made so far. */
  attempts: number;
  dueMs: number;
}

/** The delivery queue and its worker; see the file comment. */
export class WebhookSender {
  readonly stats: WebhookStats = { delivered: 0, failures: 0, retries: 0, dropped: 0, gaveUp: 0 };
  private readonly opts: WebhookOptions;
  private readonly queue: Delivery[] = [];
  private readonly inFlight = new Set<AbortController>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerDueMs = Infinity;
  private nextId = 1;
  private readonly idPrefix = randomBytes(4).toString("hex");
  private stopped = false;

  constructor(options: Partial<WebhookOptions> & Pick<WebhookOptions, "urls">, private readonly log?: Logger) {
    this.opts = { ...WEBHOOK_DEFAULTS, ...options };
    for (const u of this.opts.urls) {
      const p = new URL(u).protocol;
      if (p !== "http:" && p !== "https:") throw new Error(`webhook URL ${u} must be http or https`);
    }
    if (!(this.opts.maxQueue >= 1 && this.opts.maxInFlight >= 1 && this.opts.retries >= 0)) throw new Error("webhook bounds must be positive");
  }

  /** Deliveries waiting, not counting those in flight. */
  get queued(): number {
    return this.queue.length;
  }

  /** Attempts in flight now. */
  get active(): number {
    return this.inFlight.size;
  }

  /** Queues one delivery of `payload` per URL. */
  send(payload: unknown): void {
    if (this.stopped || this.opts.urls.length === 0) return;
    const body = JSON.stringify(payload);
    const now = performance.now();
    const signature = this.opts.secret === undefined ? undefined : `sha256=${createHmac("sha256", this.opts.secret).update(body).digest("hex")}`;
    for (const url of this.opts.urls) this.enqueue({ id: `${this.idPrefix}-${this.nextId++}`, url, body, signature, attempts: 0, dueMs: now });
    this.pump();
  }

  /** Stops delivering: the queue is dropped (not counted) and attempts in flight are aborted. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.queue.length = 0;
    for (const c of this.inFlight) c.abort();
  }

  private enqueue(d: Delivery): void {
    if (this.queue.length >= this.opts.maxQueue) {
      this.stats.dropped++;
      const dropped = this.queue.shift()!;
      this.log?.warn("webhook delivery dropped: queue full", { url: redact(dropped.url), delivery: dropped.id, maxQueue: this.opts.maxQueue });
    }
    this.queue.push(d);
  }

  /** Starts every due delivery the in-flight bound allows, then sleeps until the next one is due. */
  private pump(): void {
    if (this.stopped) return;
    const now = performance.now();
    let nextDue = Infinity;
    for (let i = 0; i < this.queue.length && this.inFlight.size < this.opts.maxInFlight;) {
      const d = this.queue[i]!;
      if (d.dueMs <= now) {
        this.queue.splice(i, 1);
        void this.attempt(d);
      } else {
        nextDue = Math.min(nextDue, d.dueMs);
        i++;
      }
    }
    if (this.inFlight.size >= this.opts.maxInFlight) return; // a finishing attempt pumps again
    for (const d of this.queue) nextDue = Math.min(nextDue, d.dueMs);
    if (nextDue === Infinity || nextDue >= this.timerDueMs) return;
    clearTimeout(this.timer);
    this.timerDueMs = nextDue;
    this.timer = setTimeout(() => {
      this.timerDueMs = Infinity;
      this.pump();
    }, Math.max(0, nextDue - now));
  }

  private async attempt(d: Delivery): Promise<void> {
    const ctl = new AbortController();
    this.inFlight.add(ctl);
    const timeout = setTimeout(() => ctl.abort(), this.opts.timeoutMs);
    if (d.attempts > 0) this.stats.retries++;
    d.attempts++;
    let retryable = true;
    let outcome = "delivered";
    try {
      const res = await fetch(d.url, {
        method: "POST", body: d.body, signal: ctl.signal,
        headers: {
          "content-type": "application/json", "x-alluse-delivery": d.id, "x-alluse-attempt": String(d.attempts),
          ...(d.signature === undefined ? {} : { "x-alluse-signature": d.signature }),
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
    } else {
      this.stats.failures++;
      this.retryOrAbandon(d, retryable, outcome);
    }
    this.pump();
  }

  private retryOrAbandon(d: Delivery, retryable: boolean, outcome: string): void {
    if (retryable && d.attempts <= this.opts.retries) {
      d.dueMs = performance.now() + Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** (d.attempts - 1));
      this.enqueue(d);
      return;
    }
    this.stats.gaveUp++;
    this.log?.warn("webhook delivery abandoned", { url: redact(d.url), delivery: d.id, attempts: d.attempts, outcome });
  }
}

/** A URL for logs: webhook URLs often carry a token in the path or query, so only the origin is shown. */
function redact(url: string): string {
  return new URL(url).origin;
}
