// The TWS socket framing, server side. A client opens with "API\0", a 4-byte big-endian length
// and a version range such as "v100..193"; after that every message, both ways, is a 4-byte
// big-endian length followed by ASCII fields, each ended by "\0". This file knows bytes and
// fields only; what the fields mean is in messages.ts.

/** The server version the simulator speaks; every field order in messages.ts is for it. */
export const SERVER_VERSION = 193;
/** The lowest client version a V100+ client may offer. */
export const MIN_CLIENT_VERSION = 100;
/** Largest inbound message accepted; TWS requests are a few hundred bytes, so this is generous. */
export const MAX_INBOUND_MESSAGE_BYTES = 1 << 20;

const HANDSHAKE_PREFIX = Buffer.from("API\0", "latin1");

/** A framing violation by the client; the connection is closed with this reason. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

/** Parses "v100..193" or "v100" into the highest version both sides support, or throws. */
export function negotiateVersion(offer: string): number {
  const m = /^v(\d+)(?:\.\.(\d+))?/.exec(offer);
  if (!m) throw new ProtocolError(`bad version offer ${JSON.stringify(offer.slice(0, 40))}`);
  const min = Number(m[1]), max = Number(m[2] ?? m[1]);
  if (min < MIN_CLIENT_VERSION || min > SERVER_VERSION || max < min) {
    throw new ProtocolError(`client versions v${min}..${max} do not include server version ${SERVER_VERSION}`);
  }
  return Math.min(max, SERVER_VERSION);
}

/**
 * Splits inbound bytes into the handshake offer and then messages (arrays of fields).
 * Bytes may arrive in any chunking; nothing is returned until a whole frame is present.
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  private handshakeDone = false;

  /** Adds bytes; returns the handshake offer (once) and every complete message, in order. */
  push(chunk: Buffer): { offer?: string; messages: string[][] } {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: { offer?: string; messages: string[][] } = { messages: [] };
    if (!this.handshakeDone) {
      if (this.buf.length < HANDSHAKE_PREFIX.length + 4) {
        if (!HANDSHAKE_PREFIX.subarray(0, this.buf.length).equals(this.buf.subarray(0, HANDSHAKE_PREFIX.length))) {
          throw new ProtocolError("connection does not start with API\\0");
        }
        return out;
      }
      if (!this.buf.subarray(0, 4).equals(HANDSHAKE_PREFIX)) throw new ProtocolError("connection does not start with API\\0");
      const n = this.buf.readUInt32BE(4);
      if (n > 256) throw new ProtocolError(`version offer of ${n} bytes`);
      if (this.buf.length < 8 + n) return out;
      out.offer = this.buf.toString("latin1", 8, 8 + n);
      this.buf = this.buf.subarray(8 + n);
      this.handshakeDone = true;
    }
    while (this.buf.length >= 4) {
      const n = this.buf.readUInt32BE(0);
      if (n > MAX_INBOUND_MESSAGE_BYTES) throw new ProtocolError(`message of ${n} bytes exceeds ${MAX_INBOUND_MESSAGE_BYTES}`);
      if (this.buf.length < 4 + n) break;
      const text = this.buf.toString("utf8", 4, 4 + n);
      this.buf = this.buf.subarray(4 + n);
      const fields = text.split("\0");
      // Every field is terminated, so a well-formed message ends with an empty piece.
      if (fields.pop() !== "") throw new ProtocolError("message does not end with a field terminator");
      out.messages.push(fields);
    }
    return out;
  }
}

/** A field as the wire carries it: numbers in JavaScript's shortest form, absent as empty. */
export type Field = string | number | boolean | undefined | null;

function text(f: Field): string {
  if (f === undefined || f === null) return "";
  if (typeof f === "boolean") return f ? "1" : "0";
  return typeof f === "number" ? String(f) : f;
}

/**
 * Accumulates outbound messages into one buffer, so a batch of ticks costs one socket write.
 * Fields are written as latin1 (TWS text is ASCII); a NUL inside a field is a bug and throws.
 */
export class OutBuffer {
  private buf: Buffer;
  private len = 0;
  private start = 0;
  /** Messages written since the last take(). */
  messages = 0;
  /** Messages written over the buffer's life, by message id (ids are below 128). */
  readonly countsById = new Float64Array(128);

  constructor(initialBytes = 64 * 1024, private readonly maxBytes = 64 * 1024 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes waiting to be taken. */
  get length(): number {
    return this.len;
  }

  /** Appends one framed message. */
  write(fields: readonly Field[]): void {
    this.begin(fields[0] as number);
    for (const f of fields) this.field(text(f));
    this.end();
  }

  /**
   * Starts a message field by field, without building an array: begin(id), field()/num() for
   * every field including the id, end(). The hot tick messages are written this way.
   */
  begin(id: number): void {
    // A message of a few dozen fields fits easily; reserve() grows for longer ones in field().
    this.reserve(256);
    this.start = this.len;
    this.len += 4;
    if (id >= 0 && id < 128) this.countsById[id]!++;
  }

  /** Appends one text field and its terminator. */
  field(p: string): void {
    this.reserve(p.length + 1);
    if (p.includes("\0")) throw new Error(`field contains NUL: ${JSON.stringify(p)}`);
    this.len += this.buf.write(p, this.len, "latin1");
    this.buf[this.len++] = 0;
  }

  /** Appends one number field in JavaScript's shortest form. */
  num(n: number): void {
    this.field(String(n));
  }

  /**
   * Appends one message given as its already terminated fields ("1\06\0…\0"), for hot messages
   * made of numbers only; one string and one copy per message.
   */
  terminated(id: number, body: string): void {
    this.reserve(4 + body.length);
    this.buf.writeUInt32BE(body.length, this.len);
    this.len += 4 + this.buf.write(body, this.len + 4, "latin1");
    this.messages++;
    if (id >= 0 && id < 128) this.countsById[id]!++;
  }

  /** Ends the message begun by begin(): writes its length prefix. */
  end(): void {
    this.buf.writeUInt32BE(this.len - this.start - 4, this.start);
    this.messages++;
  }

  /** Grows the buffer to hold `bytes` more, doubling, up to maxBytes. */
  private reserve(bytes: number): void {
    if (this.len + bytes <= this.buf.length) return;
    const need = this.len + bytes;
    if (need > this.maxBytes) throw new Error(`outbound buffer would exceed ${this.maxBytes} bytes`);
    const next = Buffer.allocUnsafe(Math.min(this.maxBytes, Math.max(need, this.buf.length * 2)));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** Returns a copy of the pending bytes and empties the buffer (the socket keeps what it is given). */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    this.messages = 0;
    return out;
  }
}

/** Frames one message on its own (tests and one-off replies). */
export function frame(fields: readonly Field[]): Buffer {
  const b = new OutBuffer(256);
  b.write(fields);
  return b.take();
}
