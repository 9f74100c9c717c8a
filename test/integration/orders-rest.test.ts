// The order and account REST API over a real Bun.serve on port 0, a real SQLite file and the
// paper broker: authentication and scopes, placing, idempotency, modify, cancel, lists,
// accounts, positions, fills, per-key rate limits, body limits, and the keys CLI.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeyStore } from "../../src/auth/keys.ts";
import { openDatabase } from "../../src/store/db.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { orderRoutes, ORDER_ROUTE_DEFAULTS } from "../../src/server/orders.ts";
import type { OrderView } from "../../src/client/protocol.ts";
import { OmsHarness } from "../helpers/oms.ts";
import { keySecret } from "../helpers/keys.ts";

let h: OmsHarness;
let server: RunningServer;
let keys: KeyStore;
let trade: string, genOnly: string, readOnly: string, admin: string, limited: string;

beforeAll(async () => {
  h = await OmsHarness.start();
  h.quote("AAPL", 100, 1000, 100.02, 1000);
  keys = new KeyStore(h.store.db);
  trade = keys.create(["trade"], ["*"]).secret;
  genOnly = keys.create(["trade"], ["Gen-Acc"]).secret;
  readOnly = keys.create(["read"], []).secret;
  admin = keys.create(["admin"], []).secret;
  limited = keys.create(["trade"], ["*"]).secret;
  const routes = orderRoutes({ oms: h.oms, keys, maxRows: 50, ...ORDER_ROUTE_DEFAULTS });
  server = await startServer(h.market.engine, { host: "127.0.0.1", port: 0, rest: { routes: [routes] } });
});
afterAll(async () => {
  await server.stop();
  await h.dispose();
});

let n = 0;
const order = (o: Record<string, unknown> = {}) => ({ account: "Gen-Acc", clientOrderId: `r${++n}`, symbol: "AAPL", side: "buy", type: "market", qty: 10, ...o });
async function call(method: string, path: string, key: string | undefined, body?: unknown): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${server.url}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

describe("authentication", () => {
  test("no key, a wrong key, a read key and another account's key change nothing", async () => {
    const before = h.store.journal.appendedSeq;
    expect(await call("POST", "/v1/orders", undefined, order())).toMatchObject({ status: 401, json: { error: { code: "UNAUTHORIZED" } } });
    expect((await call("POST", "/v1/orders", `ak_000000000000_${"x".repeat(43)}`, order())).status).toBe(401);
    expect((await call("POST", "/v1/orders", trade.slice(0, -1) + (trade.endsWith("A") ? "B" : "A"), order())).status).toBe(401);
    expect(await call("POST", "/v1/orders", readOnly, order())).toMatchObject({ status: 403, json: { error: { code: "FORBIDDEN" } } });
    expect(await call("POST", "/v1/orders", genOnly, order({ account: "Rev-Acc" }))).toMatchObject({ status: 403, json: { error: { field: "account" } } });
    expect((await call("GET", "/v1/accounts/Rev-Acc", genOnly)).status).toBe(404);
    expect(h.store.journal.appendedSeq).toBe(before);
  });

  test("a read key (market data, every account) sees no order or account data: 403 on every route", async () => {
    const placed = (await call("POST", "/v1/orders", trade, order({ type: "limit", limitPrice: 90, tif: "GTC" }))).json as OrderView;
    // The read key is for all accounts ("*"), so only the trade-scope check stands between it
    // and every account's orders.
    const before = h.store.journal.appendedSeq;
    const routes: [string, string, unknown?][] = [
      ["GET", "/v1/orders"], ["GET", "/v1/orders?account=Gen-Acc"], ["GET", `/v1/orders/${placed.id}`],
      ["PATCH", `/v1/orders/${placed.id}`, { qty: 5 }], ["DELETE", `/v1/orders/${placed.id}`],
      ["GET", "/v1/accounts"], ["GET", "/v1/accounts/Gen-Acc"], ["GET", "/v1/accounts/Gen-Acc/positions"], ["GET", "/v1/accounts/Gen-Acc/fills"],
    ];
    for (const [method, path, body] of routes) {
      const r = await call(method, path, readOnly, body);
      expect({ method, path, status: r.status, code: r.json.error?.code }).toEqual({ method, path, status: 403, code: "FORBIDDEN" });
      expect(JSON.stringify(r.json)).not.toContain(placed.id);
    }
    expect(h.store.journal.appendedSeq).toBe(before);
    expect((await call("GET", `/v1/orders/${placed.id}`, trade)).json).toMatchObject({ status: "accepted", qty: 10 });
    await call("DELETE", `/v1/orders/${placed.id}`, trade);
  });

  test("a revoked key stops working", async () => {
    const { secret, key } = keys.create(["trade"], ["*"]);
    expect((await call("GET", "/v1/accounts", secret)).status).toBe(200);
    keys.revoke(key.id);
    expect((await call("GET", "/v1/accounts", secret)).status).toBe(401);
  });

  test("keys are stored hashed: the secret is nowhere in the database", () => {
    const secret = keySecret(trade);
    expect(secret.length).toBe(43);
    const rows = h.store.db.query("SELECT * FROM api_keys").all() as Record<string, unknown>[];
    expect(JSON.stringify(rows)).not.toContain(secret);
    expect(rows.length).toBeGreaterThanOrEqual(5);
  });
});

describe("orders", () => {
  test("place a market order: 201 and filled; the same request again: 200 and the same order; other terms: 409", async () => {
    const body = order({ qty: 100 });
    const first = await call("POST", "/v1/orders", trade, body);
    expect(first.status).toBe(201);
    expect(first.json as OrderView).toMatchObject({ status: "filled", filledQty: 100, avgFillPrice: 100.02, account: "Gen-Acc", limitPrice: null });
    const again = await call("POST", "/v1/orders", trade, body);
    expect(again).toMatchObject({ status: 200, json: { id: first.json.id } });
    expect(await call("POST", "/v1/orders", trade, { ...body, qty: 5 })).toMatchObject({ status: 409, json: { error: { code: "DUPLICATE_CLIENT_ORDER_ID", field: "clientOrderId" } } });
  });

  test("bad input: invalid JSON, a wrong field, a price off the tick; each names the problem", async () => {
    expect(await call("POST", "/v1/orders", trade, "{nope")).toMatchObject({ status: 400, json: { error: { code: "BAD_JSON" } } });
    expect(await call("POST", "/v1/orders", trade, order({ side: "long" }))).toMatchObject({ status: 400, json: { error: { code: "BAD_REQUEST", field: "side" } } });
    expect(await call("POST", "/v1/orders", trade, order({ type: "limit", limitPrice: 100.001 }))).toMatchObject({ status: 400, json: { error: { code: "PRICE_OFF_TICK", field: "limitPrice" } } });
    expect(await call("POST", "/v1/orders", trade, "x".repeat(20_000))).toMatchObject({ status: 413, json: { error: { code: "PAYLOAD_TOO_LARGE" } } });
  });

  test("prices below one tick (1e-320 rounds to 0) and odd quantities are refused and change nothing", async () => {
    const before = h.store.journal.appendedSeq;
    const refused = (body: unknown, code: string, field: string) => ({ status: 400, json: { error: { code, field } } });
    // Sent as raw JSON so the literal is exactly what a client would send.
    const raw = (o: Record<string, unknown>, extra: string) => JSON.stringify(order(o)).slice(0, -1) + "," + extra + "}";
    expect(await call("POST", "/v1/orders", trade, raw({ type: "limit" }, '"limitPrice":1e-320'))).toMatchObject(refused(0, "PRICE_OFF_TICK", "limitPrice"));
    expect(await call("POST", "/v1/orders", trade, raw({ type: "stop" }, '"stopPrice":1e-320'))).toMatchObject(refused(0, "PRICE_OFF_TICK", "stopPrice"));
    for (const p of [Number.MIN_VALUE, 4e-9, 0.004]) {
      expect(await call("POST", "/v1/orders", trade, order({ type: "limit", limitPrice: p }))).toMatchObject(refused(0, "PRICE_OFF_TICK", "limitPrice"));
    }
    for (const qty of [1e-320, 0.5, -0, -3, 1e300, 2 ** 53 + 2]) {
      expect(await call("POST", "/v1/orders", trade, order({ qty }))).toMatchObject(refused(0, "BAD_QUANTITY", "qty"));
    }
    expect(h.store.journal.appendedSeq).toBe(before);
    const resting = (await call("POST", "/v1/orders", trade, order({ type: "limit", limitPrice: 0.01, tif: "GTC" }))).json as OrderView;
    expect(resting).toMatchObject({ status: "accepted", limitPrice: 0.01 });
    const after = h.store.journal.appendedSeq;
    expect(await call("PATCH", `/v1/orders/${resting.id}`, trade, '{"limitPrice":1e-320}')).toMatchObject(refused(0, "PRICE_OFF_TICK", "limitPrice"));
    expect(await call("PATCH", `/v1/orders/${resting.id}`, trade, { qty: 1e-320 })).toMatchObject(refused(0, "BAD_QUANTITY", "qty"));
    expect(h.store.journal.appendedSeq).toBe(after);
    expect((await call("GET", `/v1/orders/${resting.id}`, trade)).json).toMatchObject({ limitPrice: 0.01, qty: 10 });
    await call("DELETE", `/v1/orders/${resting.id}`, trade);
  });

  test("get, list, modify and cancel a resting limit", async () => {
    const placed = (await call("POST", "/v1/orders", trade, order({ type: "limit", limitPrice: 95, tif: "GTC" }))).json as OrderView;
    expect(placed.status).toBe("accepted");
    expect(await call("GET", `/v1/orders/${placed.id}`, trade)).toMatchObject({ status: 200, json: { id: placed.id, limitPrice: 95 } });
    const withEvents = await call("GET", `/v1/orders/${placed.id}?events=true`, trade);
    expect(withEvents.json.events.map((e: { kind: string }) => e.kind)).toEqual(["submitted", "accepted"]);
    const open = await call("GET", "/v1/orders?account=Gen-Acc&open=true", trade);
    expect(open.json.orders.map((o: OrderView) => o.id)).toContain(placed.id);
    expect(await call("PATCH", `/v1/orders/${placed.id}`, trade, { limitPrice: 96, qty: 20 })).toMatchObject({ status: 200, json: { limitPrice: 96, qty: 20, status: "accepted" } });
    expect(await call("PATCH", `/v1/orders/${placed.id}`, trade, { price: 96 })).toMatchObject({ status: 400, json: { error: { field: "price" } } });
    expect(await call("DELETE", `/v1/orders/${placed.id}`, trade)).toMatchObject({ status: 200, json: { status: "canceled" } });
    expect(await call("DELETE", `/v1/orders/${placed.id}`, trade)).toMatchObject({ status: 409, json: { error: { code: "ORDER_NOT_CANCELABLE" } } });
    expect(await call("PATCH", `/v1/orders/${placed.id}`, trade, { qty: 5 })).toMatchObject({ status: 409, json: { error: { code: "ORDER_NOT_MODIFIABLE" } } });
    expect((await call("GET", "/v1/orders/O99999", trade)).status).toBe(404);
    expect(await call("GET", "/v1/orders?status=bogus", trade)).toMatchObject({ status: 400, json: { error: { field: "status" } } });
    expect(await call("GET", "/v1/orders", genOnly)).toMatchObject({ status: 400, json: { error: { field: "account" } } });
  });

  test("list pages are bounded by maxRows", async () => {
    const r = await call("GET", "/v1/orders?limit=51", admin);
    expect(r).toMatchObject({ status: 400, json: { error: { field: "limit" } } });
    expect((await call("GET", "/v1/orders?limit=1", admin)).json.orders.length).toBe(1);
  });
});

describe("IBKR order fields and exchange hours", () => {
  test("outsideRth and triggerMethod round-trip; an order placed after the close shows why it waits, in its reason and its events", async () => {
    const stop = await call("POST", "/v1/orders", trade, order({ type: "stop_limit", stopPrice: 120, limitPrice: 121, tif: "GTC", outsideRth: true }));
    expect(stop).toMatchObject({ status: 201, json: { outsideRth: true, triggerMethod: "last", status: "accepted" } });
    expect(await call("POST", "/v1/orders", trade, order({ type: "limit", limitPrice: 99, triggerMethod: "last" })))
      .toMatchObject({ status: 400, json: { error: { code: "BAD_REQUEST", field: "triggerMethod" } } });
    const saved = h.clock.now;
    h.clock.now = Date.parse("2026-11-23T22:00:00Z"); // Monday 17:00 New York: closed
    try {
      h.quote("AAPL", 100, 1000, 100.02, 1000);
      const placed = await call("POST", "/v1/orders", trade, order());
      expect(placed).toMatchObject({ status: 201, json: { status: "accepted", filledQty: 0,
        reason: "held until the regular session opens at 2026-11-24 09:30 America/New_York" } });
      const { json } = await call("GET", `/v1/orders/${placed.json.id}?events=true`, trade);
      expect(json.events.find((e: { kind: string }) => e.kind === "held")).toMatchObject({
        status: "accepted", detail: { untilTs: Date.parse("2026-11-24T14:30:00Z") } });
    } finally {
      h.clock.now = saved;
    }
  });
});

describe("accounts", () => {
  test("accounts, positions and fills, scoped to the key", async () => {
    await call("POST", "/v1/orders", trade, order({ account: "Com-Acc", qty: 7 }));
    const all = await call("GET", "/v1/accounts", trade);
    expect(all.json.accounts.map((a: { id: string }) => a.id)).toEqual(["Gen-Acc", "Rev-Acc", "Com-Acc"]);
    expect((await call("GET", "/v1/accounts", genOnly)).json.accounts.map((a: { id: string }) => a.id)).toEqual(["Gen-Acc"]);
    const com = await call("GET", "/v1/accounts/Com-Acc", trade);
    expect(com.json).toMatchObject({ id: "Com-Acc", mode: "cash", deposits: 90_000, commissions: 1, positions: 1 });
    expect((await call("GET", "/v1/accounts/Com-Acc/positions", trade)).json.positions).toMatchObject([{ symbol: "AAPL", qty: 7 }]);
    const fills = await call("GET", "/v1/accounts/Com-Acc/fills", trade);
    expect(fills.json).toMatchObject({ total: 1, fills: [{ symbol: "AAPL", qty: 7, price: 100.02, commission: 1, kind: "trade" }] });
  });
});

describe("limits", () => {
  test("a key over its request rate gets 429", async () => {
    const { secret } = keys.create(["trade"], ["*"]);
    const tiny = orderRoutes({ oms: h.oms, keys, maxRows: 50, keyRatePerS: 1, keyBurst: 3, maxBodyBytes: 1024 });
    const s2 = await startServer(h.market.engine, { host: "127.0.0.1", port: 0, rest: { routes: [tiny] } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await fetch(`${s2.url}/v1/accounts`, { headers: { authorization: `Bearer ${secret}` } })).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await s2.stop();
    }
  });
});

describe("keys CLI", () => {
  test("keys create prints a key once; it verifies against the data directory's database; list and revoke", async () => {
    const dir = mkdtempSync(join(tmpdir(), "alluse-keys-"));
    try {
      const bun = process.execPath;
      const run = (args: string[]) => Bun.spawnSync([bun, "src/main.ts", "keys", ...args, "--data-dir", dir], { stdout: "pipe", stderr: "pipe" });
      const created = run(["create", "--scope", "trade", "--accounts", "Gen-Acc", "--label", "bot"]);
      expect(created.exitCode).toBe(0);
      const secret = created.stdout.toString().trim();
      expect(secret).toMatch(/^ak_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
      const db = openDatabase(join(dir, "alluse.db"), "normal");
      expect(new KeyStore(db).verify(secret)).toMatchObject({ scopes: ["trade"], accounts: ["Gen-Acc"], label: "bot" });
      db.close();
      const id = secret.split("_")[1]!;
      expect(run(["list"]).stdout.toString()).toContain(`${id}  scopes=trade  accounts=Gen-Acc`);
      expect(run(["list"]).stdout.toString()).not.toContain(keySecret(secret));
      expect(run(["revoke", id]).exitCode).toBe(0);
      expect(run(["create", "--scope", "root"]).exitCode).toBe(2);
      expect(run(["create", "--scope", "trade", "--accounts", "Nope"]).stderr.toString()).toContain("no account Nope");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
