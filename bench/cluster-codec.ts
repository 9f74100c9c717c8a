// Which quote form the core publishes on NATS (docs/decisions.md, "Quotes on NATS"): the
// MessagePack quote frame or the JSON one. Measures per quote: the core's encode, the edge's
// decode back into a Quote, and the bytes on the bus. Run: bun bench/cluster-codec.ts

import type { Quote } from "../src/domain/quote.ts";
import { quoteJson, quoteMsgpack } from "../src/server/quote-codec.ts";
import { decodeQuoteMessage } from "../src/cluster/wire.ts";
import type { QuoteFrame } from "../src/client/protocol.ts";

const N = 200_000;
const quotes: Quote[] = Array.from({ length: 64 }, (_, i) => ({
  symbol: i % 2 ? `TSLA-20261127-C-${200 + i * 2.5}` : `SYM${i}`, seq: 1000 + i, bid: 250.12 + i, bidSize: 300, ask: 250.14 + i, askSize: 200,
  last: 250.13 + i, lastSize: 100, volume: 123400 + i, vwap: 249.87, open: 248.5, high: 252.1, low: 247.9, prevClose: 248.75,
  volatility: 0.4123, exchangeTs: 1795276467801 + i, ingestTs: 1795276467802.413 + i, flags: 0,
}));

function fromJson(text: string): Quote {
  const f = JSON.parse(text) as QuoteFrame;
  return { symbol: f.s, seq: f.seq, bid: f.b, bidSize: f.bs, ask: f.a, askSize: f.as, last: f.l, lastSize: f.ls, volume: f.v, vwap: f.vw,
    open: f.o, high: f.h, low: f.lo, prevClose: f.pc, volatility: f.vol, exchangeTs: f.ts, ingestTs: f.its, flags: f.f };
}

function time(what: string, fn: (i: number) => unknown): number {
  for (let i = 0; i < 20_000; i++) fn(i);
  const t0 = performance.now();
  let sink = 0;
  for (let i = 0; i < N; i++) sink += fn(i) ? 1 : 0;
  const us = ((performance.now() - t0) * 1000) / N;
  console.log(`${what.padEnd(34)} ${us.toFixed(2)} µs${sink < 0 ? "" : ""}`);
  return us;
}

const packed = quotes.map((q) => quoteMsgpack(q, false));
const texts = quotes.map((q) => quoteJson(q, false));
const bytes = (a: (string | Uint8Array)[]) => Math.round(a.reduce((s, x) => s + (typeof x === "string" ? Buffer.byteLength(x) : x.byteLength), 0) / a.length);
time("core: encode msgpack frame", (i) => quoteMsgpack(quotes[i & 63]!, false));
time("core: encode JSON frame", (i) => quoteJson(quotes[i & 63]!, false));
time("edge: decode msgpack frame", (i) => decodeQuoteMessage(packed[i & 63]!));
time("edge: decode JSON frame", (i) => fromJson(texts[i & 63]!));
time("edge: JSON text → Buffer (publish)", (i) => Buffer.from(texts[i & 63]!));
console.log(`bytes per quote: msgpack ${bytes(packed)}, JSON ${bytes(texts)}`);
