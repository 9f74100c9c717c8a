// The binary tick file (.altk, docs/tick-files.md): a JSON instrument table behind a magic and
// a version, then fixed 32-byte little-endian records. Read and written through fixed buffers.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { InstrumentSpec } from "../domain/instrument.ts";
import {
  ALTK_MAGIC, ALTK_RECORD_BYTES, ALTK_VERSION, align8, checkSpecs, closeFd, MAX_HEADER_BYTES, TickBatch, TickFileError,
  type TickReader, type TickReadOptions, type TickWriter, WRITE_BUFFER_BYTES, writeAll,
} from "./tickfile-base.ts";

/** Writes a binary tick file. */
export class AltkWriter implements TickWriter {
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
    this.fd = closeFd(this.fd);
  }
}

/** Reads a binary tick file; the header is checked on open, each record's instrument on read. */
export class AltkReader implements TickReader {
  readonly format = "altk";
  readonly instruments: InstrumentSpec[];
  skipped = 0;
  firstSkip: TickFileError | null = null;
  private fd: number | null;
  private pos: number;
  private readonly dataStart: number;
  private readonly end: number;
  private chunk = new Uint8Array(0);
  /** A bad record found after good ones in the same read: those are returned first, this is thrown next. */
  private pending: TickFileError | null = null;

  constructor(readonly path: string, private readonly opts: TickReadOptions = {}) {
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
      this.pos = this.dataStart = align8(16 + jsonBytes);
      const tail = Math.max(0, size - this.pos) % ALTK_RECORD_BYTES;
      if (size < this.pos) throw new TickFileError("truncated", path, `header padding ends at ${this.pos}, past the end of the file (${size} bytes)`);
      this.end = size - tail;
      if (tail !== 0) {
        const err = new TickFileError("truncated", path, `last record is truncated: ${tail} of ${ALTK_RECORD_BYTES} bytes at offset ${size - tail}`);
        // A crash in mid-write leaves exactly this; skipping, the whole records before it still play.
        if (!opts.skipBadRows) throw err;
        this.skip(err);
      }
    } catch (e) {
      this.fd = closeFd(this.fd);
      throw e;
    }
  }

  private skip(err: TickFileError): void {
    this.skipped++;
    this.firstSkip ??= err;
  }

  read(batch: TickBatch): number {
    if (this.fd === null) throw new Error(`${this.path}: read after close`);
    if (this.pending) throw this.pending;
    let out = 0;
    // Skipping may empty a whole chunk; 0 must still mean the end of the file, so read on.
    while (out === 0 && this.pos < this.end) {
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
          const offset = this.pos + at;
          const err = new TickFileError("bad_row", this.path,
            `record ${(offset - this.dataStart) / ALTK_RECORD_BYTES + 1} at offset ${offset} names instrument ${instrument}; the table has ${count}`);
          if (this.opts.skipBadRows) { this.skip(err); continue; }
          if (out === 0) throw err;
          this.pending = err;
          this.pos += at;
          batch.length = out;
          return out;
        }
        batch.tsMs[out] = v.getFloat64(at, true);
        batch.price[out] = v.getFloat64(at + 8, true);
        batch.size[out] = v.getFloat64(at + 16, true);
        batch.instrument[out] = instrument;
        batch.kind[out] = v.getUint32(at + 28, true);
        out++;
      }
      this.pos += bytes;
    }
    batch.length = out;
    return out;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
