// What both tick file formats share: constants, the error type, the column batch, the reader
// and writer interfaces, and the instrument table check. The formats themselves are in
// tickfile-csv.ts and tickfile-altk.ts; tickfile.ts is the public entry.

import { closeSync, writeSync } from "node:fs";
import { type InstrumentSpec, SYMBOL_PATTERN } from "../domain/instrument.ts";

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
/** Largest binary header (the JSON instrument table). */
export const MAX_HEADER_BYTES = 256 << 20;
/** Writers hand data to the operating system in blocks of this size. */
export const WRITE_BUFFER_BYTES = 256 << 10;
/** Readers read through a buffer of this size. */
export const READ_CHUNK_BYTES = 1 << 20;

/** What kind of damage a TickFileError reports. */
export type TickFileErrorCode = "bad_magic" | "bad_version" | "bad_header" | "bad_row" | "truncated" | "bad_format";

/**
 * What is wrong with a tick file: a code and a message naming the file and where — for CSV
 * "path:line: reason", the way compilers name a place in a text file; for binary files the
 * record number and byte offset are in the reason.
 */
export class TickFileError extends Error {
  constructor(readonly code: TickFileErrorCode, readonly path: string, readonly detail: string, readonly line?: number) {
    super(line === undefined ? `${path}: ${detail}` : `${path}:${line}: ${detail}`);
    this.name = "TickFileError";
  }
}

/** How a reader treats damaged rows. */
export interface TickReadOptions {
  /**
   * Skip a row or record that cannot be read (and a truncated last binary record) instead of
   * throwing; each is counted in `skipped`. A damaged header is always an error. Default false.
   */
  skipBadRows?: boolean;
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
  /** Rows or records skipped as damaged so far (only with skipBadRows). */
  readonly skipped: number;
  /** The first of them, for the log and /readyz. */
  readonly firstSkip: TickFileError | null;
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

/** Checks an instrument table read from (or about to be written to) `path`: valid specs, unique symbols. */
export function checkSpecs(list: unknown, path: string): InstrumentSpec[] {
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

/** Rounds up to a multiple of 8. */
export function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Writes the first `length` bytes, however many calls that takes. */
export function writeAll(fd: number, bytes: Uint8Array, length: number): void {
  let done = 0;
  while (done < length) done += writeSync(fd, bytes, done, length - done);
}

/** Closes a descriptor if open; returns null to store back. */
export function closeFd(fd: number | null): null {
  if (fd !== null) closeSync(fd);
  return null;
}
