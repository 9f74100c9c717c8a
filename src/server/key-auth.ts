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

/** Builds an authenticator with its own per-key buckets (bounded by the keys that exist). */
export function keyAuthenticator(o: KeyAuthOptions): Authenticate {
  const buckets = new Map<string, TokenBucket>();
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
    let bucket = buckets.get(key.id);
    if (!bucket) buckets.set(key.id, (bucket = new TokenBucket(o.keyRatePerS, o.keyBurst, performance.now())));
    if (!bucket.take(performance.now())) {
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
