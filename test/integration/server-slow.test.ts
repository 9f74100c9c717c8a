// Slow consumers: a raw socket that stops reading is moved to conflated delivery (latest state
// per symbol) and, if it stays slow, closed with 4008, while a client that keeps up on the same
// server receives every update without a gap and REST keeps answering.

import { beforeAll, expect, test } from "bun:test";
import type { QuoteFrame } from "../../src/client/protocol.ts";
import { STOCKS, TestMarket } from "../helpers/market.ts";
import { RawWs } from "../helpers/raw-ws.ts";
import { serveMarket, tick, type TestServer } from "../helpers/server.ts";
import { TestSocket } from "../helpers/test-socket.ts";
import { waitFor } from "../helpers/wait.ts";

// Small buffers so the test needs megabytes, not hundreds of megabytes; the kernel's socket
// buffers still absorb a few MB before the server's own buffer grows at all.
const LIMITS = { slowClientBytes: 64 * 1024, backpressureLimitBytes: 1024 * 1024 };
const MAX_BATCHES = 60_000;

let market: TestMarket;
beforeAll(async () => {
  market = await TestMarket.create();
});

async function subscribedRaw(server: TestServer, symbols: readonly string[] = STOCKS): Promise<RawWs> {
  const raw = await RawWs.connect(`${server.wsUrl}?format=json`);
  raw.sendText(JSON.stringify({ op: "subscribe", id: 1, symbols: [...symbols] }));
  await waitFor(() => raw.json().filter((f) => f.t === "q").length === symbols.length, 5000, "raw snapshots");
  return raw;
}

/** Pumps batches of every stock, yielding so sockets flush, until `done` or the batch bound. */
async function pumpUntil(done: () => boolean, what: string): Promise<number> {
  for (let i = 0; i < MAX_BATCHES; i++) {
    if (done()) return i;
    market.update(STOCKS);
    if (i % 20 === 19) await tick();
  }
  throw new Error(`${MAX_BATCHES} batches did not bring ${what}`);
}

function expectNoGaps(quotes: QuoteFrame[], symbol: string): void {
  const seqs = quotes.filter((q) => q.s === symbol).map((q) => q.seq);
  for (let i = 1; i < seqs.length; i++) if (seqs[i] !== seqs[i - 1]! + 1) throw new Error(`${symbol}: gap ${seqs[i - 1]} → ${seqs[i]}`);
}

async function fastClient(server: TestServer): Promise<TestSocket> {
  const s = await TestSocket.open(server.wsUrl);
  s.send({ op: "subscribe", id: 1, symbols: [...STOCKS] });
  await s.reply(1);
  return s;
}

async function caughtUp(s: TestSocket): Promise<void> {
  const final = STOCKS.map((sym) => market.engine.quote(market.row(sym)).seq);
  await waitFor(() => STOCKS.every((sym, k) => s.quotes(sym).at(-1)?.seq === final[k]), 20_000, "the fast client to catch up");
}

test("a reader that stops is conflated, then closed with 4008; the fast client misses nothing", async () => {
  await using server = await serveMarket(market, { ...LIMITS, slowClientTimeoutMs: 300 });
  const raw = await subscribedRaw(server);
  try {
    await using fast = await fastClient(server);
    raw.pause();
    await pumpUntil(() => server.stats().slowEntries === 1, "the raw client to be marked slow");
    await pumpUntil(() => server.stats().conflations > 1000, "conflations");
    const rest = await fetch(`${server.url}/v1/quotes/AAPL`);
    expect(rest.status).toBe(200);
    await pumpUntil(() => server.stats().slowDisconnects === 1, "the slow-consumer disconnect");
    await caughtUp(fast);
    for (const sym of STOCKS) expectNoGaps(fast.quotes(sym), sym);
    expect(fast.close).toBeUndefined();

    raw.resume();
    await waitFor(() => raw.closeCode !== undefined || raw.ended, 10_000, "the raw client to see the close");
    expect(raw.closeCode).toBe(4008);
    expect(raw.closeReason).toBe("slow consumer");
    expect(server.stats()).toMatchObject({ connections: 1, slowClients: 0, subscriptions: STOCKS.length });
  } finally {
    raw.destroy();
  }
});

test("a reader that resumes in time gets the latest state of each of its symbols, then every update again", async () => {
  await using server = await serveMarket(market, { ...LIMITS, slowClientTimeoutMs: 30_000 });
  // Every stock changes in every batch, but the reader holds only some: its catch-up and
  // what follows must carry those and nothing else.
  const mine = STOCKS.slice(0, 3);
  const raw = await subscribedRaw(server, mine);
  try {
    await using fast = await fastClient(server);
    raw.pause();
    await pumpUntil(() => server.stats().slowEntries === 1, "the raw client to be marked slow");
    await pumpUntil(() => server.stats().conflations > 5000, "conflations");
    raw.resume();
    await waitFor(() => server.stats().slowClients === 0, 10_000, "the raw client to catch up");
    const resumedAt = raw.frames.length;
    for (let i = 0; i < 200; i++) market.update(STOCKS);
    const final = STOCKS.map((sym) => market.engine.quote(market.row(sym)).seq);
    const rawQuotes = () => raw.json().filter((f) => f.t === "q") as unknown as QuoteFrame[];
    await waitFor(() => mine.every((sym) => rawQuotes().filter((q) => q.s === sym).at(-1)?.seq === final[STOCKS.indexOf(sym)]), 10_000, "raw final seqs");
    expect([...new Set(rawQuotes().map((q) => q.s))].sort()).toEqual([...mine].sort());
    for (const sym of mine) {
      const seqs = rawQuotes().filter((q) => q.s === sym).map((q) => q.seq);
      expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)).toBe(true);
      expect(seqs.some((s, i) => i > 0 && s > seqs[i - 1]! + 1)).toBe(true);
      expect(seqs.slice(-200)).toEqual(Array.from({ length: 200 }, (_, k) => final[STOCKS.indexOf(sym)]! - 199 + k));
    }
    expect(raw.frames.length).toBeGreaterThan(resumedAt);
    expect(raw.closeCode).toBeUndefined();
    await caughtUp(fast);
    for (const sym of STOCKS) expectNoGaps(fast.quotes(sym), sym);
    expect(server.stats()).toMatchObject({ slowDisconnects: 0, connections: 2 });
  } finally {
    raw.destroy();
  }
});
