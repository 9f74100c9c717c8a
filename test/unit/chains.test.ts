// Chain pricing in WASM batches: one impliedVolBatch call prices every quoted leg of a chain
// (never one call per leg), and the chain book follows instruments added after it was built.

import { expect, spyOn, test } from "bun:test";
import { optionSymbol } from "../../src/domain/instrument.ts";
import { ChainBook, compactDate, priceChain } from "../../src/options/chains.ts";
import { GreeksEngine } from "../../src/risk/greeks.ts";
import { TestMarket } from "../helpers/market.ts";
import { setQuote } from "../helpers/quotes.ts";

const EXPIRY = new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10).replaceAll("-", "");

test("a 40-strike chain is priced by one WASM batch call", async () => {
  const market = await TestMarket.create();
  const e = market.engine;
  const book = new ChainBook(e);
  expect(book.strikes("NVDA", EXPIRY)).toBeUndefined();
  const spec = { kind: "option" as const, tickSize: 0.01, multiplier: 100, currency: "USD", underlying: "NVDA", expiry: EXPIRY };
  setQuote(e, "NVDA", 99.99, 100, 100.01, 100);
  for (let k = 80; k < 120; k++) {
    for (const right of ["C", "P"] as const) {
      const symbol = optionSymbol("NVDA", EXPIRY, right, k);
      e.addInstrument({ ...spec, symbol, right, strike: k });
      const intrinsic = Math.max(right === "C" ? 100 - k : k - 100, 0);
      setQuote(e, symbol, intrinsic + 1, 10, intrinsic + 1.1, 10);
    }
  }
  // Instruments added after the book was first read are picked up.
  const strikes = book.strikes("NVDA", EXPIRY)!;
  expect(strikes.length).toBe(40);
  const greeks = await GreeksEngine.create(e);
  const batches = spyOn(greeks, "impliedVolBatch");
  const single = spyOn(greeks, "greeksBatch");
  const chain = priceChain(e, greeks, { rate: 0.04, divYield: 0 }, "NVDA", EXPIRY, strikes, Date.now());
  expect(batches).toHaveBeenCalledTimes(1);
  expect(batches.mock.calls[0]![0]).toBe(80);
  expect(single).toHaveBeenCalledTimes(0);
  expect(chain.rows.length).toBe(40);
  expect(chain.rows.every((r) => r.call?.status === "ok" && r.put?.status === "ok")).toBe(true);
});

test("compactDate accepts real YYYY-MM-DD dates only", () => {
  expect(compactDate("2026-12-11")).toBe("20261211");
  expect(compactDate("2028-02-29")).toBe("20280229");
  for (const bad of ["2026-02-29", "2026-1-01", "20261211", "2026-12-11T00:00", ""]) expect(compactDate(bad)).toBeUndefined();
});
