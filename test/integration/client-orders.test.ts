// The client library's order entry against the real server (Bun.serve on port 0, a SQLite file
// in a temp dir, the paper broker): RestClient over HTTP and TradingClient over /ws — placing
// with idempotent client order ids (including a re-send after a lost reply), modify, cancel,
// reads, account pushes, errors as ClientError with code, field and status, and recovery of
// authentication and watches across a server restart.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KeyStore } from "../../src/auth/keys.ts";
import { marketDataRefusal } from "../../src/auth/market-gate.ts";
import { MarketClient, RestClient, TradingClient, type AccountView, type FillView, type OrderView, type PositionView } from "../../src/client/index.ts";
import { OrdersWs, type WsExtension } from "../../src/server/orders-ws.ts";
import { orderRoutes, ORDER_ROUTE_DEFAULTS } from "../../src/server/orders.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { OmsHarness } from "../helpers/oms.ts";
import { waitFor } from "../helpers/wait.ts";
import { rejection } from "../helpers/client-error.ts";

let h: OmsHarness;
let keys: KeyStore;
let server: RunningServer;
let trade: string, genOnly: string;

function serve(port = 0): Promise<RunningServer> {
  return startServer(h.market.engine, {
    host: "127.0.0.1", port,
    rest: { routes: [orderRoutes({ oms: h.oms, keys, maxRows: 50, ...ORDER_ROUTE_DEFAULTS })] },
    ws: [(hub) => new OrdersWs(hub, h.oms, keys, { keyRatePerS: 1000, keyBurst: 2000 })],
  });
}

beforeAll(async () => {
  h = await OmsHarness.start();
  h.quote("AAPL", 100, 1000, 100.02, 1000);
  keys = new KeyStore(h.store.db);
  trade = keys.create(["trade"], ["*"]).secret;
  genOnly = keys.create(["trade"], ["Gen-Acc"]).secret;
  server = await serve();
});
afterAll(async () => {
  await server.stop();
  await h.dispose();
});

describe("RestClient", () => {
  test("placeOrder is idempotent by clientOrderId: created, then the original, then 409 for other terms", async () => {
    const rest = new RestClient(server.url, { key: trade });
    const body = { account: "Gen-Acc", clientOrderId: "rc-1", symbol: "AAPL", side: "buy", type: "market", qty: 100 } as const;
    const first = await rest.placeOrder(body);
    expect(first.created).toBe(true);
    expect(first.order).toMatchObject({ status: "filled", filledQty: 100, avgFillPrice: 100.02, clientOrderId: "rc-1" });
    const again = await rest.placeOrder(body);
    expect(again).toEqual({ order: first.order, created: false });
    const dup = await rejection(rest.placeOrder({ ...body, qty: 5 }));
    expect({ code: dup.code, field: dup.field, status: dup.status }).toEqual({ code: "DUPLICATE_CLIENT_ORDER_ID", field: "clientOrderId", status: 409 });
  });

  test("a generated clientOrderId is valid and unique", async () => {
    const rest = new RestClient(server.url, { key: trade });
    const a = await rest.placeOrder({ account: "Gen-Acc", symbol: "AAPL", side: "sell", type: "market", qty: 1 });
    const b = await rest.placeOrder({ account: "Gen-Acc", symbol: "AAPL", side: "sell", type: "market", qty: 1 });
    expect(a.created && b.created).toBe(true);
    expect(a.order.clientOrderId).not.toBe(b.order.clientOrderId);
  });

  test("a reply lost in transit: the re-send with the same clientOrderId returns the original order, not a second one", async () => {
    // A proxy that forwards the first POST but answers only after the client has given up on it.
    let posts = 0;
    await using proxy = Bun.serve({
      port: 0, hostname: "127.0.0.1",
      async fetch(req) {
        const url = new URL(req.url);
        const forwarded = await fetch(`${server.url}${url.pathname}${url.search}`, { method: req.method, headers: req.headers, body: await req.text() || undefined });
        if (req.method === "POST" && ++posts === 1) {
          await new Promise<void>((resolve) => (req.signal.aborted ? resolve() : req.signal.addEventListener("abort", () => resolve())));
        }
        return new Response(await forwarded.text(), { status: forwarded.status, headers: { "content-type": "application/json" } });
      },
    });
    const rest = new RestClient(`http://127.0.0.1:${proxy.port}`, { key: trade, requestTimeoutMs: 500, retryDelayMs: 1 });
    const placed = await rest.placeOrder({ account: "Gen-Acc", clientOrderId: "lost-1", symbol: "AAPL", side: "buy", type: "market", qty: 3 });
    expect(posts).toBe(2);
    expect(placed.created).toBe(false);
    expect(placed.order).toMatchObject({ clientOrderId: "lost-1", status: "filled", filledQty: 3 });
    const listed = await rest.listOrders({ account: "Gen-Acc", limit: 50 });
    expect(listed.orders.filter((o) => o.clientOrderId === "lost-1")).toHaveLength(1);
  });

  test("a working limit order: modify, read, list, events, cancel, and cancel again refused", async () => {
    const rest = new RestClient(`${server.url}/`, { key: trade });
    const { order } = await rest.placeOrder({ account: "Rev-Acc", clientOrderId: "lim-1", symbol: "AAPL", side: "buy", type: "limit", qty: 10, limitPrice: 99 });
    expect(order.status).toBe("accepted");
    const modified = await rest.modifyOrder(order.id, { qty: 20, limitPrice: 99.5 });
    expect(modified).toMatchObject({ status: "accepted", qty: 20, limitPrice: 99.5 });
    expect(await rest.getOrder(order.id)).toMatchObject({ id: order.id, qty: 20 });
    const withEvents = await rest.getOrderEvents(order.id);
    expect(withEvents.events.map((e) => e.kind)).toEqual(["submitted", "accepted", "modify_requested", "replaced"]);
    const open = await rest.listOrders({ account: "Rev-Acc", open: true });
    expect(open.orders.map((o) => o.id)).toEqual([order.id]);
    expect(open).toMatchObject({ total: 1, offset: 0, next: null });
    expect((await rest.cancelOrder(order.id)).status).toBe("canceled");
    const again = await rejection(rest.cancelOrder(order.id));
    expect({ code: again.code, status: again.status }).toEqual({ code: "ORDER_NOT_CANCELABLE", status: 409 });
    expect((await rest.listOrders({ account: "Rev-Acc", status: "canceled" })).orders.map((o) => o.id)).toEqual([order.id]);
  });

  test("accounts, one account, positions and fills with paging", async () => {
    const rest = new RestClient(server.url, { key: genOnly });
    expect((await rest.accounts()).map((a) => a.id)).toEqual(["Gen-Acc"]);
    const acct = await rest.account("Gen-Acc");
    expect(acct).toMatchObject({ id: "Gen-Acc", mode: "cash" });
    const positions = await rest.positions("Gen-Acc");
    expect(positions.find((p) => p.symbol === "AAPL")?.qty).toBe(101);
    const page = await rest.fills("Gen-Acc", { limit: 2 });
    expect(page.fills).toHaveLength(2);
    expect(page).toMatchObject({ offset: 0, next: 2 });
    expect(page.total).toBeGreaterThanOrEqual(4);
    const rest2 = await rest.fills("Gen-Acc", { offset: 2, limit: 50 });
    expect(rest2.fills.length).toBe(page.total - 2);
  });

  test("errors carry code, field and status; nothing is retried that the server refused", async () => {
    const rest = new RestClient(server.url, { key: trade });
    const qty = await rejection(rest.placeOrder({ account: "Gen-Acc", symbol: "AAPL", side: "buy", type: "market", qty: 1.5 }));
    expect({ code: qty.code, field: qty.field, status: qty.status }).toEqual({ code: "BAD_QUANTITY", field: "qty", status: 400 });
    const tick = await rejection(rest.placeOrder({ account: "Gen-Acc", symbol: "AAPL", side: "buy", type: "limit", qty: 1, limitPrice: 99.001 }));
    expect(tick).toMatchObject({ code: "PRICE_OFF_TICK", field: "limitPrice" });
    expect(await rejection(rest.getOrder("O999999"))).toMatchObject({ code: "NOT_FOUND", status: 404 });
    expect(await rejection(rest.listOrders({ limit: 51 }))).toMatchObject({ code: "BAD_REQUEST", field: "limit" });
    expect(await rejection(new RestClient(server.url, { key: genOnly }).account("Rev-Acc"))).toMatchObject({ code: "NOT_FOUND" });
    expect(await rejection(new RestClient(server.url).accounts())).toMatchObject({ code: "UNAUTHORIZED", status: 401 });
    expect(await rejection(new RestClient("http://127.0.0.1:1", { placeRetries: 0 }).accounts())).toMatchObject({ code: "CONNECT_FAILED" });
  });
});

describe("TradingClient", () => {
  test("a bad key is refused at connect with UNAUTHORIZED on field key", async () => {
    const err = await rejection(TradingClient.connect(server.wsUrl, { key: `ak_000000000000_${"x".repeat(43)}`, reconnect: false }));
    expect(err).toMatchObject({ code: "UNAUTHORIZED", field: "key" });
  });

  test("watch, place, and receive order states, the fill, the position and the account", async () => {
    await using trader = await TradingClient.connect(server.wsUrl, { key: trade, format: "msgpack" });
    expect(trader.authed).toMatchObject({ scopes: ["trade"], accounts: ["*"] });
    const orders: OrderView[] = [], fills: FillView[] = [], positions: PositionView[] = [], accounts: AccountView[] = [];
    trader.onOrder((o) => orders.push(o));
    trader.onFill((f) => fills.push(f));
    trader.onPosition((p) => positions.push(p));
    trader.onAccount((a) => accounts.push(a));
    expect(await trader.watch(["Com-Acc"])).toEqual(["Com-Acc"]);
    await waitFor(() => accounts.length === 1, 5000, "the account snapshot");
    const placed = await trader.placeOrder({ account: "Com-Acc", clientOrderId: "ws-1", symbol: "AAPL", side: "buy", type: "market", qty: 25 });
    expect(placed).toMatchObject({ status: "filled", filledQty: 25, avgFillPrice: 100.02 });
    await waitFor(() => accounts.length >= 2, 5000, "the account after the fill");
    expect(orders.filter((o) => o.id === placed.id).map((o) => o.status)).toEqual(["submitted", "accepted", "filled"]);
    expect(fills).toMatchObject([{ orderId: placed.id, qty: 25, price: 100.02, commission: 1 }]);
    expect(positions).toMatchObject([{ account: "Com-Acc", symbol: "AAPL", qty: 25 }]);
    expect(accounts.at(-1)!.positions).toBe(1);
    expect(await trader.placeOrder({ account: "Com-Acc", clientOrderId: "ws-1", symbol: "AAPL", side: "buy", type: "market", qty: 25 }))
      .toEqual(placed);
    expect(await trader.unwatch(["Com-Acc"])).toEqual([]);
  });

  test("modify and cancel over WebSocket; errors name the field inside the request", async () => {
    await using trader = await TradingClient.connect(server.wsUrl, { key: trade });
    const o = await trader.placeOrder({ account: "Com-Acc", symbol: "AAPL", side: "buy", type: "limit", qty: 5, limitPrice: 98 });
    expect(o.status).toBe("accepted");
    expect(await trader.modifyOrder(o.id, { limitPrice: 98.5 })).toMatchObject({ status: "accepted", limitPrice: 98.5 });
    expect((await trader.cancelOrder(o.id)).status).toBe("canceled");
    expect(await rejection(trader.cancelOrder(o.id))).toMatchObject({ code: "ORDER_NOT_CANCELABLE" });
    const bad = await rejection(trader.placeOrder({ account: "Com-Acc", symbol: "AAPL", side: "buy", type: "market", qty: -1 }));
    expect(bad).toMatchObject({ code: "BAD_QUANTITY", field: "order.qty" });
    expect(await rejection(trader.modifyOrder(o.id, { qty: 0.5 }))).toMatchObject({ code: "ORDER_NOT_MODIFIABLE" });
  });

  test("watch is bounded: 65 accounts are refused, an account the key may not see too", async () => {
    await using trader = await TradingClient.connect(server.wsUrl, { key: genOnly });
    const many = Array.from({ length: 65 }, (_, i) => `A${i}`);
    expect(await rejection(trader.watch(many))).toMatchObject({ code: "BAD_REQUEST", field: "accounts" });
    expect(await rejection(trader.watch(["Gen-Acc", "Rev-Acc"]))).toMatchObject({ code: "UNKNOWN_ACCOUNT", field: "accounts[1]" });
    expect(await rejection(trader.placeOrder({ account: "Rev-Acc", symbol: "AAPL", side: "buy", type: "market", qty: 1 })))
      .toMatchObject({ code: "FORBIDDEN", field: "order.account" });
  });

  test("after a server restart it re-authenticates and watches again by itself", async () => {
    await using trader = await TradingClient.connect(server.wsUrl, { key: trade, reconnect: { initialDelayMs: 10, jitter: 0 } });
    const accounts: AccountView[] = [];
    trader.onAccount((a) => accounts.push(a));
    await trader.watch(["Gen-Acc"]);
    await waitFor(() => accounts.length === 1, 5000, "the first snapshot");
    const port = server.port;
    await server.stop();
    server = await serve(port);
    await waitFor(() => accounts.length === 2, 10_000, "the snapshot after the reconnect");
    expect(trader.market.stats.reconnects).toBe(1);
    const placed = await trader.placeOrder({ account: "Gen-Acc", symbol: "AAPL", side: "sell", type: "market", qty: 1 });
    expect(placed.status).toBe("filled");
  });
});

describe("TradingClient idempotency", () => {
  test("a connection lost before the reply: placeOrder re-sends the same clientOrderId and gets the original order", async () => {
    // Order entry that hangs up on the first submit right after taking it, so its reply is lost.
    let dropped = 0;
    const dropFirstSubmit = (inner: OrdersWs): WsExtension => ({
      handles: (v) => inner.handles(v),
      ops: inner.ops,
      handle: (ws, v) => {
        inner.handle(ws, v);
        if ((v as { op?: string }).op === "submit" && dropped++ === 0) ws.close(1011, "dropped by the test");
      },
      closed: (ws) => inner.closed(ws),
      stop: () => inner.stop(),
    });
    const srv = await startServer(h.market.engine, {
      host: "127.0.0.1", port: 0, ws: [(hub) => dropFirstSubmit(new OrdersWs(hub, h.oms, keys, { keyRatePerS: 1000, keyBurst: 2000 }))],
    });
    try {
      await using trader = await TradingClient.connect(srv.wsUrl, { key: trade, reconnect: { initialDelayMs: 10, jitter: 0 } });
      const placed = await trader.placeOrder({ account: "Com-Acc", clientOrderId: "drop-1", symbol: "AAPL", side: "buy", type: "market", qty: 7 });
      expect(dropped).toBe(2);
      expect(trader.market.stats.reconnects).toBe(1);
      expect(placed).toMatchObject({ clientOrderId: "drop-1", status: "filled", filledQty: 7 });
      const listed = await new RestClient(server.url, { key: trade }).listOrders({ account: "Com-Acc", limit: 50 });
      expect(listed.orders.filter((o) => o.clientOrderId === "drop-1").map((o) => o.id)).toEqual([placed.id]);
    } finally {
      await srv.stop();
    }
  });
});

describe("MarketClient with a key", () => {
  test("on a server that wants a key for market data it authenticates first on every connection, restarts included", async () => {
    const gated = (port = 0) => startServer(h.market.engine, {
      host: "127.0.0.1", port, marketDataGate: (ip, auth) => marketDataRefusal("key", keys, ip, auth),
      ws: [(hub) => new OrdersWs(hub, h.oms, keys, { keyRatePerS: 1000, keyBurst: 2000 })],
    });
    let srv = await gated();
    await using anonymous = await MarketClient.connect(srv.wsUrl, { reconnect: false });
    expect(await rejection(anonymous.subscribe(["AAPL"]))).toMatchObject({ code: "UNAUTHORIZED" });
    const read = keys.create(["read"], []).secret;
    await using client = await MarketClient.connect(srv.wsUrl, { key: read, reconnect: { initialDelayMs: 10, jitter: 0 } });
    expect(client.authed).toMatchObject({ scopes: ["read"] });
    const quotes: string[] = [];
    client.onQuote((q) => quotes.push(`${q.s}:${q.b}`));
    expect(await client.subscribe(["AAPL"])).toEqual(["AAPL"]);
    await waitFor(() => quotes.length === 1, 5000, "the snapshot");
    const port = srv.port;
    await srv.stop();
    srv = await gated(port);
    try {
      // The resubscription after the reconnect only succeeds because auth went first.
      await waitFor(() => quotes.length === 2, 10_000, "the snapshot after the reconnect");
      expect(client.stats.reconnects).toBe(1);
    } finally {
      await client.close();
      await srv.stop();
    }
  });
});
