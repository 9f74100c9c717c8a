// Live option chains over a real /ws (Bun.serve on port 0, real WebSocket clients, the WASM test
// market): the snapshot equals the REST chain; a leg's quote change publishes that row only,
// repricing that leg only; a burst between two publishes is one frame at the latest state; an
// underlying move reprices every leg; nothing changes, nothing is sent; the bounds (chains per
// connection, rows per chain) and bad requests are error frames naming the field; unsubscribe
// stops the frames; a connection that needs a key cannot stream. The publish is driven by
// calling flush() (the timer is set to 0.1 Hz), so no test depends on timing.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MarketClient } from "../../src/client/client.ts";
import type { ChainFrame, ChainsFrame, ErrorFrame } from "../../src/client/protocol.ts";
import { bsPrice } from "../../src/domain/blackscholes.ts";
import { optionSymbol } from "../../src/domain/instrument.ts";
import { ChainsWs } from "../../src/server/chains-ws.ts";
import { DEFAULT_GREEKS_CONFIG, yearsToExpiry } from "../../src/server/greeks.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { STOCKS, TestMarket } from "../helpers/market.ts";
import { RawWs } from "../helpers/raw-ws.ts";
import { tick } from "../helpers/server.ts";
import { waitFor } from "../helpers/wait.ts";
import { setQuote } from "../helpers/quotes.ts";
import { TestSocket } from "../helpers/test-socket.ts";

let market: TestMarket;
let server: RunningServer;
let chains: ChainsWs;
let gated: RunningServer;
const expiry = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10).replaceAll("-", "");
const iso = `${expiry.slice(0, 4)}-${expiry.slice(4, 6)}-${expiry.slice(6, 8)}`;
const STRIKES = [90, 95, 100, 105, 110];
const sym = (right: "C" | "P", k: number) => optionSymbol("MSFT", expiry, right, k);

function quoteChain(spot: number): void {
  const e = market.engine;
  const ts = Date.now();
  setQuote(e, "MSFT", spot - 0.01, 100, spot + 0.01, 100, ts);
  const t = yearsToExpiry(expiry, ts);
  for (const k of STRIKES) {
    for (const isCall of [true, false]) {
      const fair = Math.max(0.05, Math.round(bsPrice(isCall, spot, k, t, 0.3, DEFAULT_GREEKS_CONFIG.rate) * 100) / 100);
      setQuote(e, sym(isCall ? "C" : "P", k), fair - 0.03, 10, fair + 0.03, 10, ts);
    }
  }
}

beforeAll(async () => {
  market = await TestMarket.create();
  const spec = { kind: "option" as const, tickSize: 0.01, multiplier: 100, currency: "USD", underlying: "MSFT", expiry };
  for (const k of STRIKES) for (const right of ["C", "P"] as const) market.engine.addInstrument({ ...spec, symbol: sym(right, k), right, strike: k });
  quoteChain(100);
  server = await startServer(market.engine, {
    host: "127.0.0.1", port: 0,
    ws: [(hub) => (chains = new ChainsWs(hub, market.engine, { publishHz: 0.1, maxChainsPerConnection: 2, maxRowsPerChain: 5 }))],
  });
  gated = await startServer(market.engine, {
    host: "127.0.0.1", port: 0, ws: [(hub) => new ChainsWs(hub, market.engine, { publishHz: 0.1 })],
    marketDataGate: () => ({ status: 401, message: "a key is needed" }),
  });
});
afterAll(async () => {
  await server.stop();
  await gated.stop();
});

/** Publishes, then proves with a ping round trip that everything the publish sent has arrived. */
async function publish(ws: TestSocket, pingId: number): Promise<ChainFrame[]> {
  const from = ws.frames.length;
  chains.flush();
  ws.send({ op: "ping", id: pingId });
  await ws.reply(pingId);
  return ws.frames.slice(from).filter((f): f is ChainFrame => f.t === "chain");
}

describe("live chains", () => {
  test("the snapshot is the REST chain; one leg's quote change publishes that row only, repricing that row only", async () => {
    await using ws = await TestSocket.open(server.wsUrl);
    ws.send({ op: "chain.subscribe", id: 1, underlying: "MSFT", expiry: iso });
    const snap = await ws.next<ChainFrame>((f) => f.t === "chain" && f.id === 1);
    expect(snap).toMatchObject({ snapshot: true, underlying: "MSFT", expiry: iso, spot: 100 });
    expect(snap.rows.map((r) => r.strike)).toEqual(STRIKES);
    const rest = await (await fetch(`${server.url}/v1/chains/MSFT/${iso}`)).json();
    snap.rows.forEach((row, i) => {
      for (const side of ["call", "put"] as const) {
        expect(row[side]!.status).toBe("ok");
        expect(row[side]!.bid).toBe(rest.rows[i][side].bid);
        expect(row[side]!.delta!).toBeCloseTo(rest.rows[i][side].delta, 5);
      }
    });
    await publish(ws, 90); // settle anything the test set-up left dirty
    const before = chains.pricing();
    setQuote(market.engine, sym("P", 95), 1.0, 10, 1.06, 10);
    const frames = await publish(ws, 2);
    expect(frames.length).toBe(1);
    expect(frames[0]).toMatchObject({ snapshot: false, underlying: "MSFT", expiry: iso });
    expect(frames[0]!.rows.map((r) => r.strike)).toEqual([95]);
    expect(frames[0]!.rows[0]!.put).toMatchObject({ symbol: sym("P", 95), bid: 1, ask: 1.06, status: "ok" });
    const after = chains.pricing();
    // The changed row (its call and its put) is repriced, nothing else.
    expect(after.legsPriced - before.legsPriced).toBe(2);
    expect(after.batches - before.batches).toBe(1);
    // Nothing changed since: nothing is sent.
    expect(await publish(ws, 3)).toEqual([]);
  });

  test("a burst between two publishes is one frame at the latest state; an underlying move reprices every leg", async () => {
    await using ws = await TestSocket.open(server.wsUrl);
    ws.send({ op: "chain.subscribe", id: 1, underlying: "MSFT", expiry: iso });
    await ws.next((f) => f.t === "chain" && f.id === 1);
    await publish(ws, 90);
    for (let i = 0; i < 20; i++) setQuote(market.engine, sym("C", 105), 2 + i * 0.01, 10, 2.1 + i * 0.01, 10);
    const burst = await publish(ws, 2);
    expect(burst.length).toBe(1);
    expect(burst[0]!.rows.length).toBe(1);
    expect(burst[0]!.rows[0]!.call!.bid).toBe(2.19);
    const before = chains.pricing();
    setQuote(market.engine, "MSFT", 101.99, 100, 102.01, 100);
    const moved = await publish(ws, 3);
    expect(chains.pricing().legsPriced - before.legsPriced).toBe(STRIKES.length * 2);
    expect(moved.length).toBe(1);
    expect(moved[0]!.spot).toBe(102);
    expect(moved[0]!.rows.length).toBe(STRIKES.length);
    quoteChain(100);
    await publish(ws, 4);
  });

  test("two connections on one chain share its pricing; unsubscribe answers the rest and stops the frames", async () => {
    await using a = await TestSocket.open(server.wsUrl);
    await using b = await TestSocket.open(server.wsUrl);
    for (const s of [a, b]) s.send({ op: "chain.subscribe", id: 1, underlying: "MSFT", expiry: iso });
    await a.next((f) => f.t === "chain" && f.id === 1);
    await b.next((f) => f.t === "chain" && f.id === 1);
    expect(chains.pricing().openChains).toBe(1);
    b.send({ op: "chain.unsubscribe", id: 2, underlying: "MSFT", expiry: iso });
    expect(await b.next<ChainsFrame>((f) => f.t === "chains" && f.id === 2)).toMatchObject({ chains: [] });
    setQuote(market.engine, sym("C", 90), 10.5, 10, 10.6, 10);
    expect((await publish(a, 3)).length).toBe(1);
    b.send({ op: "ping", id: 4 });
    await b.reply(4);
    expect(b.frames.filter((f) => f.t === "chain" && f.id === undefined).length).toBe(0);
  });

  test("bounds and bad requests: chains per connection, rows per chain, unknown underlying, bad expiry, unknown field", async () => {
    await using ws = await TestSocket.open(server.wsUrl);
    const err = async (body: Record<string, unknown>, id: number) => {
      ws.send({ ...body, id });
      return ws.next<ErrorFrame>((f) => f.t === "error" && f.id === id);
    };
    expect(await err({ op: "chain.subscribe", underlying: "NOPE", expiry: iso }, 1)).toMatchObject({ code: "NOT_FOUND", field: "underlying" });
    expect(await err({ op: "chain.subscribe", underlying: "MSFT", expiry: "2026-13-01" }, 2)).toMatchObject({ code: "BAD_REQUEST", field: "expiry" });
    expect(await err({ op: "chain.subscribe", underlying: "MSFT", expiry: "2030-01-04" }, 3)).toMatchObject({ code: "NOT_FOUND", field: "expiry" });
    expect(await err({ op: "chain.subscribe", underlying: "MSFT", expiry: iso, extra: 1 }, 4)).toMatchObject({ code: "BAD_REQUEST", field: "extra" });
    // Six more strikes on another expiry: past maxRowsPerChain (5).
    const wide = new Date(Date.now() + 37 * 86_400_000).toISOString().slice(0, 10);
    const spec = { kind: "option" as const, tickSize: 0.01, multiplier: 100, currency: "USD", underlying: "MSFT", expiry: wide.replaceAll("-", "") };
    for (let k = 90; k < 96; k++) market.engine.addInstrument({ ...spec, symbol: optionSymbol("MSFT", spec.expiry, "C", k), right: "C", strike: k });
    expect(await err({ op: "chain.subscribe", underlying: "MSFT", expiry: wide }, 5)).toMatchObject({ code: "TOO_MANY_ROWS", field: "expiry" });
    ws.send({ op: "chain.subscribe", id: 6, underlying: "MSFT", expiry: iso });
    await ws.next((f) => f.t === "chain" && f.id === 6);
    ws.send({ op: "chain.subscribe", id: 7, underlying: "TSLA", expiry: "2026-12-04" });
    await ws.next((f) => f.t === "chain" && f.id === 7);
    expect(await err({ op: "chain.subscribe", underlying: "TSLA", expiry: "2026-11-27" }, 8)).toMatchObject({ code: "TOO_MANY_SUBSCRIPTIONS" });
  });

  test("a connection that needs a key for market data cannot stream a chain", async () => {
    await using ws = await TestSocket.open(gated.wsUrl);
    ws.send({ op: "chain.subscribe", id: 1, underlying: "MSFT", expiry: iso });
    expect(await ws.next<ErrorFrame>((f) => f.t === "error" && f.id === 1)).toMatchObject({ code: "UNAUTHORIZED" });
  });

  test("MarketClient.subscribeChain resolves with the snapshot and updates arrive through onPush", async () => {
    await using client = await MarketClient.connect(server.wsUrl);
    const updates: ChainFrame[] = [];
    client.onPush((f) => { if (f.t === "chain") updates.push(f); });
    const snap = await client.subscribeChain("MSFT", iso);
    expect(snap.rows.length).toBe(STRIKES.length);
    chains.flush();
    setQuote(market.engine, sym("P", 110), 9.9, 10, 10.1, 10);
    chains.flush();
    await client.ping();
    expect(updates.at(-1)!.rows.map((r) => r.strike)).toEqual([110]);
    expect(await client.unsubscribeChain("MSFT", iso)).toEqual([]);
  });
});

test("a connection that is behind gets no chain frames; once drained it gets each changed row once, at its latest state", async () => {
  // Small buffers (as server-slow.test.ts): the kernel still absorbs a few MB of quotes first.
  let slowChains!: ChainsWs;
  await using slowServer = Object.assign(await startServer(market.engine, {
    host: "127.0.0.1", port: 0, limits: { slowClientBytes: 64 * 1024, backpressureLimitBytes: 16 * 1024 * 1024, slowClientTimeoutMs: 600_000 },
    ws: [(hub) => (slowChains = new ChainsWs(hub, market.engine, { publishHz: 0.1 }))],
  }), { async [Symbol.asyncDispose]() { await slowServer.stop(); } });
  // Quotes of everything but the chain's underlying fill the buffers, so the chain itself only changes where the test changes it.
  const filler = STOCKS.filter((s) => s !== "MSFT");
  const raw = await RawWs.connect(`${slowServer.wsUrl}?format=json`);
  try {
    raw.sendText(JSON.stringify({ op: "subscribe", id: 1, symbols: filler }));
    raw.sendText(JSON.stringify({ op: "chain.subscribe", id: 2, underlying: "MSFT", expiry: iso }));
    await waitFor(() => raw.json().some((f) => f.t === "chain" && f.id === 2), 5000, "the chain snapshot");
    slowChains.flush();
    raw.pause();
    for (let i = 0; i < 60_000 && slowServer.stats().slowEntries === 0; i++) {
      market.update(filler);
      if (i % 20 === 19) await tick();
    }
    expect(slowServer.stats().slowEntries).toBe(1);
    const framesBefore = slowChains.stats.frames;
    for (let i = 0; i < 5; i++) {
      setQuote(market.engine, sym("C", 100), 4 + i * 0.01, 10, 4.1 + i * 0.01, 10);
      slowChains.flush();
    }
    expect(slowChains.stats.frames).toBe(framesBefore);
    expect(slowChains.stats.conflatedRows).toBe(4);
    raw.resume();
    await waitFor(() => !raw.ended && raw.json().some((f) => f.t === "q"), 5000, "the raw client to read again");
    // Once the server's buffer has drained, the next publish sends the row once, at its latest state.
    for (let i = 0; i < 500 && slowChains.stats.frames === framesBefore; i++) {
      slowChains.flush();
      await tick();
    }
    await waitFor(() => raw.json().filter((f) => f.t === "chain" && f.snapshot === false).length > 0, 5000, "the update");
    const updates = raw.json().filter((f) => f.t === "chain" && f.snapshot === false) as unknown as ChainFrame[];
    expect(updates.length).toBe(1);
    expect(updates[0]!.rows.map((r) => r.strike)).toEqual([100]);
    expect(updates[0]!.rows[0]!.call!.bid).toBe(4.04);
  } finally {
    raw.destroy();
  }
});

test("a server stopped while a subscribe is binding the WASM region leaves no engine listener behind", async () => {
  const listeners = () => (market.engine as unknown as { listeners: unknown[] }).listeners.length;
  const before = listeners();
  let x!: ChainsWs;
  const srv = await startServer(market.engine, { host: "127.0.0.1", port: 0, ws: [(hub) => (x = new ChainsWs(hub, market.engine, { publishHz: 0.1 }))] });
  // The subscribe runs up to its wait for the greeks region; the stop lands before that resolves.
  const socket = { data: { closed: false, needsKey: false } } as unknown as Parameters<ChainsWs["handle"]>[0];
  x.handle(socket, { op: "chain.subscribe", id: 1, underlying: "MSFT", expiry: iso });
  const stopping = srv.stop();
  await (x as unknown as { streams: Promise<unknown> }).streams;
  await stopping;
  expect(listeners()).toBe(before);
  expect(x.pricing().openChains).toBe(0);
});
