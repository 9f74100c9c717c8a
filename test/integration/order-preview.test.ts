// Order preview over REST and /ws against the real order manager, paper broker, SQLite file and
// WASM risk engine: a preview answers what a submit of the same body then does (allowed or the
// same denial, word for word), leaves no order, fill, event or cash row and takes no order id,
// does not use up the account's submit rate, shows the account as it would be after the fill,
// and follows the order routes' key rules and rate limits.

import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { KeyStore } from "../../src/auth/keys.ts";
import type { ErrorFrame, PreviewFrame } from "../../src/client/protocol.ts";
import { OrderPreviewer } from "../../src/options/preview.ts";
import type { RiskLimitsOverride } from "../../src/risk/settings.ts";
import { ORDER_ROUTE_DEFAULTS, orderRoutes } from "../../src/server/orders.ts";
import { OrdersWs } from "../../src/server/orders-ws.ts";
import { previewRoutes } from "../../src/server/preview.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { OmsHarness } from "../helpers/oms.ts";
import { LOOSE, PUT } from "../helpers/risk.ts";
import { TestSocket } from "../helpers/test-socket.ts";
import { RestClient } from "../../src/client/rest.ts";
import { TradingClient } from "../../src/client/trading.ts";

interface Rig {
  h: OmsHarness;
  server: RunningServer;
  keys: KeyStore;
  trade: string;
  previewer: OrderPreviewer;
  call(method: string, path: string, body?: unknown, key?: string | null): Promise<{ status: number; json: any }>;
}

let rig: Rig | undefined;
afterEach(async () => {
  if (!rig) return;
  await rig.server.stop();
  await rig.h.dispose();
  rig = undefined;
});

async function start(limits: RiskLimitsOverride = {}, previewRate = { keyRatePerS: 1000, keyBurst: 2000 }): Promise<Rig> {
  const h = await OmsHarness.start({
    accounts: { capital: 100_000, list: [{ id: "T", share: 1, mode: "cash", broker: "paper" }] },
    risk: { defaults: { ...LOOSE, ...limits }, accounts: {}, publishMs: 60_000 },
  });
  h.quote("AAPL", 100, 100_000, 100.02, 100_000);
  h.quote("TSLA", 250, 100_000, 250.1, 100_000);
  h.quote(PUT, 9.8, 500, 10, 500);
  const keys = new KeyStore(h.store.db);
  const trade = keys.create(["trade"], ["T"]).secret;
  const previewer = new OrderPreviewer(h.oms, h.risk);
  const server = await startServer(h.market.engine, {
    host: "127.0.0.1", port: 0,
    rest: { routes: [orderRoutes({ oms: h.oms, keys, maxRows: 50, ...ORDER_ROUTE_DEFAULTS }),
      previewRoutes({ previewer, keys, ...ORDER_ROUTE_DEFAULTS, ...previewRate })] },
    ws: [(hub) => {
      const ws = new OrdersWs(hub, h.oms, keys, { keyRatePerS: 1000, keyBurst: 2000 });
      ws.setPreviewer(previewer);
      return ws;
    }],
  });
  const call = async (method: string, path: string, body?: unknown, key: string | null = trade) => {
    const res = await fetch(`${server.url}${path}`, {
      method, headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  };
  rig = { h, server, keys, trade, previewer, call: (m, p, b, k) => call(m, p, b, k) };
  return rig;
}

let n = 0;
const order = (x: Record<string, unknown> = {}) => ({ account: "T", clientOrderId: `pv-${++n}`, symbol: "AAPL", side: "buy", type: "limit", limitPrice: 100.01, qty: 10, ...x });

/** Rows in every table an order, fill or cash movement writes, once the journal is on disk. */
async function footprint(r: Rig): Promise<Record<string, number>> {
  await r.h.store.journal.durable();
  const out: Record<string, number> = {};
  for (const t of ["orders", "order_event_groups", "fills", "cash", "risk_audit"]) {
    out[t] = (r.h.store.db.query(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
  }
  return out;
}

describe("preview agrees with submit", () => {
  test("an allowed order: allowed, no denials; the submit then places it; the preview left nothing behind", async () => {
    const r = await start();
    const before = await footprint(r);
    const body = order();
    const p = await r.call("POST", "/v1/orders/preview", body);
    expect(p.status).toBe(200);
    expect(p.json).toMatchObject({ allowed: true, denials: [], warnings: [], priceRef: 100.01 });
    expect(await footprint(r)).toEqual(before);
    expect((await r.call("GET", "/v1/orders?account=T")).json.total).toBe(0);
    const placed = await r.call("POST", "/v1/orders", body);
    expect(placed.status).toBe(201);
    expect(placed.json.status).not.toBe("denied");
    // The preview took no order id: the first real order is O1.
    expect(placed.json.id).toBe("O1");
  });

  test("a denied order: the same code and message a submit is then denied with", async () => {
    const r = await start({ maxOrderNotional: 0.01 }); // $1,000
    const before = await footprint(r);
    const body = order({ qty: 11, limitPrice: 100 });
    const p = await r.call("POST", "/v1/orders/preview", body);
    expect(p.status).toBe(200);
    expect(p.json.allowed).toBe(false);
    expect(p.json.denials).toEqual([{ code: "NOTIONAL", message: "order notional $1,100 exceeds the limit $1,000" }]);
    expect(await footprint(r)).toEqual(before);
    expect(r.h.risk!.hook.denials.get("NOTIONAL")).toBe(0);
    const placed = await r.call("POST", "/v1/orders", body);
    expect(placed.json.status).toBe("denied");
    expect(placed.json.reason).toBe(`${p.json.denials[0].code}: ${p.json.denials[0].message}`);
    // Just inside the limit both agree the other way.
    const inside = order({ qty: 10, limitPrice: 100 });
    expect((await r.call("POST", "/v1/orders/preview", inside)).json.allowed).toBe(true);
    expect((await r.call("POST", "/v1/orders", inside)).json.status).not.toBe("denied");
  });

  test("previews do not use up the account's submit rate: after 10 previews, 2 of 2 submits still pass", async () => {
    const r = await start({ submitRatePerS: 2 });
    for (let i = 0; i < 10; i++) expect((await r.call("POST", "/v1/orders/preview", order())).json.allowed).toBe(true);
    for (let i = 0; i < 2; i++) expect((await r.call("POST", "/v1/orders", order())).json.status).not.toBe("denied");
    // The third in the same instant is over the rate: a preview now says so, and so does the submit.
    const p = await r.call("POST", "/v1/orders/preview", order());
    expect(p.json.denials.map((d: any) => d.code)).toEqual(["SUBMIT_RATE"]);
    expect((await r.call("POST", "/v1/orders", order())).json.reason).toStartWith("SUBMIT_RATE: ");
  });
});

describe("the account after the fill", () => {
  test("a stock buy in a cash account: cash falls by the cost, the position and dollar delta grow", async () => {
    const r = await start();
    const p = (await r.call("POST", "/v1/orders/preview", order({ qty: 10, limitPrice: 100.01 }))).json;
    expect(p.before.cash).toBe(100_000);
    expect(p.after.cash).toBeCloseTo(100_000 - 1000.1, 6);
    expect(p.before.position).toEqual({ symbol: "AAPL", qty: 0 });
    expect(p.after.position).toEqual({ symbol: "AAPL", qty: 10 });
    // Marked at the mid (100.01): equity unchanged, 10 × 100.01 of dollar delta, gross and net.
    expect(p.after.equity).toBeCloseTo(p.before.equity, 6);
    expect(p.after.dollarDelta - p.before.dollarDelta).toBeCloseTo(1000.1, 6);
    expect(p.after.gross).toBeCloseTo(1000.1, 6);
    expect(p.after.net).toBeCloseTo(1000.1, 6);
    expect(p.after.concentration.largestUnderlying).toBe("AAPL");
    expect(p.after.concentration.shareOfEquity).toBeCloseTo(1000.1 / p.after.equity, 9);
    expect(p.after.buyingPower.available).toBeCloseTo(p.after.cash, 6);
  });

  test("a cash-secured put sale: premium in, the strike's collateral required", async () => {
    const r = await start();
    const p = (await r.call("POST", "/v1/orders/preview", order({ symbol: PUT, side: "sell", qty: 2, limitPrice: 9.9 }))).json;
    expect(p.allowed).toBe(true);
    expect(p.after.cash - p.before.cash).toBeCloseTo(2 * 9.9 * 100, 6);
    expect(p.after.buyingPower.required - p.before.buyingPower.required).toBeCloseTo(2 * 250 * 100, 6);
    expect(p.after.buyingPower.remaining).toBeCloseTo(p.after.buyingPower.available - p.after.buyingPower.required, 6);
    expect(p.after.position).toEqual({ symbol: PUT, qty: -2 });
    // A short put is long the underlying's delta.
    expect(p.after.dollarDelta).toBeGreaterThan(p.before.dollarDelta);
    // The published risk is untouched by the hypothetical fill.
    r.h.risk!.recompute();
    expect(r.h.risk!.snapshot("T")!.cash).toBe(100_000);
    expect(r.h.risk!.snapshot("T")!.buyingPower.required).toBe(0);
  });
});

describe("the pre-trade check's running sums", () => {
  test("a preview leaves them as they were: the account's sums, its underlying sums and its rows", async () => {
    const r = await start();
    const body = order({ symbol: PUT, side: "sell", qty: 2, limitPrice: 9.9 });
    // Resting buys so the sums are not all zero and both instruments have their rows before any preview.
    expect((await r.call("POST", "/v1/orders", order({ qty: 1, limitPrice: 99.5 }))).json.status).toBe("accepted");
    expect((await r.call("POST", "/v1/orders", order({ symbol: PUT, qty: 1, limitPrice: 9 }))).json.status).toBe("accepted");
    await r.h.store.journal.durable();
    const t = r.h.risk!.tables;
    const slot = r.h.risk!.book.slotOf("T")!;
    const snap = () => ({
      account: [...t.accounts.subarray(slot * t.A.STRIDE, (slot + 1) * t.A.STRIDE)],
      unds: [...t.undSums.subarray(t.undBase(slot), t.undBase(slot + 1))],
      rows: [...t.positions.subarray(t.rowBase(slot, 0), t.rowBase(slot, t.acc(slot, "A_ROWS")))],
    });
    const before = snap();
    expect(before.account[t.g.A_S_REQ!]).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) expect((await r.call("POST", "/v1/orders/preview", body)).json.allowed).toBe(true);
    expect(snap()).toEqual(before);
  });
});

describe("errors and limits", () => {
  test("validation errors are a submit's: unknown symbol, account, bad qty; keys: none 401, read 403, other account 403", async () => {
    const r = await start();
    const cases: [Record<string, unknown>, number, string, string][] = [
      [order({ symbol: "NOPE" }), 400, "UNKNOWN_INSTRUMENT", "symbol"],
      [order({ account: "Z" }), 404, "UNKNOWN_ACCOUNT", "account"],
      [order({ qty: 1.5 }), 400, "BAD_QUANTITY", "qty"],
      [order({ limitPrice: 100.001 }), 400, "PRICE_OFF_TICK", "limitPrice"],
      [{ ...order(), extra: 1 }, 400, "BAD_REQUEST", "extra"],
    ];
    for (const [body, status, code, field] of cases) {
      const p = await r.call("POST", "/v1/orders/preview", body);
      const s = await r.call("POST", "/v1/orders", body);
      expect([p.status, p.json.error.code, p.json.error.field]).toEqual([status, code, field]);
      expect([s.status, s.json.error.code]).toEqual([status, code]);
    }
    expect((await r.call("POST", "/v1/orders/preview", order(), null)).status).toBe(401);
    expect((await r.call("POST", "/v1/orders/preview", order(), r.keys.create(["read"], ["*"]).secret)).status).toBe(403);
    const other = r.keys.create(["trade"], ["Q"]).secret;
    expect((await r.call("POST", "/v1/orders/preview", order(), other)).json.error.code).toBe("FORBIDDEN");
  });

  test("a reused client order id: same terms is a warning (a submit returns the original), other terms 409", async () => {
    const r = await start();
    const body = order();
    await r.call("POST", "/v1/orders", body);
    const same = await r.call("POST", "/v1/orders/preview", body);
    expect(same.json.warnings.map((w: any) => w.code)).toEqual(["CLIENT_ORDER_ID_USED"]);
    const changed = await r.call("POST", "/v1/orders/preview", { ...body, qty: 11 });
    expect(changed.status).toBe(409);
    expect(changed.json.error.code).toBe("DUPLICATE_CLIENT_ORDER_ID");
  });

  test("previews are rate-limited per key like orders: past the burst, 429", async () => {
    const r = await start({}, { keyRatePerS: 0.001, keyBurst: 3 });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await r.call("POST", "/v1/orders/preview", order())).status);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    // The order routes have their own bucket: placing still works.
    expect((await r.call("POST", "/v1/orders", order())).status).toBe(201);
  });
});

describe("the preview op over /ws", () => {
  test("needs auth with a trade key; answers a preview frame; a bad order is an error naming order.<field>; nothing placed", async () => {
    const r = await start({ maxOrderNotional: 0.01 });
    await using ws = await TestSocket.open(r.server.wsUrl);
    ws.send({ op: "preview", id: 1, order: order() });
    expect(await ws.next<ErrorFrame>((f) => "id" in f && f.id === 1)).toMatchObject({ t: "error", code: "UNAUTHORIZED" });
    ws.send({ op: "auth", id: 2, key: r.keys.create(["read"], ["*"]).secret });
    await ws.next((f) => "id" in f && f.id === 2);
    ws.send({ op: "preview", id: 3, order: order() });
    expect(await ws.next<ErrorFrame>((f) => "id" in f && f.id === 3)).toMatchObject({ t: "error", code: "FORBIDDEN" });
    ws.send({ op: "auth", id: 4, key: r.trade });
    await ws.next((f) => f.t === "authed");
    ws.send({ op: "preview", id: 5, order: order({ qty: 5, limitPrice: 100 }) });
    const ok = await ws.next<PreviewFrame>((f) => "id" in f && f.id === 5);
    expect(ok).toMatchObject({ t: "preview", preview: { allowed: true, denials: [] } });
    expect(ok.preview.after!.position.qty).toBe(5);
    ws.send({ op: "preview", id: 6, order: order({ qty: 20, limitPrice: 100 }) });
    const no = await ws.next<PreviewFrame>((f) => "id" in f && f.id === 6);
    expect(no.preview.denials.map((d) => d.code)).toEqual(["NOTIONAL"]);
    ws.send({ op: "preview", id: 7, order: order({ qty: -1 }) });
    expect(await ws.next<ErrorFrame>((f) => "id" in f && f.id === 7)).toMatchObject({ t: "error", code: "BAD_QUANTITY", field: "order.qty" });
    expect((await r.call("GET", "/v1/orders?account=T")).json.total).toBe(0);
    expect(r.previewer.previews).toBe(2);
    expect(r.previewer.refused).toBe(1);
  });
});

describe("the TypeScript clients", () => {
  test("RestClient.previewOrder and TradingClient.previewOrder answer as the routes do", async () => {
    const r = await start({ maxOrderNotional: 0.01 });
    const rest = new RestClient(r.server.url, { key: r.trade });
    const ok = await rest.previewOrder({ account: "T", symbol: "AAPL", side: "buy", type: "limit", limitPrice: 100, qty: 5 });
    expect(ok).toMatchObject({ allowed: true, denials: [] });
    await expect(rest.previewOrder({ account: "T", symbol: "NOPE", side: "buy", type: "market", qty: 5 })).rejects.toMatchObject({ code: "UNKNOWN_INSTRUMENT", field: "symbol" });
    await using tc = await TradingClient.connect(r.server.wsUrl, { key: r.trade });
    const no = await tc.previewOrder({ account: "T", symbol: "AAPL", side: "buy", type: "limit", limitPrice: 100, qty: 50 });
    expect(no.denials.map((d) => d.code)).toEqual(["NOTIONAL"]);
    expect((await rest.listOrders({ account: "T" })).total).toBe(0);
  });
});

test("without the risk engine a preview runs the order manager's checks only: allowed, no figures, the open-order bound as a denial", async () => {
  const h = await OmsHarness.start({ oms: { maxOpenOrdersPerAccount: 1 } });
  try {
    h.quote("AAPL", 100, 100_000, 100.02, 100_000);
    const previewer = new OrderPreviewer(h.oms, undefined);
    const body = { account: "Gen-Acc", clientOrderId: "nr-1", symbol: "AAPL", side: "buy", type: "limit", limitPrice: 90, qty: 1 };
    const r = previewer.preview(body, () => true);
    expect(r).toEqual({ ok: true, value: { allowed: true, denials: [], warnings: [], priceRef: null, before: null, after: null } });
    const placed = await h.oms.submit(body);
    expect(placed.ok && placed.value.order.status).not.toBe("denied");
    const full = previewer.preview({ ...body, clientOrderId: "nr-2" }, () => true);
    expect(full.ok && full.value.denials.map((d) => d.code)).toEqual(["TOO_MANY_OPEN_ORDERS"]);
    const submitted = await h.oms.submit({ ...body, clientOrderId: "nr-2" });
    expect(!submitted.ok && submitted.error.code).toBe("TOO_MANY_OPEN_ORDERS");
  } finally {
    await h.dispose();
  }
});
