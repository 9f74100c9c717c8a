// The /ws protocol against a real server, run once per wire format: welcome, subscribe and
// snapshots, ordered updates, underlyings, unsubscribe, and every kind of bad request.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Packr } from "msgpackr";
import type { AckFrame, ErrorFrame, PongFrame, QuoteFrame, WelcomeFrame, WireFormat } from "../../src/client/protocol.ts";
import { OPTIONS, TestMarket } from "../helpers/market.ts";
import { serveMarket, tick, type TestServer } from "../helpers/server.ts";
import { TestSocket } from "../helpers/test-socket.ts";
import { waitFor } from "../helpers/wait.ts";

let market: TestMarket;
let server: TestServer;

beforeAll(async () => {
  market = await TestMarket.create();
  server = await serveMarket(market);
});
afterAll(() => server.stop());

const TSLA_FAMILY = ["TSLA", ...OPTIONS.filter((s) => s.startsWith("TSLA-"))];

describe.each(["json", "msgpack"] as WireFormat[])("%s clients", (format) => {
  test("welcome announces version, format, heartbeat and limits", async () => {
    await using s = await TestSocket.open(server.wsUrl, format);
    const w = s.frames[0] as WelcomeFrame;
    expect(w).toMatchObject({ t: "welcome", v: 1, format, heartbeatMs: 2000 });
    expect(w.limits).toEqual({
      maxSubscriptions: 2000, maxPayloadBytes: 65536, inboundRatePerS: 50, inboundBurst: 100,
      slowClientBytes: 262144, slowClientTimeoutMs: 5000,
    });
    expect(Math.abs(w.ts - Date.now())).toBeLessThan(5000);
  });

  test("subscribe: ack, one snapshot per symbol, then updates in seq order", async () => {
    await using s = await TestSocket.open(server.wsUrl, format);
    market.update(["AAPL"]);
    const before = market.engine.quote(market.row("AAPL")).seq;
    s.send({ op: "subscribe", id: 1, symbols: ["MSFT", "AAPL"] });
    const ack = await s.reply<AckFrame>(1);
    expect(ack).toEqual({ t: "ack", id: 1, op: "subscribe", symbols: ["AAPL", "MSFT"] });
    const snapA = await s.next<QuoteFrame>((f) => f.t === "q" && f.s === "AAPL");
    expect(snapA.snap).toBe(true);
    expect(snapA.seq).toBe(before);
    expect(snapA.b).toBe(market.engine.quote(market.row("AAPL")).bid);
    await s.next((f) => f.t === "q" && f.s === "MSFT" && f.snap === true);
    for (let i = 0; i < 5; i++) market.update(["AAPL"]);
    await waitFor(() => s.quotes("AAPL").length === 6, 5000, "5 AAPL updates");
    const seqs = s.quotes("AAPL").map((q) => q.seq);
    expect(seqs).toEqual([before, before + 1, before + 2, before + 3, before + 4, before + 5]);
    const last = s.quotes("AAPL").at(-1)!;
    expect(last.snap).toBeUndefined();
    const q = market.engine.quote(market.row("AAPL"));
    expect(last).toMatchObject({ s: "AAPL", b: q.bid, bs: q.bidSize, a: q.ask, as: q.askSize, ts: q.exchangeTs, f: q.flags });
    expect(s.wrongKind).toBe(0);
  });

  test("a client that keeps up sees every update of thousands, without a gap", async () => {
    await using s = await TestSocket.open(server.wsUrl, format);
    const symbols = ["AAPL", "MSFT", "NVDA"];
    s.send({ op: "subscribe", id: 1, symbols });
    await s.reply(1);
    await waitFor(() => s.quotes().length === 3, 5000, "snapshots");
    const batches = 3000;
    for (let i = 0; i < batches; i++) {
      market.update(symbols);
      if (i % 50 === 49) await tick();
    }
    const final = symbols.map((sym) => market.engine.quote(market.row(sym)).seq);
    await waitFor(() => symbols.every((sym, k) => s.quotes(sym).at(-1)?.seq === final[k]), 10_000, "the final seq of each symbol");
    for (const sym of symbols) {
      const seqs = s.quotes(sym).map((q) => q.seq);
      expect(seqs.length).toBe(batches + 1);
      for (let i = 1; i < seqs.length; i++) if (seqs[i] !== seqs[i - 1]! + 1) throw new Error(`${sym} gap at ${i}: ${seqs[i - 1]} → ${seqs[i]}`);
    }
  });

  test("underlyings resolve to the underlying plus every option on it", async () => {
    await using s = await TestSocket.open(server.wsUrl, format);
    s.send({ op: "subscribe", id: 7, underlyings: ["TSLA"] });
    const ack = await s.reply<AckFrame>(7);
    expect(ack.symbols).toEqual(TSLA_FAMILY);
    await waitFor(() => s.quotes().length === TSLA_FAMILY.length, 5000, "snapshots");
    market.update([OPTIONS[1], "AAPL-20261127-C-202.5", "AAPL"]);
    await s.next((f) => f.t === "q" && f.s === OPTIONS[1] && !f.snap);
    market.update(["TSLA"]);
    await s.next((f) => f.t === "q" && f.s === "TSLA" && !f.snap);
    expect(s.quotes().some((q) => q.s.startsWith("AAPL"))).toBe(false);
  });

  test("unsubscribe stops updates for those symbols only", async () => {
    await using s = await TestSocket.open(server.wsUrl, format);
    s.send({ op: "subscribe", id: 1, symbols: ["AAPL", "MSFT"] });
    await s.reply(1);
    s.send({ op: "unsubscribe", id: 2, symbols: ["AAPL"] });
    expect(await s.reply<AckFrame>(2)).toEqual({ t: "ack", id: 2, op: "unsubscribe", symbols: ["AAPL"] });
    const seen = s.quotes("AAPL").length;
    market.update(["AAPL"]);
    market.update(["MSFT"]);
    await s.next((f) => f.t === "q" && f.s === "MSFT" && !f.snap);
    expect(s.quotes("AAPL").length).toBe(seen);
  });

  test("an unknown symbol fails the whole subscribe with its field and id", async () => {
    await using s = await TestSocket.open(server.wsUrl, format);
    s.send({ op: "subscribe", id: 1, symbols: ["MSFT"] });
    await s.reply(1);
    s.send({ op: "subscribe", id: 3, symbols: ["AAPL", "NOPE"] });
    const err = await s.reply<ErrorFrame>(3);
    expect(err).toMatchObject({ t: "error", id: 3, code: "UNKNOWN_SYMBOL", field: "symbols[1]" });
    s.send({ op: "subscribe", id: 4, underlyings: ["ZZZZ"] });
    expect(await s.reply<ErrorFrame>(4)).toMatchObject({ code: "UNKNOWN_SYMBOL", field: "underlyings[0]" });
    market.update(["AAPL"]);
    market.update(["MSFT"]);
    await s.next((f) => f.t === "q" && f.s === "MSFT" && !f.snap);
    expect(s.quotes("AAPL")).toEqual([]);
  });

  test("malformed and invalid frames get error frames and change nothing", async () => {
    await using s = await TestSocket.open(server.wsUrl, format);
    s.send({ op: "subscribe", id: 1, symbols: ["MSFT"] });
    await s.reply(1);
    const errors = () => s.frames.filter((f): f is ErrorFrame => f.t === "error");

    s.ws.send("{not json");
    s.ws.send(new Uint8Array([0x93, 0x01])); // a MessagePack array header promising 3 items, then 1
    s.send({ op: "subscribe", id: 5, symbols: ["AAPL", 42] });
    s.send({ op: "launch", id: 6 });
    s.send({ op: "subscribe", id: 8, symbols: ["AAPL"], extra: true });
    s.send({ op: "subscribe", id: 9 });
    s.send({ op: "ping", id: -1 });
    s.send([1, 2, 3]);
    await waitFor(() => errors().length === 8, 5000, "8 error frames");
    const [json, pack, type, op, extra, empty, badId, array] = errors();
    expect(json).toMatchObject({ code: "BAD_JSON" });
    expect(pack).toMatchObject({ code: "BAD_MSGPACK" });
    expect(type).toMatchObject({ code: "BAD_REQUEST", field: "symbols[1]", id: 5 });
    expect(op).toMatchObject({ code: "BAD_REQUEST", field: "op", id: 6 });
    expect(extra).toMatchObject({ code: "BAD_REQUEST", field: "extra", id: 8 });
    expect(empty).toMatchObject({ code: "BAD_REQUEST", field: "symbols", id: 9 });
    expect(badId).toMatchObject({ code: "BAD_REQUEST", field: "id" });
    expect(badId!.id).toBeUndefined();
    expect(array).toMatchObject({ code: "BAD_REQUEST" });
    for (const e of errors()) expect(typeof e.message).toBe("string");

    // Still connected, still subscribed to exactly what it had.
    s.send({ op: "ping", id: 10 });
    expect(await s.reply<PongFrame>(10)).toMatchObject({ t: "pong", id: 10 });
    market.update(["AAPL"]);
    market.update(["MSFT"]);
    await s.next((f) => f.t === "q" && f.s === "MSFT" && !f.snap);
    expect(s.quotes("AAPL")).toEqual([]);
  });

  test("JSON text requests are accepted from any client", async () => {
    await using s = await TestSocket.open(server.wsUrl, format);
    s.ws.send(JSON.stringify({ op: "ping", id: 11 }));
    const pong = await s.reply<PongFrame>(11);
    expect(Math.abs(pong.ts - Date.now())).toBeLessThan(5000);
    s.ws.send(new Packr({ useRecords: false }).pack({ op: "ping", id: 12 }) as Uint8Array<ArrayBuffer>);
    await s.reply<PongFrame>(12);
    expect(s.wrongKind).toBe(0);
  });
});

test("JSON and MessagePack subscribers of one symbol get the same values", async () => {
  await using j = await TestSocket.open(server.wsUrl, "json");
  await using m = await TestSocket.open(server.wsUrl, "msgpack");
  for (const s of [j, m]) {
    s.send({ op: "subscribe", id: 1, symbols: ["NVDA"] });
    await s.reply(1);
  }
  market.update(["NVDA"]);
  market.trade("NVDA", 300);
  const seq = market.engine.quote(market.row("NVDA")).seq;
  await waitFor(() => j.quotes("NVDA").at(-1)?.seq === seq && m.quotes("NVDA").at(-1)?.seq === seq, 5000, "both codecs");
  expect(m.quotes("NVDA")).toEqual(j.quotes("NVDA"));
  const stats = server.stats();
  expect(stats.messagesOut.json).toBeGreaterThan(0);
  expect(stats.messagesOut.msgpack).toBeGreaterThan(0);
  expect(stats.bytesOut.msgpack).toBeGreaterThan(0);
});
