// REST side of the fuzz campaign: every route that takes a body or changes something
// (POST / PATCH / DELETE), called with the right key, another scope, a bad key or none, with a
// valid body, a mutated one, random bytes, a wrong content type or a body past the 16 KiB bound,
// and with mutated path parameters.

import type { Rng } from "../../src/domain/random.ts";
import { jsonBody, type Bytes, mutateBytes, mutateStructure, oddValue, randomString, type FuzzWorld } from "./fuzz-gen.ts";

/** Keys the REST fuzzer authenticates with. */
export interface FuzzKeys {
  trade: string;
  admin: string;
  read: string;
  /** Ids of the keys above, never revoked by the fuzzer (it would lock itself out). */
  ownIds: Set<string>;
}

/** One generated request. */
export interface FuzzRequest {
  method: "POST" | "PATCH" | "DELETE";
  path: string;
  headers: Record<string, string>;
  body?: string | Bytes;
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)]!;
}

/** A path parameter: usually plausible, sometimes long, encoded, unicode or traversal-like. */
function param(rng: Rng, plausible: string): string {
  const r = rng.next();
  if (r < 0.7) return encodeURIComponent(plausible);
  if (r < 0.8) return encodeURIComponent(randomString(rng, 1 + rng.int(30)).toWellFormed());
  if (r < 0.85) return "x".repeat(5000);
  return pick(rng, ["%00", "..%2F..", "%E2%82", "-1", "0", "1e999", "NaN", "%25", "O", "O-1", "O99999999999999999999", "Gen-Acc%00"]);
}

function hex12(rng: Rng): string {
  let s = "";
  for (let i = 0; i < 12; i++) s += "0123456789abcdef"[rng.int(16)];
  return s;
}

/** A random request to one of the mutating routes. */
export function restRequest(rng: Rng, w: FuzzWorld, keys: FuzzKeys): FuzzRequest {
  const account = pick(rng, w.accounts);
  let method: FuzzRequest["method"], path: string, body: Record<string, unknown> | undefined, admin = false;
  switch (rng.int(10)) {
    case 0: case 1: case 2:
      method = "POST"; path = "/v1/orders";
      body = { account, clientOrderId: `r${rng.int(1e9)}`, symbol: pick(rng, w.symbols), side: pick(rng, ["buy", "sell"]), type: "limit", tif: "GTC", qty: 1 + rng.int(10), limitPrice: 50 + rng.int(40000) / 100 };
      break;
    case 3:
      method = "PATCH"; path = `/v1/orders/${param(rng, `O${1 + rng.int(2000)}`)}`; body = { qty: 1 + rng.int(20), limitPrice: 50 + rng.int(40000) / 100 };
      break;
    case 4:
      method = "DELETE"; path = `/v1/orders/${param(rng, `O${1 + rng.int(2000)}`)}`;
      break;
    case 5:
      method = "POST"; path = `/v1/alerts/${param(rng, String(1 + rng.int(50)))}/ack`; admin = true;
      break;
    case 6:
      method = "POST"; admin = true;
      if (rng.next() < 0.9) (path = "/v1/admin/risk/state", body = { account, state: pick(rng, ["active", "active", "reducing", "halted"]), reason: "fuzz" });
      else (path = "/v1/admin/risk/kill", body = { account, reason: "fuzz" });
      break;
    case 7:
      method = "PATCH"; admin = true; path = `/v1/admin/risk/limits/${param(rng, account)}`;
      body = { [pick(rng, ["maxQty", "priceBand", "maxOpenOrders", "submitRatePerS", "dailyLossHalt", "deltaBand"])]: rng.next() < 0.5 ? 1 + rng.int(1000) : rng.next() };
      break;
    case 8:
      method = "POST"; admin = true; path = "/v1/admin/keys"; body = { scopes: [pick(rng, ["read", "trade", "admin"])], accounts: [account], label: "fuzz" };
      break;
    default: {
      method = "DELETE"; admin = true;
      let id = hex12(rng);
      while (keys.ownIds.has(id)) id = hex12(rng);
      path = `/v1/admin/keys/${param(rng, id)}`;
    }
  }
  const headers: Record<string, string> = {};
  const k = rng.next();
  const right = admin ? keys.admin : keys.trade;
  if (k < 0.85) headers.authorization = `Bearer ${right}`;
  else if (k < 0.9) headers.authorization = `Bearer ${pick(rng, [keys.read, admin ? keys.trade : keys.admin])}`;
  else if (k < 0.95) headers.authorization = pick(rng, ["Bearer ", "Bearer ak_000000000000_x", "Basic Zm9vOmJhcg==", `Bearer ${right}x`, randomString(rng, 20).replace(/[^\x20-\x7e]/g, "")]);
  const c = rng.next();
  if (c < 0.9) headers["content-type"] = "application/json";
  else if (c < 0.95) headers["content-type"] = pick(rng, ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1"]);
  const out: FuzzRequest = { method, path, headers };
  const b = rng.next();
  if (!body && b < 0.7) return out;
  const valid = body ?? { x: 1 };
  if (b < 0.25) out.body = jsonBody(valid);
  else if (b < 0.6) out.body = jsonBody(mutateStructure(rng, valid));
  else if (b < 0.8) out.body = mutateBytes(rng, new TextEncoder().encode(jsonBody(valid)));
  else if (b < 0.87) out.body = Uint8Array.from({ length: rng.int(300) }, () => rng.int(256));
  else if (b < 0.92) out.body = jsonBody({ ...valid, pad: "x".repeat(17_000 + rng.int(50_000)) });
  else if (b < 0.96) out.body = "[".repeat(20_000) + "]".repeat(20_000);
  else out.body = jsonBody(oddValue(rng));
  return out;
}
