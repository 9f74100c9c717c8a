// The host side of the engine: instrument registry, tick writer, batch ingest with listeners,
// and readers for quotes, bars and counters. Knows nothing of sockets or brokers.

import type { Instrument, InstrumentSpec } from "../domain/instrument.ts";
import { fromUnits, toUnits } from "../domain/price.ts";
import type { Quote } from "../domain/quote.ts";
import { REJECT_REASON_NAMES } from "../domain/tick.ts";
import { nowMs, TRADING_YEAR_MS } from "../domain/time.ts";
import type { Capacities, CoreParams, EngineCore } from "./core.ts";
import type { Layout } from "./layout.ts";
import type { SharedRing } from "../feed/feed.ts";

export type { SharedRing } from "../feed/feed.ts";

export type { Quote } from "../domain/quote.ts";
import { createReferenceCore } from "./reference.ts";
import { createWasmCore } from "./wasm.ts";
import { addListener } from "../domain/listeners.ts";

/** Everything needed to build an engine. */
export interface EngineOptions extends Capacities, CoreParams {
  /** Which implementation runs the hot path; "ts" is the reference, for tests and benchmarks. */
  core: "wasm" | "ts";
  /**
   * Touch every page of the tables at start, so the hot path never takes a page fault on a
   * first write and the process's RSS shows the whole footprint from the first second.
   */
  prefault: boolean;
}

/** Defaults sized for the built-in synthetic market. */
export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  core: "wasm",
  prefault: true,
  maxInstruments: 4096,
  ringCapacity: 16384,
  barHistory: 390,
  staleAfterMs: 5000,
  maxTickAgeMs: 10000,
  maxFutureMs: 2000,
  volTauMs: 300000,
  volSampleMs: 1000,
  reanchorAfter: 3,
};

/** A 1-minute bar. */
export interface Bar {
  /** Start of the minute, epoch ms. */
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** Engine-wide counters. */
export interface EngineCounters {
  ticks: number;
  accepted: number;
  rejected: number;
  batches: number;
  changedRows: number;
  /** Rejects by reason name (REJECT_REASON_NAMES), excluding "ok". */
  rejectedByReason: Record<string, number>;
}

/** Called after each batch with the indexes of the rows that changed; valid only during the call. */
export type BatchListener = (changed: Uint32Array, nowMs: number) => void;

/** Raised when a fixed capacity would be exceeded. */
export class CapacityError extends Error {
  constructor(readonly table: string, readonly capacity: number) {
    super(`${table} is full (capacity ${capacity})`);
    this.name = "CapacityError";
  }
}

/** Writes one byte in every 4 KiB page, which makes the OS back the whole buffer now. */
function prefault(buffer: ArrayBufferLike): void {
  const bytes = new Uint8Array(buffer);
  for (let i = 0; i < bytes.length; i += 4096) bytes[i] = 0;
}

/** The engine host: owns the core and every view on its memory. */
export class Engine {
  readonly layout: Layout;
  readonly instruments: Instrument[] = [];
  private readonly bySymbol = new Map<string, Instrument>();
  private readonly f64: Float64Array;
  private readonly u32: Uint32Array;
  private readonly ringF64: Float64Array;
  private readonly ringU32: Uint32Array;
  private readonly changeList: Uint32Array;
  private readonly listeners: BatchListener[] = [];
  private readonly quoteBase: number;
  private readonly ctl: number;
  private readonly ctlI32: Int32Array;
  private head = 0;
  private tail = 0;
  /** True once shareRing() handed the ring to a writer in another thread. */
  private sharedWriter = false;

  private constructor(readonly core: EngineCore, readonly options: EngineOptions) {
    const L = (this.layout = core.layout);
    this.f64 = new Float64Array(core.buffer);
    this.u32 = new Uint32Array(core.buffer);
    this.ringF64 = new Float64Array(core.buffer, L.ringOffset, (L.ringCapacity * L.TICK_STRIDE_BYTES) / 8);
    this.ringU32 = new Uint32Array(core.buffer, L.ringOffset, (L.ringCapacity * L.TICK_STRIDE_BYTES) / 4);
    this.changeList = new Uint32Array(core.buffer, L.changeListOffset, options.maxInstruments);
    this.quoteBase = L.quotesOffset / 8;
    this.ctl = L.ctlOffset / 4;
    this.ctlI32 = new Int32Array(core.buffer, L.ctlOffset, L.CTL_WORDS);
  }

  /** Builds an engine with the chosen core and parameters. */
  static async create(overrides: Partial<EngineOptions> = {}): Promise<Engine> {
    const options = { ...DEFAULT_ENGINE_OPTIONS, ...overrides };
    const caps: Capacities = options;
    const core = options.core === "wasm" ? await createWasmCore(caps) : await createReferenceCore(caps);
    if (options.prefault) prefault(core.buffer);
    const rc = core.configure(options);
    if (rc !== 0) throw new Error(`engine configure failed with code ${rc}`);
    return new Engine(core, options);
  }

  /** Adds an instrument at the next free row; throws CapacityError when the table is full. */
  addInstrument(spec: InstrumentSpec): Instrument {
    if (this.bySymbol.has(spec.symbol)) throw new Error(`instrument ${spec.symbol} is already defined`);
    const index = this.instruments.length;
    if (index >= this.options.maxInstruments) throw new CapacityError("instrument table", this.options.maxInstruments);
    const tickUnits = toUnits(spec.tickSize);
    const band = spec.jumpBand ?? (spec.kind === "option" ? 1.0 : 0.1);
    const floorUnits = (spec.jumpFloorTicks ?? 5) * tickUnits;
    const rc = this.core.defineInstrument(index, tickUnits, band, floorUnits);
    if (rc !== 0) throw new Error(`instrument ${spec.symbol} rejected by the engine (code ${rc}): check tickSize and jumpBand`);
    const { jumpBand: _b, jumpFloorTicks: _f, ...rest } = spec;
    const inst: Instrument = { ...rest, index };
    this.instruments.push(inst);
    this.bySymbol.set(inst.symbol, inst);
    return inst;
  }

  /** Looks an instrument up by symbol. */
  instrument(symbol: string): Instrument | undefined {
    return this.bySymbol.get(symbol);
  }

  /** Registers a listener called after every batch (ingest, stale sweep, session reset). */
  onBatch(listener: BatchListener): () => void {
    return addListener(this.listeners, listener);
  }

  /** Ticks written and not yet ingested (published by the other thread, with a shared ring). */
  get pending(): number {
    if (this.sharedWriter) return (Atomics.load(this.ctlI32, this.layout.CTL_HEAD) - this.u32[this.ctl + this.layout.CTL_TAIL]!) >>> 0;
    return this.head - this.tail;
  }

  /**
   * Hands the tick ring to one writer in another thread (src/feed/ring-writer.ts). Pending
   * ticks are ingested first; from then on write() throws and flush() ingests whatever the
   * writer has published. One writer per engine, for its lifetime: a second call throws.
   */
  shareRing(): SharedRing {
    if (this.sharedWriter) throw new Error("the tick ring already has a writer in another thread");
    if (!(this.core.buffer instanceof SharedArrayBuffer)) throw new Error("the engine's memory is not shared");
    this.flush();
    const L = this.layout;
    Atomics.store(this.ctlI32, L.CTL_HEAD, this.head | 0);
    Atomics.store(this.ctlI32, L.CTL_TAIL, this.tail | 0);
    this.sharedWriter = true;
    return {
      buffer: this.core.buffer, ringOffset: L.ringOffset, ringCapacity: L.ringCapacity, ringMask: L.ringMask,
      strideBytes: L.TICK_STRIDE_BYTES,
      fields: { price: L.T_PRICE, size: L.T_SIZE, ts: L.T_TS, instrument: L.T_INSTRUMENT, kind: L.T_KIND },
      ctlOffset: L.ctlOffset, headWord: L.CTL_HEAD, tailWord: L.CTL_TAIL,
    };
  }

  /**
   * Writes one tick into the ring. When the ring is full it is ingested first, so a writer
   * never overruns it and never loses a tick; listeners see that batch like any other.
   */
  write(index: number, kind: number, price: number, size: number, exchangeTsMs: number): void {
    if (this.sharedWriter) throw new Error("the tick ring has a writer in another thread: write there");
    if (this.head - this.tail >= this.layout.ringCapacity) this.flush();
    const L = this.layout;
    const slot = (this.head & L.ringMask) * L.TICK_STRIDE_BYTES;
    this.ringF64[(slot + L.T_PRICE) >> 3] = price;
    this.ringF64[(slot + L.T_SIZE) >> 3] = size;
    this.ringF64[(slot + L.T_TS) >> 3] = exchangeTsMs;
    this.ringU32[(slot + L.T_INSTRUMENT) >> 2] = index >>> 0;
    this.ringU32[(slot + L.T_KIND) >> 2] = kind >>> 0;
    this.head++;
  }

  /** Ingests every pending tick as one batch and notifies listeners; returns the changed-row count. */
  flush(now: number = nowMs()): number {
    if (this.sharedWriter) return this.drainShared(now);
    const count = this.head - this.tail;
    if (count === 0) return 0;
    this.u32[this.ctl + this.layout.CTL_HEAD] = this.head >>> 0;
    const changed = this.core.ingest(count, now);
    if (changed < 0) throw new Error(`engine ingest failed with code ${changed}`);
    this.tail = this.head;
    this.notify(changed, now);
    return changed;
  }

  /**
   * Ingests what the other thread has published. Atomics.load of the head orders every record
   * written before it; the core reads them and advances the tail with a plain store, which is
   * republished with Atomics.store so the writer never reuses a slot before it was read.
   */
  private drainShared(now: number): number {
    const L = this.layout;
    const tail = this.u32[this.ctl + L.CTL_TAIL]!;
    const count = (Atomics.load(this.ctlI32, L.CTL_HEAD) - tail) >>> 0;
    if (count === 0) return 0;
    if (count > L.ringCapacity) throw new Error(`shared tick ring overrun: ${count} ticks published, capacity ${L.ringCapacity}`);
    const changed = this.core.ingest(count, now);
    if (changed < 0) throw new Error(`engine ingest failed with code ${changed}`);
    Atomics.store(this.ctlI32, L.CTL_TAIL, (tail + count) | 0);
    // Wakes a writer blocked on a full ring (it waits on the tail word).
    Atomics.notify(this.ctlI32, L.CTL_TAIL);
    this.notify(changed, now);
    return changed;
  }

  /** Flags instruments without data for staleAfterMs; returns how many rows changed. */
  sweepStale(now: number = nowMs()): number {
    const changed = this.core.sweepStale(now);
    if (changed < 0) throw new Error(`engine sweepStale failed with code ${changed}`);
    this.notify(changed, now);
    return changed;
  }

  /** Starts a new session: last becomes previous close; open/high/low/volume/VWAP reset. */
  resetSession(now: number = nowMs()): number {
    this.flush(now);
    const changed = this.core.resetSession(now);
    if (changed < 0) throw new Error(`engine resetSession failed with code ${changed}`);
    this.notify(changed, now);
    return changed;
  }

  private notify(changed: number, now: number): void {
    if (changed === 0) return;
    const list = this.changeList.subarray(0, changed);
    for (const l of this.listeners) l(list, now);
  }

  /** Raw f64 field of a quote row (a Q_* index from the layout); the hot-path reader. */
  field(index: number, q: number): number {
    return this.f64[this.quoteBase + index * this.layout.QUOTE_STRIDE + q]!;
  }

  /** Sets quality flag bits on a row from the host (e.g. F_DELAYED); published with the row's next change. */
  setHostFlag(index: number, bit: number, on: boolean): void {
    const at = this.quoteBase + index * this.layout.QUOTE_STRIDE + this.layout.Q_FLAGS;
    const flags = this.f64[at]! >>> 0;
    this.f64[at] = on ? (flags | bit) >>> 0 : (flags & ~bit) >>> 0;
  }

  /** The current quote of an instrument. */
  quote(index: number): Quote {
    const L = this.layout, f = this.f64;
    const r = this.quoteBase + index * L.QUOTE_STRIDE;
    const px = (u: number) => (u > 0 ? fromUnits(u) : null);
    // Dividing by the accumulated weight removes the EWMA's start-up bias towards zero.
    const weight = f[r + L.Q_VOL_WEIGHT]!;
    const varRate = weight > 0 ? f[r + L.Q_VAR_RATE]! / weight : 0;
    return {
      symbol: this.instruments[index]!.symbol,
      seq: f[r + L.Q_SEQ]!,
      bid: px(f[r + L.Q_BID]!),
      bidSize: f[r + L.Q_BID_SZ]!,
      ask: px(f[r + L.Q_ASK]!),
      askSize: f[r + L.Q_ASK_SZ]!,
      last: px(f[r + L.Q_LAST]!),
      lastSize: f[r + L.Q_LAST_SZ]!,
      volume: f[r + L.Q_VOLUME]!,
      vwap: f[r + L.Q_VWAP]! > 0 ? Math.round(f[r + L.Q_VWAP]!) / L.PRICE_SCALE : null,
      open: px(f[r + L.Q_OPEN]!),
      high: px(f[r + L.Q_HIGH]!),
      low: px(f[r + L.Q_LOW]!),
      prevClose: px(f[r + L.Q_PREV_CLOSE]!),
      volatility: varRate > 0 ? Math.sqrt(varRate * TRADING_YEAR_MS) : null,
      exchangeTs: f[r + L.Q_EXCH_TS]!,
      ingestTs: f[r + L.Q_INGEST_TS]!,
      flags: f[r + L.Q_FLAGS]! >>> 0,
    };
  }

  /** Closed 1-minute bars, oldest first, at most `limit` (and at most barHistory), plus the open bar. */
  bars(index: number, limit = this.layout.barHistory): { closed: Bar[]; current: Bar | null } {
    const L = this.layout, f = this.f64;
    const r = this.quoteBase + index * L.QUOTE_STRIDE;
    const count = f[r + L.Q_BAR_COUNT]!;
    const n = Math.min(count, L.barHistory, Math.max(0, Math.floor(limit)));
    const closed: Bar[] = [];
    const base = L.barsOffset / 8 + index * L.barHistory * L.BAR_STRIDE;
    for (let i = count - n; i < count; i++) {
      const b = base + (i % L.barHistory) * L.BAR_STRIDE;
      closed.push({
        start: f[b + L.B_START]!, open: fromUnits(f[b + L.B_OPEN]!), high: fromUnits(f[b + L.B_HIGH]!),
        low: fromUnits(f[b + L.B_LOW]!), close: fromUnits(f[b + L.B_CLOSE]!), volume: f[b + L.B_VOLUME]!,
      });
    }
    const start = f[r + L.Q_BAR_START]!;
    const current = start > 0
      ? { start, open: fromUnits(f[r + L.Q_BAR_O]!), high: fromUnits(f[r + L.Q_BAR_H]!), low: fromUnits(f[r + L.Q_BAR_L]!),
          close: fromUnits(f[r + L.Q_BAR_C]!), volume: f[r + L.Q_BAR_V]! }
      : null;
    return { closed, current };
  }

  /** Engine-wide counters, read from the counters table. */
  counters(): EngineCounters {
    const L = this.layout, f = this.f64;
    const c = L.countersOffset / 8;
    const rejectedByReason: Record<string, number> = {};
    for (let r = 1; r < L.REASON_COUNT; r++) rejectedByReason[REJECT_REASON_NAMES[r]!] = f[c + L.C_REASON_BASE + r]!;
    return {
      ticks: f[c + L.C_TICKS]!, accepted: f[c + L.C_ACCEPTED]!, rejected: f[c + L.C_REJECTED]!,
      batches: f[c + L.C_BATCHES]!, changedRows: f[c + L.C_CHANGED]!, rejectedByReason,
    };
  }
}
