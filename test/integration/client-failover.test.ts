// Client failover over real servers: a real nats-server, a test market's engine as the core
// (with the core's NATS link and its own server), two real edge apps on port 0, and a real
// MarketClient given both edge URLs. The edge the client is on is stopped; the client moves to
// the other, resubscribes, and its quotes go on with the core's seq, the updates it missed
// while away reported as one gap. Also: a dead first URL with a single process, the bounded
// attempts over a list, and the round-robin order (Redial) itself. One test runs the core and
// both edges as real processes and SIGKILLs the edge the client is on.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { CoreLink } from "../../src/cluster/core.ts";
import { startEdge, type Edge } from "../../src/cluster/edge-app.ts";
import { ClientError, MarketClient, type Gap, type QuoteFrame } from "../../src/client/index.ts";
import { Redial } from "../../src/client/redial.ts";
import { createLogger } from "../../src/log.ts";
import { OPTIONS, TestMarket } from "../helpers/market.ts";
import { freePort, TestNats } from "../helpers/nats.ts";
import { readLineMatching } from "../helpers/process.ts";
import { serveMarket, type TestServer } from "../helpers/server.ts";
import { waitFor, waitForAsync } from "../helpers/wait.ts";

const silent = createLogger("error", "test", () => {});
const FAST_RETRY = { initialDelayMs: 10, maxDelayMs: 100 };
let nats: TestNats;
let market: TestMarket;
let core: TestServer;
let link: CoreLink;
const edges: Edge[] = [];

beforeAll(async () => {
  nats = await TestNats.start();
  market = await TestMarket.create();
  core = await serveMarket(market);
  link = new CoreLink(market.engine, [nats.url], core.url, silent);
  link.start();
  for (let i = 0; i < 2; i++) edges.push(await startEdge(await loadConfig(["--role", "edge", "--nats", nats.url, "--port", "0"], {}), silent));
  await waitFor(() => edges.every((e) => e.health.readiness().ready), 10_000, "both edges to be ready");
});

afterAll(async () => {
  for (const e of edges) await e.stop();
  await link?.stop();
  await core?.stop();
  await nats?.kill();
});

const seqOf = (symbol: string) => market.engine.quote(market.row(symbol)).seq;

test("the edge the client is on stops: it fails over to the other edge, resubscribes, and the core's seq goes on, the missed updates reported as a gap", async () => {
  const [first, second] = edges as [Edge, Edge];
  await using client = await MarketClient.connect([first.server.wsUrl, second.server.wsUrl], { format: "msgpack", reconnect: FAST_RETRY });
  expect(client.url).toBe(first.server.wsUrl);
  const quotes: QuoteFrame[] = [];
  const gaps: Gap[] = [];
  client.onQuote((q) => quotes.push(q));
  client.onGap((g) => gaps.push(g));
  await client.subscribe({ symbols: ["AAPL"], underlyings: ["TSLA"] });
  await waitFor(() => quotes.filter((q) => q.snap).length === 5, 5000, "5 snapshots from the first edge");
  market.update(["AAPL"]);
  await waitFor(() => quotes.at(-1)?.seq === seqOf("AAPL"), 5000, "a live update through the first edge");
  const lastSeen = seqOf("AAPL");
  // Two updates the client cannot see: made as soon as it notices the loss, before it redials.
  client.onState((s) => {
    if (s !== "reconnecting" || seqOf("AAPL") !== lastSeen) return;
    market.update(["AAPL"]);
    market.update(["AAPL"]);
  });
  await first.stop();
  await waitFor(() => client.state === "open" && client.url === second.server.wsUrl, 10_000, "the failover to the second edge");
  expect(client.stats.reconnects).toBe(1);
  await waitFor(() => quotes.some((q) => q.s === "AAPL" && q.snap && q.seq === seqOf("AAPL")), 5000, "AAPL's snapshot from the second edge");
  expect(seqOf("AAPL")).toBe(lastSeen + 2);
  expect(gaps).toEqual([{ symbol: "AAPL", previous: lastSeen, got: lastSeen + 2, missed: 1, reconnect: true }]);
  // The underlying was resubscribed too: its options stream from the second edge.
  await waitFor(() => second.server.stats().subscriptions === 5, 5000, "the resubscribe at the second edge");
  const from = quotes.length;
  for (let i = 0; i < 3; i++) market.update(["AAPL", OPTIONS[0]!]);
  await waitFor(() => quotes.at(-1)?.s !== undefined && quotes.filter((q) => q.s === "AAPL").at(-1)!.seq === seqOf("AAPL")
    && quotes.filter((q) => q.s === OPTIONS[0]).at(-1)?.seq === seqOf(OPTIONS[0]!), 5000, "live updates through the second edge");
  const aapl = quotes.slice(from).filter((q) => q.s === "AAPL").map((q) => q.seq);
  expect(aapl).toEqual([lastSeen + 3, lastSeen + 4, lastSeen + 5]);
  expect(gaps).toHaveLength(1);
});

test("as processes: the edge the client is on is killed (SIGKILL); the client goes on at the other edge with the core's seq", async () => {
  const main = join(import.meta.dir, "../../src/main.ts");
  const dir = mkdtempSync(join(tmpdir(), "alluse-failover-"));
  // A bus of its own: the in-process core above answers requests on the shared one.
  await using bus = await TestNats.start();
  const start = (args: string[]) => Bun.spawn([process.execPath, main, "--nats", bus.url, "--port", "0", "--log-level", "warn", ...args],
    { stdout: "pipe", stderr: "pipe" });
  const procs = [start(["--role", "core", "--data-dir", dir, "--symbols", "TSLA", "--option-expiries", "0", "--tick-rate", "200"])];
  procs.push(start(["--role", "edge"]), start(["--role", "edge"]));
  try {
    const wsOf = async (p: (typeof procs)[number]) => (await readLineMatching(p.stdout, (l) => l.includes("WebSocket"), 20_000)).trim().split(/\s+/)[1]!;
    const [, ws1, ws2] = await Promise.all(procs.map(wsOf)) as [string, string, string];
    for (const ws of [ws1, ws2]) {
      const http = ws.replace(/^ws/, "http").replace(/\/ws$/, "");
      await waitForAsync(async () => (await fetch(`${http}/readyz`)).ok, 15_000, "the edge process to be ready");
    }
    await using client = await MarketClient.connect([ws1, ws2], { reconnect: FAST_RETRY });
    const quotes: QuoteFrame[] = [];
    const gaps: Gap[] = [];
    client.onQuote((q) => quotes.push(q));
    client.onGap((g) => gaps.push(g));
    await client.subscribe(["TSLA"]);
    await waitFor(() => quotes.length >= 3, 10_000, "quotes through the first edge");
    const at = quotes.length;
    procs[1]!.kill("SIGKILL");
    await waitFor(() => client.state === "open" && client.url === ws2, 10_000, "the failover to the second edge");
    await waitFor(() => quotes.slice(at).some((q) => q.snap) && quotes.length >= at + 4, 10_000, "quotes through the second edge");
    // The seq is the core's at both edges: it never goes back, and the jump from the last quote
    // of the first edge to the second edge's snapshot is reported as a reconnect gap.
    const seqs = quotes.map((q) => q.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThanOrEqual(seqs[i - 1]!);
    const k = quotes.findIndex((q, i) => i > 0 && q.snap === true);
    expect(k).toBeGreaterThanOrEqual(at);
    const [before, resnap] = [quotes[k - 1]!.seq, quotes[k]!.seq];
    const reconnectGaps = gaps.filter((g) => g.reconnect);
    expect(reconnectGaps).toEqual(resnap > before + 1 ? [{ symbol: "TSLA", previous: before, got: resnap, missed: resnap - before - 1, reconnect: true }] : []);
    expect(quotes.at(-1)!.seq).toBeGreaterThan(before);
    expect(client.stats.reconnects).toBe(1);
  } finally {
    for (const p of procs) p.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.exited));
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a single process: with the first URL dead at start the client connects to the second", async () => {
  await using server = await serveMarket(market);
  const dead = `ws://127.0.0.1:${await freePort()}/ws`;
  await using client = await MarketClient.connect([dead, server.wsUrl], { reconnect: FAST_RETRY });
  expect(client.url).toBe(server.wsUrl);
  expect(client.urls).toEqual([dead, server.wsUrl]);
  expect(client.stats.reconnects).toBe(0);
  const quotes: QuoteFrame[] = [];
  client.onQuote((q) => quotes.push(q));
  expect(await client.subscribe(["NVDA"])).toEqual(["NVDA"]);
  await waitFor(() => quotes.length === 1 && quotes[0]!.snap === true, 5000, "NVDA's snapshot");
});

test("attempts are bounded over the whole list: connect rejects naming every URL", async () => {
  const urls = [`ws://127.0.0.1:${await freePort()}/ws`, `ws://127.0.0.1:${await freePort()}/ws`];
  const err = await MarketClient.connect(urls, { reconnect: { initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 } }).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ClientError);
  expect(err).toMatchObject({ code: "CONNECT_FAILED", message: `connection to every one of ${urls.join(", ")} lost after 3 attempts` });
  expect(MarketClient.connect([])).rejects.toThrow("at least one ws:// URL");
});

test("Redial: round-robin over the URLs with the bounded back-off; a welcome resets the back-off, not the URL", () => {
  const r = new Redial(["a", "b", "c"], { initialDelayMs: 10, maxDelayMs: 35, factor: 2, jitter: 0, maxAttempts: 4 });
  const seen: [string, number][] = [];
  while (r.canRetry) {
    const delay = r.next();
    seen.push([r.url, delay]);
  }
  expect(seen).toEqual([["b", 10], ["c", 20], ["a", 35], ["b", 35]]);
  r.opened();
  expect(r.url).toBe("b");
  expect(r.attempts).toBe(0);
  expect(r.canRetry as boolean).toBe(true);
  expect(new Redial(["x"], undefined).canRetry).toBe(false);
});
