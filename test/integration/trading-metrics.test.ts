// Trading families on /metrics against the real order API (Bun.serve on port 0, SQLite in a
// temp dir, the paper broker, a pre-trade hook that denies): working orders by state, order
// events by kind, finished orders, fills and quantity, denials by code, broker state. The
// exposition is parsed strictly and linted with promtool when it is installed.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { KeyStore } from "../../src/auth/keys.ts";
import { RestClient } from "../../src/client/index.ts";
import { MetricsRegistry } from "../../src/monitor/registry.ts";
import { denialCode, ibBrokerHealth, MAX_LABEL_VALUES, PAPER_BROKER_HEALTH, registerTradingMetrics, type BrokerHealth } from "../../src/monitor/trading-metrics.ts";
import type { PreTradeHook } from "../../src/oms/pretrade.ts";
import { metricsRoutes } from "../../src/server/metrics-http.ts";
import { orderRoutes, ORDER_ROUTE_DEFAULTS } from "../../src/server/orders.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { OmsHarness } from "../helpers/oms.ts";
import { parseExposition, promtoolCheck, sampleValue, type PromFamily } from "../helpers/prom-parse.ts";

/** Denies orders above 500 shares, and any order for TSLA (two codes). */
const deny: PreTradeHook = {
  checkNew: (o) => o.qty > 500 ? { ok: false, code: "MAX_ORDER_QTY", message: `qty ${o.qty} above 500` }
    : o.symbol === "TSLA" ? { ok: false, code: "RESTRICTED", message: "TSLA is restricted" } : { ok: true },
  checkModify: () => ({ ok: true }),
};

let h: OmsHarness;
let server: RunningServer;
let rest: RestClient;
const ib = { up: false, reconnects: 0 };

beforeAll(async () => {
  h = await OmsHarness.start({ preTrade: deny });
  h.quote("AAPL", 100, 1000, 100.02, 1000);
  const keys = new KeyStore(h.store.db);
  const registry = new MetricsRegistry();
  const ibHealth: BrokerHealth = { name: "ib", connected: () => ib.up, reconnects: () => ib.reconnects };
  registerTradingMetrics(registry, { oms: h.oms, journal: h.store.journal, brokers: [PAPER_BROKER_HEALTH, ibHealth] });
  server = await startServer(h.market.engine, {
    host: "127.0.0.1", port: 0,
    rest: { routes: [metricsRoutes(registry), orderRoutes({ oms: h.oms, keys, maxRows: 50, ...ORDER_ROUTE_DEFAULTS })] },
  });
  rest = new RestClient(server.url, { key: keys.create(["trade"], ["*"]).secret });
});
afterAll(async () => {
  await server.stop();
  await h.dispose();
});

async function scrape(): Promise<Map<string, PromFamily>> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const lint = promtoolCheck(text);
  if (lint) expect(lint.output).toBe("");
  return parseExposition(text);
}

describe("trading metrics", () => {
  test("before any order every family is present with zeros, and the paper broker is connected", async () => {
    const m = await scrape();
    for (const state of ["submitted", "accepted", "partially_filled", "pending_cancel", "pending_replace"]) {
      expect(sampleValue(m, "alluse_orders_working", { state })).toBe(0);
    }
    expect(sampleValue(m, "alluse_orders_finished_total", { state: "filled" })).toBe(0);
    expect(sampleValue(m, "alluse_fills_total", { kind: "trade" })).toBe(0);
    expect(sampleValue(m, "alluse_broker_connected", { broker: "paper" })).toBe(1);
    expect(sampleValue(m, "alluse_broker_connected", { broker: "ib" })).toBe(0);
    expect(sampleValue(m, "alluse_oms_anomalies_total", { kind: "duplicate_fill" })).toBe(0);
  });

  test("orders placed, filled, resting, canceled and denied are counted from the journal and the order manager", async () => {
    const order = { account: "Gen-Acc", symbol: "AAPL", side: "buy", type: "market" } as const;
    await rest.placeOrder({ ...order, qty: 100 });                                    // submitted, accepted, fill → filled
    await rest.placeOrder({ ...order, qty: 30 });                                     // the same again
    const resting = (await rest.placeOrder({ ...order, type: "limit", qty: 10, limitPrice: 99 })).order;   // submitted, accepted
    await rest.placeOrder({ ...order, type: "limit", qty: 5, limitPrice: 98 });       // stays working
    await rest.cancelOrder(resting.id);                                               // cancel_requested, canceled
    await rest.placeOrder({ ...order, qty: 600 });                                    // denied MAX_ORDER_QTY
    await rest.placeOrder({ ...order, qty: 700 });
    await rest.placeOrder({ ...order, symbol: "TSLA", qty: 1 });                      // denied RESTRICTED
    ib.up = true;
    ib.reconnects = 2;

    const m = await scrape();
    expect(sampleValue(m, "alluse_orders_working", { state: "accepted" })).toBe(1);
    expect(sampleValue(m, "alluse_orders_working", { state: "submitted" })).toBe(0);
    expect(sampleValue(m, "alluse_orders_finished_total", { state: "filled" })).toBe(2);
    expect(sampleValue(m, "alluse_orders_finished_total", { state: "canceled" })).toBe(1);
    expect(sampleValue(m, "alluse_orders_finished_total", { state: "denied" })).toBe(3);
    expect(sampleValue(m, "alluse_orders_finished_total", { state: "expired" })).toBe(0);
    expect(sampleValue(m, "alluse_fills_total", { kind: "trade" })).toBe(2);
    expect(sampleValue(m, "alluse_filled_quantity_total", { kind: "trade" })).toBe(130);
    expect(sampleValue(m, "alluse_pretrade_denials_total", { code: "MAX_ORDER_QTY" })).toBe(2);
    expect(sampleValue(m, "alluse_pretrade_denials_total", { code: "RESTRICTED" })).toBe(1);
    // The counters equal what the store holds: one event row per journaled order event.
    const rows = h.store.db.query("SELECT kind, COUNT(*) AS n FROM order_events GROUP BY kind").all() as { kind: string; n: number }[];
    expect(rows.length).toBeGreaterThanOrEqual(6);
    for (const r of rows) expect(sampleValue(m, "alluse_order_events_total", { kind: r.kind })).toBe(r.n);
    expect(sampleValue(m, "alluse_order_events_total", { kind: "submitted" })).toBe(4);
    expect(sampleValue(m, "alluse_broker_connected", { broker: "ib" })).toBe(1);
    expect(sampleValue(m, "alluse_broker_reconnects_total", { broker: "ib" })).toBe(2);
  });

  test("the IB broker's health follows its session: connected only when connected, reconnects after the first connect", () => {
    const session = { state: "connecting", stats: { connects: 0 } };
    const health = ibBrokerHealth(session);
    expect([health.name, health.connected(), health.reconnects()]).toEqual(["ib", false, 0]);
    Object.assign(session, { state: "connected", stats: { connects: 1 } });
    expect([health.connected(), health.reconnects()]).toEqual([true, 0]);
    Object.assign(session, { state: "degraded" });
    expect(health.connected()).toBe(false);
    Object.assign(session, { state: "connected", stats: { connects: 3 } });
    expect([health.connected(), health.reconnects()]).toEqual([true, 2]);
  });

  test("denial codes come from the reason; label values are bounded", () => {
    expect(denialCode("MAX_ORDER_QTY: qty 600 above 500")).toBe("MAX_ORDER_QTY");
    expect(denialCode("no code here")).toBe("unknown");
    expect(denialCode(undefined)).toBe("unknown");
    const registry = new MetricsRegistry();
    let commit: (r: never[]) => void = () => {};
    const counts = registerTradingMetrics(registry, {
      oms: h.oms, brokers: [], journal: { onCommit: (l) => (commit = l as (r: never[]) => void) },
    });
    const denied = (i: number) => ({ t: "order", seq: i, kind: "denied", ts: 0, order: { status: "denied", reason: `CODE_${i}: x` } });
    commit(Array.from({ length: 200 }, (_, i) => denied(i)) as never[]);
    expect(counts.deniedByCode.size).toBe(MAX_LABEL_VALUES);
    expect(counts.deniedByCode.get("other")).toBe(200 - (MAX_LABEL_VALUES - 1));
    expect(() => parseExposition(registry.render())).not.toThrow();
  });
});

describe("the whole app", () => {
  test("registers the trading families, the admin key routes and account performance", async () => {
    const dir = mkdtempSync(join(tmpdir(), "alluse-tm-"));
    const app = await startApp(await loadConfig(["--port", "0", "--tick-rate", "100", "--symbols", "AAPL", "--data-dir", dir], {}), createLogger("error", "test", () => {}));
    try {
      const text = await (await fetch(`${app.server.url}/metrics`)).text();
      const lint = promtoolCheck(text);
      if (lint) expect(lint.output).toBe("");
      const m = parseExposition(text);
      expect(sampleValue(m, "alluse_broker_connected", { broker: "paper" })).toBe(1);
      expect(sampleValue(m, "alluse_orders_working", { state: "accepted" })).toBe(0);
      expect(sampleValue(m, "alluse_fills_total", { kind: "trade" })).toBe(0);
      const admin = new RestClient(app.server.url, { key: app.trading.keys.create(["admin"], []).secret });
      expect((await admin.listKeys()).total).toBe(1);
      expect((await fetch(`${app.server.url}/v1/admin/keys`)).status).toBe(401);
      const perf = (await admin.send<{ deposits: number; trades: { trades: number } }>("GET", "/v1/analytics/accounts/Gen-Acc/performance")).json;
      expect(perf).toMatchObject({ deposits: 120_000, trades: { trades: 0 } });
    } finally {
      await app.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
