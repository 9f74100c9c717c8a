// Market-data access: "loopback" lets this host in without a key and asks everyone else for
// one; "key" asks everyone. REST takes a bearer header; a WebSocket takes the header at the
// upgrade or an auth message before its first subscribe.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KeyStore } from "../../src/auth/keys.ts";
import { isLoopback, marketDataMiddleware, marketDataRefusal } from "../../src/auth/market-gate.ts";
import type { ErrorFrame, ServerFrame } from "../../src/client/protocol.ts";
import { OrdersWs } from "../../src/server/orders-ws.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { OmsHarness } from "../helpers/oms.ts";
import { TestSocket } from "../helpers/test-socket.ts";
import { waitFor } from "../helpers/wait.ts";

let h: OmsHarness;
let keys: KeyStore;
let server: RunningServer;
let read: string;

beforeAll(async () => {
  h = await OmsHarness.start();
  h.quote("AAPL", 100, 1000, 100.02, 1000);
  keys = new KeyStore(h.store.db);
  read = keys.create(["read"], []).secret;
  server = await startServer(h.market.engine, {
    host: "127.0.0.1", port: 0,
    rest: { middleware: [marketDataMiddleware("key", keys)] },
    ws: [(hub) => new OrdersWs(hub, h.oms, keys, { keyRatePerS: 100, keyBurst: 100 })],
    marketDataGate: (ip, auth) => marketDataRefusal("key", keys, ip, auth),
  });
});
afterAll(async () => {
  await server.stop();
  await h.dispose();
});

describe("the rule", () => {
  test("loopback addresses", () => {
    expect(["127.0.0.1", "127.8.9.1", "::1", "::ffff:127.0.0.1"].map(isLoopback)).toEqual([true, true, true, true]);
    expect(["10.0.0.5", "::ffff:10.0.0.5", "fe80::1", "", undefined].map(isLoopback)).toEqual([false, false, false, false, false]);
  });

  test("loopback mode: this host needs no key, another address does", () => {
    expect(marketDataRefusal("loopback", keys, "127.0.0.1", null)).toBeUndefined();
    expect(marketDataRefusal("loopback", keys, "10.0.0.5", null)?.status).toBe(401);
    expect(marketDataRefusal("loopback", keys, "10.0.0.5", `Bearer ${read}`)).toBeUndefined();
    expect(marketDataRefusal("open", keys, "10.0.0.5", null)).toBeUndefined();
  });
});

describe("key mode over HTTP and WebSocket", () => {
  test("REST market data needs the key; health does not", async () => {
    expect((await fetch(`${server.url}/v1/quotes/AAPL`)).status).toBe(401);
    expect((await fetch(`${server.url}/v1/quotes/AAPL`, { headers: { authorization: "Bearer ak_bad" } })).status).toBe(401);
    const ok = await fetch(`${server.url}/v1/quotes/AAPL`, { headers: { authorization: `Bearer ${read}` } });
    expect(ok.status).toBe(200);
    expect((await ok.json()).bid).toBe(100);
    // Every market-data path is behind the gate, greeks and analytics included.
    for (const path of ["/v1/instruments", "/v1/bars/AAPL", "/v1/analytics/AAPL", "/v1/greeks/AAPL", "/v1/chains/TSLA", "/v1/chains/TSLA/2026-12-04"]) {
      expect((await fetch(`${server.url}${path}`)).status).toBe(401);
    }
    expect((await fetch(`${server.url}/v1/greeks/calc`, { method: "POST", body: "{}" })).status).toBe(401);
    // Chains are read scope: a read key gets them.
    expect((await fetch(`${server.url}/v1/chains/TSLA`, { headers: { authorization: `Bearer ${read}` } })).status).toBe(200);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  test("a WebSocket without a key may connect but not subscribe until it authenticates", async () => {
    await using ws = await TestSocket.open(server.wsUrl);
    ws.send({ op: "subscribe", id: 1, symbols: ["AAPL"] });
    expect(await ws.next<ErrorFrame>((f) => "id" in f && f.id === 1)).toMatchObject({ t: "error", code: "UNAUTHORIZED" });
    ws.send({ op: "auth", id: 2, key: read });
    await ws.next((f) => f.t === "authed");
    ws.send({ op: "subscribe", id: 3, symbols: ["AAPL"] });
    expect(await ws.next((f) => "id" in f && f.id === 3)).toMatchObject({ t: "ack", symbols: ["AAPL"] });
  });

  test("a failed auth closes the market data an earlier auth opened: subscriptions end, subscribe is refused", async () => {
    await using ws = await TestSocket.open(server.wsUrl);
    ws.send({ op: "auth", id: 1, key: read });
    await ws.next((f) => f.t === "authed");
    ws.send({ op: "subscribe", id: 2, symbols: ["AAPL"] });
    expect(await ws.next((f) => "id" in f && f.id === 2)).toMatchObject({ t: "ack", symbols: ["AAPL"] });
    ws.send({ op: "auth", id: 3, key: "ak_nope" });
    expect(await ws.next<ErrorFrame>((f) => "id" in f && f.id === 3)).toMatchObject({ t: "error", code: "UNAUTHORIZED", field: "key" });
    ws.send({ op: "subscribe", id: 4, symbols: ["AAPL"] });
    expect(await ws.next<ErrorFrame>((f) => "id" in f && f.id === 4)).toMatchObject({ t: "error", code: "UNAUTHORIZED" });
    // The old subscription is gone: a new quote arrives at a fresh subscriber, not here.
    await using watcher = await TestSocket.open(server.wsUrl);
    watcher.send({ op: "auth", id: 1, key: read });
    await watcher.next((f) => f.t === "authed");
    watcher.send({ op: "subscribe", id: 2, symbols: ["AAPL"] });
    await watcher.next((f) => f.t === "ack");
    h.quote("AAPL", 100.5, 1000, 100.52, 1000);
    await watcher.next((f) => f.t === "q" && f.s === "AAPL" && f.b === 100.5);
    ws.send({ op: "ping", id: 5 });
    await ws.next((f) => f.t === "pong");
    expect(ws.frames.some((f) => f.t === "q" && f.b === 100.5)).toBe(false);
    expect(server.stats().subscriptions).toBe(1);
  });

  test("the key in the upgrade's header opens market data at once; a bad one is refused with 401", async () => {
    const frames: ServerFrame[] = [];
    const good = new WebSocket(`${server.wsUrl}?format=json`, { headers: { authorization: `Bearer ${read}` } } as unknown as string[]);
    good.onmessage = (e) => frames.push(JSON.parse(e.data as string));
    await waitFor(() => frames.some((f) => f.t === "welcome"), 5000, "welcome");
    good.send(JSON.stringify({ op: "subscribe", id: 1, symbols: ["AAPL"] }));
    await waitFor(() => frames.some((f) => f.t === "ack"), 5000, "the subscribe ack");
    good.close();
    const bad = await fetch(`${server.url}/ws`, { headers: { upgrade: "websocket", connection: "Upgrade", authorization: "Bearer ak_bad",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" } });
    expect(bad.status).toBe(401);
    expect((await bad.json()).error.code).toBe("UNAUTHORIZED");
  });
});
