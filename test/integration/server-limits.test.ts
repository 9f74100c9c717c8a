// Every bound of the WebSocket endpoint, each reached on purpose: frame size, subscriptions,
// connections, inbound rate, and the handshake's own checks.

import { beforeAll, expect, test } from "bun:test";
import type { AckFrame, ErrorFrame, PongFrame } from "../../src/client/protocol.ts";
import { TestMarket } from "../helpers/market.ts";
import { HandshakeRefused, RawWs } from "../helpers/raw-ws.ts";
import { serveMarket } from "../helpers/server.ts";
import { TestSocket } from "../helpers/test-socket.ts";
import { waitFor } from "../helpers/wait.ts";

let market: TestMarket;
beforeAll(async () => {
  market = await TestMarket.create();
});

test("a frame over maxPayloadBytes closes that connection with 1009; the server carries on", async () => {
  await using server = await serveMarket(market, { maxPayloadBytes: 1024 });
  await using big = await TestSocket.open(server.wsUrl);
  await using other = await TestSocket.open(server.wsUrl);
  big.ws.send(JSON.stringify({ op: "subscribe", id: 1, symbols: ["x".repeat(2000)] }));
  expect((await big.closed()).code).toBe(1009);
  other.send({ op: "ping", id: 2 });
  await other.reply<PongFrame>(2);
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  await using again = await TestSocket.open(server.wsUrl);
  again.send({ op: "ping", id: 3 });
  await again.reply<PongFrame>(3);
});

test("a subscribe past maxSubscriptionsPerClient is refused whole", async () => {
  await using server = await serveMarket(market, { maxSubscriptionsPerClient: 3 });
  await using s = await TestSocket.open(server.wsUrl);
  s.send({ op: "subscribe", id: 1, symbols: ["AAPL", "MSFT"] });
  await s.reply<AckFrame>(1);
  s.send({ op: "subscribe", id: 2, symbols: ["MSFT", "NVDA", "TSLA"] });
  expect(await s.reply<ErrorFrame>(2)).toMatchObject({ code: "TOO_MANY_SUBSCRIPTIONS", field: "symbols", id: 2 });
  s.send({ op: "subscribe", id: 3, underlyings: ["TSLA"] });
  expect(await s.reply<ErrorFrame>(3)).toMatchObject({ code: "TOO_MANY_SUBSCRIPTIONS", field: "underlyings", id: 3 });
  expect(server.stats().subscriptions).toBe(2);
  // Re-subscribing what is held plus one more fits exactly.
  s.send({ op: "subscribe", id: 4, symbols: ["AAPL", "MSFT", "NVDA"] });
  expect((await s.reply<AckFrame>(4)).symbols).toEqual(["AAPL", "MSFT", "NVDA"]);
  expect(server.stats().subscriptions).toBe(3);
});

test("past maxConnections the upgrade is answered 503 with a JSON error", async () => {
  await using server = await serveMarket(market, { maxConnections: 2 });
  await using a = await TestSocket.open(server.wsUrl);
  await using b = await TestSocket.open(server.wsUrl);
  const refused = await RawWs.connect(`${server.wsUrl}?format=json`).then(() => undefined, (e: unknown) => e);
  expect(refused).toBeInstanceOf(HandshakeRefused);
  const r = refused as HandshakeRefused;
  expect(r.status).toBe(503);
  expect(JSON.parse(r.body).error.code).toBe("TOO_MANY_CONNECTIONS");
  expect(server.stats()).toMatchObject({ connections: 2, connectionsRejected: 1 });
  a.ws.close();
  await waitFor(() => server.stats().connections === 1, 5000, "the server to see the close");
  await using c = await TestSocket.open(server.wsUrl);
  c.send({ op: "ping", id: 1 });
  await c.reply(1);
  b.send({ op: "ping", id: 2 });
  await b.reply(2);
});

test("concurrent handshakes never open more than maxConnections", async () => {
  await using server = await serveMarket(market, { maxConnections: 2 });
  const attempts = await Promise.allSettled(Array.from({ length: 8 }, () => RawWs.connect(`${server.wsUrl}?format=json`)));
  const opened = attempts.flatMap((a) => (a.status === "fulfilled" ? [a.value] : []));
  try {
    // A handshake that won a race is closed at open with 1013; everyone else was refused with 503.
    await waitFor(() => opened.filter((r) => r.closeCode === undefined).length === 2 && server.stats().connectionsRejected === 6, 5000, "the bound to settle");
    for (const a of attempts) if (a.status === "rejected") expect((a.reason as HandshakeRefused).status).toBe(503);
    for (const r of opened) if (r.closeCode !== undefined) expect(r.closeCode).toBe(1013);
    expect(server.stats().connections).toBe(2);
  } finally {
    for (const r of opened) r.destroy();
  }
});

test("over the inbound rate: RATE_LIMITED and ignored; a sustained flood is closed with 4029", async () => {
  await using server = await serveMarket(market, { inboundRatePerS: 5, inboundBurst: 4 });
  await using s = await TestSocket.open(server.wsUrl);
  for (let i = 1; i <= 6; i++) s.send({ op: "ping", id: i });
  await waitFor(() => s.frames.length >= 7, 5000, "6 replies");
  const replies = s.frames.slice(1);
  expect(replies.filter((f) => f.t === "pong").length).toBeGreaterThanOrEqual(4);
  const limited = replies.filter((f): f is ErrorFrame => f.t === "error");
  expect(limited.length).toBeGreaterThanOrEqual(1);
  expect(limited[0]).toMatchObject({ code: "RATE_LIMITED" });
  // 5 × burst refused messages (net of the 5/s leak) and the connection is closed.
  for (let i = 0; i < 40; i++) s.send({ op: "ping", id: 100 + i });
  const close = await s.closed();
  expect(close.code).toBe(4029);
  const stats = server.stats();
  expect(stats.rateDisconnects).toBe(1);
  expect(stats.rateLimited).toBeGreaterThanOrEqual(21);
  expect(stats.rateLimited).toBeLessThan(30);
  await using fresh = await TestSocket.open(server.wsUrl);
  fresh.send({ op: "ping", id: 1 });
  await fresh.reply(1);
});

test("the handshake requires an Upgrade and a known format", async () => {
  await using server = await serveMarket(market);
  const plain = await fetch(`${server.url}/ws`);
  expect(plain.status).toBe(426);
  expect((await plain.json()).error.code).toBe("UPGRADE_REQUIRED");
  const bad = await RawWs.connect(`${server.wsUrl}?format=xml`).then(() => undefined, (e: unknown) => e as HandshakeRefused);
  expect(bad?.status).toBe(400);
  expect(JSON.parse(bad!.body).error).toMatchObject({ code: "BAD_REQUEST", field: "format" });
});

test("limits are validated when the server starts", async () => {
  await expect(serveMarket(market, { slowClientBytes: 1 << 20, backpressureLimitBytes: 1 << 19 })).rejects.toThrow(/backpressureLimitBytes/);
  await expect(serveMarket(market, { maxConnections: 0 })).rejects.toThrow(/maxConnections/);
});
