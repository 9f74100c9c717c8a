// Admin key management over the real REST API (Bun.serve on port 0, SQLite in a temp dir):
// list without secrets, create (the secret once), revoke — after which the key gets 401 on REST
// and its open WebSocket sessions are closed with 4001 — scopes, validation and bounds.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KeyStore } from "../../src/auth/keys.ts";
import { runKeysCli } from "../../src/auth/cli.ts";
import { ClientError, RestClient, TradingClient } from "../../src/client/index.ts";
import { keyRoutes } from "../../src/server/keys-routes.ts";
import { OrdersWs } from "../../src/server/orders-ws.ts";
import { orderRoutes, ORDER_ROUTE_DEFAULTS } from "../../src/server/orders.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { OmsHarness } from "../helpers/oms.ts";
import { TestSocket } from "../helpers/test-socket.ts";
import { waitFor } from "../helpers/wait.ts";
import { rejection } from "../helpers/client-error.ts";
import { keySecret } from "../helpers/keys.ts";

let h: OmsHarness;
let keys: KeyStore;
let server: RunningServer;
let adminKey: string;
let admin: RestClient, trader: RestClient;

beforeAll(async () => {
  h = await OmsHarness.start();
  h.quote("AAPL", 100, 1000, 100.02, 1000);
  keys = new KeyStore(h.store.db);
  server = await startServer(h.market.engine, {
    host: "127.0.0.1", port: 0,
    rest: { routes: [
      orderRoutes({ oms: h.oms, keys, maxRows: 50, ...ORDER_ROUTE_DEFAULTS }),
      keyRoutes({ keys, accountIds: () => h.oms.accountIds(), maxRows: 50, maxLiveKeys: 20, keyRatePerS: 1000, keyBurst: 2000 }),
    ] },
    ws: [(hub) => new OrdersWs(hub, h.oms, keys, { keyRatePerS: 1000, keyBurst: 2000 })],
  });
  adminKey = keys.create(["admin"], []).secret;
  admin = new RestClient(server.url, { key: adminKey });
  trader = new RestClient(server.url, { key: keys.create(["trade"], ["*"]).secret });
});
afterAll(async () => {
  await server.stop();
  await h.dispose();
});

describe("admin keys", () => {
  test("only an admin key may list, create or revoke; without a key it is 401", async () => {
    for (const p of [trader.listKeys(), trader.createKey({ scopes: ["read"] }), trader.revokeKey("000000000000")]) {
      expect(await rejection(p)).toMatchObject({ code: "FORBIDDEN", status: 403 });
    }
    expect(await rejection(new RestClient(server.url).listKeys())).toMatchObject({ code: "UNAUTHORIZED", status: 401 });
  });

  test("create returns the secret once; it works; the list never shows a secret or a hash", async () => {
    const before = keys.liveCount();
    const { key, secret } = await admin.createKey({ scopes: ["trade"], accounts: ["Gen-Acc"], label: "strategy 1" });
    expect(key).toMatchObject({ scopes: ["trade"], accounts: ["Gen-Acc"], label: "strategy 1", revokedTs: null });
    expect(secret.startsWith(`ak_${key.id}_`)).toBe(true);
    expect(keys.liveCount()).toBe(before + 1);
    expect((await new RestClient(server.url, { key: secret }).accounts()).map((a) => a.id)).toEqual(["Gen-Acc"]);
    const listed = await admin.listKeys();
    expect(listed.keys.find((k) => k.id === key.id)).toEqual(key);
    const hash = (h.store.db.query("SELECT hash FROM api_keys WHERE id = ?").get(key.id) as { hash: string }).hash;
    const text = JSON.stringify(listed);
    expect(text).not.toContain(keySecret(secret));
    expect(text).not.toContain(hash);
    expect(Object.keys(listed.keys[0]!).sort()).toEqual(["accounts", "createdTs", "id", "label", "revokedTs", "scopes"]);
  });

  test("a create without accounts may act on all; bad scopes, accounts, fields and bodies are 400 naming the field", async () => {
    expect((await admin.createKey({ scopes: ["read"] })).key.accounts).toEqual(["*"]);
    const bad = async (body: unknown) => rejection(admin.send("POST", "/v1/admin/keys", body));
    expect(await bad({ scopes: ["root"] })).toMatchObject({ code: "BAD_REQUEST", field: "scopes[0]", status: 400 });
    expect(await bad({ scopes: [] })).toMatchObject({ code: "BAD_REQUEST", field: "scopes" });
    expect(await bad({ scopes: ["trade"], accounts: ["Gen-Acc", "Nope"] })).toMatchObject({ code: "UNKNOWN_ACCOUNT", field: "accounts[1]" });
    expect(await bad({ scopes: ["trade"], secret: "mine" })).toMatchObject({ code: "BAD_REQUEST", field: "secret" });
    expect(await bad({ scopes: ["trade"], label: "x".repeat(101) })).toMatchObject({ code: "BAD_REQUEST", field: "label" });
    expect(await bad("not json")).toMatchObject({ code: "BAD_REQUEST" });
    const raw = await fetch(`${server.url}/v1/admin/keys`, { method: "POST", headers: { authorization: `Bearer ${adminKey}` }, body: "{" });
    expect(((await raw.json()) as { error: { code: string } }).error.code).toBe("BAD_JSON");
  });

  test("the list pages, bounded by maxRows; live keys are bounded by maxLiveKeys", async () => {
    const page = await admin.listKeys({ limit: 2 });
    expect(page.keys).toHaveLength(2);
    expect(page).toMatchObject({ offset: 0, next: 2 });
    expect(await rejection(admin.listKeys({ limit: 51 }))).toMatchObject({ code: "BAD_REQUEST", field: "limit" });
    const filler: string[] = [];
    while (keys.liveCount() < 20) filler.push((await admin.createKey({ scopes: ["read"] })).key.id);
    expect(await rejection(admin.createKey({ scopes: ["read"] }))).toMatchObject({ code: "TOO_MANY_KEYS", status: 409 });
    await admin.revokeKey(filler.pop()!);
    const again = await admin.createKey({ scopes: ["read"] });
    expect(again.key.revokedTs).toBeNull();
    for (const id of [...filler, again.key.id]) await admin.revokeKey(id);
  });

  test("revoke: REST gets 401 at once, open WebSocket sessions are closed with 4001, revoking again is the same answer", async () => {
    const { key, secret } = await admin.createKey({ scopes: ["trade"], accounts: ["*"] });
    const rest = new RestClient(server.url, { key: secret });
    expect((await rest.accounts()).length).toBe(3);
    await using raw = await TestSocket.open(server.wsUrl);
    raw.send({ op: "auth", id: 1, key: secret });
    await raw.next((f) => f.t === "authed");
    const client = await TradingClient.connect(server.wsUrl, { key: secret, reconnect: { initialDelayMs: 10 } });
    const errors: ClientError[] = [];
    client.market.onError((e) => errors.push(e));
    await client.watch(["Gen-Acc"]);

    const revoked = await admin.revokeKey(key.id);
    expect(revoked.revokedTs).toBeGreaterThan(0);
    expect(await rejection(rest.accounts())).toMatchObject({ code: "UNAUTHORIZED", status: 401 });
    expect(await raw.closed()).toEqual({ code: 4001, reason: "API key revoked" });
    await waitFor(() => client.market.state === "closed", 5000, "the trading client to stop");
    expect(errors.map((e) => e.code)).toEqual(["UNAUTHORIZED"]);
    expect(await rejection(client.placeOrder({ account: "Gen-Acc", symbol: "AAPL", side: "buy", type: "market", qty: 1 })))
      .toMatchObject({ code: "CLOSED" });
    expect(await rejection(TradingClient.connect(server.wsUrl, { key: secret, reconnect: false }))).toMatchObject({ code: "UNAUTHORIZED" });
    expect(await admin.revokeKey(key.id)).toEqual(revoked);
    expect(await rejection(admin.revokeKey("ffffffffffff"))).toMatchObject({ code: "NOT_FOUND", field: "id", status: 404 });
  });

  test("admin requests are rate limited per key", async () => {
    await using small = await startServer(h.market.engine, {
      host: "127.0.0.1", port: 0, rest: { routes: [keyRoutes({ keys, accountIds: () => [], maxRows: 50, keyRatePerS: 0.001, keyBurst: 3 })] },
    }).then((s) => Object.assign(s, { [Symbol.asyncDispose]: () => s.stop() }));
    const c = new RestClient(small.url, { key: adminKey });
    for (let i = 0; i < 3; i++) await c.listKeys({ limit: 1 });
    expect(await rejection(c.listKeys({ limit: 1 }))).toMatchObject({ code: "RATE_LIMITED", status: 429 });
  });

  test("a key revoked with the CLI, from another connection to the database, is cut off at the next sync", async () => {
    const { key, secret } = await admin.createKey({ scopes: ["trade"] });
    const rest = new RestClient(server.url, { key: secret });
    expect((await rest.accounts()).length).toBe(3);
    await using ws = await TestSocket.open(server.wsUrl);
    ws.send({ op: "auth", id: 1, key: secret });
    await ws.next((f) => f.t === "authed");
    const out: string[] = [];
    expect(await runKeysCli(["revoke", key.id, "--data-dir", h.dir], (s) => out.push(s), (s) => out.push(s))).toBe(0);
    expect(out.join("")).toContain(`revoked ${key.id}`);
    expect(keys.syncRevocations()).toBe(1);
    expect(await rejection(rest.accounts())).toMatchObject({ code: "UNAUTHORIZED" });
    expect((await ws.closed()).code).toBe(4001);
    expect(keys.syncRevocations()).toBe(0);
    expect((await admin.listKeys()).keys.find((k) => k.id === key.id)!.revokedTs).toBeGreaterThan(0);
  });

  test("a session of another key stays open when one key is revoked", async () => {
    const a = await admin.createKey({ scopes: ["trade"] });
    const b = await admin.createKey({ scopes: ["trade"] });
    await using keep = await TradingClient.connect(server.wsUrl, { key: b.secret });
    await using gone = await TestSocket.open(server.wsUrl);
    gone.send({ op: "auth", id: 1, key: a.secret });
    await gone.next((f) => f.t === "authed");
    await admin.revokeKey(a.key.id);
    expect((await gone.closed()).code).toBe(4001);
    const placed = await keep.placeOrder({ account: "Rev-Acc", symbol: "AAPL", side: "buy", type: "market", qty: 1 });
    expect(placed.status).toBe("filled");
  });
});
