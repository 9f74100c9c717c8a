// Every bound the server enforces, their defaults with the arithmetic behind them, and the
// per-connection token bucket for inbound messages.

import { z } from "zod";

/** Bounds on connections, subscriptions, inbound traffic, outbound buffering and REST replies. */
export interface ServerLimits {
  /** Open WebSocket connections; one more is refused with HTTP 503 at the handshake. */
  maxConnections: number;
  /** Symbols one connection may hold; a subscribe past it fails with TOO_MANY_SUBSCRIPTIONS. */
  maxSubscriptionsPerClient: number;
  /** Largest inbound WebSocket frame; larger closes the connection with 1009. */
  maxPayloadBytes: number;
  /** Sustained inbound messages per second per connection (token refill rate). */
  inboundRatePerS: number;
  /** Token bucket size: messages accepted at once before the rate applies. */
  inboundBurst: number;
  /** Hard bound on a connection's unsent bytes: past it the connection is closed with 4008. */
  backpressureLimitBytes: number;
  /** Unsent bytes above which a connection is switched to conflated (latest-wins) delivery. */
  slowClientBytes: number;
  /** Longest a connection may stay in conflated delivery before it is closed with 4008. */
  slowClientTimeoutMs: number;
  /** Interval of heartbeat frames to every connection. */
  heartbeatMs: number;
  /** Most rows one REST reply carries. */
  maxRestRows: number;
}

/**
 * Defaults. Memory budget: 1 k clients within 250 MB, so per-connection buffering must stay
 * well under 1 MB. A quote frame is about 250 bytes, so 256 KiB holds ~1,000 frames (100 ms of
 * 10 symbols at 1 kHz each) before a client counts as slow; the 1 MiB hard bound is never reached
 * by a slow client in conflated mode, whose buffer only grows by catch-up frames sent while it
 * is below 256 KiB. 2,000 subscriptions cover a few full option chains; 64 KiB frames fit a
 * subscribe naming all 2,000 (about 25 bytes a symbol).
 */
export const DEFAULT_LIMITS: ServerLimits = {
  maxConnections: 1024,
  maxSubscriptionsPerClient: 2000,
  maxPayloadBytes: 64 * 1024,
  inboundRatePerS: 50,
  inboundBurst: 100,
  backpressureLimitBytes: 1024 * 1024,
  slowClientBytes: 256 * 1024,
  slowClientTimeoutMs: 5000,
  heartbeatMs: 2000,
  maxRestRows: 1000,
};

const positiveInt = z.number().int().positive();

/** The shape and per-field rules of ServerLimits; config.ts reuses it for overrides. */
export const limitsObject = z.object({
  maxConnections: positiveInt,
  maxSubscriptionsPerClient: positiveInt,
  maxPayloadBytes: positiveInt.min(256),
  inboundRatePerS: z.number().positive(),
  inboundBurst: positiveInt,
  backpressureLimitBytes: positiveInt,
  slowClientBytes: positiveInt,
  slowClientTimeoutMs: positiveInt,
  heartbeatMs: positiveInt.min(10),
  maxRestRows: positiveInt,
});

const limitsSchema = limitsObject.refine((l) => l.backpressureLimitBytes > l.slowClientBytes, {
  message: "backpressureLimitBytes must exceed slowClientBytes, or slow clients are dropped instead of conflated",
  path: ["backpressureLimitBytes"],
});

/** Merges overrides onto the defaults and validates; throws with the offending field on a bad value. */
export function resolveLimits(overrides: Partial<ServerLimits> = {}): ServerLimits {
  const merged = { ...DEFAULT_LIMITS, ...overrides };
  const r = limitsSchema.safeParse(merged);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new Error(`server limit ${issue.path.join(".")}: ${issue.message}`);
  }
  return r.data;
}

/** Token bucket over a monotonic millisecond clock; one token per inbound message. */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(private readonly ratePerS: number, private readonly burst: number, nowMs: number) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** Takes a token if one is available; returns false when the caller is over its rate. */
  take(nowMs: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.ratePerS) / 1000);
    this.lastMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * Counts rate-limited messages, leaking at the allowed rate. A client sending at up to twice its
 * rate is throttled indefinitely (half its messages pass); anything faster fills the counter and
 * is disconnected after a bounded number of refused messages.
 */
export class AbuseMeter {
  private level = 0;
  private lastMs: number;

  constructor(private readonly leakPerS: number, private readonly threshold: number, nowMs: number) {
    this.lastMs = nowMs;
  }

  /** Records one refused message; returns true once the threshold is exceeded. */
  strike(nowMs: number): boolean {
    this.level = Math.max(0, this.level - ((nowMs - this.lastMs) * this.leakPerS) / 1000) + 1;
    this.lastMs = nowMs;
    return this.level > this.threshold;
  }
}

/** Refused messages (net of the leak) after which a connection is closed with 4029, per unit of burst. */
export const ABUSE_BURSTS = 5;
