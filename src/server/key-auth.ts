// API-key authentication for REST routes: the Bearer key is verified against the key store,
// checked for a scope, and charged to a per-key token bucket. One authenticator per route
// group, so each group's rate is its own.

import type { Context } from "hono";
import { hasScope, type ApiKey, type KeyScope, type KeyStore } from "../auth/keys.ts";
import { TokenBucket } from "./limits.ts";
import { errorResponse } from "./rest.ts";

/** What an authenticator needs. */
export interface KeyAuthOptions {
  keys: KeyStore;
  /** Requests per second per API key, and the burst allowed at once. */
  keyRatePerS: number;
  keyBurst: number;
}

/** Authenticates a request: its key (holding `scope` when given), or the 401/403/429 reply. */
export type Authenticate = (c: Context, scope?: KeyScope) => ApiKey | Response;

/**
 * Token buckets by API key id. A revoked key's bucket is dropped (revocations through the store
 * or seen by syncRevocations), so the map holds at most one bucket per live key that was used,
 * and live keys are bounded by maxLiveKeys; without the release it grew with every key ever used.
 */
export class KeyBuckets {
  private readonly buckets = new Map<string, TokenBucket>();
  /** Stops listening for revocations (for an owner that is stopped before its key store). */
  readonly stop: () => void;

  constructor(keys: KeyStore, private readonly ratePerS: number, private readonly burst: number) {
    this.stop = keys.onRevoke((id) => this.buckets.delete(id));
  }

  /** Takes a token from the key's bucket (made full on first use); false when it is empty. */
  take(keyId: string, nowMs = performance.now()): boolean {
    let bucket = this.buckets.get(keyId);
    if (!bucket) this.buckets.set(keyId, (bucket = new TokenBucket(this.ratePerS, this.burst, nowMs)));
    return bucket.take(nowMs);
  }

  /** Buckets held. */
  get size(): number {
    return this.buckets.size;
  }
}

/** Builds an authenticator with its own per-key buckets (one per live key used; see KeyBuckets). */
export function keyAuthenticator(o: KeyAuthOptions, buckets = new KeyBuckets(o.keys, o.keyRatePerS, o.keyBurst)): Authenticate {
  return (c, scope) => {
    const header = c.req.header("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
    const key = token ? o.keys.verify(token) : undefined;
    if (!key) {
      const r = errorResponse(401, "UNAUTHORIZED", token ? "the API key is not valid" : "send Authorization: Bearer <api key>");
      r.headers.set("WWW-Authenticate", 'Bearer realm="alluse-market"');
      return r;
    }
    if (scope && !hasScope(key, scope)) return errorResponse(403, "FORBIDDEN", `this API key has no ${scope} scope`);
    if (!buckets.take(key.id)) {
      return errorResponse(429, "RATE_LIMITED", `over ${o.keyRatePerS} requests/s for this API key (burst ${o.keyBurst})`);
    }
    return key;
  };
}

/** An integer query parameter from 0 to `max`, `fallback` when absent, or the 400 reply. */
export function intQuery(c: Context, name: string, fallback: number, max: number): number | Response {
  const raw = c.req.query(name);
  if (raw === undefined) return fallback;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) > max) return errorResponse(400, "BAD_REQUEST", `${name} must be an integer from 0 to ${max}`, name);
  return Number(raw);
}

/** The JSON body of a request (at most `maxBytes`), or the 413/400 reply. */
export async function jsonBody(c: Context, maxBytes: number): Promise<unknown | Response> {
  const text = await c.req.text();
  if (text.length > maxBytes) return errorResponse(413, "PAYLOAD_TOO_LARGE", `bodies are limited to ${maxBytes} bytes`);
  try {
    return JSON.parse(text);
  } catch {
    return errorResponse(400, "BAD_JSON", "the body is not valid JSON");
  }
}
