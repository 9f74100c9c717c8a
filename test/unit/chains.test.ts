// Chain pricing in WASM batches: one impliedVolBatch call prices every quoted leg of a chain
// (never one call per leg), and the chain book follows instruments added after it was built.

import { expect, spyOn, test } from "bun:test";
import { optionSymbol } from "../../src/domain/instrument.ts";
import { ChainStreams } from "../../src/options/chain-stream.ts";
import { ChainBook, compactDate, ibFields, priceChain, type ModelGreeks } from "../../src/options/chains.ts";
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

test("IBKR's model values: each leg's ibDelta / ibIv from the source, null when absent or not computed; the stream reports a change of them alone, also without a quote tick", async () => {
  const market = await TestMarket.create();
  const e = market.engine;
  const spec = { kind: "option" as const, tickSize: 0.01, multiplier: 100, currency: "USD", underlying: "MSFT", expiry: EXPIRY };
  setQuote(e, "MSFT", 99.99, 100, 100.01, 100);
  const [call, put] = [optionSymbol("MSFT", EXPIRY, "C", 100), optionSymbol("MSFT", EXPIRY, "P", 100)];
  e.addInstrument({ ...spec, symbol: call, right: "C", strike: 100 });
  e.addInstrument({ ...spec, symbol: put, right: "P", strike: 100 });
  setQuote(e, call, 3, 10, 3.1, 10);
  setQuote(e, put, 2.8, 10, 2.9, 10);
  // TWS says "not computed" with −1 / −2 (or @stoqey/ib leaves the value undefined → NaN): null.
  const model = new Map<string, ModelGreeks>([[call, { delta: 0.52, iv: 0.3 }], [put, { delta: -2, iv: -1 }]]);
  const source = (s: string) => model.get(s);
  const book = new ChainBook(e);
  const greeks = await GreeksEngine.create(e);
  const chain = priceChain(e, greeks, { rate: 0.04, divYield: 0 }, "MSFT", EXPIRY, book.strikes("MSFT", EXPIRY)!, Date.now(), {}, source);
  expect(chain.rows[0]!.call).toMatchObject({ ibDelta: 0.52, ibIv: 0.3, status: "ok" });
  expect(chain.rows[0]!.put).toMatchObject({ ibDelta: null, ibIv: null, status: "ok" });
  // Without a source (synthetic and replay feeds) both are null.
  const plain = priceChain(e, greeks, { rate: 0.04, divYield: 0 }, "MSFT", EXPIRY, book.strikes("MSFT", EXPIRY)!, Date.now());
  expect([plain.rows[0]!.call!.ibDelta, plain.rows[0]!.call!.ibIv]).toEqual([null, null]);
  expect(ibFields(() => ({ delta: Number.NaN, iv: Number.NaN }), call)).toEqual({ ibDelta: null, ibIv: null });

  const streams = new ChainStreams(e, greeks, book, { rate: 0.04, divYield: 0 }, 100, Date.now, source);
  const live = streams.open("MSFT", EXPIRY);
  if (!("key" in live)) throw new Error(live.message);
  expect(live.rows[0]!.call!.ibDelta).toBe(0.52);
  // The same quote again: our greeks unchanged, only TWS's model delta moved → the row is reported.
  model.set(call, { delta: 0.55, iv: 0.3 });
  setQuote(e, call, 3, 10, 3.1, 10);
  const changes = streams.collect();
  expect(changes.map((c) => c.rows)).toEqual([[0]]);
  expect(live.rows[0]!.call!.ibDelta).toBe(0.55);
  // No quote at all: the IB feed's model tick touches the leg's row, which is repriced and reported.
  model.set(put, { delta: -0.47, iv: 0.29 });
  streams.touch(e.instrument(put)!.index);
  expect(streams.collect().map((c) => c.rows)).toEqual([[0]]);
  expect(live.rows[0]!.put).toMatchObject({ ibDelta: -0.47, ibIv: 0.29 });
  expect(streams.collect()).toEqual([]);
  streams.stop();
});
