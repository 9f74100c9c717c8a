// Market-data part of the /ws protocol (split out of protocol.ts, which re-exports it): the
// quote frame, subscribe and unsubscribe, and toQuote() to expand a frame into descriptive names.
// Like protocol.ts it must not pull in server code: the client library imports it.

import type { Quote } from "../domain/quote.ts";

/**
 * Full state of one instrument, sent whenever a batch changed it. Prices are decimals and
 * null when absent; sizes and volume are shares (or contracts); times are epoch ms.
 */
export interface QuoteFrame {
  t: "q";
  /** Symbol. */
  s: string;
  /** Row sequence number: +1 per batch that changed the row; a jump means conflated states. */
  seq: number;
  /** Bid price. */
  b: number | null;
  /** Bid size. */
  bs: number;
  /** Ask price. */
  a: number | null;
  /** Ask size. */
  as: number;
  /** Last trade price. */
  l: number | null;
  /** Last trade size. */
  ls: number;
  /** Session volume. */
  v: number;
  /** Session VWAP. */
  vw: number | null;
  /** Session open. */
  o: number | null;
  /** Session high. */
  h: number | null;
  /** Session low. */
  lo: number | null;
  /** Previous close. */
  pc: number | null;
  /** Annualised realised volatility of the mid, as a fraction (0.24 = 24%). */
  vol: number | null;
  /** Exchange time of the last accepted tick, epoch ms. */
  ts: number;
  /** Server time of the batch that produced this state, epoch ms (sub-ms fraction). */
  its: number;
  /** Quality flag bits; see QualityFlag. */
  f: number;
  /** Present and true only on the snapshot sent right after a subscribe. */
  snap?: true;
}

/** Subscribe to symbols and/or whole underlyings (the underlying plus every option on it). */
export interface SubscribeRequest {
  op: "subscribe";
  id?: number;
  symbols?: string[];
  underlyings?: string[];
}

/** Unsubscribe; same resolution as subscribe. */
export interface UnsubscribeRequest {
  op: "unsubscribe";
  id?: number;
  symbols?: string[];
  underlyings?: string[];
}

/** Quality flag bits of QuoteFrame.f, and flagNames() to list the set ones. */
export { QualityFlag, flagNames } from "../domain/tick.ts";

/** A quote with descriptive names, as REST returns it and as toQuote() expands a frame. */
export type { Quote } from "../domain/quote.ts";

/** Expands a compact quote frame into descriptive names. */
export function toQuote(f: QuoteFrame): Quote {
  return {
    symbol: f.s, seq: f.seq, bid: f.b, bidSize: f.bs, ask: f.a, askSize: f.as, last: f.l, lastSize: f.ls,
    volume: f.v, vwap: f.vw, open: f.o, high: f.h, low: f.lo, prevClose: f.pc, volatility: f.vol,
    exchangeTs: f.ts, ingestTs: f.its, flags: f.f,
  };
}
