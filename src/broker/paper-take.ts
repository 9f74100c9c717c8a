// How a paper order takes liquidity from one instrument's book: the displayed size of each quote
// state is used up once, across orders (the book's bidTaken / askTaken), then the fill model's
// slippage levels. Split from paper.ts, which runs the evaluation loop and books the fills;
// these functions decide only prices and quantities.

import type { Quote } from "../domain/quote.ts";
import { toUnits } from "../domain/price.ts";
import { oppositeTouch, takeLevels, type FillModelOptions, type Level } from "./fill-model.ts";
import type { Book, Working } from "./paper-orders.ts";

/** A new quote state brings new displayed size. */
export function syncQuote(book: Book, q: Quote): void {
  if (book.quoteSeq === q.seq) return;
  book.quoteSeq = q.seq;
  book.bidTaken = 0;
  book.askTaken = 0;
}

/** The levels the order could take now, written into `out` (reused, so nothing is allocated per look). */
export function levelsFor(opts: FillModelOptions, w: Working, book: Book, q: Quote, out: Level[]): Level[] {
  const o = w.order;
  const touch = oppositeTouch(q, o.side);
  if (!touch) return (out.length = 0, out);
  const displayedLeft = Math.max(0, touch.size - (o.side === "buy" ? book.askTaken : book.bidTaken));
  return takeLevels(opts, o.side, touch, displayedLeft, toUnits(o.instrument.tickSize), o.instrument.kind, o.limitPriceUnits, out);
}

/** The quantity the order could take now (FOK's test). */
export function available(opts: FillModelOptions, w: Working, book: Book, q: Quote, out: Level[]): number {
  let sum = 0;
  for (const l of levelsFor(opts, w, book, q, out)) sum += l.qty;
  return sum;
}

/** Where take() books each level's quantity: the broker, passed once, so no closure is made per call. */
export interface FillSink {
  /** Books `qty` of `w` at `priceUnits`, at `now`. */
  fill(w: Working, priceUnits: number, qty: number, now: number): void;
}

/** Takes liquidity for a marketable order, level by level; `sink` books each level's quantity. */
export function take(opts: FillModelOptions, w: Working, book: Book, q: Quote, out: Level[], sink: FillSink, now: number): void {
  const o = w.order;
  const touch = oppositeTouch(q, o.side);
  if (!touch) return;
  const levels = levelsFor(opts, w, book, q, out);
  const touchLeft = Math.max(0, touch.size - (o.side === "buy" ? book.askTaken : book.bidTaken));
  for (let i = 0; i < levels.length; i++) {
    const leaves = o.qty - w.filledQty;
    if (leaves <= 0) break;
    const l = levels[i]!;
    const n = Math.min(leaves, l.qty);
    if (i === 0 && touchLeft > 0) {
      if (o.side === "buy") book.askTaken += n;
      else book.bidTaken += n;
    }
    sink.fill(w, l.priceUnits, n, now);
  }
}
