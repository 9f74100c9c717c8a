// Recording: a TickSink that hands every tick to the real sink and appends it to a tick file,
// so that a run can be replayed tick for tick (replay.ts). Engine rows are translated to the
// file's own instrument numbers, which are positions in the instrument table it was given.

import type { InstrumentSpec } from "../domain/instrument.ts";
import type { InstrumentIndex, TickSink } from "./feed.ts";
import { createTickWriter, type TickFileFormat, type TickWriter } from "./tickfile.ts";

/** A TickSink that records everything written through it; close() when done. */
export class RecordingSink implements TickSink {
  private readonly fileNumberOfRow: Int32Array;

  /** Wraps `inner`; `instruments` are the writer's table and `indexOf` gives their engine rows. */
  constructor(private readonly inner: TickSink, readonly writer: TickWriter, instruments: readonly InstrumentSpec[], indexOf: InstrumentIndex) {
    const rows = instruments.map((s) => {
      const row = indexOf(s.symbol);
      if (row === undefined || !Number.isInteger(row) || row < 0) throw new Error(`recording: instrument ${s.symbol} has no engine row`);
      return row;
    });
    this.fileNumberOfRow = new Int32Array(rows.reduce((m, r) => Math.max(m, r), 0) + 1).fill(-1);
    rows.forEach((row, i) => (this.fileNumberOfRow[row] = i));
  }

  /** Records the tick, then passes it on. */
  write(index: number, kind: number, price: number, size: number, exchangeTsMs: number): void {
    const n = index < this.fileNumberOfRow.length ? this.fileNumberOfRow[index]! : -1;
    if (n < 0) throw new Error(`recording: engine row ${index} is not one of the recorded instruments`);
    this.writer.write(n, kind, price, size, exchangeTsMs);
    this.inner.write(index, kind, price, size, exchangeTsMs);
  }

  /** Hands the batch's records to the operating system, then flushes the inner sink. */
  flush(nowMs?: number): number {
    this.writer.flush();
    return this.inner.flush(nowMs);
  }

  /** Flushes and closes the file; the inner sink is left alone. */
  close(): void {
    this.writer.close();
  }
}

/** Opens `path` for recording (format from the extension unless given) and returns the wrapping sink. */
export function recordTo(path: string, inner: TickSink, instruments: readonly InstrumentSpec[], indexOf: InstrumentIndex, format?: TickFileFormat): RecordingSink {
  const writer = createTickWriter(path, instruments, format);
  try {
    return new RecordingSink(inner, writer, instruments, indexOf);
  } catch (e) {
    writer.close();
    throw e;
  }
}
