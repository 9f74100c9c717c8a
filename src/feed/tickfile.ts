// Tick files: a readable CSV format and a compact binary format (.altk), both described byte
// by byte in docs/tick-files.md. Readers and writers stream through fixed-size buffers, so a
// replay never holds a whole file in memory and a recording never waits on one write per tick.
// Files are an edge of the system: anything wrong in them is a TickFileError with a code.

import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { type InstrumentSpec, parseOptionSymbol, SYMBOL_PATTERN } from "../domain/instrument.ts";
import { TICK_KIND_NAMES } from "../domain/tick.ts";

/** The two tick file formats. */
export type TickFileFormat = "csv" | "altk";

/** First 8 bytes of a binary tick file: "ALTK", CR LF, SUB, LF (catches text-mode mangling, like PNG's). */
export const ALTK_MAGIC = new Uint8Array([0x41, 0x4c, 0x54, 0x4b, 0x0d, 0x0a, 0x1a, 0x0a]);
/** The binary format version this code reads and writes. */
export const ALTK_VERSION = 1;
/** Bytes per binary record. */
export const ALTK_RECORD_BYTES = 32;
/** The CSV header line. */
export const CSV_HEADER = "ts_ms,symbol,kind,price,size";
/** Prefix of a CSV line declaring an instrument. */
export const CSV_INSTRUMENT_PREFIX = "# instrument ";
/** Largest instrument table a file may declare: bounds the header and the symbol scan. */
export const MAX_FILE_INSTRUMENTS = 1_000_000;
const MAX_HEADER_BYTES = 256 << 20;
const WRITE_BUFFER_BYTES = 256 << 10;
const READ_CHUNK_BYTES = 1 << 20;

/** What is wrong with a tick file: a code, a message naming the file and where. */
export class TickFileError extends Error {
  constructor(readonly code: "bad_magic" | "bad_version" | "bad_header" | "bad_row" | "truncated" | "bad_format", readonly path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.name = "TickFileError";
  }
}

/** A block of ticks in columns, reused between reads so that reading allocates nothing per tick. */
export class TickBatch {
  /** Exchange time, epoch ms. */
  readonly tsMs: Float64Array;
  /** Price as written, not rounded. */
  readonly price: Float64Array;
  /** Size as written. */
  readonly size: Float64Array;
  /** Instrument number in the file: an index into the reader's instruments. */
  readonly instrument: Uint32Array;
  /** TickKind code. */
  readonly kind: Uint32Array;
  /** Ticks currently held. */
  length = 0;

  constructor(readonly capacity = 4096) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new Error("batch capacity must be a positive integer");
    this.tsMs = new Float64Array(capacity); this.price = new Float64Array(capacity); this.size = new Float64Array(capacity);
    this.instrument = new Uint32Array(capacity); this.kind = new Uint32Array(capacity);
  }
}

/** Streams ticks out of a file. */
export interface TickReader {
  readonly path: string;
  readonly format: TickFileFormat;
  /** The file's instruments; record instrument numbers index this list. */
  readonly instruments: InstrumentSpec[];
  /** Fills `batch` from the start with up to its capacity; returns the count, 0 at the end. */
  read(batch: TickBatch): number;
  close(): void;
}

/** Streams ticks into a file. */
export interface TickWriter {
  readonly path: string;
  readonly format: TickFileFormat;
  /** Records written so far (buffered or not). */
  readonly records: number;
  /** Appends one tick; `instrument` indexes the instruments the writer was created with. */
  write(instrument: number, kind: number, price: number, size: number, tsMs: number): void;
  /** Hands buffered records to the operating system. */
  flush(): void;
  /** Flushes and closes; further writes throw. */
  close(): void;
}

/** The format a path names by its extension (.csv or .altk). */
export function formatOfPath(path: string): TickFileFormat {
  if (/\.csv$/i.test(path)) return "csv";
  if (/\.altk$/i.test(path)) return "altk";
  throw new TickFileError("bad_format", path, "tick files must end in .csv or .altk");
}

/** The format of an existing file: binary when it starts with the magic, CSV otherwise. */
export function detectFormat(path: string): TickFileFormat {
  const fd = openSync(path, "r");
  try {
    const head = new Uint8Array(ALTK_MAGIC.length);
    const n = readSync(fd, head, 0, head.length, 0);
    return n === head.length && head.every((b, i) => b === ALTK_MAGIC[i]) ? "altk" : "csv";
  } finally {
    closeSync(fd);
  }
}

/** The spec a bare symbol implies: an option when it parses as one (multiplier 100), else a stock; tick 0.01, USD. */
export function specForSymbol(symbol: string): InstrumentSpec {
  const o = parseOptionSymbol(symbol);
  return o
    ? { symbol, kind: "option", tickSize: 0.01, multiplier: 100, currency: "USD", ...o }
    : { symbol, kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" };
}

/** Creates a writer; the format comes from the extension unless given. Truncates an existing file. */
export function createTickWriter(path: string, instruments: readonly InstrumentSpec[], format = formatOfPath(path)): TickWriter {
  const specs = checkSpecs(instruments, path);
  return format === "csv" ? new CsvWriter(path, specs) : new AltkWriter(path, specs);
}

/** Opens a reader; the format is detected from the content unless given. */
export function openTickReader(path: string, format: TickFileFormat = detectFormat(path)): TickReader {
  return format === "csv" ? new CsvReader(path) : new AltkReader(path);
}

function checkSpecs(list: unknown, path: string): InstrumentSpec[] {
  if (!Array.isArray(list)) throw new TickFileError("bad_header", path, "instruments must be an array");
  if (list.length > MAX_FILE_INSTRUMENTS) throw new TickFileError("bad_header", path, `more than ${MAX_FILE_INSTRUMENTS} instruments`);
  const seen = new Set<string>();
  return list.map((s: unknown, i) => {
    const spec = s as InstrumentSpec;
    const bad = (field: string) => new TickFileError("bad_header", path, `instrument ${i}: ${field} is missing or invalid`);
    if (typeof s !== "object" || s === null) throw bad("the entry");
    if (typeof spec.symbol !== "string" || !SYMBOL_PATTERN.test(spec.symbol)) throw bad("symbol");
    if (seen.has(spec.symbol)) throw new TickFileError("bad_header", path, `instrument ${i}: duplicate symbol ${spec.symbol}`);
    seen.add(spec.symbol);
    if (spec.kind !== "stock" && spec.kind !== "option") throw bad("kind");
    if (!(Number.isFinite(spec.tickSize) && spec.tickSize > 0)) throw bad("tickSize");
    if (!(Number.isFinite(spec.multiplier) && spec.multiplier > 0)) throw bad("multiplier");
    if (typeof spec.currency !== "string") throw bad("currency");
    return spec;
  });
}

// ---------------------------------------------------------------- binary

class AltkWriter implements TickWriter {
  readonly format = "altk";
  records = 0;
  private fd: number | null;
  private readonly buf = new Uint8Array(WRITE_BUFFER_BYTES);
  private readonly view = new DataView(this.buf.buffer);
  private used = 0;

  constructor(readonly path: string, private readonly specs: InstrumentSpec[]) {
    const json = new TextEncoder().encode(JSON.stringify({ instruments: specs }));
    const header = new Uint8Array(align8(16 + json.length));
    header.set(ALTK_MAGIC, 0);
    const dv = new DataView(header.buffer);
    dv.setUint32(8, ALTK_VERSION, true);
    dv.setUint32(12, json.length, true);
    header.set(json, 16);
    this.fd = openSync(path, "w");
    writeAll(this.fd, header, header.length);
  }

  write(instrument: number, kind: number, price: number, size: number, tsMs: number): void {
    if (this.fd === null) throw new Error(`${this.path}: write after close`);
    if (!(instrument >= 0 && instrument < this.specs.length)) throw new Error(`${this.path}: instrument number ${instrument} is not in the file's table`);
    if (this.used === this.buf.length) this.flush();
    const v = this.view, at = this.used;
    v.setFloat64(at, tsMs, true);
    v.setFloat64(at + 8, price, true);
    v.setFloat64(at + 16, size, true);
    v.setUint32(at + 24, instrument, true);
    v.setUint32(at + 28, kind, true);
    this.used += ALTK_RECORD_BYTES;
    this.records++;
  }

  flush(): void {
    if (this.fd === null || this.used === 0) return;
    writeAll(this.fd, this.buf, this.used);
    this.used = 0;
  }

  close(): void {
    if (this.fd === null) return;
    this.flush();
    closeSync(this.fd);
    this.fd = null;
  }
}

class AltkReader implements TickReader {
  readonly format = "altk";
  readonly instruments: InstrumentSpec[];
  private fd: number | null;
  private pos: number;
  private readonly end: number;
  private chunk = new Uint8Array(0);

  constructor(readonly path: string) {
    this.fd = openSync(path, "r");
    try {
      const size = fstatSync(this.fd).size;
      const head = new Uint8Array(16);
      if (readSync(this.fd, head, 0, 16, 0) < 16 || !ALTK_MAGIC.every((b, i) => head[i] === b)) {
        throw new TickFileError("bad_magic", path, "not a binary tick file (bad magic)");
      }
      const dv = new DataView(head.buffer);
      const version = dv.getUint32(8, true);
      if (version !== ALTK_VERSION) throw new TickFileError("bad_version", path, `binary tick file version ${version} is not supported (this reader reads ${ALTK_VERSION})`);
      const jsonBytes = dv.getUint32(12, true);
      if (jsonBytes > MAX_HEADER_BYTES || 16 + jsonBytes > size) throw new TickFileError("truncated", path, `header of ${jsonBytes} bytes does not fit in ${size} bytes`);
      const json = new Uint8Array(jsonBytes);
      readSync(this.fd, json, 0, jsonBytes, 16);
      let parsed: unknown;
      try {
        parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
      } catch (e) {
        throw new TickFileError("bad_header", path, `header is not UTF-8 JSON: ${(e as Error).message}`);
      }
      this.instruments = checkSpecs((parsed as { instruments?: unknown } | null)?.instruments, path);
      this.pos = align8(16 + jsonBytes);
      const tail = Math.max(0, size - this.pos) % ALTK_RECORD_BYTES;
      if (size < this.pos || tail !== 0) {
        throw new TickFileError("truncated", path, `last record is truncated: ${tail} of ${ALTK_RECORD_BYTES} bytes at offset ${size - tail}`);
      }
      this.end = size;
    } catch (e) {
      closeSync(this.fd);
      this.fd = null;
      throw e;
    }
  }

  read(batch: TickBatch): number {
    if (this.fd === null) throw new Error(`${this.path}: read after close`);
    const n = Math.min(batch.capacity, (this.end - this.pos) / ALTK_RECORD_BYTES);
    const bytes = n * ALTK_RECORD_BYTES;
    if (this.chunk.length < bytes) this.chunk = new Uint8Array(bytes);
    let got = 0;
    while (got < bytes) {
      const r = readSync(this.fd, this.chunk, got, bytes - got, this.pos + got);
      if (r === 0) throw new TickFileError("truncated", this.path, `file ended at offset ${this.pos + got} while reading records`);
      got += r;
    }
    const v = new DataView(this.chunk.buffer, 0, bytes);
    const count = this.instruments.length;
    for (let i = 0; i < n; i++) {
      const at = i * ALTK_RECORD_BYTES;
      const instrument = v.getUint32(at + 24, true);
      if (instrument >= count) {
        throw new TickFileError("bad_row", this.path, `record at offset ${this.pos + at} names instrument ${instrument}; the table has ${count}`);
      }
      batch.tsMs[i] = v.getFloat64(at, true);
      batch.price[i] = v.getFloat64(at + 8, true);
      batch.size[i] = v.getFloat64(at + 16, true);
      batch.instrument[i] = instrument;
      batch.kind[i] = v.getUint32(at + 28, true);
    }
    this.pos += bytes;
    batch.length = n;
    return n;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

// ---------------------------------------------------------------- CSV

class CsvWriter implements TickWriter {
  readonly format = "csv";
  records = 0;
  private fd: number | null;
  private text = "";

  constructor(readonly path: string, private readonly specs: InstrumentSpec[]) {
    this.fd = openSync(path, "w");
    for (const s of specs) this.text += `${CSV_INSTRUMENT_PREFIX}${JSON.stringify(s)}\n`;
    this.text += `${CSV_HEADER}\n`;
    this.flush();
  }

  write(instrument: number, kind: number, price: number, size: number, tsMs: number): void {
    if (this.fd === null) throw new Error(`${this.path}: write after close`);
    const spec = this.specs[instrument];
    if (spec === undefined) throw new Error(`${this.path}: instrument number ${instrument} is not in the file's table`);
    const kindName = TICK_KIND_NAMES[kind];
    if (kindName === undefined) throw new Error(`${this.path}: tick kind ${kind} has no CSV name`);
    this.text += `${num(tsMs)},${spec.symbol},${kindName},${num(price)},${num(size)}\n`;
    this.records++;
    // Characters approximate bytes here: the rows are ASCII.
    if (this.text.length >= WRITE_BUFFER_BYTES) this.flush();
  }

  flush(): void {
    if (this.fd === null || this.text.length === 0) return;
    const bytes = Buffer.from(this.text, "utf8");
    writeAll(this.fd, bytes, bytes.length);
    this.text = "";
  }

  close(): void {
    if (this.fd === null) return;
    this.flush();
    closeSync(this.fd);
    this.fd = null;
  }
}

/** Numbers as JavaScript prints them (shortest round-trip form, NaN, Infinity), keeping the sign of -0. */
function num(x: number): string {
  return x === 0 && 1 / x < 0 ? "-0" : String(x);
}

const KIND_BY_NAME = new Map<string, number>(TICK_KIND_NAMES.map((n, i) => [n, i]));

class CsvReader implements TickReader {
  readonly format = "csv";
  readonly instruments: InstrumentSpec[];
  private readonly numberOf = new Map<string, number>();
  private lines: LineReader;

  constructor(readonly path: string) {
    this.lines = new LineReader(path);
    const specs: unknown[] = [];
    try {
      for (;;) {
        const line = this.lines.next();
        if (line === null) throw new TickFileError("bad_header", path, `no header line "${CSV_HEADER}"`);
        if (line.startsWith(CSV_INSTRUMENT_PREFIX)) specs.push(this.parseJson(line.slice(CSV_INSTRUMENT_PREFIX.length)));
        else if (line === CSV_HEADER) break;
        else if (line !== "" && !line.startsWith("#")) throw new TickFileError("bad_header", path, `line ${this.lines.lineNo}: expected "${CSV_HEADER}"`);
      }
      // Without declarations the instruments are the distinct symbols, found by one streaming scan.
      this.instruments = specs.length > 0 ? checkSpecs(specs, path) : this.scanSymbols().map(specForSymbol);
    } catch (e) {
      this.lines.close();
      throw e;
    }
    this.instruments.forEach((s, i) => this.numberOf.set(s.symbol, i));
  }

  private parseJson(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      throw new TickFileError("bad_header", this.path, `line ${this.lines.lineNo}: instrument declaration is not JSON`);
    }
  }

  private scanSymbols(): string[] {
    const afterHeader = this.lines.lineNo;
    const seen = new Set<string>();
    for (let line = this.lines.next(); line !== null; line = this.lines.next()) {
      if (line === "" || line.startsWith("#")) continue;
      const a = line.indexOf(","), b = line.indexOf(",", a + 1);
      const symbol = line.slice(a + 1, b);
      if (a < 0 || b < 0 || !SYMBOL_PATTERN.test(symbol)) throw new TickFileError("bad_row", this.path, `line ${this.lines.lineNo}: no valid symbol`);
      seen.add(symbol);
      if (seen.size > MAX_FILE_INSTRUMENTS) throw new TickFileError("bad_row", this.path, `more than ${MAX_FILE_INSTRUMENTS} symbols`);
    }
    this.lines.close();
    this.lines = new LineReader(this.path);
    while (this.lines.lineNo < afterHeader) this.lines.next();
    return [...seen];
  }

  read(batch: TickBatch): number {
    let n = 0;
    while (n < batch.capacity) {
      const line = this.lines.next();
      if (line === null) break;
      if (line === "" || line.charCodeAt(0) === 35 /* # */) continue;
      // Fields by comma position: no array per row.
      const c1 = line.indexOf(","), c2 = line.indexOf(",", c1 + 1), c3 = line.indexOf(",", c2 + 1), c4 = line.indexOf(",", c3 + 1);
      if (c1 < 0 || c2 < 0 || c3 < 0 || c4 < 0 || line.indexOf(",", c4 + 1) >= 0) throw this.badRow(`expected 5 fields, found ${line.split(",").length}`);
      const symbol = line.slice(c1 + 1, c2);
      const instrument = this.numberOf.get(symbol);
      if (instrument === undefined) throw this.badRow(`symbol ${symbol} is not declared`);
      const kindName = line.slice(c2 + 1, c3);
      const kind = KIND_BY_NAME.get(kindName);
      if (kind === undefined) throw this.badRow(`unknown kind ${JSON.stringify(kindName)}`);
      const ts = parseNum(line.slice(0, c1)), price = parseNum(line.slice(c3 + 1, c4)), size = parseNum(line.slice(c4 + 1));
      if (ts === undefined || price === undefined || size === undefined) throw this.badRow("a number field is empty or not a number");
      batch.tsMs[n] = ts; batch.instrument[n] = instrument; batch.kind[n] = kind; batch.price[n] = price; batch.size[n] = size;
      n++;
    }
    batch.length = n;
    return n;
  }

  private badRow(what: string): TickFileError {
    return new TickFileError("bad_row", this.path, `line ${this.lines.lineNo}: ${what}`);
  }

  close(): void {
    this.lines.close();
  }
}

/** A number field: anything JavaScript's Number() reads except the empty string (which it reads as 0). */
function parseNum(s: string): number | undefined {
  const x = Number(s);
  if (x === 0) return s.trim() === "" ? undefined : x;
  return x !== x && s.trim() !== "NaN" ? undefined : x;
}

/** Lines of a UTF-8 file, read through a fixed chunk; strips "\r\n" and "\n". */
class LineReader {
  lineNo = 0;
  private fd: number | null;
  private readonly chunk = new Uint8Array(READ_CHUNK_BYTES);
  private readonly decoder = new TextDecoder("utf-8");
  private text = "";
  private at = 0;
  private pos = 0;
  private eof = false;

  constructor(private readonly path: string) {
    this.fd = openSync(path, "r");
  }

  next(): string | null {
    for (;;) {
      const nl = this.text.indexOf("\n", this.at);
      if (nl >= 0) return this.take(nl, nl + 1);
      if (this.eof || this.fd === null) return this.at < this.text.length ? this.take(this.text.length, this.text.length) : null;
      const r = readSync(this.fd, this.chunk, 0, this.chunk.length, this.pos);
      this.pos += r;
      if (r === 0) this.eof = true;
      this.text = this.text.slice(this.at) + this.decoder.decode(this.chunk.subarray(0, r), { stream: r > 0 });
      this.at = 0;
      if (this.text.length > 64 * READ_CHUNK_BYTES) throw new TickFileError("bad_row", this.path, `line ${this.lineNo + 1} is longer than ${64 * READ_CHUNK_BYTES} characters`);
    }
  }

  private take(end: number, next: number): string {
    const line = end > this.at && this.text.charCodeAt(end - 1) === 13 ? this.text.slice(this.at, end - 1) : this.text.slice(this.at, end);
    this.at = next;
    this.lineNo++;
    return line;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

function writeAll(fd: number, bytes: Uint8Array, length: number): void {
  let done = 0;
  while (done < length) done += writeSync(fd, bytes, done, length - done);
}
