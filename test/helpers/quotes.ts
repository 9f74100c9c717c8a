// Sets exact quotes and trades on an engine for order and broker tests: one batch per call,
// stamped with the given (or current) time, so a test knows precisely what the cache holds.

import type { Engine } from "../../src/engine/engine.ts";
import { TickKind } from "../../src/domain/tick.ts";

function row(engine: Engine, symbol: string): number {
  const i = engine.instrument(symbol);
  if (!i) throw new Error(`no instrument ${symbol} in the test engine`);
  return i.index;
}

/** Writes bid and ask with sizes for a symbol and ingests them as one batch. */
export function setQuote(engine: Engine, symbol: string, bid: number, bidSize: number, ask: number, askSize: number, tsMs = Date.now()): void {
  const r = row(engine, symbol);
  // Write the side that moves away first, so the book never crosses in between (the engine would reject it).
  const current = engine.quote(r);
  const askFirst = current.ask !== null && bid >= current.ask;
  if (askFirst) engine.write(r, TickKind.Ask, ask, askSize, tsMs);
  engine.write(r, TickKind.Bid, bid, bidSize, tsMs);
  if (!askFirst) engine.write(r, TickKind.Ask, ask, askSize, tsMs);
  engine.flush(tsMs);
}

/** Writes one trade for a symbol and ingests it as one batch. */
export function setTrade(engine: Engine, symbol: string, price: number, size: number, tsMs = Date.now()): void {
  engine.write(row(engine, symbol), TickKind.Trade, price, size, tsMs);
  engine.flush(tsMs);
}
