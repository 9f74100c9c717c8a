// The quote as the rest of the system and every client sees it: the engine produces it, REST
// returns it, and the WebSocket client expands compact quote frames into it.

/** A quote as published: decimal prices, null where there is none. */
export interface Quote {
  symbol: string;
  /** Row sequence number: +1 for every batch that changed the row. */
  seq: number;
  bid: number | null;
  bidSize: number;
  ask: number | null;
  askSize: number;
  last: number | null;
  lastSize: number;
  volume: number;
  vwap: number | null;
  open: number | null;
  high: number | null;
  low: number | null;
  prevClose: number | null;
  /** Annualised, bias-corrected EWMA realised volatility of the mid (trading-time convention), null until known. */
  volatility: number | null;
  /** Exchange time of the last accepted tick, epoch ms. */
  exchangeTs: number;
  /** Host time of the batch that last changed the row, epoch ms. */
  ingestTs: number;
  /** Quality flag bits (QualityFlag). */
  flags: number;
}

/**
 * The mid of a two-sided quote, null without one. Mids of tick-rounded prices are multiples of
 * half a tick; rounding to 1e-8 prints them as such (421.665, not the 421.66499999999996 of the
 * float division), and every reader (greeks, chains, the chain stream) gets the same number.
 */
export function quoteMid(bid: number | null, ask: number | null): number | null {
  return bid !== null && ask !== null && bid > 0 && ask > 0 ? Math.round(((bid + ask) / 2) * 1e8) / 1e8 : null;
}
