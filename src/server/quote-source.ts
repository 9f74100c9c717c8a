// What the fan-out, the symbol index and the market-data REST routes read quotes from. The
// engine satisfies it as it is (role all and core, so nothing changes on their hot path); an
// edge's cache of quotes received over NATS satisfies it too (src/cluster/edge-quotes.ts).

import type { Instrument } from "../domain/instrument.ts";
import type { Quote } from "../domain/quote.ts";

/** Called with the rows changed by one batch. */
export type RowsListener = (changed: Uint32Array, nowMs: number) => void;

/** A table of instruments and their current quotes, with change notifications. */
export interface QuoteSource {
  /** Instruments by row; only ever appended to. */
  readonly instruments: readonly Instrument[];
  /** Rows the table can ever hold (per-row arrays are sized by it). */
  readonly options: { readonly maxInstruments: number };
  /** Index of the row's seq among the fields field() reads. */
  readonly layout: { readonly Q_SEQ: number };
  /** The instrument with this symbol, if any. */
  instrument(symbol: string): Instrument | undefined;
  /** A raw field of a row; the fan-out only asks for Q_SEQ. */
  field(row: number, q: number): number;
  /** The row's current quote. */
  quote(row: number): Quote;
  /** Calls the listener with each batch of changed rows; returns a function that removes it. */
  onBatch(listener: RowsListener): () => void;
}
