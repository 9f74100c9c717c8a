// Stop triggers after IBKR's trigger methods (TWS API Order.triggerMethod; TWS Users' Guide,
// "Modify the Stop Trigger Method"). For a buy stop (a sell stop mirrors every rule):
//   last            one trade at or above the stop;
//   double_last     two consecutive trades at or above it, or one at or above whose size rose;
//   bid_ask         one bid at or above it;
//   double_bid_ask  two consecutive bids at or above it, the second of greater size when at the
//                   same price (IBKR's US option default);
//   last_or_bid_ask either last or bid_ask;
//   mid_point       the bid/ask mid at or above it.
// IBKR watches the bid for buy stops and the ask for sell stops: the side that has moved through
// the stop once the whole market has. The engine's quote row is observed once per batch that
// changed it, so several trades or quotes inside one batch count as one observation (its last).

import type { Quote } from "../domain/quote.ts";
import type { Side, TriggerMethod } from "../domain/order.ts";
import { toUnits } from "../domain/price.ts";

/** What a stop remembers between observations: the streak of qualifying trades and quotes. */
export interface TriggerState {
  /** Volume at the last look: a rise means a new trade printed. */
  volume: number;
  tradeHits: number;
  lastSize: number;
  /** The watched quote side at the last look (price units, size) and the streak of qualifying ones. */
  quoteUnits: number;
  quoteSize: number;
  quoteHits: number;
}

/** A fresh state: trades already printed before the order count once (as its first look), not as a streak. */
export function newTriggerState(): TriggerState {
  return { volume: -1, tradeHits: 0, lastSize: 0, quoteUnits: Number.NaN, quoteSize: 0, quoteHits: 0 };
}

/** Starts the streaks afresh: prints up to `volume` no longer count (a stop released at the open ignores the night's trades). */
export function rebaseTrigger(s: TriggerState, volume: number): void {
  s.volume = volume;
  s.lastSize = 0;
  s.tradeHits = 0;
  s.quoteHits = 0;
  s.quoteUnits = Number.NaN;
}

const through = (side: Side, units: number, stopUnits: number) => (side === "buy" ? units >= stopUnits : units <= stopUnits);

/**
 * Observes one quote state for a stop and says whether it has now triggered. `method` must be
 * resolved (never "default"). The state is updated in place.
 */
export function observeTrigger(method: Exclude<TriggerMethod, "default">, side: Side, stopUnits: number, q: Quote, s: TriggerState): boolean {
  const trade = observeTrade(side, stopUnits, q, s);
  const quote = observeQuote(side, stopUnits, q, s);
  switch (method) {
    case "last": return trade.hit;
    case "double_last": return trade.hits >= 2;
    case "bid_ask": return quote.hit;
    case "double_bid_ask": return quote.hits >= 2;
    case "last_or_bid_ask": return trade.hit || quote.hit;
    case "mid_point": {
      if (q.bid === null || q.ask === null) return false;
      return through(side, (toUnits(q.bid) + toUnits(q.ask)) / 2, stopUnits);
    }
  }
}

/** The last trade: `hit` when it is through the stop now, `hits` the streak of new trades through it. */
function observeTrade(side: Side, stopUnits: number, q: Quote, s: TriggerState): { hit: boolean; hits: number } {
  if (q.last === null) return { hit: false, hits: 0 };
  const isThrough = through(side, toUnits(q.last), stopUnits);
  // A new print: volume rose (or fell at a session reset), or this is the first look.
  const isNew = s.volume < 0 || q.volume !== s.volume;
  if (isNew) {
    const sizeRose = s.tradeHits > 0 && q.lastSize > s.lastSize;
    s.tradeHits = isThrough ? s.tradeHits + 1 : 0;
    // "One last at or through the stop whose size is an increase" counts as the double.
    if (isThrough && sizeRose) s.tradeHits = Math.max(s.tradeHits, 2);
    s.volume = q.volume;
    s.lastSize = q.lastSize;
  }
  // A print seen before the baseline (rebaseTrigger) is not news: only counted prints trigger.
  return { hit: isThrough && s.tradeHits > 0, hits: s.tradeHits };
}

/** The watched side (bid for buys, ask for sells): `hit` when through now, `hits` the streak of new values through it. */
function observeQuote(side: Side, stopUnits: number, q: Quote, s: TriggerState): { hit: boolean; hits: number } {
  const price = side === "buy" ? q.bid : q.ask;
  const size = side === "buy" ? q.bidSize : q.askSize;
  if (price === null) {
    s.quoteHits = 0;
    s.quoteUnits = Number.NaN;
    return { hit: false, hits: 0 };
  }
  const units = toUnits(price);
  const isThrough = through(side, units, stopUnits);
  if (!isThrough) s.quoteHits = 0;
  else if (units !== s.quoteUnits) s.quoteHits++;
  // The same price counts again only with a greater size (IBKR's double bid/ask rule).
  else if (size > s.quoteSize) s.quoteHits++;
  s.quoteUnits = units;
  s.quoteSize = size;
  return { hit: isThrough, hits: s.quoteHits };
}
