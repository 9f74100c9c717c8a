// Tick files: both formats round-trip every value bit for bit (NaN, infinities, -0, IBKR
// sentinels), stream through small batches, and reject damaged files with clear errors.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { InstrumentSpec } from "../../src/domain/instrument.ts";
import { IB_SENTINELS, TickKind as K } from "../../src/domain/tick.ts";
import {
  ALTK_RECORD_BYTES, createTickWriter, CSV_HEADER, detectFormat, formatOfPath, openTickReader, scanTickFile, TickBatch, TickFileError,
  type TickFileFormat, type TickReader,
} from "../../src/feed/tickfile.ts";

const dir = mkdtempSync(join(tmpdir(), "tickfile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SPECS: InstrumentSpec[] = [
  { symbol: "AAPL", kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD", jumpBand: 0.1 },
  { symbol: "AAPL-20261127-C-202.5", kind: "option", tickSize: 0.01, multiplier: 100, currency: "USD", underlying: "AAPL", expiry: "20261127", strike: 202.5, right: "C" },
  { symbol: "BRK.B", kind: "stock", tickSize: 0.05, multiplier: 1, currency: "USD" },
];

type Row = [number, number, number, number, number]; // instrument, kind, price, size, tsMs

const T0 = Date.UTC(2026, 10, 20, 15, 0, 0);
const AWKWARD: Row[] = [
  [0, K.Bid, 201.37, 300, T0 + 0.125],
  [0, K.Ask, NaN, 100, T0 + 1],
  [1, K.Trade, Infinity, 5, T0 + 2],
  [1, K.Bid, -Infinity, -0, T0 + 3],
  [2, K.Ask, IB_SENTINELS[0], IB_SENTINELS[1], T0 + 4],
  [2, K.Trade, IB_SENTINELS[2], 0.1 + 0.2, T0 + 5],
  [0, K.Volume, 0, 123456789, NaN],
  [1, K.Close, 5e-324, 1.7976931348623157e308, -1],
  ...Array.from({ length: 9 }, (_, k): Row => [k % 3, k, 100 + k / 7, k * 100, T0 + 10 + k]),
];

function readAll(reader: TickReader, capacity = 4096): Row[] {
  const batch = new TickBatch(capacity);
  const out: Row[] = [];
  while (reader.read(batch) > 0) {
    expect(batch.length).toBeLessThanOrEqual(capacity);
    for (let i = 0; i < batch.length; i++) out.push([batch.instrument[i]!, batch.kind[i]!, batch.price[i]!, batch.size[i]!, batch.tsMs[i]!]);
  }
  reader.close();
  return out;
}

function write(path: string, rows: Row[], specs = SPECS): void {
  const w = createTickWriter(path, specs);
  for (const [i, k, p, s, t] of rows) w.write(i, k, p, s, t);
  expect(w.records).toBe(rows.length);
  w.close();
}

/** Object.is on every field: NaN equals NaN and -0 differs from 0. */
function expectSameRows(got: Row[], want: Row[]): void {
  expect(got.length).toBe(want.length);
  for (let r = 0; r < want.length; r++) for (let f = 0; f < 5; f++) {
    if (!Object.is(got[r]![f], want[r]![f])) throw new Error(`row ${r} field ${f}: got ${got[r]![f]}, want ${want[r]![f]}`);
  }
}

for (const format of ["csv", "altk"] as TickFileFormat[]) {
  describe(`${format} tick files`, () => {
    test("round-trip every value exactly, with the instrument table", () => {
      const path = join(dir, `awkward.${format}`);
      write(path, AWKWARD);
      expect(detectFormat(path)).toBe(format);
      const reader = openTickReader(path);
      expect(reader.format).toBe(format);
      expect(reader.instruments).toEqual(SPECS);
      expectSameRows(readAll(reader), AWKWARD);
    });

    test("stream more records than one buffer through small batches", () => {
      const path = join(dir, `many.${format}`);
      const rows: Row[] = Array.from({ length: 30_001 }, (_, n): Row => [n % 3, n % 3, 100 + n / 100, 100 * (n % 7), T0 + n * 0.5]);
      write(path, rows);
      expectSameRows(readAll(openTickReader(path), 333), rows);
    });

    test("an empty file has its instruments and no ticks", () => {
      const path = join(dir, `empty.${format}`);
      write(path, []);
      const reader = openTickReader(path);
      expect(reader.instruments.length).toBe(3);
      expect(readAll(reader)).toEqual([]);
    });

    test("the writer refuses instrument numbers outside its table and writes after close", () => {
      const w = createTickWriter(join(dir, `refuse.${format}`), SPECS);
      expect(() => w.write(3, K.Bid, 1, 1, T0)).toThrow(/instrument number 3/);
      w.close();
      expect(() => w.write(0, K.Bid, 1, 1, T0)).toThrow(/after close/);
    });
  });
}

describe("CSV specifics", () => {
  test("without instrument lines, specs are derived from the symbols (options parsed, multiplier 100)", () => {
    const path = join(dir, "bare.csv");
    writeFileSync(path, `# recorded by hand\r\n${CSV_HEADER}\r\n${T0},TSLA,bid,400.5,100\r\n\r\n# a comment\r\n${T0 + 1},TSLA-20261127-P-380,ask,3.2,7\r\n${T0 + 2},TSLA,trade,NaN,100`);
    const reader = openTickReader(path);
    expect(reader.instruments).toEqual([
      { symbol: "TSLA", kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" },
      { symbol: "TSLA-20261127-P-380", kind: "option", tickSize: 0.01, multiplier: 100, currency: "USD", underlying: "TSLA", expiry: "20261127", right: "P", strike: 380 },
    ]);
    expectSameRows(readAll(reader), [[0, K.Bid, 400.5, 100, T0], [1, K.Ask, 3.2, 7, T0 + 1], [0, K.Trade, NaN, 100, T0 + 2]]);
  });

  test("bad rows are errors naming the file and the line", () => {
    const cases: [string, RegExp][] = [
      [`${T0},AAPL,bid,1`, /badrow\.csv:3: expected 5 fields/],
      [`${T0},AAPL,quote,1,1`, /badrow\.csv:3: unknown kind "quote"/],
      [`${T0},AAPL,bid,,1`, /badrow\.csv:3: a number field/],
      [`${T0},AAPL,bid,abc,1`, /badrow\.csv:3: a number field/],
      [`${T0},MSFT,bid,1,1`, /badrow\.csv:3: symbol MSFT is not declared/],
    ];
    for (const [row, message] of cases) {
      const path = join(dir, "badrow.csv");
      writeFileSync(path, `# instrument ${JSON.stringify(SPECS[0])}\n${CSV_HEADER}\n${row}\n`);
      const reader = openTickReader(path);
      expect(() => reader.read(new TickBatch())).toThrow(message);
      reader.close();
    }
  });

  test("a missing header, a bad declaration and an unknown extension are errors", () => {
    const path = join(dir, "nohead.csv");
    writeFileSync(path, `${T0},AAPL,bid,1,1\n`);
    expect(() => openTickReader(path)).toThrow(/expected "ts_ms,symbol,kind,price,size"/);
    writeFileSync(path, `# instrument {"symbol":"AAPL","kind":"bond","tickSize":0.01,"multiplier":1,"currency":"USD"}\n${CSV_HEADER}\n`);
    expect(() => openTickReader(path)).toThrow(/instrument 0: kind/);
    expect(() => formatOfPath("ticks.txt")).toThrow(TickFileError);
    expect(formatOfPath("x/ticks.ALTK")).toBe("altk");
  });
});

describe("binary specifics", () => {
  test("the layout is little-endian: magic, version, JSON length, JSON, padding to 8, 32-byte records", () => {
    const path = join(dir, "layout.altk");
    write(path, [[1, K.Trade, 2.5, 3, 1000]]);
    const bytes = readFileSync(path);
    expect([...bytes.subarray(0, 8)]).toEqual([0x41, 0x4c, 0x54, 0x4b, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(bytes.readUInt32LE(8)).toBe(1);
    const jsonBytes = bytes.readUInt32LE(12);
    expect(JSON.parse(bytes.subarray(16, 16 + jsonBytes).toString("utf8"))).toEqual({ instruments: SPECS });
    const data = (16 + jsonBytes + 7) & ~7;
    expect(bytes.length).toBe(data + ALTK_RECORD_BYTES);
    expect(bytes.readDoubleLE(data)).toBe(1000);
    expect(bytes.readDoubleLE(data + 8)).toBe(2.5);
    expect(bytes.readDoubleLE(data + 16)).toBe(3);
    expect(bytes.readUInt32LE(data + 24)).toBe(1);
    expect(bytes.readUInt32LE(data + 28)).toBe(K.Trade);
  });

  test("a truncated last record, a bad magic, a bad version and a bad instrument number are clear errors", () => {
    const path = join(dir, "damaged.altk");
    write(path, AWKWARD);
    const size = readFileSync(path).length;
    truncateSync(path, size - 5);
    expect(() => openTickReader(path, "altk")).toThrow(/last record is truncated: 27 of 32 bytes/);
    write(path, AWKWARD);
    const bytes = readFileSync(path);
    bytes[0] = 0x42;
    writeFileSync(path, bytes);
    // Named .altk, a damaged magic is a binary file's error, not a CSV without a header.
    expect(detectFormat(path)).toBe("altk");
    expect(() => openTickReader(path)).toThrow(/damaged\.altk: not a binary tick file \(bad magic\)/);
    try {
      openTickReader(path, "altk");
      throw new Error("opened a file with a bad magic");
    } catch (e) {
      expect((e as TickFileError).code).toBe("bad_magic");
    }
    bytes[0] = 0x41;
    bytes.writeUInt32LE(2, 8);
    writeFileSync(path, bytes);
    expect(() => openTickReader(path)).toThrow(/version 2 is not supported/);
    bytes.writeUInt32LE(1, 8);
    bytes.writeUInt32LE(7, bytes.length - 8);
    writeFileSync(path, bytes);
    const reader = openTickReader(path);
    expect(() => readAll(reader)).toThrow(/names instrument 7; the table has 3/);
    reader.close();
  });
});

describe("damaged rows: strict by default, skipped on request", () => {
  const csvWith = (bad: string) => {
    const path = join(dir, "damaged-last.csv");
    writeFileSync(path, `# instrument ${JSON.stringify(SPECS[0])}\n${CSV_HEADER}\n${T0},AAPL,bid,1,1\n${T0 + 1},AAPL,ask,2,1\n${bad}`);
    return path;
  };

  test("a damaged last CSV row: the good rows come first, then the error naming file and line; a scan throws it", () => {
    for (const [bad, reason] of [[`${T0 + 2},AAPL,trade,abc,1\n`, "a number field"], [`${T0 + 2},AAPL,tra`, "expected 5 fields"],
      [`${T0 + 2},MSFT,trade,1,1\n`, "symbol MSFT is not declared"]] as const) {
      const path = csvWith(bad);
      const reader = openTickReader(path);
      const batch = new TickBatch();
      expect(reader.read(batch)).toBe(2);
      expect(() => reader.read(batch)).toThrow(`${path}:5: ${reason}`);
      reader.close();
      expect(() => scanTickFile(path)).toThrow(`${path}:5: ${reason}`);
      const lenient = scanTickFile(path, undefined, { skipBadRows: true });
      expect(lenient.records).toBe(2);
      expect(lenient.skipped).toBe(1);
      expect(lenient.firstSkip?.message).toBe(`${path}:5: ${reason}${reason === "expected 5 fields" ? ", found 3" : reason === "a number field" ? " is empty or not a number" : ""}`);
    }
  });

  test("scrambled binary records: a scan names the first bad record; skipping keeps the good ones and a truncated tail", () => {
    const path = join(dir, "scrambled.altk");
    write(path, AWKWARD);
    const bytes = readFileSync(path);
    const data = (16 + bytes.readUInt32LE(12) + 7) & ~7;
    // Records 3 and 5 get instrument numbers far outside the table, as random bytes would.
    bytes.writeUInt32LE(0x9e3779b9, data + 2 * ALTK_RECORD_BYTES + 24);
    bytes.writeUInt32LE(12345, data + 4 * ALTK_RECORD_BYTES + 24);
    writeFileSync(path, Buffer.concat([bytes, Buffer.alloc(7)]));
    expect(() => scanTickFile(path)).toThrow(/scrambled\.altk: last record is truncated: 7 of 32 bytes/);
    writeFileSync(path, bytes);
    expect(() => scanTickFile(path)).toThrow(/scrambled\.altk: record 3 at offset \d+ names instrument 2654435769; the table has 3/);
    // Strict reading hands over the two good records before the bad one, then throws.
    const reader = openTickReader(path);
    const batch = new TickBatch();
    expect(reader.read(batch)).toBe(2);
    expect(() => reader.read(batch)).toThrow(/record 3 /);
    reader.close();
    writeFileSync(path, Buffer.concat([bytes, Buffer.alloc(7)]));
    const lenient = scanTickFile(path, undefined, { skipBadRows: true });
    expect(lenient).toMatchObject({ records: AWKWARD.length - 2, skipped: 3 });
    expect(lenient.firstSkip?.code).toBe("truncated");
  });
});
