// Frame codecs: JSON text and MessagePack binary. The fan-out encodes each changed row once per
// codec and publishes the same bytes to every subscriber, so encode() is never called per client
// on the hot path.

import { Packr, Unpackr } from "msgpackr";
import type { Quote, QuoteFrame, ServerFrame, WireFormat } from "../client/protocol.ts";
import { quoteJson, quoteMsgpack } from "./quote-codec.ts";

/** Encoded frame: a string goes out as a text frame, bytes as a binary frame. */
export type Encoded = string | Uint8Array;

/** One wire format's encoder. */
export interface Codec {
  readonly format: WireFormat;
  /** Position in per-format arrays and counters. */
  readonly slot: number;
  /** Prefix of this format's pub/sub topics, so JSON and MessagePack subscribers never mix. */
  readonly topicPrefix: string;
  encode(frame: ServerFrame): Encoded;
  /** Same bytes as encode(quoteFrame(q, snap)), several times faster: the fan-out's hot path. */
  encodeQuote(q: Quote, snap: boolean): Encoded;
}

/** JSON text frames. Every value we emit is a finite number, string, boolean or null. */
export const JSON_CODEC: Codec = {
  format: "json",
  slot: 0,
  topicPrefix: "j:",
  encode: (frame) => JSON.stringify(frame),
  encodeQuote: quoteJson,
};

// Records (msgpackr's extension) are off so any MessagePack decoder reads our frames. Numbers
// that are not 32-bit integers (prices, epoch ms) are written as float64, never float32 and
// never as 64-bit integers, which other decoders would hand back as bigint.
const packr = new Packr({ useRecords: false, useFloat32: 0 });

/** MessagePack binary frames. */
export const MSGPACK_CODEC: Codec = {
  format: "msgpack",
  slot: 1,
  topicPrefix: "m:",
  // pack() returns a view into msgpackr's working buffer; slice() copies it so a cached or
  // queued frame owns its bytes and does not pin (or get overwritten in) that 8 KiB buffer.
  encode: (frame) => Uint8Array.prototype.slice.call(packr.pack(frame)),
  encodeQuote: quoteMsgpack,
};

/** Both codecs, indexed by slot. */
export const CODECS: readonly Codec[] = [JSON_CODEC, MSGPACK_CODEC];

/** The codec for a wire format name. */
export function codecFor(format: WireFormat): Codec {
  return format === "msgpack" ? MSGPACK_CODEC : JSON_CODEC;
}

/** Builds the compact quote frame from an engine quote. */
export function quoteFrame(q: Quote, snap: boolean): QuoteFrame {
  const f: QuoteFrame = {
    t: "q", s: q.symbol, seq: q.seq, b: q.bid, bs: q.bidSize, a: q.ask, as: q.askSize, l: q.last, ls: q.lastSize,
    v: q.volume, vw: q.vwap, o: q.open, h: q.high, lo: q.low, pc: q.prevClose, vol: q.volatility,
    ts: q.exchangeTs, its: q.ingestTs, f: q.flags,
  };
  if (snap) f.snap = true;
  return f;
}

/** Size of an encoded frame on the wire (payload bytes). */
export function encodedBytes(e: Encoded): number {
  return typeof e === "string" ? Buffer.byteLength(e) : e.byteLength;
}

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** Outcome of decoding an inbound frame: a value to validate, or why it could not be read. */
export type Decoded = { ok: true; value: unknown } | { ok: false; code: "BAD_JSON" | "BAD_MSGPACK"; message: string };

/** Decodes an inbound frame: text frames as JSON, binary frames as MessagePack, from any client. */
export function decodeInbound(message: string | Uint8Array): Decoded {
  if (typeof message === "string") {
    try {
      return { ok: true, value: JSON.parse(message) };
    } catch (e) {
      return { ok: false, code: "BAD_JSON", message: `text frame is not JSON: ${(e as Error).message}` };
    }
  }
  try {
    return { ok: true, value: unpackr.unpack(message) };
  } catch (e) {
    return { ok: false, code: "BAD_MSGPACK", message: `binary frame is not MessagePack: ${(e as Error).message}` };
  }
}
