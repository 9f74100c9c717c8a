// MarketClient against a real server in both formats: requests resolved by acks and rejected by
// error frames, gap detection, heartbeats, and reconnects (server restart on the same port,
// server-side close, dead peer) with automatic resubscribe and a bounded number of attempts.

import { beforeAll, describe, expect, test } from "bun:test";
import { ClientError, MarketClient, type ClientState, type Gap, type QuoteFrame, type WireFormat } from "../../src/client/index.ts";
import { OPTIONS, TestMarket } from "../helpers/market.ts";
import { serveMarket, tick } from "../helpers/server.ts";
import { waitFor } from "../helpers/wait.ts";

let market: TestMarket;
beforeAll(async () => {
  market = await TestMarket.create();
});

const FAST_RETRY = { initialDelayMs: 10, maxDelayMs: 100 };

describe.each(["json", "msgpack"] as WireFormat[])("%s", (format) => {
  test("subscribe resolves with the resolved symbols; quotes arrive in order without gaps", async () => {
    await using server = await serveMarket(market);
    await using client = await MarketClient.connect(server.wsUrl, { format });
    expect(client.welcome?.format).toBe(format);
    const quotes: QuoteFrame[] = [];
    const gaps: Gap[] = [];
    client.onQuote((q) => quotes.push(q));
    client.onGap((g) => gaps.push(g));
    expect(await client.subscribe({ symbols: ["AAPL"], underlyings: ["TSLA"] })).toEqual(["AAPL", "TSLA", ...OPTIONS.slice(0, 3)]);
    await waitFor(() => quotes.length === 5, 5000, "5 snapshots");
    expect(quotes.every((q) => q.snap === true)).toBe(true);
    for (let i = 0; i < 2000; i++) {
      market.update(["AAPL", OPTIONS[0]]);
      if (i % 100 === 99) await tick();
    }
    const final = market.engine.quote(market.row("AAPL")).seq;
    await waitFor(() => quotes.filter((q) => q.s === "AAPL").at(-1)?.seq === final, 10_000, "the last AAPL update");
    expect(gaps).toEqual([]);
    expect(client.stats).toMatchObject({ gaps: 0, missedUpdates: 0, quotes: 5 + 4000 });
    expect(await client.ping()).toBeGreaterThanOrEqual(0);
    expect(await client.unsubscribe(["AAPL"])).toEqual(["AAPL"]);
  });

  test("a refused request rejects with the server's code and field", async () => {
    await using server = await serveMarket(market);
    await using client = await MarketClient.connect(server.wsUrl, { format });
    const err = await client.subscribe(["AAPL", "NOPE"]).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: "UNKNOWN_SYMBOL", field: "symbols[1]" });
  });
});

test("gaps are counted and reported per symbol; a snapshot resets the baseline", async () => {
  // A scripted server, so the seq jumps are exactly the ones the test sends.
  const quote = (s: string, seq: number, snap?: true) => JSON.stringify({
    t: "q", s, seq, b: 1, bs: 1, a: 2, as: 1, l: null, ls: 0, v: 0, vw: null, o: null, h: null, lo: null, pc: null, vol: null,
    ts: 1, its: 1, f: 0, ...(snap ? { snap } : {}),
  });
  await using fake = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req, srv) => (srv.upgrade(req, { data: undefined }) ? undefined : new Response("no", { status: 400 })),
    websocket: {
      open(ws) {
        ws.send(JSON.stringify({ t: "welcome", v: 1, format: "json", heartbeatMs: 60_000, ts: Date.now(), limits: {} }));
      },
      message(ws) {
        for (const f of [quote("A", 5, true), quote("A", 6), quote("A", 9), quote("B", 1, true), quote("A", 10), quote("B", 4), quote("A", 2, true), quote("A", 3)]) ws.send(f);
      },
    },
  });
  await using client = await MarketClient.connect(`ws://127.0.0.1:${fake.port}/ws`, { reconnect: false });
  const gaps: Gap[] = [];
  client.onGap((g) => gaps.push(g));
  client.ping().catch(() => undefined);
  await waitFor(() => client.stats.quotes === 8, 5000, "8 quotes");
  expect(gaps).toEqual([
    { symbol: "A", previous: 6, got: 9, missed: 2 },
    { symbol: "B", previous: 1, got: 4, missed: 2 },
  ]);
  expect(client.stats).toMatchObject({ gaps: 2, missedUpdates: 4 });
});

test("reconnects after the server restarts on the same port and resubscribes", async () => {
  const first = await serveMarket(market);
  const port = first.port;
  const client = await MarketClient.connect(first.wsUrl, { format: "msgpack", reconnect: FAST_RETRY });
  try {
    const states: ClientState[] = [];
    client.onState((s) => states.push(s));
    const quotes: QuoteFrame[] = [];
    client.onQuote((q) => quotes.push(q));
    await client.subscribe({ symbols: ["NVDA"], underlyings: ["AAPL"] });
    await first.stop();
    await waitFor(() => client.state === "reconnecting", 5000, "the client to notice");
    // A request made while reconnecting waits for the new connection instead of failing.
    const rtt = client.ping();
    await using second = await serveMarket(market, {}, { port });
    await waitFor(() => client.state === "open", 5000, "the reconnect");
    expect(await rtt).toBeGreaterThan(0);
    await waitFor(() => second.stats().subscriptions === 3, 5000, "the resubscribe");
    quotes.length = 0;
    market.update(["NVDA", OPTIONS[3]]);
    await waitFor(() => quotes.some((q) => q.s === "NVDA" && !q.snap) && quotes.some((q) => q.s === OPTIONS[3] && !q.snap), 5000, "updates");
    expect(states).toEqual(["reconnecting", "open"]);
    expect(client.stats.reconnects).toBe(1);
    expect(client.stats.gaps).toBe(0);
  } finally {
    await client.close();
  }
  expect(client.state).toBe("closed");
});

test("reconnects after the server closes the socket (4029) and keeps its subscriptions", async () => {
  await using server = await serveMarket(market, { inboundRatePerS: 1, inboundBurst: 2 });
  await using client = await MarketClient.connect(server.wsUrl, { reconnect: FAST_RETRY, requestTimeoutMs: 2000 });
  await client.subscribe(["AAPL"]);
  const flood = Array.from({ length: 30 }, () => client.ping().catch((e: ClientError) => e.code));
  const outcomes = await Promise.all(flood);
  expect(outcomes).toContain("DISCONNECTED");
  await waitFor(() => client.stats.reconnects === 1 && client.state === "open", 5000, "the reconnect");
  expect(server.stats().rateDisconnects).toBe(1);
  await waitFor(() => server.stats().subscriptions === 1, 5000, "the resubscribe");
});

test("a silent server is declared dead after missed heartbeats and redialled", async () => {
  let connections = 0;
  await using fake = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req, srv) => (srv.upgrade(req, { data: undefined }) ? undefined : new Response("no", { status: 400 })),
    websocket: {
      open(ws) {
        connections++;
        ws.send(JSON.stringify({ t: "welcome", v: 1, format: "json", heartbeatMs: 30, ts: Date.now(), limits: {} }));
      },
      message() {},
    },
  });
  await using client = await MarketClient.connect(`ws://127.0.0.1:${fake.port}/ws`, { reconnect: FAST_RETRY });
  await waitFor(() => connections >= 2 && client.state === "open", 5000, "a redial after the silence");
  expect(client.stats.reconnects).toBeGreaterThanOrEqual(1);
});

test("reconnect attempts are bounded: connect rejects once they are used up", async () => {
  const server = await serveMarket(market);
  const url = server.wsUrl;
  await server.stop();
  const err = await MarketClient.connect(url, { reconnect: { initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 } })
    .then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ClientError);
  expect((err as ClientError).code).toBe("CONNECT_FAILED");
  expect((err as ClientError).message).toContain("3 attempts");
});

test("heartbeats are counted with the server's time", async () => {
  await using server = await serveMarket(market, { heartbeatMs: 20 });
  await using client = await MarketClient.connect(server.wsUrl, { format: "msgpack" });
  await waitFor(() => client.stats.heartbeats >= 3, 5000, "3 heartbeats");
  expect(Math.abs(client.stats.lastHeartbeatTs - Date.now())).toBeLessThan(5000);
});
