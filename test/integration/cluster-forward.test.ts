// Forwarding from an edge to its core over a real nats-server: the core is the whole app in
// role core (paper broker filling at any hour, a real SQLite journal), the edge the real edge
// app; clients use plain fetch and real WebSockets. The bounds (body size, timeout, in-flight)
// and a lost bus are tested against a second bus where a stuck "core" is a raw NATS subscriber
// that never answers: the only way to hold a request in flight for as long as a test needs.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { startApp, type App } from "../../src/app.ts";
import { startEdge, type Edge } from "../../src/cluster/edge-app.ts";
import { CoreWs, EDGE_GONE_MS } from "../../src/cluster/core-ws.ts";
import { RPC_HTTP } from "../../src/cluster/wire.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { TestNats } from "../helpers/nats.ts";
import { TestSocket } from "../helpers/test-socket.ts";
import type { ServerFrame } from "../../src/client/protocol.ts";
import { waitFor, waitForAsync, within } from "../helpers/wait.ts";

const silent = createLogger("error", "test", () => {});
let dir: string;
let nats: TestNats;
let core: App;
let edge: Edge;
let trader: string;
let reader: string;

/** Stand-in sessions the core holds for edge clients. */
function coreSessions(): number {
  return core.coreLink?.ws?.connections ?? 0;
}

async function startCore(): Promise<App> {
  const file = join(dir, "core.json");
  writeFileSync(file, JSON.stringify({
    role: "core", nats: [nats.url], dataDir: dir, port: 0, feed: { symbols: ["AAPL", "MSFT"], tickRatePerS: 200, optionExpiries: 1, strikesPerSide: 2 },
    trading: { paper: { hours: "always" } },
  }));
  return startApp(await loadConfig(["--config", file], {}), silent);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "alluse-cluster-forward-"));
  nats = await TestNats.start();
  core = await startCore();
  trader = core.trading.keys.create(["trade"], ["*"]).secret;
  reader = core.trading.keys.create(["read"], []).secret;
  edge = await startEdge(await loadConfig(["--role", "edge", "--nats", nats.url, "--port", "0"], {}), silent);
  await waitFor(() => edge.health.readiness().ready, 10_000, "the edge to be ready");
  // Market orders are checked against a fresh two-sided quote: wait for the feed's first ones.
  const quoted = (symbol: string) => { const q = core.engine.quote(core.engine.instrument(symbol)!.index); return (q.bid ?? 0) > 0 && (q.ask ?? 0) > 0; };
  await waitFor(() => quoted("AAPL") && quoted("MSFT"), 10_000, "the first quotes at the core");
});

afterAll(async () => {
  await edge?.stop();
  await core?.stop();
  await nats?.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** Fields that follow the marks, which move between two reads. */
const MARKED = /pnl|marketvalue|equity|mark|buyingpower|exposure|price|ts$/i;

/** A reply without the fields that follow the marks: two reads a moment apart agree on the rest. */
function stable(reply: unknown): unknown {
  return JSON.parse(JSON.stringify(reply, (k, v: unknown) => (MARKED.test(k) ? undefined : v)));
}

/** Status and JSON body of a request to a node. */
async function call(base: string, method: string, path: string, key?: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(base + path, {
    method, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

test("an order placed over REST at the edge fills at the core; its repeat answers the same via the edge and the core", async () => {
  const order = { account: "Gen-Acc", clientOrderId: "fwd-1", symbol: "AAPL", side: "buy", type: "market", qty: 5 };
  const placed = await call(edge.server.url, "POST", "/v1/orders", trader, order);
  expect(placed.status).toBe(201);
  const id = (placed.body as { id: string }).id;
  let final: Record<string, unknown> = {};
  await waitForAsync(async () => ["filled", "rejected", "canceled", "denied"].includes((final = (await call(core.server.url, "GET", `/v1/orders/${id}`, trader)).body).status as string),
    10_000, "the order to settle at the core");
  expect(final).toMatchObject({ status: "filled", filledQty: 5 });
  const viaEdge = await call(edge.server.url, "POST", "/v1/orders", trader, order);
  const viaCore = await call(core.server.url, "POST", "/v1/orders", trader, order);
  expect(viaEdge.status).toBe(200);
  expect(viaEdge).toEqual(viaCore);
  expect(stable(await call(edge.server.url, "GET", "/v1/positions?account=Gen-Acc", trader))).toEqual(stable(await call(core.server.url, "GET", "/v1/positions?account=Gen-Acc", trader)));
  // A refused order: the core's code, message and field.
  const bad = { ...order, clientOrderId: "fwd-2", qty: 1.5 };
  const refused = await call(edge.server.url, "POST", "/v1/orders", trader, bad);
  expect(refused.status).toBe(400);
  expect(refused).toEqual(await call(core.server.url, "POST", "/v1/orders", trader, bad));
});

/** The frame answering request `id` (whatever its type), wherever it is among the socket's frames. */
async function answer(ws: TestSocket, id: number): Promise<ServerFrame> {
  const find = () => ws.frames.find((f) => "id" in f && f.id === id);
  await waitFor(() => find() !== undefined, 5000, `the answer to request ${id}`);
  return find()!;
}

/** Frame types and ids a socket received for an account's order, in order (what the edge and the core must agree on). */
function trail(ws: TestSocket, orderId: string): string[] {
  return ws.frames.flatMap((f) => {
    const x = f as ServerFrame & { order?: { id: string; status: string }; fill?: { orderId: string }; position?: { symbol: string } };
    if (x.t === "order" && x.order?.id === orderId) return [`order:${x.order.status}`];
    if (x.t === "fill" && x.fill?.orderId === orderId) return ["fill"];
    return [];
  });
}

test("over WebSocket at the edge: auth and watch go to the core, and an order placed over REST at the edge pushes the same frames as at the core", async () => {
  const sockets: TestSocket[] = [];
  try {
    for (const [url, format] of [[edge.server.wsUrl, "json"], [edge.server.wsUrl, "msgpack"], [core.server.wsUrl, "json"]] as const) {
      const ws = await TestSocket.open(url, format);
      sockets.push(ws);
      ws.send({ op: "auth", id: 1, key: trader });
      ws.send({ op: "watch", id: 2, accounts: ["Rev-Acc"] });
    }
    const [viaEdge, packed, viaCore] = sockets as [TestSocket, TestSocket, TestSocket];
    for (const ws of sockets) {
      expect(await answer(ws, 1)).toMatchObject({ t: "authed", scopes: ["trade"], accounts: ["*"] });
      expect(await answer(ws, 2)).toMatchObject({ t: "watching", id: 2 });
    }
    const placed = await call(edge.server.url, "POST", "/v1/orders", trader, { account: "Rev-Acc", clientOrderId: "fwd-ws-1", symbol: "MSFT", side: "buy", type: "market", qty: 3 });
    expect(placed).toMatchObject({ status: 201 });
    const id = (placed.body as { id: string }).id;
    for (const ws of sockets) await ws.next((f) => f.t === "fill" && (f as unknown as { fill: { orderId: string } }).fill.orderId === id, 10_000);
    await viaCore.next((f) => f.t === "order" && (f as unknown as { order: { id: string; status: string } }).order.status === "filled", 5000);
    for (const ws of [viaEdge, packed]) await ws.next((f) => f.t === "order" && (f as unknown as { order: { id: string; status: string } }).order.status === "filled", 5000);
    expect(trail(viaEdge, id)).toEqual(trail(viaCore, id));
    expect(trail(packed, id)).toEqual(trail(viaCore, id));
    expect(trail(viaEdge, id)).toContain("fill");
    // A submit over the edge's socket is answered by the core, with the request id.
    viaEdge.send({ op: "submit", id: 3, order: { account: "Rev-Acc", clientOrderId: "fwd-ws-2", symbol: "MSFT", side: "buy", type: "market", qty: 1.5 } });
    viaCore.send({ op: "submit", id: 3, order: { account: "Rev-Acc", clientOrderId: "fwd-ws-2", symbol: "MSFT", side: "buy", type: "market", qty: 1.5 } });
    expect(await answer(viaEdge, 3)).toEqual(await answer(viaCore, 3));
    const metrics = await (await fetch(`${edge.server.url}/metrics`)).text();
    expect(metrics).toMatch(/^alluse_edge_ws_sessions 2$/m);
    expect(metrics).toMatch(/^alluse_edge_forward_failures_total\{reason="core_timeout"\} 0$/m);
    expect(metrics).toMatch(/^alluse_edge_ws_frames_relayed_total [1-9]/m);
  } finally {
    for (const ws of sockets) await ws[Symbol.asyncDispose]();
  }
  await waitFor(() => coreSessions() === 0, 5000, "the core to drop the closed clients' sessions");
});

test("over WebSocket at the edge: a bad key gets the core's error frame, a read key may not submit", async () => {
  await using viaEdge = await TestSocket.open(edge.server.wsUrl);
  await using viaCore = await TestSocket.open(core.server.wsUrl);
  for (const ws of [viaEdge, viaCore]) {
    ws.send({ op: "auth", id: 1, key: "not-a-key" });
    ws.send({ op: "auth", id: 2, key: reader });
    ws.send({ op: "submit", id: 3, order: { account: "Gen-Acc", symbol: "AAPL", side: "buy", type: "market", qty: 1 } });
  }
  for (const id of [1, 2, 3]) expect(await answer(viaEdge, id)).toEqual(await answer(viaCore, id));
  expect((await answer(viaEdge, 1)).t).toBe("error");
});

test("alerts, session and chain ops at the edge are answered by the core, and the chain's frames follow", async () => {
  const option = core.engine.instruments.find((i) => i.kind === "option")!;
  const expiry = String(option.expiry).replace(/^(\d{4})(\d{2})(\d{2})$/, "$1-$2-$3");
  await using viaEdge = await TestSocket.open(edge.server.wsUrl);
  await using viaCore = await TestSocket.open(core.server.wsUrl);
  for (const ws of [viaEdge, viaCore]) {
    ws.send({ op: "auth", id: 1, key: trader });
    ws.send({ op: "alerts.subscribe", id: 2 });
    ws.send({ op: "session.subscribe", id: 3 });
    ws.send({ op: "chain.subscribe", id: 4, underlying: "AAPL", expiry: "2000-01-01" });
    ws.send({ op: "chain.subscribe", id: 5, underlying: "AAPL", expiry });
  }
  for (const id of [1, 2, 3, 4]) expect(await answer(viaEdge, id)).toEqual(await answer(viaCore, id));
  expect((await answer(viaEdge, 5)).t).toBe((await answer(viaCore, 5)).t);
  await waitFor(() => viaEdge.frames.filter((f) => f.t === "chain").length >= 2, 5000, "chain frames at the edge client");
});

test("a key revoked at the core closes the edge client that authenticated with it, with the core's 4001", async () => {
  const { secret, key } = core.trading.keys.create(["trade"], ["*"]);
  await using viaEdge = await TestSocket.open(edge.server.wsUrl);
  viaEdge.send({ op: "auth", id: 1, key: secret });
  expect(await answer(viaEdge, 1)).toMatchObject({ t: "authed" });
  const sessions = coreSessions();
  core.trading.keys.revoke(key.id);
  expect(await viaEdge.closed()).toEqual({ code: 4001, reason: "API key revoked" });
  await waitFor(() => coreSessions() === sessions - 1, 5000, "the core to drop the revoked session");
});

test("keys are the core's: no key and a bad key get its 401, a read key its 403, exactly as at the core", async () => {
  const order = { account: "Gen-Acc", symbol: "AAPL", side: "buy", type: "market", qty: 1 };
  for (const key of [undefined, "not-a-key", reader]) {
    const viaEdge = await call(edge.server.url, "POST", "/v1/orders", key, order);
    expect(viaEdge.status).toBe(key === reader ? 403 : 401);
    expect(viaEdge).toEqual(await call(core.server.url, "POST", "/v1/orders", key, order));
  }
  expect((await call(edge.server.url, "GET", "/v1/nowhere", trader))).toEqual(await call(core.server.url, "GET", "/v1/nowhere", trader));
});

test("a body past the forwarding limit is refused at the edge with 413, unread by the core", async () => {
  const before = edge.forwarder.stats.forwarded;
  const r = await fetch(`${edge.server.url}/v1/chains/calc`, { method: "POST", headers: { "content-type": "application/json" }, body: "x".repeat(edge.forwarder.options.maxBodyBytes + 1) });
  expect(r.status).toBe(413);
  expect(((await r.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
  expect(edge.forwarder.stats.forwarded).toBe(before);
});

test("core gone: the edge answers 503 CORE_UNAVAILABLE at once; core back: forwarding resumes, and sockets with a session are told to re-authenticate", async () => {
  await using session = await TestSocket.open(edge.server.wsUrl);
  session.send({ op: "auth", id: 1, key: trader });
  await answer(session, 1);
  await core.stop();
  session.send({ op: "watch", id: 2, accounts: ["Gen-Acc"] });
  expect(await answer(session, 2)).toMatchObject({ t: "error", code: "CORE_UNAVAILABLE" });
  const t0 = performance.now();
  const r = await call(edge.server.url, "GET", "/v1/accounts", trader);
  expect(performance.now() - t0).toBeLessThan(2000);
  expect(r).toEqual({ status: 503, body: { error: { code: "CORE_UNAVAILABLE", message: "no core is answering on the bus; retry shortly (see /readyz)" } } });
  core = await startCore();
  await waitForAsync(async () => (await call(edge.server.url, "GET", "/v1/accounts", trader)).status === 200, 10_000, "forwarding again");
  expect(stable(await call(edge.server.url, "GET", "/v1/accounts", trader))).toEqual(stable(await call(core.server.url, "GET", "/v1/accounts", trader)));
  // The new core has no session for it: the edge closes it with 1012 rather than leave it deaf.
  expect(await session.closed(10_000)).toEqual({ code: 1012, reason: "the core restarted; reconnect and authenticate again" });
});

test("bounds against a stuck core: past the in-flight limit 503 EDGE_BUSY at once, the waiting one 504 CORE_TIMEOUT; bus down 503", async () => {
  await using bus = await TestNats.start();
  const stuck = await connect({ servers: bus.url });
  let received = 0;
  stuck.subscribe(RPC_HTTP, { callback: () => { received++; } });
  await stuck.flush();
  const lines: string[] = [];
  const failedLines = (code: number) => lines.filter((l) => l.includes('"request failed"') && l.includes(`"status":${code}`)).length;
  const lone = await startEdge(await loadConfig(["--role", "edge", "--nats", bus.url, "--port", "0"], {}), createLogger("info", "edge", (l) => lines.push(l)),
    { forward: { maxInFlight: 1, timeoutMs: 800 } });
  try {
    await waitFor(() => lone.link.up, 10_000, "the edge on its bus");
    const first = call(lone.server.url, "GET", "/v1/accounts", trader);
    await waitFor(() => received === 1, 5000, "the first request at the stuck core");
    expect(await call(lone.server.url, "GET", "/v1/accounts", trader)).toMatchObject({ status: 503, body: { error: { code: "EDGE_BUSY" } } });
    expect(await within(first, 5000, "the timeout")).toMatchObject({ status: 504, body: { error: { code: "CORE_TIMEOUT" } } });
    expect(lone.forwarder.stats).toMatchObject({ inFlight: 0, busy: 1, timeouts: 1 });
    await bus.kill();
    await waitFor(() => !lone.link.up, 10_000, "the edge to see the bus down");
    expect(await call(lone.server.url, "GET", "/v1/accounts", trader)).toMatchObject({ status: 503, body: { error: { code: "CORE_UNAVAILABLE" } } });
    // A timeout is an error line per request; no core is /readyz's to report once, not a line per request.
    expect(failedLines(504)).toBe(1);
    expect(failedLines(503)).toBe(1); // the EDGE_BUSY answer only
  } finally {
    await stuck.close().catch(() => {});
    await within(lone.stop(), 5000, "the edge to stop");
  }
});

test("the core's sessions for edge clients are bounded: past the bound an op gets EDGE_BUSY; a closed client's session is dropped", async () => {
  await using bus = await TestNats.start();
  const nc = await connect({ servers: bus.url });
  const sessions = new CoreWs(core.server, silent, 1);
  sessions.serve(nc);
  await nc.flush();
  const lone = await startEdge(await loadConfig(["--role", "edge", "--nats", bus.url, "--port", "0"], {}), silent);
  try {
    await waitFor(() => lone.link.up, 10_000, "the edge on its bus");
    const first = await TestSocket.open(lone.server.wsUrl);
    await using second = await TestSocket.open(lone.server.wsUrl);
    first.send({ op: "auth", id: 1, key: trader });
    expect(await answer(first, 1)).toMatchObject({ t: "authed" });
    second.send({ op: "auth", id: 1, key: trader });
    expect(await answer(second, 1)).toMatchObject({ t: "error", code: "EDGE_BUSY" });
    expect(sessions.connections).toBe(1);
    await first[Symbol.asyncDispose]();
    await waitFor(() => sessions.connections === 0, 5000, "the closed client's session to go");
    // An edge that stops probing (its instruments requests) loses its clients' sessions after EDGE_GONE_MS.
    second.send({ op: "auth", id: 3, key: trader });
    expect(await answer(second, 3)).toMatchObject({ t: "authed" });
    sessions.sweep(Date.now() + EDGE_GONE_MS - 1000);
    expect(sessions.connections).toBe(1);
    sessions.sweep(Date.now() + EDGE_GONE_MS + 1000);
    expect(sessions.connections).toBe(0);
    // A client that leaves while the bus is down: its close reaches the core when the bus is back.
    second.send({ op: "auth", id: 4, key: trader });
    expect(await answer(second, 4)).toMatchObject({ t: "authed" });
    expect(sessions.connections).toBe(1);
    await bus.kill();
    await waitFor(() => !lone.link.up, 10_000, "the edge to see the bus down");
    await second[Symbol.asyncDispose]();
    await bus.restart();
    await waitFor(() => sessions.connections === 0, 10_000, "the late close to drop the session");
    await waitFor(() => lone.ws.pendingCloses === 0, 5000, "the edge to have the close confirmed");
  } finally {
    sessions.stop();
    await nc.close();
    await within(lone.stop(), 5000, "the edge to stop");
  }
});
