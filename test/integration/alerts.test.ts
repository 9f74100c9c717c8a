// Alerts over the real server (Bun.serve on port 0) and a real SQLite file: REST list, get and
// acknowledge with key scopes and error codes, the `alerts` topic on /ws seeing raise, ack and
// resolve, order entry still answered through the wrapping extension, and the order rules
// (denials, slippage vs arrival mid) fed by the real order manager.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ArrivalMids } from "../../src/analytics/account-performance.ts";
import { KeyStore } from "../../src/auth/keys.ts";
import type { ServerFrame } from "../../src/client/protocol.ts";
import { AlertEngine, type AlertRule, type Reading } from "../../src/monitor/alerts.ts";
import { orderRejectRule, slippageRule } from "../../src/monitor/alert-rules.ts";
import type { Alert } from "../../src/monitor/alert-types.ts";
import { alertRoutes } from "../../src/server/alerts-routes.ts";
import { AlertsWs, type AlertFrame, type AlertsFrame } from "../../src/server/alerts-ws.ts";
import { OrdersWs } from "../../src/server/orders-ws.ts";
import type { Hub } from "../../src/server/hub.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { AlertStore } from "../../src/store/alerts.ts";
import { OmsHarness } from "../helpers/oms.ts";
import { TestSocket } from "../helpers/test-socket.ts";
import { waitFor } from "../helpers/wait.ts";

let h: OmsHarness;
let server: RunningServer;
let alerts: AlertEngine;
let admin: string, reader: string, trader: string;
let hub: Hub;
const values = new Map<string, number>();
const rule: AlertRule = {
  name: "test.util", description: "Utilisation", unit: "%", direction: "above", warning: 80, critical: 100, clear: 70,
  read: (): Reading[] => [...values].map(([key, value]) => ({ key, value })),
};
let clock = 1_000_000;
const evaluate = () => alerts.evaluate((clock += 1000));

beforeAll(async () => {
  h = await OmsHarness.start();
  h.quote("AAPL", 100, 1000, 100.02, 1000);
  const keys = new KeyStore(h.store.db);
  admin = keys.create(["admin"], []).secret;
  reader = keys.create(["read"], []).secret;
  trader = keys.create(["trade"], ["*"]).secret;
  alerts = new AlertEngine(new AlertStore(h.store.db), { clock: () => clock });
  alerts.addRule(rule);
  server = await startServer(h.market.engine, {
    host: "127.0.0.1", port: 0,
    rest: { routes: [alertRoutes({ alerts, keys, maxRows: 50, keyRatePerS: 1000, keyBurst: 1000 })] },
    ws: [(h2) => new AlertsWs((hub = h2), alerts, keys, new OrdersWs(h2, h.oms, keys, { keyRatePerS: 1000, keyBurst: 2000 }))],
  });
});
afterAll(async () => {
  await server.stop();
  await h.dispose();
});

const get = (path: string, key?: string) => fetch(`${server.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
const ack = (id: number | string, key?: string) => fetch(`${server.url}/v1/alerts/${id}/ack`, { method: "POST", headers: key ? { authorization: `Bearer ${key}` } : {} });
const isReply = (id: number) => (f: ServerFrame) => "id" in f && f.id === id;
const isPush = (event: string, key: string) => (f: ServerFrame) => {
  const a = f as unknown as AlertFrame;
  return a.t === "alert" && a.event === event && a.alert.key === key;
};

describe("REST", () => {
  test("reading needs a key; filters are checked and name the field; rows are bounded", async () => {
    values.set("r1", 85).set("r2", 120);
    evaluate();
    expect((await get("/v1/alerts")).status).toBe(401);
    const res = await get("/v1/alerts?state=open&severity=critical", reader);
    expect(res.status).toBe(200);
    const body = await res.json() as { alerts: Alert[]; total: number; next: number | null };
    expect(body.alerts.map((a) => a.key)).toEqual(["r2"]);
    expect(body).toMatchObject({ total: 1, next: null });
    expect(body.alerts[0]).toMatchObject({ rule: "test.util", state: "open", severity: "critical", value: 120, threshold: 100 });
    const bad = await get("/v1/alerts?severity=fatal", reader);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "BAD_REQUEST", field: "severity" } });
    expect((await get("/v1/alerts?limit=51", reader)).status).toBe(400);
    const one = await get(`/v1/alerts/${body.alerts[0]!.id}`, trader);
    expect(await one.json()).toMatchObject({ alert: { key: "r2" } });
    expect((await get("/v1/alerts/999999", reader)).status).toBe(404);
  });

  test("ack needs admin (403 otherwise), is idempotent, 404 for unknown ids and 409 once resolved", async () => {
    values.set("k1", 90);
    evaluate();
    const id = alerts.activeAlerts().find((a) => a.key === "k1")!.id;
    expect((await ack(id)).status).toBe(401);
    const forbidden = await ack(id, trader);
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: { code: "FORBIDDEN" } });
    const ok = await ack(id, admin);
    expect(ok.status).toBe(200);
    const first = (await ok.json() as { alert: Alert }).alert;
    expect(first).toMatchObject({ state: "acknowledged", ackedBy: admin.split("_")[1] });
    const again = await ack(id, admin);
    expect(again.status).toBe(200);
    expect((await again.json() as { alert: Alert }).alert.ackedTs).toBe(first.ackedTs);
    expect((await ack(424242, admin)).status).toBe(404);
    expect((await ack("abc", admin)).status).toBe(404);
    values.delete("k1");
    evaluate();
    const gone = await ack(id, admin);
    expect(gone.status).toBe(409);
    expect(await gone.json()).toMatchObject({ error: { code: "ALERT_RESOLVED", field: "id" } });
  });
});

describe("WebSocket topic alerts", () => {
  test("a subscriber sees the snapshot, then raise, ack and resolve; ack over WS needs admin", async () => {
    await using ws = await TestSocket.open(server.wsUrl);
    ws.send({ op: "alerts.subscribe", id: 1 });
    expect(await ws.next(isReply(1))).toMatchObject({ t: "error", code: "UNAUTHORIZED" });
    ws.send({ op: "auth", id: 2, key: reader });
    expect(await ws.next(isReply(2))).toMatchObject({ t: "authed", scopes: ["read"] });
    ws.send({ op: "alerts.subscribe", id: 3 });
    const snap = await ws.next<ServerFrame>(isReply(3)) as unknown as AlertsFrame;
    expect(snap).toMatchObject({ t: "alerts", subscribed: true });
    expect(snap.alerts.map((a) => a.state).every((s) => s !== "resolved")).toBe(true);

    values.set("w1", 100);
    evaluate();
    const raised = (await ws.next(isPush("raised", "w1")) as unknown as AlertFrame).alert;
    expect(raised).toMatchObject({ severity: "critical", state: "open" });
    ws.send({ op: "alerts.ack", id: 4, alertId: raised.id });
    expect(await ws.next(isReply(4))).toMatchObject({ t: "error", code: "FORBIDDEN" });
    expect((await ack(raised.id, admin)).status).toBe(200);
    expect((await ws.next(isPush("acknowledged", "w1")) as unknown as AlertFrame).alert).toMatchObject({ id: raised.id, state: "acknowledged" });
    values.delete("w1");
    evaluate();
    expect((await ws.next(isPush("resolved", "w1")) as unknown as AlertFrame).alert).toMatchObject({ id: raised.id, state: "resolved" });

    await using adminWs = await TestSocket.open(server.wsUrl, "msgpack");
    adminWs.send({ op: "auth", id: 1, key: admin });
    await adminWs.next(isReply(1));
    values.set("w2", 85);
    evaluate();
    const w2 = alerts.activeAlerts().find((a) => a.key === "w2")!;
    adminWs.send({ op: "alerts.ack", id: 2, alertId: w2.id });
    expect(await adminWs.next(isReply(2))).toMatchObject({ t: "alert", alert: { id: w2.id, state: "acknowledged" } });
    adminWs.send({ op: "alerts.ack", id: 3, alertId: 0 });
    expect(await adminWs.next(isReply(3))).toMatchObject({ t: "error", code: "BAD_REQUEST", field: "alertId" });
    ws.send({ op: "alerts.unsubscribe", id: 5 });
    expect(await ws.next(isReply(5))).toMatchObject({ t: "alerts", subscribed: false });
    adminWs.send({ op: "alerts.subscribe", id: 4 });
    await adminWs.next(isReply(4));
    values.delete("w2");
    evaluate();
    await adminWs.next(isPush("resolved", "w2"));
    // Frames on one socket arrive in order: anything pushed to ws before the pong is in by then.
    ws.send({ op: "ping", id: 6 });
    await ws.next(isReply(6));
    expect(ws.frames.some(isPush("resolved", "w2"))).toBe(false);
  });

  test("a failed auth ends the alerts identity and subscription an earlier auth gave", async () => {
    await using ws = await TestSocket.open(server.wsUrl);
    ws.send({ op: "auth", id: 1, key: admin });
    await ws.next(isReply(1));
    ws.send({ op: "alerts.subscribe", id: 2 });
    await ws.next(isReply(2));
    ws.send({ op: "auth", id: 3, key: "ak_nope" });
    expect(await ws.next(isReply(3))).toMatchObject({ t: "error", code: "UNAUTHORIZED", field: "key" });
    values.set("w3", 100);
    evaluate();
    const w3 = alerts.activeAlerts().find((a) => a.key === "w3")!;
    ws.send({ op: "alerts.ack", id: 4, alertId: w3.id });
    expect(await ws.next(isReply(4))).toMatchObject({ t: "error", code: "UNAUTHORIZED" });
    ws.send({ op: "ping", id: 5 });
    await ws.next(isReply(5));
    expect(ws.frames.some(isPush("raised", "w3"))).toBe(false);
    values.delete("w3");
    evaluate();
  });

  test("order entry is still answered through the alerts extension, with one authed reply", async () => {
    await using ws = await TestSocket.open(server.wsUrl);
    ws.send({ op: "auth", id: 1, key: trader });
    await ws.next(isReply(1));
    ws.send({ op: "submit", id: 2, order: { account: "Gen-Acc", clientOrderId: "a1", symbol: "AAPL", side: "buy", type: "market", qty: 1 } });
    expect(await ws.next(isReply(2))).toMatchObject({ t: "order", order: { status: "filled" } });
    expect(ws.frames.filter((f) => f.t === "authed")).toHaveLength(1);
  });
});

describe("what the staleness rule watches", () => {
  test("hub.subscribedRows lists the rows some connection holds, once each, and forgets closed connections", async () => {
    const a = await TestSocket.open(server.wsUrl);
    await using b = await TestSocket.open(server.wsUrl, "msgpack");
    a.send({ op: "subscribe", id: 1, symbols: ["AAPL", "TSLA"] });
    b.send({ op: "subscribe", id: 1, symbols: ["AAPL"] });
    await a.next(isReply(1));
    await b.next(isReply(1));
    const rows = (names: string[]) => names.map((n) => h.market.row(n)).sort((x, y) => x - y);
    expect(hub.subscribedRows().sort((x, y) => x - y)).toEqual(rows(["AAPL", "TSLA"]));
    a.ws.close();
    await waitFor(() => hub.subscribedRows().length === 1, 5000, "the closed connection's rows to go");
    expect(hub.subscribedRows()).toEqual(rows(["AAPL"]));
  });
});

describe("order rules over the real order manager", () => {
  test("denied orders count per account; a buy filled at the ask slips half the spread vs arrival mid", async () => {
    const deny = { ok: false as const, code: "TEST_DENY", message: "denied by the test" };
    const oh = await OmsHarness.start({ preTrade: { checkNew: (o) => (o.symbol === "MSFT" ? deny : { ok: true }), checkModify: () => ({ ok: true }) } });
    try {
      oh.quote("AAPL", 100, 1000, 100.02, 1000);
      oh.quote("MSFT", 300, 1000, 300.02, 1000);
      const local = new AlertEngine(new AlertStore(oh.store.db), { clock: () => clock });
      const rejects = orderRejectRule((l) => oh.oms.onUpdate(l), () => oh.oms.accountIds(), { warning: 2, critical: 3 });
      const arrivals = new ArrivalMids(oh.store.journal, oh.market.engine);
      const slip = slippageRule((l) => oh.oms.onUpdate(l), (id) => arrivals.get(id), { warning: 0.5, critical: 1000 });
      local.addRule(rejects.rule);
      local.addRule(slip.rule);
      const order = (id: string, symbol: string, account: string) =>
        oh.oms.submit({ account, clientOrderId: id, symbol, side: "buy", type: "market", qty: 10 }, () => true);
      for (const id of ["d1", "d2"]) expect(await order(id, "MSFT", "Rev-Acc")).toMatchObject({ ok: true, value: { order: { status: "denied" } } });
      expect(await order("f1", "AAPL", "Com-Acc")).toMatchObject({ ok: true, value: { order: { status: "filled" } } });
      local.evaluate((clock += 1000));
      rejects.stop();
      slip.stop();
      const active = local.activeAlerts();
      expect(active.find((a) => a.rule === "orders.rejects")).toMatchObject({ key: "Rev-Acc", severity: "warning", value: 2 });
      // Mid 100.01, filled at 100.02: 0.01 / 100.01 = 0.99990 bps.
      expect(active.find((a) => a.rule === "execution.slippage")).toMatchObject({ key: "Com-Acc", severity: "warning" });
      expect(active.find((a) => a.rule === "execution.slippage")!.value).toBeCloseTo(0.01 / 100.01 * 1e4, 6);
    } finally {
      await oh.dispose();
    }
  });
});
