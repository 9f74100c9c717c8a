// An edge's quote table: the core's instruments, and the latest quote of every symbol a client
// holds, kept from NATS. A symbol's subject is subscribed only while some client holds it
// (want/release, counted by src/cluster/edge-hub.ts). A row is "cold" from the moment it is
// wanted until its first quote (message or snapshot reply) arrives: clients that subscribed to a
// cold row get their snapshot then, so a snapshot is always the core's current state. A seq gap
// (a lost message) or the bus coming back resnapshots from the core.

import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Instrument } from "../domain/instrument.ts";
import type { Quote } from "../domain/quote.ts";
import type { Logger } from "../log.ts";
import type { QuoteSource, RowsListener } from "../server/quote-source.ts";
import { decodeQuoteMessage, quoteSubject, RPC_SNAPSHOT, SNAPSHOT_BATCH, type SnapshotReply } from "./wire.ts";

/** Counters of an edge's quote table. */
export interface EdgeQuoteStats {
  /** Quote messages applied. */
  received: number;
  /** Messages or snapshot quotes not newer than what the row holds. */
  stale: number;
  /** Messages that could not be read as quotes. */
  bad: number;
  /** Seq jumps seen on a row's subject (a lost message). */
  gaps: number;
  /** Messages whose seq went back (the core restarted); their state was taken. */
  seqResets: number;
  /** Snapshot requests sent to the core. */
  resnapshots: number;
  /** Snapshot requests that failed (no reply in time, core gone). */
  snapshotFailures: number;
  /** Symbol subjects subscribed now. */
  subjects: number;
}

/** How long a snapshot request waits for the core. */
const SNAPSHOT_TIMEOUT_MS = 2000;

function emptyQuote(symbol: string): Quote {
  return {
    symbol, seq: 0, bid: null, bidSize: 0, ask: null, askSize: 0, last: null, lastSize: 0, volume: 0, vwap: null,
    open: null, high: null, low: null, prevClose: null, volatility: null, exchangeTs: 0, ingestTs: 0, flags: 0,
  };
}

/** The edge's quote table; see the file comment. */
export class EdgeQuotes implements QuoteSource {
  readonly instruments: Instrument[] = [];
  readonly options: { maxInstruments: number };
  readonly layout = { Q_SEQ: 0 } as const;
  readonly stats: EdgeQuoteStats = { received: 0, stale: 0, bad: 0, gaps: 0, seqResets: 0, resnapshots: 0, snapshotFailures: 0, subjects: 0 };
  /** Test hook: the next message for this symbol is dropped as if the bus lost it. */
  dropNext: string | undefined;
  private readonly bySymbol = new Map<string, Instrument>();
  private readonly quotes: (Quote | undefined)[] = [];
  /** Quotes of rows no client holds, fetched from the core for a REST request (refresh()). */
  private readonly fetched: (Quote | undefined)[] = [];
  private readonly seqs: Float64Array;
  private readonly cold: Uint8Array;
  /** 1 for rows in the batch not yet handed to the listeners. */
  private readonly pending: Uint8Array;
  private readonly subs: (Subscription | undefined)[] = [];
  private readonly listeners: RowsListener[] = [];
  private readonly warmListeners: ((row: number) => void)[] = [];
  /** Rows whose snapshot request failed: asked again by retryFailed() (the edge's retry timer). */
  private readonly owed = new Set<number>();
  private changed: number[] = [];
  private flushQueued = false;
  private nc: NatsConnection | undefined;

  constructor(capacity: number, private readonly log: Logger) {
    this.options = { maxInstruments: capacity };
    this.seqs = new Float64Array(capacity);
    this.cold = new Uint8Array(capacity);
    this.pending = new Uint8Array(capacity);
  }

  /** Appends instruments from the core, in its row order; returns false when the table is full. */
  addInstruments(list: readonly Instrument[]): boolean {
    for (const inst of list) {
      if (this.bySymbol.has(inst.symbol)) continue;
      if (this.instruments.length >= this.options.maxInstruments) return false;
      const own = { ...inst, index: this.instruments.length };
      this.instruments.push(own);
      this.bySymbol.set(own.symbol, own);
    }
    return true;
  }

  /** Uses this connection for subjects and snapshots (set once, when first connected). */
  attach(nc: NatsConnection): void {
    this.nc = nc;
    for (let row = 0; row < this.instruments.length; row++) if (this.cold[row] === 2) this.subscribeRow(row);
  }

  /** The instrument with this symbol, if the core listed it. */
  instrument(symbol: string): Instrument | undefined {
    return this.bySymbol.get(symbol);
  }

  /** The row's seq (the only field the fan-out reads). */
  field(row: number): number {
    return this.seqs[row]!;
  }

  /** The row's latest quote: live while held, else as last fetched for REST, else empty. */
  quote(row: number): Quote {
    return this.quotes[row] ?? this.fetched[row] ?? emptyQuote(this.instruments[row]!.symbol);
  }

  /** Calls the listener with each batch of rows changed by quotes from the core. */
  onBatch(listener: RowsListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Calls the listener when a cold row gets its first quote (its waiting clients get their snapshot). */
  onWarm(listener: (row: number) => void): void {
    this.warmListeners.push(listener);
  }

  /** True while the row waits for its first quote since it was wanted. */
  isCold(row: number): boolean {
    return this.cold[row] !== 0;
  }

  /** Rows with a subject subscribed now. */
  wantedRows(): number[] {
    const out: number[] = [];
    for (let row = 0; row < this.instruments.length; row++) if (this.subs[row] !== undefined || this.cold[row] === 2) out.push(row);
    return out;
  }

  /** The first client holds the row: subscribe its subject and ask the core for its quote. */
  want(row: number): void {
    this.cold[row] = 2;
    this.quotes[row] = undefined;
    this.seqs[row] = 0;
    if (this.nc) {
      this.subscribeRow(row);
      this.resnapshot([row]);
    }
  }

  /** The last client left the row: drop its subject; its quote is no longer kept current. */
  release(row: number): void {
    this.subs[row]?.unsubscribe();
    if (this.subs[row]) this.stats.subjects--;
    this.subs[row] = undefined;
    this.owed.delete(row);
    this.cold[row] = 0;
    this.quotes[row] = undefined;
    this.seqs[row] = 0;
  }

  private subscribeRow(row: number): void {
    if (this.subs[row] || !this.nc) return;
    const symbol = this.instruments[row]!.symbol;
    this.subs[row] = this.nc.subscribe(quoteSubject(symbol), {
      callback: (err, msg) => {
        if (err) return;
        if (this.dropNext === symbol) return void (this.dropNext = undefined);
        const q = decodeQuoteMessage(msg.data);
        if (!q || q.symbol !== symbol) return void this.stats.bad++;
        this.apply(row, q, false);
      },
    });
    this.stats.subjects++;
  }

  /**
   * Makes quote() current for rows no client holds (a REST read): asks the core for them.
   * Resolves false when the core did not answer (or the bus is down), so the caller can say so.
   */
  async refresh(rows: readonly number[]): Promise<boolean> {
    const nc = this.nc;
    const cold = rows.filter((r) => this.subs[r] === undefined || this.cold[r]);
    if (cold.length === 0) return true;
    if (!nc) return false;
    try {
      for (let i = 0; i < cold.length; i += SNAPSHOT_BATCH) {
        const symbols = cold.slice(i, i + SNAPSHOT_BATCH).map((r) => this.instruments[r]!.symbol);
        const reply = (await nc.request(RPC_SNAPSHOT, JSON.stringify({ symbols }), { timeout: SNAPSHOT_TIMEOUT_MS })).json() as SnapshotReply;
        for (const q of reply.quotes ?? []) {
          const inst = this.bySymbol.get(q.symbol);
          if (inst) this.fetched[inst.index] = q;
        }
      }
      return true;
    } catch (err) {
      this.stats.snapshotFailures++;
      this.log.warn("quote request to the core failed", { symbols: cold.length, reason: (err as Error).message });
      return false;
    }
  }

  /** Asks the core for the current quotes of rows that are still wanted (a gap, a cold row, the bus back). */
  resnapshot(rows: readonly number[]): void {
    const nc = this.nc;
    if (!nc || rows.length === 0) return;
    for (let i = 0; i < rows.length; i += SNAPSHOT_BATCH) {
      const batch = rows.slice(i, i + SNAPSHOT_BATCH);
      this.stats.resnapshots++;
      const symbols = batch.map((r) => this.instruments[r]!.symbol);
      nc.request(RPC_SNAPSHOT, JSON.stringify({ symbols }), { timeout: SNAPSHOT_TIMEOUT_MS }).then((msg) => {
        const reply = msg.json() as SnapshotReply;
        for (const q of reply.quotes ?? []) {
          const inst = this.bySymbol.get(q.symbol);
          if (inst && this.subs[inst.index]) this.apply(inst.index, q, true);
        }
      }, (err: unknown) => {
        this.stats.snapshotFailures++;
        for (const r of batch) this.owed.add(r);
        this.log.warn("snapshot request to the core failed; retrying", { symbols: symbols.length, reason: (err as Error).message });
      });
    }
  }

  /** Applies a full-state quote when newer than the row's; a first quote warms the row, later ones are published as changes. */
  private apply(row: number, q: Quote, snapshot: boolean): void {
    const prev = this.seqs[row]!;
    // One core publishes a subject's messages in order, so a lower seq on the subject means the
    // core restarted (its seqs start again): take the new state rather than freeze the row.
    const reset = !snapshot && q.seq < prev && !this.cold[row];
    if (reset) {
      // Every held row resets after a core restart: log the first and then every thousandth.
      if (this.stats.seqResets++ % 1000 === 0) this.log.warn("seq went back on a quote subject (core restarted?); taking the new state", { symbol: q.symbol, previous: prev, got: q.seq });
    } else if (q.seq <= prev && !(this.cold[row] && q.seq === 0)) {
      if (!snapshot) this.stats.stale++;
      return;
    }
    if (!snapshot) {
      this.stats.received++;
      if (q.seq > prev + 1 && !this.cold[row]) {
        this.stats.gaps++;
        this.log.info("seq gap on a quote subject; resnapshotting", { symbol: q.symbol, previous: prev, got: q.seq });
        this.resnapshot([row]);
      }
    }
    // A second change of a row before the batch went out is a batch of its own, so clients get
    // every state the core published (as they would from the core), not only the latest.
    if (this.pending[row]) this.flush();
    this.quotes[row] = q;
    this.seqs[row] = q.seq;
    if (this.cold[row]) {
      // Every holder of a cold row waits for its snapshot, which carries this state: no update too.
      this.cold[row] = 0;
      for (const l of this.warmListeners) l(row);
      return;
    }
    this.changed.push(row);
    this.pending[row] = 1;
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flush);
    }
  }

  /** Hands the rows changed since the last flush to the listeners, as one batch. */
  private readonly flush = (): void => {
    this.flushQueued = false;
    if (this.changed.length === 0) return;
    const rows = Uint32Array.from(this.changed);
    this.changed = [];
    for (const row of rows) this.pending[row] = 0;
    const now = Date.now();
    for (const l of this.listeners) l(rows, now);
  };

  /** Asks again for the snapshots that failed, and for rows still waiting for their first quote. */
  retryFailed(): void {
    const rows = new Set(this.owed);
    this.owed.clear();
    for (let row = 0; row < this.instruments.length; row++) if (this.cold[row]) rows.add(row);
    this.resnapshot([...rows].filter((r) => this.subs[r] !== undefined));
  }
}
