// --feed ib --broker ib end to end in one process: REST POST /v1/orders → order manager (journal
// in SQLite) → IbBroker → @stoqey/ib → TWS simulator, which fills by the paper fill model; the
// fill, its commission and the position come back through the same socket. Then a resting order
// is filled while the socket is down and arrives exactly once after the reconnect.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type App, startApp } from "../../src/app.ts";
import type { IbBroker } from "../../src/broker/ib.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { TwsSimulator } from "../../src/sim/tws/simulator.ts";
import { waitFor, waitForAsync } from "../helpers/wait.ts";
import { restCall } from "../helpers/server.ts";

const dataDir = mkdtempSync(join(tmpdir(), "alluse-ib-broker-"));
let sim: TwsSimulator;
let app: App;
let key: string;
beforeAll(async () => {
  sim = new TwsSimulator({ port: 0, symbols: ["AAPL"], optionExpiries: 1, strikesPerSide: 1, tickRatePerS: 200, log: createLogger("error", "sim", () => {}) });
  await sim.start();
  sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  const config = await loadConfig(["--port", "0", "--feed", "ib", "--broker", "ib", "--ib-port", String(sim.port), "--ib-client-id", "11", "--symbols", "AAPL",
    "--option-expiries", "1", "--strikes-per-side", "1", "--data-dir", dataDir, "--log-level", "error"], {});
  app = await startApp(config, createLogger("error", "app", () => {}));
  key = app.trading.keys.create(["trade"], ["*"]).secret;
});
afterAll(async () => {
  await app?.stop();
  await sim?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const call = (method: string, path: string, body?: unknown) => restCall(app.server.url, key, method, path, body);

test("an order placed over REST fills at IBKR (the simulator) with its commission, and the position follows", async () => {
  expect(app.trading.broker.name).toBe("ib");
  const statuses = new Map<string, string>();
  app.trading.oms.onUpdate((u) => u.type === "order" && statuses.set(u.order.id, u.order.status));
  await waitFor(() => app.engine.quote(app.engine.instrument("AAPL")!.index).ask === 100.02, 10_000, "the pinned AAPL quote through the feed");
  const placed = await call("POST", "/v1/orders", { account: "Gen-Acc", clientOrderId: "e2e-1", symbol: "AAPL", side: "buy", type: "market", qty: 10 });
  expect(placed.status).toBe(201);
  const id = placed.json.id as string;
  await waitFor(() => statuses.get(id) === "filled", 10_000, "the order to fill");
  expect((await call("GET", `/v1/orders/${id}`)).json).toMatchObject({ status: "filled", filledQty: 10, brokerOrderId: expect.any(String) });
  const fills = (await call("GET", "/v1/accounts/Gen-Acc/fills")).json.fills as Record<string, unknown>[];
  expect(fills).toHaveLength(1);
  // 10 shares at the ask; IBKR Pro fixed minimum $1.00 commission, joined from commissionReport.
  expect(JSON.stringify(fills[0])).toContain("100.02");
  const positions = (await call("GET", "/v1/accounts/Gen-Acc/positions")).json.positions as { symbol: string; qty: number }[];
  expect(positions.find((p) => p.symbol === "AAPL")?.qty).toBe(10);
});

test("an option order over REST fills at the option's own quote, 100 shares a contract", async () => {
  const option = sim.universe.contracts.find((c) => c.secType === "OPT")!.ourSymbol;
  sim.pinQuote(option, 5, 100, 5.1, 100);
  const row = app.engine.instrument(option)!.index;
  await waitFor(() => app.engine.quote(row).ask === 5.1, 10_000, "the pinned option quote through the feed");
  const statuses = new Map<string, string>();
  app.trading.oms.onUpdate((u) => u.type === "order" && statuses.set(u.order.id, u.order.status));
  const placed = await call("POST", "/v1/orders", { account: "Gen-Acc", clientOrderId: "e2e-opt", symbol: option, side: "buy", type: "limit", limitPrice: 5.2, qty: 2 });
  expect(placed.status).toBe(201);
  await waitFor(() => statuses.get(placed.json.id) === "filled", 10_000, "the option order to fill");
  expect((await call("GET", `/v1/orders/${placed.json.id}`)).json).toMatchObject({ status: "filled", filledQty: 2, avgFillPrice: 5.1 });
  const positions = (await call("GET", "/v1/accounts/Gen-Acc/positions")).json.positions as { symbol: string; qty: number; multiplier: number }[];
  expect(positions.find((p) => p.symbol === option)).toMatchObject({ qty: 2, multiplier: 100 });
});

test("a resting order filled while the socket is down arrives exactly once after the reconnect", async () => {
  const statuses = new Map<string, string>();
  app.trading.oms.onUpdate((u) => u.type === "order" && statuses.set(u.order.id, u.order.status));
  const placed = await call("POST", "/v1/orders", { account: "Gen-Acc", clientOrderId: "e2e-2", symbol: "AAPL", side: "buy", type: "limit", limitPrice: 99.5, tif: "GTC", qty: 5 });
  expect(placed.status).toBe(201);
  const id = placed.json.id as string;
  await waitFor(() => statuses.get(id) === "accepted", 10_000, "accepted");
  expect(sim.fillWhileDisconnected()).toBe(1);
  await waitFor(() => statuses.get(id) === "filled", 10_000, "the fill after the reconnect");
  const fills = (await call("GET", `/v1/accounts/Gen-Acc/fills`)).json.fills as { orderId?: string }[];
  expect(fills.filter((f) => f.orderId === id)).toHaveLength(1);
  const positions = (await call("GET", "/v1/accounts/Gen-Acc/positions")).json.positions as { symbol: string; qty: number }[];
  expect(positions.find((p) => p.symbol === "AAPL")?.qty).toBe(15);
});

test("/metrics carries the IB broker's reconciliations and executions, and readiness follows its session", async () => {
  const broker = app.trading.broker as IbBroker;
  // The reconnect's reconciliation ends with positions; wait for it rather than race it.
  await waitFor(() => broker.lastPositions.some((p) => p.contract.symbol === "AAPL" && p.qty === 15), 5000, "positions after the reconnect");
  const text = await (await fetch(`${app.server.url}/metrics`)).text();
  expect(text).toMatch(/alluse_ib_broker_reconciliations_total [1-9]/);
  expect(text).toMatch(/alluse_ib_broker_executions_joined_total [1-9]/);
  expect(text).toMatch(/alluse_ib_broker_executions_repeated_total [1-9]/);
  expect(text).toContain("alluse_ib_broker_pending_executions 0");
  // The order manager's positions (Gen-Acc, in the login's default account) agree with IBKR's.
  expect(text).toContain("alluse_ib_broker_position_differences 0");
  expect(broker.lastPositionDiffs).toEqual([]);
  expect(text).toContain('alluse_broker_connected{broker="ib"} 1');
  expect((await fetch(`${app.server.url}/readyz`)).status).toBe(200);
});

test("GET /v1/broker/account shows what IBKR itself holds: the summary and positions (admin only)", async () => {
  const admin = app.trading.keys.create(["admin"], []).secret;
  const get = async (path: string, k: string) => {
    const res = await fetch(`${app.server.url}${path}`, { headers: { authorization: `Bearer ${k}` } });
    return { status: res.status, json: (await res.json()) as any };
  };
  expect((await get("/v1/broker/account", key)).status).toBe(403);
  await waitFor(() => app.engine.quote(app.engine.instrument("AAPL")!.index).ask === 100.02, 10_000, "the pinned AAPL quote");
  const placed = await call("POST", "/v1/orders", { account: "Rev-Acc", clientOrderId: "acct-1", symbol: "AAPL", side: "buy", type: "market", qty: 3 });
  expect(placed.status).toBe(201);
  const ready = async () => (await get("/v1/broker/account", admin)).json.positions?.some((p: any) => p.symbol === "AAPL" && p.qty >= 3);
  await waitForAsync(ready, 10_000, "the IB position", 50);
  const r = await get("/v1/broker/account", admin);
  expect(r.status).toBe(200);
  const accounts = Object.keys(r.json.summary);
  expect(accounts.length).toBeGreaterThan(0);
  expect(r.json.summary[accounts[0]!]).toHaveProperty("NetLiquidation");
  expect((await get("/v1/broker", admin)).json).toMatchObject({ name: "ib", external: true, positionDiffs: expect.any(Array) });
});
