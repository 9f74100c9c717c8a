// The risk engine in the whole app on its embedded defaults (synthetic market, paper broker,
// the ALL-USE accounts and delta bands): a watched account's risk arrives over /ws, /v1/risk
// answers, an option sale outside Gen-Acc's delta band is denied, and a firm-wide halt raises
// the risk.trading_state alert.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp, type App } from "../../src/app.ts";
import type { RiskFrame } from "../../src/client/protocol.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { parseExposition, promtoolCheck, sampleValue } from "../helpers/prom-parse.ts";
import { TestSocket } from "../helpers/test-socket.ts";
import { TradingClient } from "../../src/client/trading.ts";
import type { AlertFrame, RiskView } from "../../src/client/protocol.ts";
import { waitFor, waitForAsync } from "../helpers/wait.ts";
import { restCall } from "../helpers/server.ts";

const silent = createLogger("error", "test", () => {});
let dir: string;
let app: App;
let key: string;

const call = (method: string, path: string, body?: unknown) => restCall(app.server.url, key, method, path, body);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "alluse-risk-app-"));
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify({
    dataDir: dir, port: 0, feed: { symbols: ["TSLA", "AAPL"], tickRatePerS: 2000, optionExpiries: 1, strikesPerSide: 3 },
    alerts: { evaluateEveryMs: 100 },
  }));
  app = await startApp(await loadConfig(["--config", file], {}), silent);
  key = app.trading.keys.create(["admin"], []).secret;
});
afterAll(async () => {
  await app?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("risk in the app", () => {
  test("a watched account's risk is pushed over /ws; /v1/risk lists the three ALL-USE accounts", async () => {
    await using ws = await TestSocket.open(app.server.wsUrl);
    ws.send({ op: "auth", id: 1, key });
    await ws.next((f) => "id" in f && f.id === 1);
    ws.send({ op: "watch", id: 2, accounts: ["Gen-Acc"] });
    const frame = (await ws.next((f) => f.t === "risk", 5000)) as RiskFrame;
    expect(frame.risk).toMatchObject({ account: "Gen-Acc", state: "active", equity: 120_000, cash: 120_000 });
    expect(frame.risk.limits).toMatchObject({ deltaBand: { lo: 40, hi: 50, mode: "deny" }, maxConcentration: 0.25 });
    // Then a new frame when something the account's risk reads changes: here a working order.
    ws.send({ op: "submit", id: 3, order: { account: "Gen-Acc", clientOrderId: "ws-risk-1", symbol: "AAPL", side: "buy", type: "limit", tif: "GTC", qty: 1,
      limitPrice: Math.round(app.engine.quote(app.engine.instrument("AAPL")!.index).bid! * 0.95 * 100) / 100 } });
    const next = (await ws.next((f) => f.t === "risk" && (f as RiskFrame).risk.openOrders === 1, 5000)) as RiskFrame;
    expect(next.risk.ts).toBeGreaterThan(frame.risk.ts);
    expect(next.risk.positions[0]).toMatchObject({ symbol: "AAPL", workingBuy: 1 });
    const all = await call("GET", "/v1/risk");
    expect(all.json.accounts.map((a: { account: string }) => a.account)).toEqual(["Gen-Acc", "Rev-Acc", "Com-Acc"]);
    expect(all.json.firm.equity).toBe(300_000);
    // The paper broker keeps no account outside the server.
    expect((await call("GET", "/v1/broker/account")).status).toBe(409);
    expect((await call("GET", "/v1/broker")).json).toMatchObject({ name: "paper", external: false, positionDiffs: [] });
  });

  test("Gen-Acc may not sell a put outside its 40-50 delta band", async () => {
    const puts = app.engine.instruments.filter((i) => i.kind === "option" && i.underlying === "TSLA" && i.right === "P");
    const far = puts.reduce((a, b) => (a.strike! < b.strike! ? a : b));
    await waitFor(() => {
      const q = app.engine.quote(far.index);
      return q.bid !== null && q.ask !== null && q.bid > 0;
    }, 10_000, `a two-sided quote on ${far.symbol}`);
    const q = app.engine.quote(far.index);
    const res = await call("POST", "/v1/orders", {
      account: "Gen-Acc", clientOrderId: "band-1", symbol: far.symbol, side: "sell", type: "limit", tif: "GTC", qty: 1, limitPrice: q.ask,
    });
    expect(res.status).toBe(201);
    expect(res.json.status).toBe("denied");
    // The lowest strike is the furthest out of the money: its |delta| is below 40.
    expect(res.json.reason).toStartWith("DELTA_BAND: ");
  });

  test("a firm-wide halt raises the risk.trading_state alert and shows on /metrics", async () => {
    expect((await call("POST", "/v1/admin/risk/state", { state: "halted", reason: "test" })).status).toBe(200);
    const text = await (await fetch(`${app.server.url}/metrics`)).text();
    const lint = promtoolCheck(text);
    if (lint) expect(lint.output).toBe("");
    const families = parseExposition(text);
    expect(sampleValue(families, "alluse_risk_trading_state", { account: "*", state: "halted" })).toBe(1);
    expect(sampleValue(families, "alluse_risk_trading_state", { account: "*", state: "active" })).toBe(0);
    expect(sampleValue(families, "alluse_risk_equity_dollars", { account: "Rev-Acc" })).toBe(90_000);
    // The first test left one working order of the default 500 allowed.
    expect(sampleValue(families, "alluse_risk_limit_utilisation_ratio", { account: "Gen-Acc", limit: "openOrders" })).toBe(1 / 500);
    expect(sampleValue(families, "alluse_risk_score", { account: "Com-Acc" })).toBe(0);
    await waitForAsync(async () => (await call("GET", "/v1/alerts?rule=risk.trading_state")).json.alerts.some((a: any) => a.key === "*" && a.severity === "critical"), 5000, "the alert");
    expect((await call("POST", "/v1/admin/risk/state", { state: "active", reason: "test over" })).status).toBe(200);
  });
});

describe("risk, alerts and the session topic through the TypeScript client", () => {
  test("onRisk follows a watched account; alerts arrive, are acknowledged, resolve; the session topic says there is no IB session", async () => {
    await using trader = await TradingClient.connect(app.server.wsUrl, { key });
    const risks: RiskView[] = [];
    trader.onRisk((r) => risks.push(r));
    await trader.watch(["Rev-Acc"]);
    await waitFor(() => risks.length >= 2, 5000, "two risk pushes");
    expect(risks.every((r) => r.account === "Rev-Acc")).toBe(true);
    const session = await trader.subscribeSession();
    expect(session).toMatchObject({ t: "session", subscribed: true, connection: null });

    const transitions: AlertFrame[] = [];
    trader.onAlert((a) => transitions.push(a));
    await trader.subscribeAlerts();
    expect((await call("POST", "/v1/admin/risk/state", { account: "Rev-Acc", state: "reducing", reason: "client test" })).status).toBe(200);
    await waitFor(() => transitions.some((t) => t.event === "raised" && t.alert.rule === "risk.trading_state" && t.alert.key === "Rev-Acc"), 5000, "the raised alert");
    const raised = transitions.find((t) => t.event === "raised" && t.alert.key === "Rev-Acc")!.alert;
    expect(raised.severity).toBe("warning");
    const acked = await trader.ackAlert(raised.id);
    expect(acked).toMatchObject({ id: raised.id, state: "acknowledged" });
    expect((await call("POST", "/v1/admin/risk/state", { account: "Rev-Acc", state: "active", reason: "done" })).status).toBe(200);
    await waitFor(() => transitions.some((t) => t.event === "resolved" && t.alert.id === raised.id), 5000, "the alert to resolve");
  });
});

