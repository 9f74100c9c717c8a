// Admin routes for API keys: the same operations as the `keys` CLI (src/auth/cli.ts) over REST,
// for an admin key. A key's secret is returned once, by the create reply; lists show ids,
// scopes and accounts, never the secret or its hash. Revoking takes effect at once for REST
// (the key store forgets its cached record) and for WebSocket sessions (OrdersWs hears of it
// and closes the key's connections with 4001).
//
//   GET    /v1/admin/keys?offset=&limit=     {"keys":[KeyInfo…], total, offset, next}
//   POST   /v1/admin/keys                    {"scopes":["trade"],"accounts":["Gen-Acc"],"label":"…"} → 201 {"key":KeyInfo,"secret":"ak_…"}
//   DELETE /v1/admin/keys/:id                {"key":KeyInfo} with revokedTs set (again: the same reply)

import type { Context, Hono } from "hono";
import { z } from "zod";
import { KEY_SCOPES, type ApiKey, type KeyScope, type KeyStore } from "../auth/keys.ts";
import { parseBody } from "../oms/validate.ts";
import { intQuery, jsonBody, keyAuthenticator } from "./key-auth.ts";
import { errorResponse } from "./rest.ts";
import type { RestErrorCode } from "../client/protocol.ts";
import { pageFields } from "../client/protocol-schemas.ts";
import type { RouteDoc } from "./openapi-registry.ts";

/** A key as the admin routes show it: never the secret or its hash. */
export interface KeyInfo {
  id: string;
  scopes: KeyScope[];
  accounts: string[];
  label: string;
  createdTs: number;
  revokedTs: number | null;
}

/** What the key routes need. */
export interface KeyRoutesDeps {
  keys: KeyStore;
  /** Accounts a key may name (besides "*"). */
  accountIds: () => string[];
  /** Most rows in one list reply. */
  maxRows: number;
  /** Most live keys; creating one more is refused with 409 TOO_MANY_KEYS. */
  maxLiveKeys?: number;
  /** Admin requests per second per key, and the burst. */
  keyRatePerS?: number;
  keyBurst?: number;
}

/**
 * Defaults: the key store caches up to 10,000 records, so more live keys than that would make
 * verification hit the database; 20 admin requests/s is far above any operator's needs.
 */
export const KEY_ROUTE_DEFAULTS = { maxLiveKeys: 10_000, keyRatePerS: 20, keyBurst: 40 };

const createSchema = z.strictObject({
  scopes: z.array(z.enum(KEY_SCOPES as [KeyScope, ...KeyScope[]])).min(1).max(KEY_SCOPES.length),
  accounts: z.array(z.string().min(1).max(32)).min(1).max(64).optional(),
  label: z.string().max(100).regex(/^[^\u0000-\u001f]*$/, "may not hold control characters").optional(),
});

/** Encodes a key record for the admin routes. */
export function keyInfo(k: ApiKey): KeyInfo {
  return { id: k.id, scopes: k.scopes, accounts: k.accounts, label: k.label, createdTs: k.createdTs, revokedTs: k.revokedTs ?? null };
}

/** Adds the /v1/admin/keys routes. */
export function keyRoutes(deps: KeyRoutesDeps): (app: Hono) => void {
  const o = { ...KEY_ROUTE_DEFAULTS, ...deps };
  const auth = keyAuthenticator(o);
  const admin = (c: Context) => auth(c, "admin");

  return (app) => {
    app.get("/v1/admin/keys", (c) => {
      const key = admin(c);
      if (key instanceof Response) return key;
      const limit = intQuery(c, "limit", o.maxRows, o.maxRows);
      if (limit instanceof Response) return limit;
      const offset = intQuery(c, "offset", 0, 1e9);
      if (offset instanceof Response) return offset;
      const all = o.keys.list();
      const items = all.slice(offset, offset + limit).map(keyInfo);
      return c.json({ keys: items, total: all.length, offset, next: offset + items.length < all.length ? offset + items.length : null });
    });

    app.post("/v1/admin/keys", async (c) => {
      const key = admin(c);
      if (key instanceof Response) return key;
      const raw = await jsonBody(c, 16 * 1024);
      if (raw instanceof Response) return raw;
      const parsed = parseBody(createSchema, raw);
      if (!parsed.ok) return errorResponse(parsed.error.status, parsed.error.code as RestErrorCode, parsed.error.message, parsed.error.field);
      const { scopes, accounts = ["*"], label = "" } = parsed.value;
      const known = new Set(o.accountIds());
      const bad = accounts.findIndex((a) => a !== "*" && !known.has(a));
      if (bad >= 0) return errorResponse(400, "UNKNOWN_ACCOUNT", `no account ${JSON.stringify(accounts[bad])} is configured`, `accounts[${bad}]`);
      if (o.keys.liveCount() >= o.maxLiveKeys) {
        return errorResponse(409, "TOO_MANY_KEYS", `${o.maxLiveKeys} keys are live, the limit; revoke one first`);
      }
      const created = o.keys.create(scopes, accounts, label);
      return c.json({ key: keyInfo(created.key), secret: created.secret }, 201);
    });

    app.delete("/v1/admin/keys/:id", (c) => {
      const key = admin(c);
      if (key instanceof Response) return key;
      const id = c.req.param("id");
      if (!o.keys.get(id)) return errorResponse(404, "NOT_FOUND", `no key ${id}`, "id");
      o.keys.revoke(id);
      return c.json({ key: keyInfo(o.keys.get(id)!) });
    });
  };
}

/** A key as the admin routes show it. */
const keyInfoSchema = z.object({
  id: z.string(), scopes: z.array(z.enum(KEY_SCOPES as [KeyScope, ...KeyScope[]])), accounts: z.array(z.string()), label: z.string(),
  createdTs: z.number(), revokedTs: z.number().nullable(),
}).meta({ id: "KeyInfo" });

/** The routes of this file, for the OpenAPI document. */
export const keyRouteDocs: RouteDoc[] = [
  { method: "get", path: "/v1/admin/keys", tag: "keys", auth: "admin", summary: "API keys, one page (never their secrets)",
    query: z.object({ limit: z.number().int().min(0).optional(), offset: z.number().int().min(0).optional() }),
    replies: { 200: { description: "One page of keys", schema: z.object({ keys: z.array(keyInfoSchema), ...pageFields }) } }, errors: { 400: ["BAD_REQUEST"] } },
  { method: "post", path: "/v1/admin/keys", tag: "keys", auth: "admin", summary: "Create a key; its secret is in this reply only", body: createSchema,
    replies: { 201: { description: "The key and its secret", schema: z.object({ key: keyInfoSchema, secret: z.string() }) } },
    errors: { 400: ["UNKNOWN_ACCOUNT"], 409: ["TOO_MANY_KEYS"] } },
  { method: "delete", path: "/v1/admin/keys/:id", tag: "keys", auth: "admin", summary: "Revoke a key (again: the same reply)",
    params: z.object({ id: z.string().describe("The key id") }),
    replies: { 200: { description: "The key with revokedTs set", schema: z.object({ key: keyInfoSchema }) } }, errors: { 404: ["NOT_FOUND"] } },
];

// Compile-time: the documented key is exactly KeyInfo.
const _keyInfoMatches: [z.infer<typeof keyInfoSchema>] extends [KeyInfo] ? ([KeyInfo] extends [z.infer<typeof keyInfoSchema>] ? true : false) : false = true;
void _keyInfoMatches;
