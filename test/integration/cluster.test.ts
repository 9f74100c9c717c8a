// Core and edges over a real nats-server (test/helpers/nats.ts): the core is a test market's
// engine with the core's NATS link and its own server; the edge is the real edge app on port 0;
// clients are real MarketClients over WebSocket. The last test runs both as real processes.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { CoreLink } from "../../src/cluster/core.ts";
import { edgeGate, startEdge, type Edge } from "../../src/cluster/edge-app.ts";
import { quoteSubject, RPC_INSTRUMENTS, RPC_SNAPSHOT, SNAPSHOT_BATCH } from "../../src/cluster/wire.ts";
import { connect } from "@nats-io/transport-node";
import { quoteMsgpack } from "../../src/server/quote-codec.ts";
import { MarketClient } from "../../src/client/client.ts";
import type { QuoteFrame } from "../../src/client/protocol.ts";
import { createLogger } from "../../src/log.ts";
import { TestMarket } from "../helpers/market.ts";
import { TestNats } from "../helpers/nats.ts";
import { readLineMatching } from "../helpers/process.ts";
import { serveMarket, type TestServer } from "../helpers/server.ts";
import { waitFor, waitForAsync, within } from "../helpers/wait.ts";

const silent = createLogger("error", "test", () => {});
let nats: TestNats;
let market: TestMarket;
let core: TestServer;
let link: CoreLink;
let edge: Edge;

beforeAll(async () => {
  nats = await TestNats.start();
  market = await TestMarket.create();
  core = await serveMarket(market);
  link = new CoreLink(market.engine, [nats.url], core.url, silent);
  link.start();
  edge = await startEdge(await loadConfig(["--role", "edge", "--nats", nats.url, "--port", "0"], {}), silent);
  await waitFor(() => edge.health.readiness().ready, 10_000, "the edge to be ready");
});

afterAll(async () => {
  await edge?.stop();
  await link?.stop();
  await core?.stop();
  await nats?.kill();
});

/** Quotes a client received, by symbol. */
function collect(client: MarketClient): Map<string, QuoteFrame[]> {
  const seen = new Map<string, QuoteFrame[]>();
  client.onQuote((f) => {
    let list = seen.get(f.s);
    if (!list) seen.set(f.s, (list = []));
    list.push(f);
  });
  return seen;
}

/** The core's quote of a symbol as a client frame (without snap), to compare with what an edge client got. */
function coreFrame(symbol: string): Omit<QuoteFrame, "snap"> {
  const q = market.engine.quote(market.row(symbol));
  return { t: "q", s: q.symbol, seq: q.seq, b: q.bid, bs: q.bidSize, a: q.ask, as: q.askSize, l: q.last, ls: q.lastSize, v: q.volume,
    vw: q.vwap, o: q.open, h: q.high, lo: q.low, pc: q.prevClose, vol: q.volatility, ts: q.exchangeTs, its: q.ingestTs, f: q.flags };
}

function withoutSnap(f: QuoteFrame): Omit<QuoteFrame, "snap"> {
  const { snap: _snap, ...rest } = f;
  return rest;
}

test("an edge client gets the core's quotes, snapshot first, with the core's seq, in JSON and MessagePack; REST matches the core", async () => {
  market.update(["AAPL", "MSFT"]);
  const expected = new Map<number, Omit<QuoteFrame, "snap">>([[market.engine.quote(market.row("AAPL")).seq, coreFrame("AAPL")]]);
  await using json = await MarketClient.connect(edge.server.wsUrl);
  await using packed = await MarketClient.connect(edge.server.wsUrl, { format: "msgpack" });
  const got = [collect(json), collect(packed)];
  await json.subscribe(["AAPL"]);
  await packed.subscribe(["AAPL"]);
  await waitFor(() => got.every((g) => (g.get("AAPL")?.length ?? 0) >= 1), 5000, "both snapshots");
  for (let i = 0; i < 5; i++) {
    market.update(["AAPL"]);
    expected.set(market.engine.quote(market.row("AAPL")).seq, coreFrame("AAPL"));
  }
  const last = market.engine.quote(market.row("AAPL")).seq;
  await waitFor(() => got.every((g) => g.get("AAPL")!.at(-1)!.seq === last), 5000, "the last update at both clients");
  for (const g of got) {
    const frames = g.get("AAPL")!;
    expect(frames[0]!.snap).toBe(true);
    expect(frames.slice(1).every((f) => f.snap === undefined)).toBe(true);
    expect(frames.map((f) => f.seq)).toEqual([...expected.keys()]);
    for (const f of frames) expect(withoutSnap(f)).toEqual(expected.get(f.seq)!);
  }
  // REST at the edge: a symbol no client holds is asked from the core, a held one read from the cache.
  const rest = (await (await fetch(`${edge.server.url}/v1/quotes?symbols=AAPL,MSFT`)).json()) as { quotes: { seq: number }[] };
  expect(rest.quotes.map((q) => q.seq)).toEqual([last, market.engine.quote(market.row("MSFT")).seq]);
  const instruments = (await (await fetch(`${edge.server.url}/v1/instruments`)).json()) as { total: number };
  expect(instruments.total).toBe(market.engine.instruments.length);
  const order = await fetch(`${edge.server.url}/v1/orders`, { method: "POST", body: "{}" });
  // This core links no REST routes to the bus: the forward finds no responder (cluster-forward.test.ts has a full core).
  expect(order.status).toBe(503);
  expect(((await order.json()) as { error: { code: string; message: string } }).error).toEqual({
    code: "CORE_UNAVAILABLE", message: "no core is answering on the bus; retry shortly (see /readyz)",
  });
});

test("the edge subscribes a symbol's subject only while a client holds it", async () => {
  const subject = quoteSubject("TSLA-20261127-C-250");
  const subjects = () => nats.subjectsOf("alluse-edge");
  expect(await subjects()).not.toContain(subject);
  await using a = await MarketClient.connect(edge.server.wsUrl);
  await using b = await MarketClient.connect(edge.server.wsUrl);
  const seenB = collect(b);
  await a.subscribe(["TSLA-20261127-C-250"]);
  await waitForAsync(async () => (await subjects()).includes(subject), 5000, "the subject at the server");
  await b.subscribe(["TSLA-20261127-C-250"]);
  await waitFor(() => seenB.has("TSLA-20261127-C-250"), 5000, "the second client's snapshot");
  expect((await subjects()).filter((s) => s === subject)).toHaveLength(1);
  await a.unsubscribe(["TSLA-20261127-C-250"]);
  expect(await subjects()).toContain(subject);
  b.close();
  await waitForAsync(async () => !(await subjects()).includes(subject), 5000, "the subject dropped after the last client left");
  expect(edge.quotes.stats.subjects).toBe(edge.quotes.wantedRows().length);
});

test("a message lost on the way to the edge (a seq gap) makes it resnapshot that symbol from the core", async () => {
  await using client = await MarketClient.connect(edge.server.wsUrl);
  const seen = collect(client);
  await client.subscribe(["NVDA"]);
  await waitFor(() => seen.has("NVDA"), 5000, "the snapshot");
  const before = { gaps: edge.quotes.stats.gaps, resnapshots: edge.quotes.stats.resnapshots, requests: link.stats.requests };
  edge.quotes.dropNext = "NVDA";
  market.update(["NVDA"]);
  market.update(["NVDA"]);
  const last = market.engine.quote(market.row("NVDA")).seq;
  await waitFor(() => edge.quotes.stats.gaps === before.gaps + 1, 5000, "the gap at the edge");
  await waitFor(() => link.stats.requests > before.requests, 5000, "the snapshot request at the core");
  expect(edge.quotes.stats.resnapshots).toBe(before.resnapshots + 1);
  await waitFor(() => seen.get("NVDA")!.at(-1)!.seq === last, 5000, "the latest state at the client");
  expect(withoutSnap(seen.get("NVDA")!.at(-1)!)).toEqual(coreFrame("NVDA"));
});

test("NATS down: the edge is not ready and keeps its clients; back up: the quotes resume, missed changes resnapshotted", async () => {
  await using client = await MarketClient.connect(edge.server.wsUrl);
  const seen = collect(client);
  await client.subscribe(["MSFT"]);
  await waitFor(() => seen.has("MSFT"), 5000, "the snapshot");
  await nats.kill();
  await waitFor(() => !edge.health.readiness().ready, 10_000, "the edge to report not ready");
  expect(edge.health.readiness().reasons).toContain("nats: NATS is not connected");
  const readyz = await fetch(`${edge.server.url}/readyz`);
  expect(readyz.status).toBe(503);
  market.update(["MSFT"]);
  const duringOutage = market.engine.quote(market.row("MSFT")).seq;
  await nats.restart();
  await waitFor(() => edge.health.readiness().ready && link.link.up, 15_000, "the edge and the core back on the bus");
  // The change made while the bus was down reaches the client through the resnapshot.
  await waitFor(() => seen.get("MSFT")!.at(-1)!.seq >= duringOutage, 10_000, "the change made during the outage");
  market.update(["MSFT"]);
  const after = market.engine.quote(market.row("MSFT")).seq;
  await waitFor(() => seen.get("MSFT")!.at(-1)!.seq === after, 5000, "live quotes again");
  expect(withoutSnap(seen.get("MSFT")!.at(-1)!)).toEqual(coreFrame("MSFT"));
  expect(client.state).toBe("open");
});

test("as processes: `--role core` publishes and `--role edge` serves its quotes with the core's seq; both stop cleanly", async () => {
  const main = join(import.meta.dir, "../../src/main.ts");
  const dir = mkdtempSync(join(tmpdir(), "alluse-cluster-"));
  // A bus of its own: the in-process core above answers requests on the shared one.
  await using bus = await TestNats.start();
  const start = (args: string[]) => Bun.spawn([process.execPath, main, "--nats", bus.url, "--port", "0", "--log-level", "warn", ...args],
    { stdout: "pipe", stderr: "pipe" });
  const coreProc = start(["--role", "core", "--data-dir", join(dir, "core"), "--symbols", "AAPL,TSLA", "--option-expiries", "0", "--tick-rate", "200"]);
  const edgeProc = start(["--role", "edge"]);
  try {
    const urlOf = async (p: typeof coreProc) => (await readLineMatching(p.stdout, (l) => l.includes("HTTP"), 20_000)).trim().split(/\s+/)[1]!.replace(/\/v1\/quotes$/, "");
    const [coreUrl, edgeUrl] = await Promise.all([urlOf(coreProc), urlOf(edgeProc)]);
    await waitForAsync(async () => (await fetch(`${edgeUrl}/readyz`)).ok, 15_000, "the edge process to be ready");
    await using client = await MarketClient.connect(`${edgeUrl.replace(/^http/, "ws")}/ws`);
    const seen = collect(client);
    await client.subscribe(["TSLA"]);
    await waitFor(() => (seen.get("TSLA")?.length ?? 0) >= 5, 10_000, "quotes at the edge client");
    const frames = [...seen.get("TSLA")!];
    // Consecutive core seqs: nothing lost or reordered on the way.
    for (let i = 1; i < frames.length; i++) expect(frames[i]!.seq).toBe(frames[i - 1]!.seq + 1);
    const atCore = (await (await fetch(`${coreUrl}/v1/quotes/TSLA`)).json()) as { seq: number };
    expect(atCore.seq).toBeGreaterThanOrEqual(frames.at(-1)!.seq);
    client.close();
    edgeProc.kill("SIGTERM");
    coreProc.kill("SIGTERM");
    expect(await edgeProc.exited).toBe(0);
    expect(await coreProc.exited).toBe(0);
  } finally {
    edgeProc.kill("SIGKILL");
    coreProc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a seq that goes back on a subject (a restarted core) is taken as the new state, not ignored", async () => {
  await using client = await MarketClient.connect(edge.server.wsUrl);
  const seen = collect(client);
  await client.subscribe(["AAPL"]);
  await waitFor(() => seen.has("AAPL"), 5000, "the snapshot");
  const resets = edge.quotes.stats.seqResets;
  // What a core that just restarted publishes: the same symbol from seq 1 again.
  const restarted = await connect({ servers: nats.url });
  try {
    restarted.publish(quoteSubject("AAPL"), quoteMsgpack({ ...market.engine.quote(market.row("AAPL")), seq: 1, bid: 1.23 }, false));
    await waitFor(() => seen.get("AAPL")!.at(-1)!.seq === 1, 5000, "the restarted core's quote at the client");
    expect(seen.get("AAPL")!.at(-1)!.b).toBe(1.23);
    expect(edge.quotes.stats.seqResets).toBe(resets + 1);
  } finally {
    await restarted.close();
  }
});

test("order entry is forwarded over WebSocket: with no core serving it, the op gets CORE_UNAVAILABLE and the connection stays open", async () => {
  // This core links no WebSocket ops to the bus (cluster-forward.test.ts has a full core).
  await using client = await MarketClient.connect(edge.server.wsUrl);
  const err = await client.call({ op: "submit", order: { account: "A1", symbol: "AAPL", side: "buy", qty: 1, type: "market" } } as never).catch((e: unknown) => e);
  expect(err).toMatchObject({ code: "CORE_UNAVAILABLE", message: "no core is answering on the bus; retry shortly (see /readyz)" });
  expect(client.state).toBe("open");
});

test("npm run cluster (src/cluster/local.ts): nats-server, a core and two edges; both edges serve the core's quotes; Ctrl-C stops them all", async () => {
  const dir = mkdtempSync(join(tmpdir(), "alluse-cluster-local-"));
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/cluster/local.ts"), "--port", "0", "--nats-port", "0",
    "--data-dir", dir, "--symbols", "AAPL", "--option-expiries", "0", "--tick-rate", "100", "--log-level", "warn"], { stdout: "pipe", stderr: "pipe" });
  try {
    const lines: string[] = [];
    await readLineMatching(proc.stdout, (l) => (lines.push(l), l.startsWith("Ctrl-C stops them all")), 25_000);
    const core = /core\s+(http:\/\/\S+)\//.exec(lines.join("\n"))![1]!;
    const edges = [...lines.join("\n").matchAll(/edge \d\s+(http:\/\/\S+)\/v1\/quotes/g)].map((m) => m[1]!);
    expect(edges).toHaveLength(2);
    for (const edgeUrl of edges) {
      await waitForAsync(async () => (await fetch(`${edgeUrl}/readyz`)).ok, 15_000, "the edge to be ready");
      const atEdge = (await (await fetch(`${edgeUrl}/v1/quotes/AAPL`)).json()) as { seq: number };
      const atCore = (await (await fetch(`${core}/v1/quotes/AAPL`)).json()) as { seq: number };
      expect(atEdge.seq).toBeGreaterThan(0);
      expect(atCore.seq).toBeGreaterThanOrEqual(atEdge.seq);
    }
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(0);
    for (const u of [core, ...edges]) expect(await fetch(`${u}/healthz`).then(() => "up", () => "down")).toBe("down");
  } finally {
    proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the core refuses malformed or oversized requests with an error reply, counts them, and keeps answering", async () => {
  const nc = await connect({ servers: nats.url });
  try {
    const ask = async (subject: string, body: string) => (await nc.request(subject, body, { timeout: 2000 })).json() as Record<string, unknown>;
    const bad = link.stats.badRequests;
    expect(await ask(RPC_SNAPSHOT, "not json")).toHaveProperty("error");
    expect(await ask(RPC_SNAPSHOT, JSON.stringify({ symbols: Array.from({ length: SNAPSHOT_BATCH + 1 }, () => "AAPL") })))
      .toEqual({ error: `symbols must be a list of at most ${SNAPSHOT_BATCH} symbols` });
    expect(await ask(RPC_INSTRUMENTS, JSON.stringify({ offset: -1 }))).toEqual({ error: "offset must be a non-negative integer" });
    expect(link.stats.badRequests).toBe(bad + 3);
    const ok = await ask(RPC_SNAPSHOT, JSON.stringify({ symbols: ["AAPL", "NOPE"] }));
    expect((ok.quotes as { symbol: string }[]).map((q) => q.symbol)).toEqual(["AAPL"]);
  } finally {
    await nc.close();
  }
});

test("an edge holds no keys: with trading.api.marketData key it refuses every reader, with loopback only remote ones", async () => {
  expect(edgeGate("key")("127.0.0.1")).toEqual({ status: 401, message: "market data on an edge is refused to everyone (trading.api.marketData key): an edge cannot check API keys yet; use the core" });
  expect(edgeGate("loopback")("127.0.0.1")).toBeUndefined();
  expect(edgeGate("loopback")("10.1.2.3")?.status).toBe(401);
  expect(edgeGate("open")("10.1.2.3")).toBeUndefined();
  const file = join(mkdtempSync(join(tmpdir(), "alluse-edge-key-")), "edge.json");
  await Bun.write(file, JSON.stringify({ role: "edge", nats: [nats.url], port: 0, trading: { api: { marketData: "key" } } }));
  const keyed = await startEdge(await loadConfig(["--config", file], {}), silent);
  try {
    const r = await fetch(`${keyed.server.url}/v1/quotes/AAPL`);
    expect(r.status).toBe(401);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
    expect((await fetch(`${keyed.server.url}/healthz`)).status).toBe(200);
  } finally {
    await keyed.stop();
    rmSync(dirname(file), { recursive: true, force: true });
  }
});

test("an edge stops promptly while NATS is down", async () => {
  const bus = await TestNats.start();
  const lone = await startEdge(await loadConfig(["--role", "edge", "--nats", bus.url, "--port", "0"], {}), silent);
  try {
    await waitFor(() => lone.link.up, 10_000, "the edge on its bus");
    await bus.kill();
    await waitFor(() => !lone.link.up, 10_000, "the edge to see the bus down");
  } finally {
    await within(lone.stop(), 5000, "the edge to stop");
    await bus.kill();
  }
});

test("core gone: the edge turns not ready and keeps its clients; core back: ready again and the quotes resume", async () => {
  await using client = await MarketClient.connect(edge.server.wsUrl);
  const seen = collect(client);
  await client.subscribe(["TSLA"]);
  await waitFor(() => seen.has("TSLA"), 5000, "the snapshot");
  await link.stop();
  await waitFor(() => !edge.health.readiness().ready, 10_000, "the edge to see the core gone");
  expect(edge.health.readiness().reasons[0]).toStartWith("core: the core does not answer: ");
  market.update(["TSLA"]);
  const whileAway = market.engine.quote(market.row("TSLA")).seq;
  link = new CoreLink(market.engine, [nats.url], core.url, silent);
  link.start();
  await waitFor(() => edge.health.readiness().ready, 10_000, "the edge ready again");
  await waitFor(() => seen.get("TSLA")!.at(-1)!.seq === whileAway, 5000, "the change made while the core was away");
  market.update(["TSLA"]);
  const after = market.engine.quote(market.row("TSLA")).seq;
  await waitFor(() => seen.get("TSLA")!.at(-1)!.seq === after, 5000, "live quotes again");
  expect(client.state).toBe("open");
});
