// One load-generating client process for bench/e2e.ts, with the same command line and output as
// bench/e2e-client-fixture.ts, but over raw node:net sockets with hand-written WebSocket framing.
//
// Why: a WebSocket client library dispatches one event per message, ~3-4 µs each in Bun, so at
// 100 clients × 10 symbols the client processes saturated long before the server did. Like wrk,
// this client does the least work per message: each TCP `data` chunk is walked frame header by
// frame header in place, and for every quote frame the symbol, `seq`, `ts` and `its` are read
// straight from the bytes (no string, no object, no event per frame). Frames other than quotes
// (welcome, ack, hb, pong, error) are rare and are decoded in full.
//
// Budget: the target is ~1 M frames/s over two processes, so even with a whole core each a
// process has 2 µs of CPU per frame, and it shares the 2 cores with the server. Measured at 100 × 10 on the 2-core VM:
// ~1.6 µs per frame in all (Bun's WebSocket client: ~4 µs), a quarter of it in the kernel. Of
// the JavaScript time, reading frames is ~70 % and node:net's stream machinery ~20 %; the
// server writes ~10 frames per connection per batch, so per-chunk costs are shared by ~10.
//
// usage: bun bench/e2e-raw-client-fixture.ts <wsUrl> <connections> <symbols,comma,separated> <seconds> <json|msgpack> <samplesFile>
// Output: one JSON line { connections, messages, bytes, elapsedS, gaps, missed, samples, cpuPercent },
// and the latency samples (ingest-to-client, then exchange-to-client, f64 ms each) in <samplesFile>.

import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { Unpackr } from "msgpackr";
import { nowMs } from "../src/domain/time.ts";

/** Largest frame payload this client accepts; the server's biggest frame here (welcome, ack) is < 1 KiB. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Longest frame header the server sends: 2 bytes + a 64-bit length (servers never mask). */
const MAX_HEADER_BYTES = 10;
/** Most latency samples kept per process; reservoir sampling keeps them unbiased beyond that. */
const MAX_SAMPLES = 400_000;
/** Largest HTTP head accepted in the opening handshake. */
const MAX_HANDSHAKE_BYTES = 8 * 1024;
const SUBSCRIBE_TIMEOUT_MS = 30_000;
const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

// ---------------------------------------------------------------------------------------------
// Frame walking

/** Receives each complete frame; the payload is buf[start, end) and is valid only during the call. */
export interface FrameSink {
  frame(opcode: number, buf: Uint8Array, start: number, end: number): void;
}

/**
 * Size of the frame at buf[at] (header + payload), or -1 while its header is incomplete in
 * buf[at, end). Throws on what this server never sends: masked or oversized frames.
 */
export function frameSize(buf: Uint8Array, at: number, end: number, maxPayloadBytes: number): number {
  if (end - at < 2) return -1;
  const b1 = buf[at + 1]!;
  if (b1 & 0x80) throw new Error("server sent a masked frame");
  const len7 = b1 & 0x7f;
  let header = 2;
  let payload = len7;
  if (len7 === 126) {
    if (end - at < 4) return -1;
    header = 4;
    payload = (buf[at + 2]! << 8) | buf[at + 3]!;
  } else if (len7 === 127) {
    if (end - at < 10) return -1;
    header = 10;
    if (buf[at + 2]! | buf[at + 3]! | buf[at + 4]! | buf[at + 5]!) throw new Error("frame length of 2^32 bytes or more");
    payload = buf[at + 6]! * 0x1000000 + ((buf[at + 7]! << 16) | (buf[at + 8]! << 8) | buf[at + 9]!);
  }
  if (payload > maxPayloadBytes) throw new Error(`frame of ${payload} bytes exceeds the ${maxPayloadBytes}-byte bound`);
  return header + payload;
}

/**
 * Splits a stream of server frames, arriving in arbitrary chunks, into frames. Frames wholly
 * inside a chunk are handed over in place; only a frame split across chunks is copied, into a
 * carry buffer allocated once, so the steady state copies nothing.
 */
export class FrameWalker {
  private readonly carry: Uint8Array;
  private carryLen = 0;

  constructor(private readonly sink: FrameSink, private readonly maxPayloadBytes = MAX_FRAME_BYTES) {
    this.carry = new Uint8Array(maxPayloadBytes + MAX_HEADER_BYTES);
  }

  /** Walks one chunk; a trailing partial frame is kept for the next chunk. */
  push(chunk: Uint8Array): void {
    let pos = this.carryLen > 0 ? this.completeCarry(chunk) : 0;
    if (this.carryLen > 0) return;
    const n = chunk.length;
    // Bounded: every iteration consumes a whole frame of at least 2 bytes, or returns.
    while (pos < n) {
      const total = frameSize(chunk, pos, n, this.maxPayloadBytes);
      if (total < 0 || pos + total > n) {
        this.carry.set(chunk.subarray(pos, n), 0);
        this.carryLen = n - pos;
        return;
      }
      this.emit(chunk, pos, total);
      pos += total;
    }
  }

  /** Moves bytes from `chunk` into the carried partial frame; returns how many it took. */
  private completeCarry(chunk: Uint8Array): number {
    let pos = 0;
    let total = frameSize(this.carry, 0, this.carryLen, this.maxPayloadBytes);
    // Bounded by MAX_HEADER_BYTES: frameSize answers once the carry holds a whole header.
    while (total < 0 && pos < chunk.length) {
      this.carry[this.carryLen++] = chunk[pos++]!;
      total = frameSize(this.carry, 0, this.carryLen, this.maxPayloadBytes);
    }
    if (total < 0) return pos;
    const take = Math.min(total - this.carryLen, chunk.length - pos);
    this.carry.set(chunk.subarray(pos, pos + take), this.carryLen);
    this.carryLen += take;
    pos += take;
    if (this.carryLen === total) {
      this.carryLen = 0;
      this.emit(this.carry, 0, total);
    }
    return pos;
  }

  private emit(buf: Uint8Array, at: number, total: number): void {
    const b0 = buf[at]!;
    const len7 = buf[at + 1]! & 0x7f;
    const header = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
    // The server neither fragments messages nor negotiates extensions (RSV bits).
    if ((b0 & 0xf0) !== 0x80 || (b0 & 0x0f) === 0) throw new Error(`unexpected frame header byte 0x${b0.toString(16)}`);
    this.sink.frame(b0 & 0x0f, buf, at + header, at + total);
  }
}

/** A client frame with FIN set, masked with `mask` as RFC 6455 requires of every client frame. */
export function maskedFrame(opcode: number, payload: Uint8Array, mask: Uint8Array): Uint8Array {
  const n = payload.length;
  if (n >= 65536) throw new Error(`client frame of ${n} bytes: this client only sends small frames`);
  const header = n < 126 ? 2 : 4;
  const out = new Uint8Array(header + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else out.set([0x80 | 126, n >> 8, n & 0xff], 1);
  out.set(mask.subarray(0, 4), header);
  for (let i = 0; i < n; i++) out[header + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Quote frame scanning. Written for the JIT: plain loops over bytes, no per-byte calls, no
// strings, nothing allocated.

/** What the load client reads from a quote frame; the parsers fill one in place per frame. */
export interface QuoteScan {
  /** The symbol's bytes are buf[symAt, symAt + symLen): JSON string content, or UTF-8. */
  symAt: number;
  symLen: number;
  seq: number;
  /** Exchange stamp, epoch ms. */
  ts: number;
  /** Ingest stamp, epoch ms. */
  its: number;
  snap: boolean;
}

/** A fresh QuoteScan to be reused for every frame. */
export function newQuoteScan(): QuoteScan {
  return { symAt: 0, symLen: 0, seq: 0, ts: 0, its: 0, snap: false };
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const JSON_QUOTE_HEAD = ascii('{"t":"q","s":"');
const JSON_SEQ_KEY = ascii(',"seq":');
const JSON_TS_KEY = ascii(',"ts"');
const JSON_ITS_KEY = ascii(',"its"');
const JSON_F_KEY = ascii(',"f"');
const JSON_SNAP_TAIL = ascii(',"snap":true}');
const JSON_NULL = ascii("null");
/** Longest number text in a quote frame is ~24 characters ("-1.2345678901234567e-300"). */
const MAX_NUMBER_CHARS = 32;
const POW10 = Float64Array.from({ length: 16 }, (_, i) => 10 ** i);

function bytesAt(buf: Uint8Array, at: number, want: Uint8Array): boolean {
  for (let i = 0; i < want.length; i++) if (buf[at + i] !== want[i]) return false;
  return true;
}

function malformed(what: string): never {
  throw new Error(`malformed quote frame: ${what}`);
}

/**
 * Number value of JSON number text buf[from, to). Up to 15 significant digits the result is
 * exactly Number(text); a longer fixed-point number (an `its` stamp has ~17) is integer part plus
 * fraction, within one unit in the last place, far below a latency sample's resolution. Exponent
 * forms, rare here, fall back to Number() on a string. `null` reads as NaN.
 */
export function parseJsonNumber(buf: Uint8Array, from: number, to: number): number {
  if (buf[from] === 0x6e) return to - from === 4 && bytesAt(buf, from, JSON_NULL) ? NaN : slowNumber(buf, from, to);
  const negative = buf[from] === 0x2d;
  let i = negative ? from + 1 : from;
  const wholeAt = i;
  let whole = 0;
  let c = i < to ? buf[i]! : 0;
  while (c >= 0x30 && c <= 0x39) {
    whole = whole * 10 + (c - 0x30);
    c = ++i < to ? buf[i]! : 0;
  }
  const wholeDigits = i - wholeAt;
  let frac = 0;
  let fracDigits = 0;
  if (c === 0x2e) {
    const fracAt = ++i;
    c = i < to ? buf[i]! : 0;
    while (c >= 0x30 && c <= 0x39) {
      frac = frac * 10 + (c - 0x30);
      c = ++i < to ? buf[i]! : 0;
    }
    fracDigits = i - fracAt;
    if (fracDigits === 0) return slowNumber(buf, from, to);
  }
  if (i !== to || wholeDigits === 0 || wholeDigits > 15 || fracDigits > 15) return slowNumber(buf, from, to);
  // Both parts are exact integers below 2^53, so one division (or one division and one sum) rounds.
  const v = wholeDigits + fracDigits <= 15 ? (whole * POW10[fracDigits]! + frac) / POW10[fracDigits]! : whole + frac / POW10[fracDigits]!;
  return negative ? -v : v;
}

/** Number() of the text, for the rare forms the fast path leaves out; rejects what is not a JSON number. */
function slowNumber(buf: Uint8Array, from: number, to: number): number {
  if (to - from > MAX_NUMBER_CHARS) malformed("number too long");
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(buf[i]!);
  if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(s)) malformed(`bad number ${JSON.stringify(s)}`);
  return Number(s);
}

/** Start of the value whose text ends at `valueEnd`, checking that `key` (`,"name"`) and `:` precede it. */
function jsonValueStart(buf: Uint8Array, valueEnd: number, key: Uint8Array, lo: number): number {
  let colon = valueEnd - 1;
  const stop = Math.max(lo, valueEnd - MAX_NUMBER_CHARS);
  while (colon > stop && buf[colon] !== 0x3a) colon--;
  if (buf[colon] !== 0x3a || colon - key.length < lo || !bytesAt(buf, colon - key.length, key)) {
    malformed(`no ${String.fromCharCode(...key)} before offset ${valueEnd - lo}`);
  }
  return colon + 1;
}

/**
 * Reads a JSON quote frame in buf[start, end) into `out`; false if the frame is not a quote.
 * Relies on the layout quoteJson() writes: `{"t":"q","s":"SYM","seq":N,` first and
 * `,"ts":X,"its":Y,"f":F}` (or `…,"f":F,"snap":true}`) last. A frame that starts like a quote
 * but breaks that layout throws: it is a server bug, and guessing would corrupt the measurement.
 */
export function scanJsonQuote(buf: Uint8Array, start: number, end: number, out: QuoteScan): boolean {
  if (end - start < JSON_QUOTE_HEAD.length || !bytesAt(buf, start, JSON_QUOTE_HEAD)) return false;
  let i = start + JSON_QUOTE_HEAD.length;
  out.symAt = i;
  // A backslash escapes the next byte, so an escaped quote does not end the symbol.
  while (i < end && buf[i] !== 0x22) i += buf[i] === 0x5c ? 2 : 1;
  if (i >= end) malformed("unterminated symbol");
  out.symLen = i - out.symAt;
  i++;
  if (!bytesAt(buf, i, JSON_SEQ_KEY)) malformed("no seq after the symbol");
  i += JSON_SEQ_KEY.length;
  const seqAt = i;
  let seq = 0;
  let c = i < end ? buf[i]! : 0;
  while (c >= 0x30 && c <= 0x39) {
    seq = seq * 10 + (c - 0x30);
    c = ++i < end ? buf[i]! : 0;
  }
  if (i === seqAt || i - seqAt > 15 || c !== 0x2c) malformed("seq is not an integer");
  out.seq = seq;
  if (buf[end - 1] !== 0x7d) malformed("no closing brace");
  out.snap = end - i > JSON_SNAP_TAIL.length && bytesAt(buf, end - JSON_SNAP_TAIL.length, JSON_SNAP_TAIL);
  const fEnd = out.snap ? end - JSON_SNAP_TAIL.length : end - 1;
  const itsEnd = jsonValueStart(buf, fEnd, JSON_F_KEY, i) - 1 - JSON_F_KEY.length;
  const itsAt = jsonValueStart(buf, itsEnd, JSON_ITS_KEY, i);
  const tsEnd = itsAt - 1 - JSON_ITS_KEY.length;
  const tsAt = jsonValueStart(buf, tsEnd, JSON_TS_KEY, i);
  out.its = parseJsonNumber(buf, itsAt, itsEnd);
  out.ts = parseJsonNumber(buf, tsAt, tsEnd);
  return true;
}

// MessagePack f64 values are big-endian; they are reassembled through this little scratch array.
const F64_BYTES = new Uint8Array(8);
const F64 = new Float64Array(F64_BYTES.buffer);
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error("this client assumes a little-endian host");

/** Bytes taken by a MessagePack value by its type byte, for the types a quote frame uses; 0 for any other. */
const MP_WIDTH = Uint8Array.from({ length: 256 }, (_, t) =>
  t < 0x80 || t === 0xc0 ? 1 : t === 0xcb ? 9 : t === 0xcc ? 2 : t === 0xcd ? 3 : t === 0xce ? 5 : 0);

/** Numeric value at buf[i], whose type byte MP_WIDTH accepted (nil reads as NaN). */
function mpNumber(buf: Uint8Array, i: number): number {
  const t = buf[i]!;
  if (t < 0x80) return t;
  if (t === 0xcb) {
    for (let k = 0; k < 8; k++) F64_BYTES[7 - k] = buf[i + 1 + k]!;
    return F64[0]!;
  }
  if (t === 0xcc) return buf[i + 1]!;
  if (t === 0xcd) return (buf[i + 1]! << 8) | buf[i + 2]!;
  if (t === 0xce) return buf[i + 1]! * 0x1000000 + ((buf[i + 2]! << 16) | (buf[i + 3]! << 8) | buf[i + 4]!);
  return NaN;
}

/** fixstr header bytes of the keys after "s", in the order quoteMsgpack() writes them. */
const MP_KEY_HEADERS = Uint8Array.from(
  ["seq", "b", "bs", "a", "as", "l", "ls", "v", "vw", "o", "h", "lo", "pc", "vol", "ts", "its", "f"], (k) => 0xa0 | k.length);
const MP_SEQ_KEY = ascii("\xa3seq");
const MP_TS_KEY = ascii("\xa2ts");
const MP_ITS_KEY = ascii("\xa3its");
const MP_SNAP = ascii("\xa4snap\xc3");
/** Positions in MP_KEY_HEADERS of the keys read, rather than skipped. */
const MP_TS = 14;
const MP_ITS = 15;

/** Index just past the value at buf[i], or a throw if it is not a quote-frame number or runs past `end`. */
function mpSkip(buf: Uint8Array, i: number, end: number): number {
  const width = MP_WIDTH[buf[i]!]!;
  if (width === 0 || i + width > end) malformed(`value at ${i}`);
  return i + width;
}

/**
 * Reads a MessagePack quote frame in buf[start, end) into `out`; false if the frame is not a
 * quote. Walks the map16 in the fixed key order quoteMsgpack() writes (t, s, seq, …, ts, its, f,
 * then snap on snapshots), checking every key's fixstr header and the keys it reads in full. A
 * frame that starts like a quote but breaks that layout throws, as for JSON.
 */
export function scanMsgpackQuote(buf: Uint8Array, start: number, end: number, out: QuoteScan): boolean {
  if (end - start < 10 || buf[start] !== 0xde || buf[start + 3] !== 0xa1 || buf[start + 4] !== 0x74 ||
    buf[start + 5] !== 0xa1 || buf[start + 6] !== 0x71) return false;
  const count = (buf[start + 1]! << 8) | buf[start + 2]!;
  if ((count !== 19 && count !== 20) || buf[start + 7] !== 0xa1 || buf[start + 8] !== 0x73) malformed("map header or key s");
  let i = start + 9;
  const h = buf[i]!;
  let symLen: number;
  if ((h & 0xe0) === 0xa0) { symLen = h & 0x1f; i += 1; }
  else if (h === 0xd9) { symLen = buf[i + 1]!; i += 2; }
  else return malformed("symbol is not a short string");
  out.symAt = i;
  out.symLen = symLen;
  i += symLen;
  if (i + MP_SEQ_KEY.length >= end || !bytesAt(buf, i, MP_SEQ_KEY)) malformed("key seq");
  i += MP_SEQ_KEY.length;
  out.seq = mpNumber(buf, i);
  i = mpSkip(buf, i, end);
  for (let k = 1; k < MP_TS; k++) {
    const key = MP_KEY_HEADERS[k]!;
    if (buf[i] !== key) malformed(`key ${k + 2}`);
    i = mpSkip(buf, i + 1 + (key & 0x1f), end);
  }
  if (i + MP_TS_KEY.length >= end || !bytesAt(buf, i, MP_TS_KEY)) malformed("key ts");
  i += MP_TS_KEY.length;
  out.ts = mpNumber(buf, i);
  i = mpSkip(buf, i, end);
  if (i + MP_ITS_KEY.length >= end || !bytesAt(buf, i, MP_ITS_KEY)) malformed("key its");
  i += MP_ITS_KEY.length;
  out.its = mpNumber(buf, i);
  i = mpSkip(buf, i, end);
  if (buf[i] !== MP_KEY_HEADERS[MP_ITS + 1] || buf[i + 1] !== 0x66) malformed("key f");
  i = mpSkip(buf, i + 2, end);
  out.snap = count === 20;
  if (out.snap ? end - i !== MP_SNAP.length || !bytesAt(buf, i, MP_SNAP) : i !== end) malformed("snap or trailing bytes");
  return true;
}

/**
 * The subscribed symbols as they appear in frames (JSON string content or UTF-8 bytes), found
 * by a 32-bit FNV-1a hash of the bytes, then confirmed byte for byte; open addressing in a table
 * of at least 4 × the symbol count, so probes are short and bounded by the table size.
 */
export class SymbolTable {
  private readonly slots: Int32Array;
  private readonly keys: Uint8Array[];

  constructor(readonly symbols: readonly string[], format: "json" | "msgpack") {
    const enc = new TextEncoder();
    this.keys = symbols.map((s) => enc.encode(format === "json" ? JSON.stringify(s).slice(1, -1) : s));
    let size = 8;
    while (size < symbols.length * 4) size *= 2;
    this.slots = new Int32Array(size).fill(-1);
    this.keys.forEach((k, index) => {
      if (this.slotOf(k, 0, k.length) >= 0) throw new Error(`duplicate symbol ${symbols[index]}`);
      let at = fnv1a(k, 0, k.length) & (size - 1);
      while (this.slots[at] !== -1) at = (at + 1) & (size - 1);
      this.slots[at] = index;
    });
  }

  /** Index in `symbols` of the symbol whose bytes are buf[at, at + len), or -1. */
  slotOf(buf: Uint8Array, at: number, len: number): number {
    const mask = this.slots.length - 1;
    let h = fnv1a(buf, at, len) & mask;
    for (let probe = 0; probe <= mask; probe++, h = (h + 1) & mask) {
      const index = this.slots[h]!;
      if (index < 0) return -1;
      const key = this.keys[index]!;
      if (key.length === len && bytesAt(buf, at, key)) return index;
    }
    return -1;
  }
}

function fnv1a(buf: Uint8Array, at: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = at; i < at + len; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// The load client

/** Counters and the latency reservoir shared by every connection of this process. */
class Tally {
  messages = 0;
  bytes = 0;
  gaps = 0;
  missed = 0;
  seen = 0;
  samples = 0;
  measuring = false;
  /** Receipt time of the chunk being walked: one clock read per chunk, not per frame. */
  receivedMs = 0;
  readonly ingestMs = new Float64Array(MAX_SAMPLES);
  readonly exchangeMs = new Float64Array(MAX_SAMPLES);

  record(q: QuoteScan, size: number): void {
    this.messages++;
    this.bytes += size;
    // Reservoir sampling keeps the latency sample unbiased over the whole run within a fixed bound.
    this.seen++;
    const slot = this.samples < MAX_SAMPLES ? this.samples++ : Math.floor(Math.random() * this.seen);
    if (slot < MAX_SAMPLES) {
      this.ingestMs[slot] = this.receivedMs - q.its;
      this.exchangeMs[slot] = this.receivedMs - q.ts;
    }
  }
}

/** Callbacks from a connection to the process. */
interface ConnectionEvents {
  acked(symbols: string[]): void;
  failed(error: Error): void;
}

/** One raw WebSocket connection: handshake, subscribe, then frames walked as they arrive. */
class Connection implements FrameSink {
  private readonly walker = new FrameWalker(this);
  private readonly scan = newQuoteScan();
  /** Last seq per symbol slot; -1 until the first frame. */
  private readonly lastSeq: Float64Array;
  private readonly accept: string;
  private readonly key = randomBytes(16).toString("base64");
  private head: Uint8Array | null = new Uint8Array(MAX_HANDSHAKE_BYTES);
  private headLen = 0;
  private readonly unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
  private readonly text = new TextDecoder();
  /** Set once we started the close ourselves, so the server's close is expected. */
  closing = false;

  constructor(private readonly socket: Socket, url: URL, private readonly table: SymbolTable,
    private readonly tally: Tally, private readonly events: ConnectionEvents) {
    this.lastSeq = new Float64Array(table.symbols.length).fill(-1);
    this.accept = createHash("sha1").update(this.key + WS_GUID).digest("base64");
    socket.setNoDelay(true);
    socket.on("connect", () => socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
      `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
    socket.on("data", (chunk: Uint8Array) => this.onData(chunk));
    // After our own close, a reset or an early end is part of shutting down, not a failure.
    socket.on("error", (e: Error) => { if (!this.closing) events.failed(e); });
    socket.on("close", () => { if (!this.closing) events.failed(new Error("connection dropped without a close frame")); });
  }

  /** Starts a normal close (1000); the server answers with its own close frame. */
  close(): void {
    this.closing = true;
    if (!this.socket.destroyed) this.send(OP_CLOSE, Uint8Array.of(0x03, 0xe8));
  }

  private onData(chunk: Uint8Array): void {
    this.tally.receivedMs = nowMs();
    if (this.head === null) return this.walker.push(chunk);
    this.handshake(chunk);
  }

  private handshake(chunk: Uint8Array): void {
    const head = this.head!;
    if (this.headLen + chunk.length > head.length) return this.events.failed(new Error("handshake reply over 8 KiB"));
    head.set(chunk, this.headLen);
    this.headLen += chunk.length;
    const text = Buffer.from(head.buffer, 0, this.headLen).toString("latin1");
    const end = text.indexOf("\r\n\r\n");
    if (end < 0) return;
    const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(text.slice(0, end))?.[1];
    if (!text.startsWith("HTTP/1.1 101") || accept !== this.accept) {
      return this.events.failed(new Error(`handshake refused: ${text.slice(0, 300)}`));
    }
    this.head = null;
    const subscribe = { op: "subscribe", id: 1, symbols: this.table.symbols };
    this.send(OP_TEXT, new TextEncoder().encode(JSON.stringify(subscribe)));
    if (this.headLen > end + 4) this.walker.push(head.slice(end + 4, this.headLen));
  }

  private send(opcode: number, payload: Uint8Array): void {
    this.socket.write(maskedFrame(opcode, payload, randomBytes(4)));
  }

  frame(opcode: number, buf: Uint8Array, start: number, end: number): void {
    if (opcode === OP_TEXT || opcode === OP_BINARY) {
      const quote = opcode === OP_TEXT ? scanJsonQuote(buf, start, end, this.scan) : scanMsgpackQuote(buf, start, end, this.scan);
      if (quote) return this.quote(buf, end - start);
      const frame = (opcode === OP_TEXT ? JSON.parse(this.text.decode(buf.subarray(start, end)))
        : this.unpackr.unpack(buf.slice(start, end))) as { t: string; symbols?: string[] };
      if (frame.t === "ack") this.events.acked(frame.symbols ?? []);
      if (frame.t === "error") this.events.failed(new Error(`server error frame: ${JSON.stringify(frame)}`));
    } else if (opcode === OP_PING) {
      this.send(OP_PONG, buf.slice(start, end));
    } else if (opcode === OP_CLOSE) {
      const code = end - start >= 2 ? (buf[start]! << 8) | buf[start + 1]! : 1005;
      if (!this.closing) {
        this.closing = true;
        this.events.failed(new Error(`server closed the connection: ${code} ${this.text.decode(buf.subarray(start + 2, end))}`));
      }
      this.socket.end();
    } else if (opcode !== OP_PONG) {
      throw new Error(`unexpected opcode ${opcode}`);
    }
  }

  private quote(buf: Uint8Array, size: number): void {
    const q = this.scan;
    const slot = this.table.slotOf(buf, q.symAt, q.symLen);
    if (slot < 0) throw new Error(`quote for a symbol not subscribed: ${this.text.decode(buf.subarray(q.symAt, q.symAt + q.symLen))}`);
    const prev = this.lastSeq[slot]!;
    if (prev >= 0 && !q.snap && q.seq !== prev + 1) {
      this.tally.gaps++;
      this.tally.missed += q.seq - prev - 1;
    }
    this.lastSeq[slot] = q.seq;
    if (this.tally.measuring && !q.snap) this.tally.record(q, size);
  }
}

async function main(): Promise<void> {
  const [wsUrl, connArg, symArg, secondsArg, format = "json", samplesFile] = process.argv.slice(2);
  const connections = Number(connArg);
  const symbols = symArg!.split(",");
  const seconds = Number(secondsArg);
  if (format !== "json" && format !== "msgpack") throw new Error(`format must be json or msgpack, not ${format}`);
  if (!(connections > 0 && seconds > 0)) throw new Error("connections and seconds must be positive");
  const url = new URL(`${wsUrl}?format=${format}`);
  const table = new SymbolTable(symbols, format);
  const tally = new Tally();
  const want = [...symbols].sort().join(",");
  const subscribed = Promise.withResolvers<void>();
  let acked = 0;
  let ready = false;
  const events: ConnectionEvents = {
    acked(got) {
      if ([...got].sort().join(",") !== want) return this.failed(new Error(`ack for ${got.join(",")}, asked for ${want}`));
      if (++acked === connections) subscribed.resolve();
    },
    failed(error) {
      if (!ready) return subscribed.reject(error);
      // Once measuring, a lost connection makes the numbers meaningless: stop loudly.
      console.error(`raw client: ${error.message}`);
      process.exit(1);
    },
  };
  const conns: Connection[] = [];
  for (let c = 0; c < connections; c++) {
    conns.push(new Connection(connect({ host: url.hostname, port: Number(url.port) }), url, table, tally, events));
  }
  const timeout = setTimeout(() => subscribed.reject(new Error(`subscriptions not acknowledged within ${SUBSCRIBE_TIMEOUT_MS} ms`)), SUBSCRIBE_TIMEOUT_MS);
  await subscribed.promise;
  clearTimeout(timeout);
  ready = true;
  const started = nowMs();
  const cpuStart = process.cpuUsage();
  tally.measuring = true;
  await Bun.sleep(seconds * 1000); // the measurement window itself, not a wait for a condition
  tally.measuring = false;
  const elapsedS = (nowMs() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const cpuPercent = ((cpu.user + cpu.system) / 1e6 / elapsedS) * 100;
  for (const c of conns) c.close();

  const { messages, bytes, gaps, missed, samples } = tally;
  if (samplesFile) {
    const out = new Float64Array(samples * 2);
    out.set(tally.ingestMs.subarray(0, samples), 0);
    out.set(tally.exchangeMs.subarray(0, samples), samples);
    await Bun.write(samplesFile, out);
  }
  console.log(JSON.stringify({ connections, messages, bytes, elapsedS, gaps, missed, samples, cpuPercent }));
  process.exit(0);
}

if (import.meta.main) await main();
