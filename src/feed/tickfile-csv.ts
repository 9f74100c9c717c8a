// The CSV tick file (docs/tick-files.md): optional "# instrument {json}" declarations, the
// header line, then one tick per row. Read line by line through a fixed chunk; every error
// names the file and the line.

import { openSync, readSync } from "node:fs";
import { type InstrumentSpec, parseOptionSymbol, SYMBOL_PATTERN } from "../domain/instrument.ts";
import { TICK_KIND_NAMES } from "../domain/tick.ts";
import {
  checkSpecs, closeFd, CSV_HEADER, CSV_INSTRUMENT_PREFIX, MAX_FILE_INSTRUMENTS, READ_CHUNK_BYTES, TickBatch, TickFileError,
  type TickReader, type TickReadOptions, type TickWriter, WRITE_BUFFER_BYTES, writeAll,
} from "./tickfile-base.ts";

/** The spec a bare symbol implies: an option when it parses as one (multiplier 100), else a stock; tick 0.01, USD. */
export function specForSymbol(symbol: string): InstrumentSpec {
  const o = parseOptionSymbol(symbol);
  return o
    ? { symbol, kind: "option", tickSize: 0.01, multiplier: 100, currency: "USD", ...o }
    : { symbol, kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" };
}

/** Writes a CSV tick file. */
export class CsvWriter implements TickWriter {
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
    this.fd = closeFd(this.fd);
  }
}

/** Numbers as JavaScript prints them (shortest round-trip form, NaN, Infinity), keeping the sign of -0. */
function num(x: number): string {
  return x === 0 && 1 / x < 0 ? "-0" : String(x);
}

const KIND_BY_NAME = new Map<string, number>(TICK_KIND_NAMES.map((n, i) => [n, i]));

/** Reads a CSV tick file; the declarations and header are read on open, rows on read. */
export class CsvReader implements TickReader {
  readonly format = "csv";
  readonly instruments: InstrumentSpec[];
  skipped = 0;
  firstSkip: TickFileError | null = null;
  private readonly numberOf = new Map<string, number>();
  private lines: LineReader;
  /** A bad row found after good ones in the same read: those are returned first, this is thrown next. */
  private pending: TickFileError | null = null;

  constructor(readonly path: string, private readonly opts: TickReadOptions = {}) {
    this.lines = new LineReader(path);
    const specs: unknown[] = [];
    try {
      for (;;) {
        const line = this.lines.next();
        if (line === null) throw new TickFileError("bad_header", path, `no header line "${CSV_HEADER}"`);
        if (line.startsWith(CSV_INSTRUMENT_PREFIX)) specs.push(this.parseJson(line.slice(CSV_INSTRUMENT_PREFIX.length)));
        else if (line === CSV_HEADER) break;
        else if (line !== "" && !line.startsWith("#")) throw new TickFileError("bad_header", path, `expected "${CSV_HEADER}"`, this.lines.lineNo);
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
      throw new TickFileError("bad_header", this.path, "instrument declaration is not JSON", this.lines.lineNo);
    }
  }

  private scanSymbols(): string[] {
    const afterHeader = this.lines.lineNo;
    const seen = new Set<string>();
    for (let line = this.lines.next(); line !== null; line = this.lines.next()) {
      if (line === "" || line.startsWith("#")) continue;
      const a = line.indexOf(","), b = line.indexOf(",", a + 1);
      const symbol = line.slice(a + 1, b);
      if (a < 0 || b < 0 || !SYMBOL_PATTERN.test(symbol)) {
        // Skipping, read() finds the same row again and skips it there.
        if (this.opts.skipBadRows) continue;
        throw new TickFileError("bad_row", this.path, "no valid symbol", this.lines.lineNo);
      }
      seen.add(symbol);
      if (seen.size > MAX_FILE_INSTRUMENTS) throw new TickFileError("bad_row", this.path, `more than ${MAX_FILE_INSTRUMENTS} symbols`, this.lines.lineNo);
    }
    this.lines.close();
    this.lines = new LineReader(this.path);
    while (this.lines.lineNo < afterHeader) this.lines.next();
    return [...seen];
  }

  read(batch: TickBatch): number {
    if (this.pending) throw this.pending;
    let n = 0;
    while (n < batch.capacity) {
      const line = this.lines.next();
      if (line === null) break;
      if (line === "" || line.charCodeAt(0) === 35 /* # */) continue;
      const bad = this.parseRow(line, batch, n);
      if (bad === null) { n++; continue; }
      const err = new TickFileError("bad_row", this.path, bad, this.lines.lineNo);
      if (this.opts.skipBadRows) {
        this.skipped++;
        this.firstSkip ??= err;
        continue;
      }
      if (n === 0) throw err;
      this.pending = err;
      break;
    }
    batch.length = n;
    return n;
  }

  /** Parses one row into slot `n` of the batch; returns what is wrong with it, or null. */
  private parseRow(line: string, batch: TickBatch, n: number): string | null {
    // Fields by comma position: no array per row.
    const c1 = line.indexOf(","), c2 = line.indexOf(",", c1 + 1), c3 = line.indexOf(",", c2 + 1), c4 = line.indexOf(",", c3 + 1);
    if (c1 < 0 || c2 < 0 || c3 < 0 || c4 < 0 || line.indexOf(",", c4 + 1) >= 0) return `expected 5 fields, found ${line.split(",").length}`;
    const symbol = line.slice(c1 + 1, c2);
    const instrument = this.numberOf.get(symbol);
    if (instrument === undefined) return `symbol ${symbol} is not declared`;
    const kindName = line.slice(c2 + 1, c3);
    const kind = KIND_BY_NAME.get(kindName);
    if (kind === undefined) return `unknown kind ${JSON.stringify(kindName)}`;
    const ts = parseNum(line.slice(0, c1)), price = parseNum(line.slice(c3 + 1, c4)), size = parseNum(line.slice(c4 + 1));
    if (ts === undefined || price === undefined || size === undefined) return "a number field is empty or not a number";
    batch.tsMs[n] = ts; batch.instrument[n] = instrument; batch.kind[n] = kind; batch.price[n] = price; batch.size[n] = size;
    return null;
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
      if (this.text.length > 64 * READ_CHUNK_BYTES) throw new TickFileError("bad_row", this.path, `line is longer than ${64 * READ_CHUNK_BYTES} characters`, this.lineNo + 1);
    }
  }

  private take(end: number, next: number): string {
    const line = end > this.at && this.text.charCodeAt(end - 1) === 13 ? this.text.slice(this.at, end - 1) : this.text.slice(this.at, end);
    this.at = next;
    this.lineNo++;
    return line;
  }

  close(): void {
    this.fd = closeFd(this.fd);
  }
}
