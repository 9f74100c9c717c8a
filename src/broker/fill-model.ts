// The paper broker's fill model as pure functions of a quote: is the quote good enough to fill
// on, where would an order take liquidity, and can a resting limit be filled by trading at or
// through its price. Stop triggers are in triggers.ts. Prices here are price units.

import type { Quote } from "../domain/quote.ts";
import { QualityFlag } from "../domain/tick.ts";
import { toUnits } from "../domain/price.ts";
import type { Side } from "../domain/order.ts";

/** How the paper broker fills; every field has a documented default in PAPER_DEFAULTS. */
export interface FillModelOptions {
  /** A market order's quantity beyond the displayed size: filled at worse prices, or left working for later quotes. */
  marketRemainder: "slippage" | "work";
  /** Price steps, in ticks, per further lot beyond the displayed size. */
  slippageTicksPerLot: number;
  /** Lot size for slippage steps on stocks (shares). */
  lotShares: number;
  /** Lot size for slippage steps on options (contracts). */
  lotContracts: number;
  /** Most slippage lots one evaluation walks; the rest waits for the next quote. */
  maxSlippageLots: number;
  /** Queue assumption for a resting limit at the touch: filled by trades at its price ("touch") or only through it ("through"). */
  queue: "touch" | "through";
  /** With queue "touch", the chance a trade exactly at the limit reaches us (seeded draw); 1 = always. */
  touchFillProbability: number;
  /** A quote older than this (host time of its last change) is stale for filling. */
  maxQuoteAgeMs: number;
}

/** Quality flags that make a quote unusable for fills: stale, crossed, or delayed data. */
const BAD_FLAGS = QualityFlag.Stale | QualityFlag.Crossed | QualityFlag.Delayed;

/** Why a quote cannot be filled on, or undefined when it can. */
export function quoteProblem(q: Quote, nowMs: number, maxAgeMs: number): string | undefined {
  if ((q.flags & BAD_FLAGS) !== 0) return "quote is stale, crossed or delayed";
  if (q.seq === 0 || nowMs - q.ingestTs > maxAgeMs) return "no fresh quote";
  return undefined;
}

/** The touch an order of `side` takes: the ask for a buy, the bid for a sell, in units with its size; undefined when absent. */
export function oppositeTouch(q: Quote, side: Side): { priceUnits: number; size: number } | undefined {
  const price = side === "buy" ? q.ask : q.bid;
  const size = side === "buy" ? q.askSize : q.bidSize;
  const flag = side === "buy" ? QualityFlag.NoAsk : QualityFlag.NoBid;
  if (price === null || size <= 0 || (q.flags & flag) !== 0) return undefined;
  return { priceUnits: toUnits(price), size };
}

/** True when `priceUnits` is no worse than the limit for `side` (any price is fine without a limit). */
export function withinLimit(side: Side, priceUnits: number, limitUnits: number | undefined): boolean {
  if (limitUnits === undefined) return true;
  return side === "buy" ? priceUnits <= limitUnits : priceUnits >= limitUnits;
}

/** A price level an order may take: price units and quantity. */
export interface Level {
  priceUnits: number;
  qty: number;
}

/**
 * The levels an order may take now: the touch up to its remaining displayed size, then (with
 * "slippage") one lot per step of `slippageTicksPerLot` ticks worse, at most maxSlippageLots,
 * never beyond the limit. Fills `out` and returns it, so the hot path allocates one array.
 */
export function takeLevels(o: FillModelOptions, side: Side, touch: { priceUnits: number; size: number }, displayedLeft: number,
  tickUnits: number, kind: "stock" | "option", limitUnits: number | undefined, out: Level[]): Level[] {
  out.length = 0;
  if (!withinLimit(side, touch.priceUnits, limitUnits)) return out;
  if (displayedLeft > 0) out.push({ priceUnits: touch.priceUnits, qty: displayedLeft });
  if (o.marketRemainder !== "slippage") return out;
  const lot = kind === "option" ? o.lotContracts : o.lotShares;
  const dir = side === "buy" ? 1 : -1;
  for (let k = 1; k <= o.maxSlippageLots; k++) {
    const priceUnits = touch.priceUnits + dir * k * o.slippageTicksPerLot * tickUnits;
    if (priceUnits <= 0 || !withinLimit(side, priceUnits, limitUnits)) break;
    out.push({ priceUnits, qty: lot });
  }
  return out;
}

/**
 * Whether trading since the last look can fill a resting limit: "through" needs the last trade
 * strictly beyond the limit, "touch" also at it ("at" is returned so the caller can apply the
 * touch probability). The last trade stands for all volume since then, which overstates fills
 * when prices moved within the batch; the batch is the finest grain the quote cache keeps.
 */
export function passiveFill(o: FillModelOptions, side: Side, limitUnits: number, q: Quote): "through" | "at" | undefined {
  if (q.last === null) return undefined;
  const last = toUnits(q.last);
  if (side === "buy" ? last < limitUnits : last > limitUnits) return "through";
  if (last === limitUnits && o.queue === "touch") return "at";
  return undefined;
}
