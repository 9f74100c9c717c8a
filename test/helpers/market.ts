// A small market for server tests: a WASM engine with a few stocks and options, and a driver
// that writes valid ticks and flushes them as one batch per call.

import { Engine } from "../../src/engine/engine.ts";
import { optionSymbol, type InstrumentSpec } from "../../src/domain/instrument.ts";
import { TickKind } from "../../src/domain/tick.ts";

/** Stocks every test market defines. */
export const STOCKS = ["AAPL", "MSFT", "TSLA", "NVDA", "BRK/B"] as const;

/** Options on TSLA (and one on AAPL) every test market defines. */
export const OPTIONS = [
  optionSymbol("TSLA", "20261127", "C", 250),
  optionSymbol("TSLA", "20261127", "P", 250),
  optionSymbol("TSLA", "20261204", "P", 247.5),
  optionSymbol("AAPL", "20261127", "C", 202.5),
] as const;

/** An engine plus a tick driver. */
export class TestMarket {
  private readonly mids: number[] = [];

  private constructor(readonly engine: Engine) {}

  /** Builds the engine and defines STOCKS, OPTIONS and `extraStocks`. */
  static async create(extraStocks: string[] = []): Promise<TestMarket> {
    const engine = await Engine.create({ core: "wasm", maxInstruments: Math.max(256, extraStocks.length + 64) });
    const m = new TestMarket(engine);
    for (const s of [...STOCKS, ...extraStocks]) m.add({ symbol: s, kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" }, 100);
    for (const s of OPTIONS) {
      const [underlying, expiry, right, strike] = s.split("-") as [string, string, "C" | "P", string];
      m.add({ symbol: s, kind: "option", tickSize: 0.01, multiplier: 100, currency: "USD", underlying, expiry, right, strike: Number(strike) }, 5);
    }
    return m;
  }

  private add(spec: InstrumentSpec, mid: number): void {
    const inst = this.engine.addInstrument(spec);
    this.mids[inst.index] = mid;
  }

  /** Engine row of a symbol; throws for an unknown one (a test bug). */
  row(symbol: string): number {
    const i = this.engine.instrument(symbol);
    if (!i) throw new Error(`test market has no ${symbol}`);
    return i.index;
  }

  /** Writes a small bid/ask move for each symbol and flushes them as one batch (seq +1 each). */
  update(symbols: readonly string[]): void {
    const ts = Date.now();
    for (const s of symbols) {
      const row = this.row(s);
      const step = Math.random() < 0.5 ? -0.01 : 0.01;
      const mid = Math.max(1, Math.round((this.mids[row]! + step) * 100) / 100);
      this.mids[row] = mid;
      this.engine.write(row, TickKind.Bid, mid - 0.01, 100 + Math.floor(Math.random() * 900), ts);
      this.engine.write(row, TickKind.Ask, mid + 0.01, 100 + Math.floor(Math.random() * 900), ts);
    }
    this.engine.flush();
  }

  /** Writes one trade at an explicit exchange time and ingests it as if the host clock read `tsMs`. */
  tradeAt(symbol: string, price: number, size: number, tsMs: number): void {
    this.engine.write(this.row(symbol), TickKind.Trade, price, size, tsMs);
    this.engine.flush(tsMs);
  }

  /** Writes one trade for a symbol at its mid and flushes. */
  trade(symbol: string, size: number): void {
    const row = this.row(symbol);
    this.engine.write(row, TickKind.Trade, this.mids[row]!, size, Date.now());
    this.engine.flush();
  }
}
