// The raw load client's byte-level readers (bench/e2e-raw-client-fixture.ts), checked against
// frames from the server's own encoders: quote scanning in JSON and MessagePack, the frame
// walker over arbitrary chunk boundaries, client frame masking and the symbol table; then the
// fixture as a process against a fake server, for pings, gaps, its output and its failure mode.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../helpers/wait.ts";
import {
  FrameWalker, MAX_FRAME_BYTES, SymbolTable, maskedFrame, newQuoteScan, parseJsonNumber, scanJsonQuote, scanMsgpackQuote,
  type FrameSink,
} from "../../bench/e2e-raw-client-fixture.ts";
import type { Quote, ServerFrame } from "../../src/client/protocol.ts";
import { JSON_CODEC, MSGPACK_CODEC } from "../../src/server/codec.ts";

const LONG_SYMBOL = "ABCDEFGHIJKL-20261127-C-1234.567"; // 32 bytes: a MessagePack str8, not a fixstr
const BASE: Quote = {
  symbol: "AAPL", seq: 41, bid: 189.5, bidSize: 300, ask: 189.52, askSize: 200, last: 189.51, lastSize: 100,
  volume: 123400, vwap: 189.2, open: 188.9, high: 190.1, low: 188.2, prevClose: 188.75, volatility: 0.24,
  exchangeTs: 1795276467801, ingestTs: 1795276467802.413, flags: 0,
};
const QUOTES: Quote[] = [
  BASE,
  { ...BASE, symbol: "NVDA", seq: 0, bid: null, bidSize: 0, ask: null, askSize: 0, last: null, lastSize: 0, volume: 0,
    vwap: null, open: null, high: null, low: null, prevClose: null, volatility: null, exchangeTs: 0, ingestTs: 1795276467802.4136, flags: 96 },
  { ...BASE, symbol: "TSLA-20261127-P-402.5", seq: 70_000, bid: 12.35, ask: 12.4, volume: 5_000_000_000,
    exchangeTs: 1795276467801.25, ingestTs: 1795276467802, flags: 3 },
  { ...BASE, symbol: "SPY", seq: 300, ingestTs: 1795276467802.0002, exchangeTs: 1795276467801.999 },
  { ...BASE, symbol: "QQQ", seq: 127, ingestTs: 1779000000000.1235 },
  { ...BASE, symbol: "AMD", seq: 4_000_000_000 }, // uint32 with every byte in use
  { ...BASE, symbol: "BRK/B", seq: 128, volatility: 1.2345678901234567e-7 },
  { ...BASE, symbol: LONG_SYMBOL, seq: 5_000_000_000, ingestTs: performance.timeOrigin + performance.now() },
];
const SYMBOLS = QUOTES.map((q) => q.symbol);
const enc = new TextEncoder();

function jsonBytes(q: Quote, snap: boolean): Uint8Array {
  return enc.encode(JSON_CODEC.encodeQuote(q, snap) as string);
}

function msgpackBytes(q: Quote, snap: boolean): Uint8Array {
  return MSGPACK_CODEC.encodeQuote(q, snap) as Uint8Array;
}

/** One unit in the last place of x. */
function ulp(x: number): number {
  return x === 0 ? Number.MIN_VALUE : 2 ** (Math.floor(Math.log2(Math.abs(x))) - 52);
}

/** `frame` placed at offset 7 of a larger buffer of 0xff bytes, so the scanners must respect start and end. */
function embedded(frame: Uint8Array): { buf: Uint8Array; start: number; end: number } {
  const buf = new Uint8Array(frame.length + 20).fill(0xff);
  buf.set(frame, 7);
  return { buf, start: 7, end: 7 + frame.length };
}

describe("quote scanning", () => {
  for (const format of ["json", "msgpack"] as const) {
    const scanner = format === "json" ? scanJsonQuote : scanMsgpackQuote;
    const encode = format === "json" ? jsonBytes : msgpackBytes;
    const table = new SymbolTable(SYMBOLS, format);

    for (const snap of [false, true]) {
      test(`${format}${snap ? " snapshot" : ""}: symbol, seq, ts and its of every quote`, () => {
        QUOTES.forEach((q, index) => {
          const { buf, start, end } = embedded(encode(q, snap));
          const scan = newQuoteScan();
          expect(scanner(buf, start, end, scan)).toBe(true);
          expect(table.slotOf(buf, scan.symAt, scan.symLen)).toBe(index);
          expect(scan.seq).toBe(q.seq);
          expect(scan.snap).toBe(snap);
          if (format === "msgpack") {
            expect(scan.ts).toBe(q.exchangeTs);
            expect(scan.its).toBe(q.ingestTs);
          } else {
            expect(Math.abs(scan.ts - q.exchangeTs)).toBeLessThanOrEqual(ulp(q.exchangeTs));
            expect(Math.abs(scan.its - q.ingestTs)).toBeLessThanOrEqual(ulp(q.ingestTs));
          }
        });
      });

      test(`${format}${snap ? " snapshot" : ""}: every truncation of a quote frame throws`, () => {
        for (const q of QUOTES) {
          const frame = encode(q, snap);
          const scan = newQuoteScan();
          // Past the fixed head the frame is recognised as a quote, so a short one is a broken one.
          for (let end = format === "json" ? 14 : 10; end < frame.length; end++) {
            expect(() => scanner(frame, 0, end, scan)).toThrow(/malformed quote frame/);
          }
        }
      });
    }

    test(`${format}: frames other than quotes are not quotes`, () => {
      const frames: ServerFrame[] = [
        { t: "welcome", v: 1, format, heartbeatMs: 2000, ts: 1795276467833, limits: { maxSubscriptions: 2000, maxPayloadBytes: 65536,
          inboundRatePerS: 50, inboundBurst: 100, slowClientBytes: 262144, slowClientTimeoutMs: 5000 } },
        { t: "ack", id: 1, op: "subscribe", symbols: SYMBOLS },
        { t: "hb", ts: 1795276469833 },
        { t: "pong", id: 2, ts: 1795276469901 },
        { t: "error", id: 3, code: "UNKNOWN_SYMBOL", message: "no instrument matches \"q\"", field: "symbols[0]" },
      ];
      for (const f of frames) {
        const e = (format === "json" ? JSON_CODEC : MSGPACK_CODEC).encode(f);
        const bytes = typeof e === "string" ? enc.encode(e) : e;
        expect(scanner(bytes, 0, bytes.length, newQuoteScan())).toBe(false);
      }
    });
  }

  test("JSON numbers: exact up to 15 digits, within one ulp beyond, null as NaN", () => {
    const read = (s: string) => parseJsonNumber(enc.encode(s), 0, s.length);
    for (const s of ["0", "7", "-3", "189.52", "0.24", "1795276467801", "1795276467802.41", "-0.5", "4294967296", "1e21", "1.5e-7", "-2E+3"]) {
      expect(read(s)).toBe(Number(s));
    }
    expect(read("null")).toBeNaN();
    let state = 12345;
    for (let i = 0; i < 10_000; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      const v = 1.7e12 + state * 37.1234567;
      expect(Math.abs(read(String(v)) - v)).toBeLessThanOrEqual(ulp(v));
    }
    for (const bad of ["", "-", "1.", ".5", "1x", "nul", "nulls", "1.2.3"]) expect(() => read(bad)).toThrow(/malformed/);
  });
});

describe("symbol table", () => {
  test("finds every symbol and nothing else, with many symbols sharing prefixes", () => {
    const many = Array.from({ length: 500 }, (_, i) => `TSLA-20261127-${i % 2 ? "C" : "P"}-${100 + i * 0.5}`);
    for (const format of ["json", "msgpack"] as const) {
      const table = new SymbolTable(many, format);
      many.forEach((s, i) => expect(table.slotOf(enc.encode(`xx${s}`), 2, s.length)).toBe(i));
      for (const s of ["TSLA", "TSLA-20261127-P-100.0", "TSLA-20261127-P-1000", "", "TSLA-20261127-C-100.5 "]) {
        expect(table.slotOf(enc.encode(s), 0, s.length)).toBe(-1);
      }
    }
    expect(() => new SymbolTable(["AAPL", "AAPL"], "json")).toThrow(/duplicate/);
  });

  test("JSON keys are the escaped form a JSON frame carries", () => {
    const table = new SymbolTable(['A"B', "C\\D"], "json");
    const text = enc.encode('A\\"B');
    expect(table.slotOf(text, 0, text.length)).toBe(0);
    const frame = jsonBytes({ ...BASE, symbol: "C\\D" }, false);
    const scan = newQuoteScan();
    expect(scanJsonQuote(frame, 0, frame.length, scan)).toBe(true);
    expect(table.slotOf(frame, scan.symAt, scan.symLen)).toBe(1);
  });
});

/** An unmasked server frame with FIN set and the shortest length encoding. */
function serverFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const header = n < 126 ? [0x80 | opcode, n]
    : n < 65536 ? [0x80 | opcode, 126, n >> 8, n & 0xff]
    : [0x80 | opcode, 127, 0, 0, 0, 0, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(header.length + n);
  out.set(header);
  out.set(payload, header.length);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Records a copy of every frame, since a carried frame's bytes are reused afterwards. */
class Recorder implements FrameSink {
  readonly frames: Array<{ opcode: number; payload: number[] }> = [];
  readonly bufs: Uint8Array[] = [];
  frame(opcode: number, buf: Uint8Array, start: number, end: number): void {
    this.frames.push({ opcode, payload: Array.from(buf.subarray(start, end)) });
    this.bufs.push(buf);
  }
}

describe("frame walker", () => {
  const payloads: Array<[number, Uint8Array]> = [
    [0x1, jsonBytes(QUOTES[2]!, true)], // > 125 bytes: 16-bit length
    [0x1, enc.encode('{"t":"hb","ts":1795276469833}')],
    [0x9, enc.encode("ping!")],
    [0x2, msgpackBytes(QUOTES[6]!, false)],
    [0xa, new Uint8Array(0)],
    [0x1, jsonBytes(QUOTES[0]!, false)],
    [0x8, Uint8Array.of(0x03, 0xe8)],
  ];
  const stream = concat(payloads.map(([op, p]) => serverFrame(op, p)));
  const expected = payloads.map(([opcode, p]) => ({ opcode, payload: Array.from(p) }));

  test("the stream holds a 16-bit-length frame", () => {
    expect(payloads[0]![1].length).toBeGreaterThan(125);
    expect(stream[1]).toBe(126);
  });

  test("split at every byte boundary across two chunks", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const rec = new Recorder();
      const walker = new FrameWalker(rec);
      walker.push(stream.subarray(0, cut));
      walker.push(stream.subarray(cut));
      expect(rec.frames).toEqual(expected);
    }
  });

  test("one byte per chunk", () => {
    const rec = new Recorder();
    const walker = new FrameWalker(rec);
    for (let i = 0; i < stream.length; i++) walker.push(stream.subarray(i, i + 1));
    expect(rec.frames).toEqual(expected);
  });

  test("frames wholly inside a chunk are handed over in place, not copied", () => {
    const rec = new Recorder();
    new FrameWalker(rec).push(stream);
    expect(rec.frames).toEqual(expected);
    for (const b of rec.bufs) expect(b).toBe(stream);
  });

  test("64-bit length, split in its header, its payload and at its end", () => {
    const big = Uint8Array.from({ length: 70_000 }, (_, i) => i & 0xff);
    const s = concat([serverFrame(0x2, big), serverFrame(0x1, enc.encode("after"))]);
    expect(s[1]).toBe(127);
    const cuts = [0, 1, 2, 5, 9, 10, 11, 1000, 70_009, 70_010, 70_011, s.length - 1, s.length];
    for (const cut of cuts) {
      const rec = new Recorder();
      const walker = new FrameWalker(rec, 100_000);
      walker.push(s.subarray(0, cut));
      walker.push(s.subarray(cut));
      expect(rec.frames.length).toBe(2);
      expect(rec.frames[0]!.payload).toEqual(Array.from(big));
      expect(rec.frames[1]!.payload).toEqual(Array.from(enc.encode("after")));
    }
  });

  test("what the server never sends is an error", () => {
    const walk = (bytes: number[]) => () => new FrameWalker(new Recorder()).push(Uint8Array.from(bytes));
    expect(walk([0x81, 0x81, 1, 2, 3, 4, 0x41])).toThrow(/masked/);
    expect(walk([0x01, 0x01, 0x41])).toThrow(/unexpected frame header/); // FIN clear: a fragment
    expect(walk([0x80, 0x01, 0x41])).toThrow(/unexpected frame header/); // continuation opcode
    expect(walk([0xc1, 0x01, 0x41])).toThrow(/unexpected frame header/); // RSV1: compression not negotiated
    expect(walk([0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0])).toThrow(/2\^32/);
    const over = MAX_FRAME_BYTES + 1;
    expect(walk([0x82, 127, 0, 0, 0, 0, over >>> 24, (over >> 16) & 0xff, (over >> 8) & 0xff, over & 0xff])).toThrow(/exceeds/);
  });
});

describe("client frames", () => {
  for (const n of [0, 5, 125, 126, 600]) {
    test(`a ${n}-byte payload is masked with FIN set and the shortest length`, () => {
      const payload = Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);
      const mask = Uint8Array.of(0x12, 0x34, 0x56, 0x78);
      const f = maskedFrame(0x1, payload, mask);
      expect(f[0]).toBe(0x81);
      expect(f[1]! & 0x80).toBe(0x80);
      const header = n < 126 ? 2 : 4;
      expect(n < 126 ? f[1]! & 0x7f : (f[2]! << 8) | f[3]!).toBe(n);
      if (n >= 126) expect(f[1]! & 0x7f).toBe(126);
      expect(Array.from(f.subarray(header, header + 4))).toEqual(Array.from(mask));
      const body = f.subarray(header + 4).map((b, i) => b ^ mask[i & 3]!);
      expect(Array.from(body)).toEqual(Array.from(payload));
    });
  }
  test("a client frame too large for this client is refused", () => {
    expect(() => maskedFrame(0x1, new Uint8Array(65536), new Uint8Array(4))).toThrow(/small frames/);
  });
});

/** Per-connection state of the fake server below. */
interface FakeConn { format: "json" | "msgpack"; symbols: string[]; rounds: number; timer?: ReturnType<typeof setInterval> }

/**
 * A stand-in for the server that exercises what a real run rarely does: it pings each
 * connection and sends quotes only once the pong (which must be masked, or Bun drops the
 * connection) comes back; it skips 3 seqs of the first symbol once; it stamps ts 5 ms before
 * its; and, when told to, closes every connection with 4008 mid-run.
 */
function fakeServer(opts: { closeAfterRounds?: number } = {}) {
  const pongs: string[] = [];
  const closeCodes: number[] = [];
  const sizes: number[] = [];
  const MAX_ROUNDS = 1500; // bounds the quote stream of each connection (~3 s at 2 ms)
  const server = Bun.serve<FakeConn>({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req, srv) {
      const format = new URL(req.url).searchParams.get("format") === "msgpack" ? "msgpack" : "json";
      return srv.upgrade(req, { data: { format, symbols: [], rounds: 0 } }) ? undefined : new Response("upgrade only", { status: 400 });
    },
    websocket: {
      open(ws) {
        const codec = ws.data.format === "json" ? JSON_CODEC : MSGPACK_CODEC;
        ws.send(codec.encode({ t: "welcome", v: 1, format: ws.data.format, heartbeatMs: 2000, ts: Date.now(), limits: {
          maxSubscriptions: 2000, maxPayloadBytes: 65536, inboundRatePerS: 50, inboundBurst: 100, slowClientBytes: 262144, slowClientTimeoutMs: 5000 } }));
      },
      message(ws, message) {
        const req = JSON.parse(String(message)) as { op: string; id: number; symbols: string[] };
        const codec = ws.data.format === "json" ? JSON_CODEC : MSGPACK_CODEC;
        ws.data.symbols = req.symbols;
        ws.send(codec.encode({ t: "ack", id: req.id, op: "subscribe", symbols: req.symbols }));
        ws.ping("are you there");
      },
      pong(ws, data) {
        pongs.push(String(data));
        const codec = ws.data.format === "json" ? JSON_CODEC : MSGPACK_CODEC;
        const send = (q: Quote, snap: boolean) => {
          const e = codec.encodeQuote(q, snap);
          sizes.push(typeof e === "string" ? Buffer.byteLength(e) : e.byteLength);
          ws.send(e);
        };
        const quote = (symbol: string, seq: number): Quote => {
          const its = performance.timeOrigin + performance.now();
          return { ...BASE, symbol, seq, ingestTs: its, exchangeTs: its - 5 };
        };
        ws.data.symbols.forEach((s) => send(quote(s, 1000), true));
        ws.data.timer = setInterval(() => {
          const round = ++ws.data.rounds;
          if (round === opts.closeAfterRounds) return ws.close(4008, "slow consumer");
          if (round > MAX_ROUNDS) return clearInterval(ws.data.timer);
          // Round 50 skips seqs 1050-1052 of the first symbol: one gap of 3 missed states.
          ws.data.symbols.forEach((s, i) => { if (i > 0 || round < 50 || round > 52) send(quote(s, 1000 + round), false); });
        }, 2);
      },
      close(ws, code) {
        clearInterval(ws.data.timer);
        closeCodes.push(code);
      },
    },
  });
  return { server, pongs, closeCodes, sizes, url: `ws://127.0.0.1:${server.port}/ws` };
}

/** Runs the fixture to completion (it bounds itself: 30 s to subscribe, then `seconds`). */
async function runFixture(url: string, format: string, symbols: string[], samplesFile: string) {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "../../bench/e2e-raw-client-fixture.ts"), url, "2", symbols.join(","), "1", format, samplesFile],
    { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

describe("the fixture process", () => {
  const symbols = ["AAPL", "TSLA-20261127-P-402.5"];

  for (const format of ["json", "msgpack"] as const) {
    test(`${format}: answers pings, counts quotes and gaps, writes its samples, closes cleanly`, async () => {
      const fake = fakeServer();
      const dir = mkdtempSync(join(tmpdir(), "raw-client-"));
      try {
        const { stdout, stderr, code } = await runFixture(fake.url, format, symbols, join(dir, "samples.f64"));
        expect(stderr).toBe("");
        expect(code).toBe(0);
        const out = JSON.parse(stdout.trim()) as Record<string, number>;
        expect(Object.keys(out)).toEqual(["connections", "messages", "bytes", "elapsedS", "gaps", "missed", "samples", "cpuPercent"]);
        expect(fake.pongs).toEqual(["are you there", "are you there"]);
        expect(out.connections).toBe(2);
        expect(out.gaps).toBe(2);
        expect(out.missed).toBe(6);
        expect(out.messages).toBeGreaterThan(100);
        expect(out.samples).toBe(out.messages);
        expect(out.bytes / out.messages).toBeGreaterThanOrEqual(Math.min(...fake.sizes));
        expect(out.bytes / out.messages).toBeLessThanOrEqual(Math.max(...fake.sizes));
        expect(out.elapsedS).toBeGreaterThanOrEqual(1);
        const all = new Float64Array(readFileSync(join(dir, "samples.f64")).buffer.slice(0));
        expect(all.length).toBe(2 * out.samples);
        for (let i = 0; i < out.samples; i++) {
          expect(all[i]).toBeGreaterThanOrEqual(0);
          expect(all[i]).toBeLessThan(1000);
          expect(all[out.samples + i]! - all[i]!).toBeCloseTo(5, 2);
        }
        // The fixture exits right after its close frames, so wait (bounded) for the server to see them.
        await waitFor(() => fake.closeCodes.length >= 2, 5000, "both connections' close frames at the server");
        expect(fake.closeCodes.every((c) => c === 1000 || c === 1006)).toBe(true);
        expect(fake.closeCodes).toContain(1000);
      } finally {
        fake.server.stop(true);
        rmSync(dir, { recursive: true, force: true });
      }
    }, 20_000);
  }

  test("a server close during the window fails the run loudly", async () => {
    const fake = fakeServer({ closeAfterRounds: 100 });
    try {
      const { stderr, code } = await runFixture(fake.url, "json", symbols, "");
      expect(code).not.toBe(0);
      expect(stderr).toContain("4008");
    } finally {
      fake.server.stop(true);
    }
  }, 20_000);
});
