// Codecs and request validation. MessagePack frames are read back with a minimal decoder
// written here from the MessagePack spec, so "any decoder can read it" is checked by something
// other than msgpackr: it accepts only the plain types and rejects extensions, float32 and
// 64-bit integers.

import { describe, expect, test } from "bun:test";
import type { QuoteFrame, ServerFrame } from "../../src/client/protocol.ts";
import { JSON_CODEC, MSGPACK_CODEC, decodeInbound, quoteFrame } from "../../src/server/codec.ts";
import { fieldPath, parseRequest } from "../../src/server/messages.ts";

/** Decodes the plain MessagePack subset; throws on any other type byte. */
function strictDecode(bytes: Uint8Array): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const str = (n: number) => new TextDecoder().decode(bytes.subarray(at, (at += n)));
  const map = (n: number) => {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) o[read() as string] = read();
    return o;
  };
  const read = (): unknown => {
    const b = bytes[at++]!;
    if (b <= 0x7f) return b;
    if (b >= 0x80 && b <= 0x8f) return map(b & 0x0f);
    if (b >= 0x90 && b <= 0x9f) return Array.from({ length: b & 0x0f }, () => read());
    if (b >= 0xa0 && b <= 0xbf) return str(b & 0x1f);
    if (b >= 0xe0) return b - 0x100;
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xcb: { const v = view.getFloat64(at); at += 8; return v; }
      case 0xcc: return bytes[at++];
      case 0xcd: { const v = view.getUint16(at); at += 2; return v; }
      case 0xce: { const v = view.getUint32(at); at += 4; return v; }
      case 0xd9: return str(bytes[at++]!);
      case 0xda: { const n = view.getUint16(at); at += 2; return str(n); }
      case 0xde: { const n = view.getUint16(at); at += 2; return map(n); }
      case 0xdc: { const n = view.getUint16(at); at += 2; return Array.from({ length: n }, () => read()); }
      default: throw new Error(`type byte 0x${b.toString(16)} at ${at - 1} is outside the plain subset`);
    }
  };
  const v = read();
  if (at !== bytes.length) throw new Error(`${bytes.length - at} trailing bytes`);
  return v;
}

const QUOTE = {
  symbol: "AAPL-20261127-C-202.5", seq: 70000, bid: 189.5, bidSize: 300, ask: 189.52, askSize: 200, last: null, lastSize: 0,
  volume: 5_000_000_123, vwap: 189.20000001, open: 188, high: 190.25, low: 187.1, prevClose: null, volatility: 0.2412345,
  exchangeTs: 1_795_276_467_833, ingestTs: 1_795_276_467_833.6348, flags: 96,
};

describe("quote frames", () => {
  test("JSON uses the compact keys with null for absent prices", () => {
    const json = JSON.parse(JSON_CODEC.encode(quoteFrame(QUOTE, false)) as string);
    expect(json).toEqual({
      t: "q", s: QUOTE.symbol, seq: 70000, b: 189.5, bs: 300, a: 189.52, as: 200, l: null, ls: 0, v: 5_000_000_123,
      vw: 189.20000001, o: 188, h: 190.25, lo: 187.1, pc: null, vol: 0.2412345, ts: 1_795_276_467_833,
      its: 1_795_276_467_833.6348, f: 96,
    });
    expect(JSON.parse(JSON_CODEC.encode(quoteFrame(QUOTE, true)) as string).snap).toBe(true);
  });

  test("MessagePack is plain: float64 prices, no float32, no 64-bit ints, no extensions", () => {
    const bytes = MSGPACK_CODEC.encode(quoteFrame(QUOTE, true)) as Uint8Array;
    const decoded = strictDecode(bytes) as QuoteFrame;
    expect(decoded).toEqual({ ...JSON.parse(JSON_CODEC.encode(quoteFrame(QUOTE, false)) as string), snap: true });
    expect(decoded.a).toBe(189.52);
    expect(decoded.its).toBe(QUOTE.ingestTs);
  });

  test("the hot-path quote encoders write exactly what the generic codecs write", () => {
    const cases = [
      QUOTE,
      { ...QUOTE, symbol: "S".repeat(32), seq: 0, bid: null, ask: null, bidSize: 127, askSize: 128, lastSize: 65535, volume: 65536 },
      { ...QUOTE, symbol: "BRK/B", seq: 2 ** 32 - 1, volume: 2 ** 32, flags: 255, volatility: 1e-9, vwap: 0.5 },
    ];
    for (const q of cases) {
      for (const snap of [false, true]) {
        expect(JSON_CODEC.encodeQuote(q, snap)).toBe(JSON_CODEC.encode(quoteFrame(q, snap)) as string);
        expect(MSGPACK_CODEC.encodeQuote(q, snap)).toEqual(MSGPACK_CODEC.encode(quoteFrame(q, snap)) as Uint8Array);
        expect(strictDecode(MSGPACK_CODEC.encodeQuote(q, snap) as Uint8Array)).toEqual(quoteFrame(q, snap));
      }
    }
    expect(() => MSGPACK_CODEC.encodeQuote({ ...QUOTE, symbol: "X".repeat(33) }, false)).toThrow(/longer than 32/);
  });

  test("an encoded MessagePack frame owns its bytes: later encodes do not change it", () => {
    const first = MSGPACK_CODEC.encode(quoteFrame(QUOTE, false)) as Uint8Array;
    const copy = Uint8Array.from(first);
    const fast = MSGPACK_CODEC.encodeQuote(QUOTE, false) as Uint8Array;
    for (let i = 0; i < 2000; i++) {
      MSGPACK_CODEC.encode(quoteFrame({ ...QUOTE, seq: i, symbol: `X${i}` }, false));
      MSGPACK_CODEC.encodeQuote({ ...QUOTE, seq: i, symbol: `Y${i}` }, true);
    }
    expect(first).toEqual(copy);
    expect(fast).toEqual(copy);
    expect(first.byteOffset).toBe(0);
    expect(first.buffer.byteLength).toBe(first.byteLength);
  });

  test("the other frames round-trip through both codecs", () => {
    const frames: ServerFrame[] = [
      { t: "hb", ts: 1_795_276_467_833 },
      { t: "ack", id: 4_000_000_000, op: "subscribe", symbols: ["A", "B/C"] },
      { t: "error", code: "UNKNOWN_SYMBOL", message: "no instrument matches \"É\"", field: "symbols[0]", id: 1 },
    ];
    for (const f of frames) {
      expect(JSON.parse(JSON_CODEC.encode(f) as string)).toEqual(f);
      expect(strictDecode(MSGPACK_CODEC.encode(f) as Uint8Array)).toEqual(f);
    }
  });
});

describe("inbound decoding and validation", () => {
  test("text is JSON and binary is MessagePack, with a code for each failure", () => {
    expect(decodeInbound('{"op":"ping"}')).toEqual({ ok: true, value: { op: "ping" } });
    expect(decodeInbound("{")).toMatchObject({ ok: false, code: "BAD_JSON" });
    expect(decodeInbound(MSGPACK_CODEC.encode({ t: "hb", ts: 1 }) as Uint8Array)).toEqual({ ok: true, value: { t: "hb", ts: 1 } });
    expect(decodeInbound(new Uint8Array([0x93, 0x01]))).toMatchObject({ ok: false, code: "BAD_MSGPACK" });
  });

  test("requests are validated with field paths and the id when it is readable", () => {
    expect(parseRequest({ op: "subscribe", id: 1, symbols: ["A"] })).toEqual({ ok: true, request: { op: "subscribe", id: 1, symbols: ["A"] } });
    expect(parseRequest({ op: "ping" })).toEqual({ ok: true, request: { op: "ping" } });
    expect(parseRequest({ op: "subscribe", id: 2, symbols: ["A", ""] })).toMatchObject({ ok: false, error: { field: "symbols[1]", id: 2 } });
    expect(parseRequest({ op: "subscribe", id: 3, underlyings: ["x".repeat(33)] })).toMatchObject({ ok: false, error: { field: "underlyings[0]" } });
    expect(parseRequest({ op: "unsubscribe", id: 4 })).toMatchObject({ ok: false, error: { field: "symbols", id: 4 } });
    expect(parseRequest({ op: "ping", id: 2 ** 32 })).toMatchObject({ ok: false, error: { field: "id" } });
    expect(parseRequest({ op: "ping", id: 5, symbol: "A" })).toMatchObject({ ok: false, error: { field: "symbol", id: 5 } });
    // A 64-bit MessagePack integer decodes as bigint and is refused rather than coerced.
    expect(parseRequest({ op: "ping", id: 5n })).toMatchObject({ ok: false, error: { field: "id" } });
    expect(parseRequest({ op: 7 })).toMatchObject({ ok: false, error: { field: "op" } });
    expect(parseRequest(null)).toMatchObject({ ok: false });
    expect(parseRequest("ping")).toMatchObject({ ok: false });
  });

  test("field paths read like the documentation", () => {
    expect(fieldPath(["symbols", 3])).toBe("symbols[3]");
    expect(fieldPath(["a", "b", 0, "c"])).toBe("a.b[0].c");
    expect(fieldPath([])).toBeUndefined();
  });
});
