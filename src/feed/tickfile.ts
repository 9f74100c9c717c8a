// Tick files: a readable CSV format and a compact binary format (.altk), both described byte
// by byte in docs/tick-files.md. Readers and writers stream through fixed-size buffers, so a
// replay never holds a whole file in memory and a recording never waits on one write per tick.
// Files are an edge of the system: anything wrong in them is a TickFileError with a code, the
// file and the place. This is the entry point; the formats are in tickfile-csv.ts and
// tickfile-altk.ts.

import { closeSync, openSync, readSync } from "node:fs";
import type { InstrumentSpec } from "../domain/instrument.ts";
import { AltkReader, AltkWriter } from "./tickfile-altk.ts";
import {
  ALTK_MAGIC, checkSpecs, TickBatch, TickFileError, type TickFileFormat, type TickReader, type TickReadOptions, type TickWriter,
} from "./tickfile-base.ts";
import { CsvReader, CsvWriter } from "./tickfile-csv.ts";

export {
  ALTK_MAGIC, ALTK_RECORD_BYTES, ALTK_VERSION, CSV_HEADER, CSV_INSTRUMENT_PREFIX, MAX_FILE_INSTRUMENTS, TickBatch, TickFileError,
  type TickFileErrorCode, type TickFileFormat, type TickReader, type TickReadOptions, type TickWriter,
} from "./tickfile-base.ts";
export { specForSymbol } from "./tickfile-csv.ts";

/** The format a path names by its extension (.csv or .altk). */
export function formatOfPath(path: string): TickFileFormat {
  if (/\.csv$/i.test(path)) return "csv";
  if (/\.altk$/i.test(path)) return "altk";
  throw new TickFileError("bad_format", path, "tick files must end in .csv or .altk");
}

/**
 * The format of an existing file: binary when it starts with the magic or is named .altk (so a
 * damaged magic is reported as one, not as a CSV without a header), CSV otherwise.
 */
export function detectFormat(path: string): TickFileFormat {
  const fd = openSync(path, "r");
  try {
    const head = new Uint8Array(ALTK_MAGIC.length);
    const n = readSync(fd, head, 0, head.length, 0);
    if (n === head.length && head.every((b, i) => b === ALTK_MAGIC[i])) return "altk";
  } finally {
    closeSync(fd);
  }
  return /\.altk$/i.test(path) ? "altk" : "csv";
}

/** Creates a writer; the format comes from the extension unless given. Truncates an existing file. */
export function createTickWriter(path: string, instruments: readonly InstrumentSpec[], format = formatOfPath(path)): TickWriter {
  const specs = checkSpecs(instruments, path);
  return format === "csv" ? new CsvWriter(path, specs) : new AltkWriter(path, specs);
}

/** Opens a reader; the format is detected from the content and name unless given. */
export function openTickReader(path: string, format: TickFileFormat = detectFormat(path), opts: TickReadOptions = {}): TickReader {
  return format === "csv" ? new CsvReader(path, opts) : new AltkReader(path, opts);
}

/** What a full read of a tick file found. */
export interface TickFileScan {
  /** Ticks that can be replayed. */
  records: number;
  /** Rows or records skipped as damaged (only with skipBadRows). */
  skipped: number;
  /** The first of them. */
  firstSkip: TickFileError | null;
}

/**
 * Reads a whole tick file once, as a replay would, and throws its first error (TickFileError,
 * naming the file and line) unless skipping. A replay runs this before it starts, so a damaged
 * file is refused at start instead of ending the replay later with part of it played.
 */
export function scanTickFile(path: string, format?: TickFileFormat, opts: TickReadOptions = {}): TickFileScan {
  const reader = openTickReader(path, format, opts);
  try {
    const batch = new TickBatch();
    let records = 0;
    for (let n = reader.read(batch); n > 0; n = reader.read(batch)) records += n;
    return { records, skipped: reader.skipped, firstSkip: reader.firstSkip };
  } finally {
    reader.close();
  }
}
