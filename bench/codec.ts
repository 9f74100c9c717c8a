// Micro benchmark: encoding one quote frame as JSON text vs MessagePack binary with the
// server's own hot-path encoders (codec.encodeQuote), against the generic encoders
// (JSON.stringify, msgpackr with records off) as the baseline, and decoding as a client would.
// Rerun: npm run bench -- codec     (or: bun bench/codec.ts)

import { measure } from "mitata";
import { Unpackr } from "msgpackr";
import { JSON_CODEC, MSGPACK_CODEC, quoteFrame } from "../src/server/codec.ts";
import type { Quote } from "../src/engine/engine.ts";

/** One benchmark line. */
export interface CodecResult {
  name: string;
  nsP50: number;
  opsPerS: number;
  bytes: number;
}

const QUOTE: Quote = {
  symbol: "TSLA-20261127-P-400", seq: 184_223, bid: 12.35, bidSize: 23, ask: 12.5, askSize: 41, last: 12.4,
  lastSize: 3, volume: 18_250, vwap: 12.41837215, open: 11.9, high: 13.05, low: 11.62, prevClose: 12.01,
  volatility: 0.5871326611, exchangeTs: 1795276992102.5803, ingestTs: 1795276992102.6914, flags: 0,
};

/** Runs the codec benchmarks. */
export async function benchCodec(): Promise<CodecResult[]> {
  const frame = quoteFrame(QUOTE, false);
  const json = JSON_CODEC.encode(frame) as string;
  const packed = MSGPACK_CODEC.encode(frame) as Uint8Array;
  // The server's hand-written encoders must produce exactly what the generic ones do.
  if (JSON_CODEC.encodeQuote(QUOTE, false) !== json) throw new Error("JSON encodeQuote differs from JSON.stringify");
  if (Buffer.compare(MSGPACK_CODEC.encodeQuote(QUOTE, false) as Uint8Array, packed) !== 0) throw new Error("MessagePack encodeQuote differs from msgpackr");
  const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
  const lines: [string, () => unknown, number][] = [
    ["encode quote JSON.stringify", () => JSON_CODEC.encode(quoteFrame(QUOTE, false)), Buffer.byteLength(json)],
    ["encode quote JSON (server)", () => JSON_CODEC.encodeQuote(QUOTE, false), Buffer.byteLength(json)],
    ["encode quote msgpackr", () => MSGPACK_CODEC.encode(quoteFrame(QUOTE, false)), packed.byteLength],
    ["encode quote MessagePack (server)", () => MSGPACK_CODEC.encodeQuote(QUOTE, false), packed.byteLength],
    ["decode quote JSON", () => JSON.parse(json), Buffer.byteLength(json)],
    ["decode quote MessagePack", () => unpackr.unpack(packed), packed.byteLength],
  ];
  const out: CodecResult[] = [];
  for (const [name, fn, bytes] of lines) {
    const s = await measure(fn, { min_cpu_time: 500_000_000 });
    out.push({ name, nsP50: s.p50, opsPerS: 1e9 / s.p50, bytes });
  }
  return out;
}

if (import.meta.main) {
  for (const r of await benchCodec()) {
    console.log(`${r.name.padEnd(34)} ${(r.nsP50).toFixed(0).padStart(6)} ns  ${(r.opsPerS / 1e6).toFixed(2)} M/s  ${r.bytes} B`);
  }
}
