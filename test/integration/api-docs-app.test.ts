// The generated API documents against the whole app on its embedded defaults: GET /openapi.json
// is served without a key and validates with an independent validator; every route the app
// serves is in it and every path in it is served; real replies of most routes (and their errors)
// parse with the schemas the document declares, nothing stripped; and real /ws frames, in both
// encodings, parse with the frame schemas the AsyncAPI document is built from.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp, type App } from "../../src/app.ts";
import { restErrorSchema, SERVER_FRAME_SCHEMAS } from "../../src/client/protocol-schemas.ts";
import type { ServerFrame, WireFormat } from "../../src/client/protocol.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { buildOpenApi, openApiPath } from "../../src/server/openapi.ts";
import { API_INFO, API_ROUTE_DOCS } from "../../src/server/openapi-routes.ts";
import { TestSocket } from "../helpers/test-socket.ts";
import { waitFor } from "../helpers/wait.ts";
import { restCall } from "../helpers/server.ts";

const silent = createLogger("error", "test", () => {});
let dir: string;
let app: App;
let key: string;
const doc = buildOpenApi(API_ROUTE_DOCS, API_INFO) as { paths: Record<string, Record<string, any>> };

const call = (method: string, path: string, body?: unknown, auth = true) => restCall(app.server.url, auth ? key : undefined, method, path, body);

/** Calls a route and checks the reply against what the document declares for `route` (hono pattern). */
async function checked(method: string, route: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await call(method, path, body);
  const rd = API_ROUTE_DOCS.find((d) => d.method === method.toLowerCase() && d.path === route);
  expect(rd, `${method} ${route} is declared`).toBeDefined();
  const reply = rd!.replies[r.status];
  if (reply?.schema) {
    // Parsing strips keys a schema does not name: equal means nothing was undeclared.
    expect(reply.schema.parse(r.json), `${method} ${path} ${r.status}`).toEqual(r.json);
  } else {
    expect(restErrorSchema.parse(r.json)).toEqual(r.json);
    const op = doc.paths[openApiPath(route)]![method.toLowerCase()];
    const codes: string[] = op.responses[String(r.status)]?.content["application/json"].schema.properties.error.properties.code.enum ?? [];
    expect(codes, `${method} ${path} answered ${r.status} ${r.json.error.code}, undeclared`).toContain(r.json.error.code);
  }
  return r;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "alluse-api-docs-"));
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify({ dataDir: dir, port: 0, feed: { symbols: ["TSLA", "AAPL"], tickRatePerS: 2000, optionExpiries: 1, strikesPerSide: 3 } }));
  app = await startApp(await loadConfig(["--config", file], {}), silent);
  key = app.trading.keys.create(["admin"], []).secret;
  await waitFor(() => app.engine.instruments.every((i) => app.engine.quote(i.index).ask !== null), 10_000);
});
afterAll(async () => {
  await app?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("OpenAPI document", () => {
  test("GET /openapi.json needs no key, is the generated document and validates as OpenAPI 3.1", async () => {
    const r = await call("GET", "/openapi.json", undefined, false);
    expect(r.status).toBe(200);
    expect(r.json).toEqual(JSON.parse(JSON.stringify(doc)));
    const v = new Validator();
    const result = await v.validate(r.json);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(v.version).toBe("3.1");
  });

  test("every route the app serves is in the document, and every operation in it is served", () => {
    const served = new Set(app.server.routes().map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path)}`));
    const documented = new Set(Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`)));
    expect([...served].filter((r) => !documented.has(r)).sort()).toEqual([]);
    expect([...documented].filter((r) => !served.has(r)).sort()).toEqual([]);
    expect(served.size).toBeGreaterThan(40);
  });

  test("real replies of the market, options and analytics routes parse with their declared schemas", async () => {
    await checked("GET", "/healthz", "/healthz");
    await checked("GET", "/readyz", "/readyz");
    await checked("GET", "/v1/instruments", "/v1/instruments?kind=option&limit=3");
    await checked("GET", "/v1/instruments", "/v1/instruments?kind=bond");
    await checked("GET", "/v1/quotes", "/v1/quotes?limit=2");
    await checked("GET", "/v1/quotes", "/v1/quotes?symbols=AAPL,TSLA");
    await checked("GET", "/v1/quotes", "/v1/quotes?symbols=AAPL,NOPE");
    await checked("GET", "/v1/quotes/:symbol", "/v1/quotes/AAPL");
    await checked("GET", "/v1/bars/:symbol", "/v1/bars/AAPL?limit=5");
    const option = app.engine.instruments.find((i) => i.kind === "option" && i.underlying === "TSLA")!.symbol;
    await checked("GET", "/v1/greeks/:symbol", `/v1/greeks/${encodeURIComponent(option)}`);
    await checked("GET", "/v1/greeks/:symbol", "/v1/greeks/AAPL");
    const expiries = (await checked("GET", "/v1/chains/:underlying", "/v1/chains/TSLA")).json.expiries as string[];
    await checked("GET", "/v1/chains/:underlying/:expiry", `/v1/chains/TSLA/${expiries[0]}?right=put`);
    await checked("GET", "/v1/chains/:underlying/:expiry", "/v1/chains/TSLA/2001-01-01");
    await checked("POST", "/v1/greeks/calc", "/v1/greeks/calc", { rows: [{ spot: 100, strike: 95, tYears: 0.1, right: "P", vol: 0.3 }, { spot: 100, strike: 105, tYears: 0.1, right: "C", price: 2 }] });
    await checked("POST", "/v1/greeks/calc", "/v1/greeks/calc", { rows: [{ spot: -1 }] });
    await checked("GET", "/v1/analytics/:symbol", "/v1/analytics/AAPL");
    expect((await checked("GET", "/v1/analytics/:symbol/forecast", "/v1/analytics/AAPL/forecast?horizon=3")).status).toBe(200);
    await checked("GET", "/v1/analytics/:symbol/anomalies", "/v1/analytics/AAPL/anomalies");
  });

  test("real replies of the order, account, risk, alert, key and broker routes parse with their declared schemas", async () => {
    const limitPrice = Math.round(app.engine.quote(app.engine.instrument("AAPL")!.index).bid! * 0.9 * 100) / 100;
    const order = { account: "Gen-Acc", clientOrderId: "doc-1", symbol: "AAPL", side: "buy", type: "limit", tif: "GTC", qty: 1, limitPrice };
    expect((await checked("POST", "/v1/orders/preview", "/v1/orders/preview", order)).status).toBe(200);
    const placed = await checked("POST", "/v1/orders", "/v1/orders", order);
    expect(placed.status).toBe(201);
    expect((await checked("POST", "/v1/orders", "/v1/orders", order)).status).toBe(200);
    await checked("POST", "/v1/orders", "/v1/orders", { ...order, clientOrderId: "doc-2", qty: "one" });
    await checked("POST", "/v1/orders", "/v1/orders", { ...order, clientOrderId: "doc-3", account: "Nope-Acc" });
    const id = placed.json.id as string;
    await checked("GET", "/v1/orders", "/v1/orders?account=Gen-Acc");
    await checked("GET", "/v1/orders/:id", `/v1/orders/${id}?events=true`);
    await checked("PATCH", "/v1/orders/:id", `/v1/orders/${id}`, { limitPrice: Math.round((limitPrice - 0.01) * 100) / 100 });
    await waitFor(() => app.trading.oms.accountIds().length > 0, 1000);
    await checked("DELETE", "/v1/orders/:id", `/v1/orders/${id}`);
    await checked("GET", "/v1/orders/:id", "/v1/orders/nope");
    await checked("GET", "/v1/accounts", "/v1/accounts");
    await checked("GET", "/v1/accounts/:id", "/v1/accounts/Gen-Acc");
    await checked("GET", "/v1/accounts/:id/positions", "/v1/accounts/Gen-Acc/positions");
    await checked("GET", "/v1/accounts/:id/fills", "/v1/accounts/Gen-Acc/fills");
    expect((await checked("GET", "/v1/analytics/accounts/:account/performance", "/v1/analytics/accounts/Gen-Acc/performance")).status).toBe(200);
    await checked("GET", "/v1/risk", "/v1/risk");
    expect((await checked("GET", "/v1/risk/:account", "/v1/risk/Gen-Acc")).status).toBe(200);
    await checked("GET", "/v1/admin/risk/audit", "/v1/admin/risk/audit?limit=5");
    await checked("PATCH", "/v1/admin/risk/limits/:account", "/v1/admin/risk/limits/Nope-Acc", { maxOpenOrders: 10 });
    expect((await checked("PATCH", "/v1/admin/risk/limits/:account", "/v1/admin/risk/limits/Gen-Acc", { maxOpenOrders: 500 })).status).toBe(200);
    expect((await checked("POST", "/v1/admin/risk/state", "/v1/admin/risk/state", { account: "Gen-Acc", state: "active", reason: "api docs test" })).status).toBe(200);
    await checked("POST", "/v1/admin/risk/state", "/v1/admin/risk/state", { state: "active", reason: "api docs test" });
    // The kill switch on an account the rest of this file does not trade.
    expect((await checked("POST", "/v1/admin/risk/kill", "/v1/admin/risk/kill", { account: "Com-Acc", reason: "api docs test" })).status).toBe(200);
    await checked("POST", "/v1/admin/risk/kill", "/v1/admin/risk/kill", { account: "Nope-Acc", reason: "api docs test" });
    await checked("GET", "/v1/admin/risk/audit", "/v1/admin/risk/audit?account=Com-Acc");
    await checked("GET", "/v1/alerts", "/v1/alerts");
    await checked("GET", "/v1/alerts/:id", "/v1/alerts/999999");
    const created = await checked("POST", "/v1/admin/keys", "/v1/admin/keys", { scopes: ["read"], label: "doc" });
    await checked("GET", "/v1/admin/keys", "/v1/admin/keys");
    await checked("DELETE", "/v1/admin/keys/:id", `/v1/admin/keys/${created.json.key.id}`);
    await checked("GET", "/v1/broker", "/v1/broker");
    await checked("GET", "/v1/broker/account", "/v1/broker/account");
    await checked("GET", "/v1/history/:symbol", "/v1/history/AAPL");
    // An unauthenticated call answers one of the declared auth errors.
    const anon = await call("GET", "/v1/orders", undefined, false);
    expect(anon.status).toBe(401);
    expect(doc.paths["/v1/orders"]!.get.responses["401"]).toBeDefined();
  });
});

/** Every frame received so far must parse with its schema, nothing stripped. */
function expectFramesMatch(frames: ServerFrame[]): void {
  for (const f of frames) {
    const schema = SERVER_FRAME_SCHEMAS[f.t as keyof typeof SERVER_FRAME_SCHEMAS];
    expect(schema, `frame type ${f.t} has a schema`).toBeDefined();
    expect(schema.parse(f), `frame ${f.t}`).toEqual(f);
  }
}

describe("AsyncAPI frame schemas against real frames", () => {
  for (const format of ["json", "msgpack"] as WireFormat[]) {
    test(`${format}: every frame of a session of every op parses with its schema`, async () => {
      await using ws = await TestSocket.open(app.server.wsUrl, format);
      let id = 0;
      const ask = async (req: Record<string, unknown>, t: string) => {
        const n = ++id;
        ws.send({ ...req, id: n });
        return ws.next((f) => "id" in f && f.id === n && (f.t === t || f.t === "error"));
      };
      await ask({ op: "subscribe", symbols: ["AAPL"] }, "ack");
      await ask({ op: "subscribe", symbols: [] }, "ack");
      await ask({ op: "ping" }, "pong");
      await ask({ op: "auth", key }, "authed");
      await ask({ op: "watch", accounts: ["Gen-Acc"] }, "watching");
      await ws.next((f) => f.t === "risk");
      const limitPrice = Math.round(app.engine.quote(app.engine.instrument("TSLA")!.index).bid! * 0.9 * 100) / 100;
      const order = { account: "Gen-Acc", clientOrderId: `ws-doc-${format}`, symbol: "TSLA", side: "buy", type: "limit", tif: "GTC", qty: 1, limitPrice };
      await ask({ op: "preview", order }, "preview");
      const placed = await ask({ op: "submit", order }, "order");
      const orderId = (placed as { order: { id: string } }).order.id;
      await ask({ op: "modify", orderId, changes: { qty: 2 } }, "order");
      await ask({ op: "cancel", orderId }, "order");
      await ask({ op: "alerts.subscribe" }, "alerts");
      await ask({ op: "alerts.ack", alertId: 999_999 }, "alert");
      await ask({ op: "session.subscribe" }, "session");
      const expiry = (await call("GET", "/v1/chains/TSLA")).json.expiries[0];
      await ask({ op: "chain.subscribe", underlying: "TSLA", expiry }, "chain");
      await ask({ op: "chain.unsubscribe", underlying: "TSLA", expiry }, "chains");
      await ask({ op: "session.unsubscribe" }, "session");
      await ask({ op: "alerts.unsubscribe" }, "alerts");
      await ask({ op: "unwatch", accounts: ["Gen-Acc"] }, "watching");
      await ask({ op: "unsubscribe", symbols: ["AAPL"] }, "ack");
      await ask({ op: "nope" }, "ack");
      const types = new Set(ws.frames.map((f) => f.t));
      for (const t of ["welcome", "ack", "q", "pong", "error", "authed", "watching", "order", "account", "risk", "preview", "alerts", "session", "chain", "chains"]) {
        expect(types.has(t as ServerFrame["t"]), `saw a ${t} frame`).toBe(true);
      }
      expectFramesMatch(ws.frames);
    });
  }
});
