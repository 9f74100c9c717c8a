// The Feed interface: a source of ticks that writes into the engine's tick ring. Feeds never
// import server code; they only know instruments and the TickSink below.

import type { InstrumentSpec } from "../domain/instrument.ts";

/** Where a feed writes ticks: the engine implements it (Engine.write / Engine.flush). */
export interface TickSink {
  /** Writes one raw tick; `index` is the instrument's engine row, `kind` a TickKind code. */
  write(index: number, kind: number, price: number, size: number, exchangeTsMs: number): void;
  /** Ends a batch: ingests every written tick and publishes the changes. */
  flush(nowMs?: number): number;
  /** Sets a host-owned quality flag bit (QualityFlag.Delayed) on a row; optional, the engine implements it. */
  setHostFlag?(index: number, bit: number, on: boolean): void;
  /** Hands the tick ring to a writer in another thread (worker-feed.ts); optional, the engine implements it. */
  shareRing?(): SharedRing;
}

/**
 * Where another thread writes ticks: the engine's memory and the ring's placement. The writer
 * fills records at (head & ringMask) * strideBytes + ringOffset, then publishes the new head
 * with Atomics.store on the u32 at ctlOffset + 4 * headWord; the engine publishes how far it
 * has read the same way at tailWord. Plain data, so it can be posted to a Worker.
 */
export interface SharedRing {
  buffer: SharedArrayBuffer;
  ringOffset: number;
  ringCapacity: number;
  ringMask: number;
  strideBytes: number;
  /** Byte offsets of the fields inside a record. */
  fields: { price: number; size: number; ts: number; instrument: number; kind: number };
  ctlOffset: number;
  headWord: number;
  tailWord: number;
}


/** Looks up the engine row of a symbol; undefined when it is not defined. */
export type InstrumentIndex = (symbol: string) => number | undefined;

/** Counters every feed keeps. */
export interface FeedStats {
  /** Ticks written to the sink. */
  ticks: number;
  /** Batches flushed. */
  batches: number;
  /** Ticks deliberately made invalid (synthetic feed only). */
  badTicks: number;
}

/** A source of ticks. */
export interface Feed {
  /** Short name for logs and metrics: "synthetic", "replay", "ib". */
  readonly name: string;
  /** Resolves what instruments() lists when that needs I/O (broker contract lookups); the app awaits it first. */
  prepare?(): Promise<void>;
  /** Instruments the feed will produce ticks for; the app defines them in the engine before start(). */
  instruments(): InstrumentSpec[];
  /** Starts producing into `sink`; resolves once running. */
  start(sink: TickSink, indexOf: InstrumentIndex): Promise<void>;
  /** Stops producing; resolves when no further write can happen. */
  stop(): Promise<void>;
  /** True while the feed is producing (readiness). */
  readonly live: boolean;
  readonly stats: FeedStats;
}
