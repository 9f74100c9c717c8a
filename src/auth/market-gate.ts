// Who may read market data. "open": everyone; "loopback" (default): clients on this host
// without a key, everyone else with a key of scope read (or trade / admin); "key": everyone
// with a key. REST sends the key as a bearer header; a WebSocket sends it as the upgrade
// request's Authorization header or, from a browser that cannot set headers, as the first
// message ({"op":"auth","key":…}), and may not subscribe before. Order routes are not
// governed here: they always need a trade key.

import type { MiddlewareHandler } from "hono";
import type { KeyStore } from "./keys.ts";
import { hasScope } from "./keys.ts";

/** Market-data access modes. */
export type MarketDataAccess = "open" | "loopback" | "key";

/** REST paths that serve market data. */
const MARKET_DATA = /^\/v1\/(instruments|quotes|bars|analytics|greeks|chains)(\/|$)/;

/** True for an address on this host (IPv4 127/8, IPv6 ::1, and IPv4-mapped 127/8). */
export function isLoopback(ip: string | undefined): boolean {
  if (!ip) return false;
  return ip === "::1" || ip.startsWith("127.") || ip.startsWith("::ffff:127.");
}

/** The environment the server hands to hono: the client's address. */
export interface ClientEnv {
  clientIp?: string;
}

/** Why a request for market data is refused, or undefined when it may proceed. */
export function marketDataRefusal(mode: MarketDataAccess, keys: KeyStore, ip: string | undefined, authorization: string | null):
  { status: 401 | 403; message: string } | undefined {
  if (mode === "open" || (mode === "loopback" && isLoopback(ip))) return undefined;
  const token = authorization?.startsWith("Bearer ") ? authorization.slice(7).trim() : "";
  if (!token) return { status: 401, message: "market data needs an API key from this address: send Authorization: Bearer <key>" };
  const key = keys.verify(token);
  if (!key) return { status: 401, message: "the API key is not valid" };
  if (!hasScope(key, "read") && !hasScope(key, "trade")) return { status: 403, message: "this API key may not read market data" };
  return undefined;
}

/** Hono middleware refusing market-data routes to clients without the access the mode asks. */
export function marketDataMiddleware(mode: MarketDataAccess, keys: KeyStore): MiddlewareHandler {
  return async (c, next) => {
    if (mode === "open" || !MARKET_DATA.test(c.req.path)) return next();
    const refusal = marketDataRefusal(mode, keys, (c.env as ClientEnv | undefined)?.clientIp, c.req.header("authorization") ?? null);
    if (!refusal) return next();
    const code = refusal.status === 401 ? "UNAUTHORIZED" : "FORBIDDEN";
    const r = Response.json({ error: { code, message: refusal.message } }, { status: refusal.status });
    if (refusal.status === 401) r.headers.set("WWW-Authenticate", 'Bearer realm="alluse-market"');
    return r;
  };
}
