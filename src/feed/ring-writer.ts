// The writer end of the engine's tick ring when a feed runs in a Worker: a TickSink that
// writes records straight into the shared WASM memory and publishes them with Atomics, so the
// main thread's Engine.flush() ingests exactly what was written (src/engine/engine.ts
// drainShared). One writer per ring; nothing here allocates per tick.
//
// Ordering: records are written with plain stores, then the head is published with
// Atomics.store (sequentially consistent), which orders every record store before it for a
// reader that loads the head with Atomics.load. The reader publishes the tail the same way, so a
// slot is never rewritten before the engine has read it.
//
// A full ring makes the writer wait (Atomics.wait on the tail word) and never overwrites an
// unread record or drops a tick. The synthetic feed paces by the clock, so time spent waiting
// becomes counted shortfall (SyntheticFeed.shortfallTicks), not an unbounded backlog. A reader
// that has not freed a slot for maxFullWaitMs is treated as broken: write() throws, which stops
// the feed loudly.

import type { SharedRing, TickSink } from "./feed.ts";

/** Slots of the writer's shared counters (a Float64Array over a SharedArrayBuffer). */
export const WriterStat = { Ticks: 0, Publishes: 1, FullWaits: 2, BadTicks: 3, Shortfall: 4 } as const;
/** Number of WriterStat slots. */
export const WRITER_STAT_COUNT = 5;

/** Longest one Atomics.wait on a full ring lasts before the writer looks again. */
const FULL_WAIT_SLICE_MS = 50;

/** A TickSink over a SharedRing, for the thread that produces ticks. */
export class RingWriter implements TickSink {
  private readonly f64: Float64Array;
  private readonly u32: Uint32Array;
  private readonly ctl: Int32Array;
  private readonly capacity: number;
  private readonly mask: number;
  private readonly stride: number;
  private readonly fPrice: number;
  private readonly fSize: number;
  private readonly fTs: number;
  private readonly fInstrument: number;
  private readonly fKind: number;
  private readonly headWord: number;
  private readonly tailWord: number;
  private head: number;
  /** The reader's tail as last loaded; reloaded only when the ring looks full. */
  private tail: number;

  /**
   * @param stats shared counters (WriterStat slots), read by the main thread.
   * @param maxFullWaitMs how long a full ring may stay full before write() throws.
   */
  constructor(ring: SharedRing, private readonly stats: Float64Array, private readonly maxFullWaitMs = 10_000) {
    if (stats.length < WRITER_STAT_COUNT) throw new Error("ring writer: stats array too short");
    this.f64 = new Float64Array(ring.buffer, ring.ringOffset, (ring.ringCapacity * ring.strideBytes) / 8);
    this.u32 = new Uint32Array(ring.buffer, ring.ringOffset, (ring.ringCapacity * ring.strideBytes) / 4);
    this.ctl = new Int32Array(ring.buffer, ring.ctlOffset, Math.max(ring.headWord, ring.tailWord) + 1);
    this.capacity = ring.ringCapacity;
    this.mask = ring.ringMask;
    this.stride = ring.strideBytes;
    ({ price: this.fPrice, size: this.fSize, ts: this.fTs, instrument: this.fInstrument, kind: this.fKind } = ring.fields);
    this.headWord = ring.headWord;
    this.tailWord = ring.tailWord;
    this.head = Atomics.load(this.ctl, this.headWord) >>> 0;
    this.tail = Atomics.load(this.ctl, this.tailWord) >>> 0;
  }

  /** Writes one tick into the next free slot, waiting while the ring is full. */
  write(index: number, kind: number, price: number, size: number, exchangeTsMs: number): void {
    if (((this.head - this.tail) >>> 0) >= this.capacity) this.waitForSpace();
    const slot = (this.head & this.mask) * this.stride;
    this.f64[(slot + this.fPrice) >> 3] = price;
    this.f64[(slot + this.fSize) >> 3] = size;
    this.f64[(slot + this.fTs) >> 3] = exchangeTsMs;
    this.u32[(slot + this.fInstrument) >> 2] = index >>> 0;
    this.u32[(slot + this.fKind) >> 2] = kind >>> 0;
    this.head = (this.head + 1) >>> 0;
    this.stats[WriterStat.Ticks]!++;
  }

  /** Publishes every written tick to the reader and wakes it; returns 0 (the reader counts changes). */
  flush(): number {
    if ((Atomics.load(this.ctl, this.headWord) >>> 0) === this.head) return 0;
    Atomics.store(this.ctl, this.headWord, this.head | 0);
    this.stats[WriterStat.Publishes]!++;
    Atomics.notify(this.ctl, this.headWord);
    return 0;
  }

  /** Publishes what is written, then blocks until the reader frees a slot or maxFullWaitMs passes. */
  private waitForSpace(): void {
    this.flush();
    this.stats[WriterStat.FullWaits]!++;
    const deadline = performance.now() + this.maxFullWaitMs;
    for (;;) {
      this.tail = Atomics.load(this.ctl, this.tailWord) >>> 0;
      if (((this.head - this.tail) >>> 0) < this.capacity) return;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`tick ring full for ${this.maxFullWaitMs} ms: the reader has stopped draining`);
      Atomics.wait(this.ctl, this.tailWord, this.tail | 0, Math.min(left, FULL_WAIT_SLICE_MS));
    }
  }
}
