// IV rank and percentile from the daily ATM IV history in a real SQLite file (migration 9): the
// ATM IV is the reference expiry's at-the-money leg as the chain solves it, a sample upserts the
// day's one row, the window takes only the most recent days, old days are deleted past the bound,
// and the chain replies over a real Bun.serve carry the figures; the whole app on its defaults
// serves them (null before any history) in the chain and candidates replies.

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { bsPrice } from "../../src/domain/blackscholes.ts";
import { expiryMs } from "../../src/domain/instrument.ts";
import { createLogger } from "../../src/log.ts";
import { ChainBook, priceChain } from "../../src/options/chains.ts";
import { IvTracker, nyDay } from "../../src/options/iv-history.ts";
import { GreeksEngine } from "../../src/risk/greeks.ts";
import { startServer } from "../../src/server/server.ts";
import { Store } from "../../src/store/store.ts";
import { TestMarket } from "../helpers/market.ts";
import { MONDAY_10AM } from "../helpers/oms.ts";
import { setQuote } from "../helpers/quotes.ts";
import { waitFor } from "../helpers/wait.ts";

const DAY = 86_400_000;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The test market with TSLA at 250.05 and its options quoted around Black-Scholes at vol 0.5; a tracker over a fresh SQLite file. */
async function rig(windowDays: number, keepDays: number) {
  const dir = mkdtempSync(join(tmpdir(), "alluse-iv-"));
  const store = await Store.open({ path: join(dir, "alluse.db"), durability: "normal", maxPending: 1000 });
  const market = await TestMarket.create();
  const engine = market.engine;
  cleanups.push(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const now = MONDAY_10AM;
  setQuote(engine, "TSLA", 250, 1000, 250.1, 1000, now);
  for (const i of engine.instruments) {
    if (i.kind !== "option") continue;
    const v = bsPrice(i.right === "C", 250.05, i.strike!, (expiryMs(i.expiry!) - now) / (365 * DAY), 0.5, 0.04);
    setQuote(engine, i.symbol, Math.round((v - 0.05) * 100) / 100, 10, Math.round((v + 0.05) * 100) / 100, 10, now);
  }
  const book = new ChainBook(engine);
  const greeks = await GreeksEngine.create(engine);
  const market0 = { rate: 0.04, divYield: 0 };
  const tracker = new IvTracker({ engine, book, greeks: async () => greeks, market: market0, db: store.db, windowDays, keepDays });
  const rows = () => store.db.query("SELECT underlying, day, iv FROM iv_history ORDER BY day").all() as { underlying: string; day: string; iv: number }[];
  return { engine, store, book, greeks, market0, tracker, now, rows };
}

describe("the ATM IV and the stored history", () => {
  test("the ATM IV is the reference expiry's (first ≥ 7 days out) nearest-strike leg, as the chain solves it", async () => {
    const r = await rig(252, 400);
    // Monday 23 Nov: the 27 Nov weekly is 4 days out, so the reference is 4 Dec, whose only strike is the 247.5 put.
    const chain = priceChain(r.engine, r.greeks, r.market0, "TSLA", "20261204", r.book.strikes("TSLA", "20261204")!, r.now);
    const atm = await r.tracker.atmIv("TSLA", r.now);
    expect(atm).toBe(chain.rows[0]!.put!.iv!);
    expect(atm!).toBeCloseTo(0.5, 2);
    // No options, or no quote: null.
    expect(await r.tracker.atmIv("MSFT", r.now)).toBeNull();
    // Once 4 Dec is the only expiry ahead but under 7 days away, it is still the reference.
    expect(await r.tracker.atmIv("TSLA", Date.parse("2026-11-30T15:00:00Z"))).not.toBeNull();
    expect(await r.tracker.atmIv("TSLA", Date.parse("2026-12-05T15:00:00Z"))).toBeNull();
  });

  test("rank and percentile over the window, worked by hand; a day older than the window is ignored", async () => {
    const r = await rig(5, 400);
    // Today is 2026-11-23. Window 5 = today + the 4 most recent recorded days: 17-20 Nov. 16 Nov's 0.10 lies outside.
    for (const [day, iv] of [["2026-11-16", 0.1], ["2026-11-17", 0.4], ["2026-11-18", 0.6], ["2026-11-19", 0.45], ["2026-11-20", 0.55]] as const) {
      r.tracker.put("TSLA", day, iv, r.now);
    }
    const s = await r.tracker.stats("TSLA", r.now);
    const c = s.atmIv!;
    expect(c).toBeGreaterThan(0.45);
    expect(c).toBeLessThan(0.55);
    // min 0.40, max 0.60: rank = (c − 0.40) / 0.20; below c: 0.40 and 0.45, 2 of 4.
    expect(s.ivRank!).toBeCloseTo(((c - 0.4) / 0.2) * 100, 9);
    expect(s.ivPercentile).toBe(50);
    expect(s).toMatchObject({ ivWindowDays: 5, ivHistoryDays: 4 });
  });

  test("a sample upserts the day's one row (the last sample stays); a later day sees it as history", async () => {
    const r = await rig(252, 400);
    // AAPL has no quote here: nothing to solve, no row.
    expect(await r.tracker.sample(["TSLA", "AAPL"], r.now)).toBe(1);
    expect(r.rows()).toEqual([{ underlying: "TSLA", day: "2026-11-23", iv: (await r.tracker.atmIv("TSLA", r.now))! }]);
    r.tracker.put("TSLA", "2026-11-23", 0.123, r.now); // another value for today
    await r.tracker.sample(["TSLA"], r.now + 60_000);
    // Still one row for the day, holding the last sample (a minute less to expiry: a slightly different IV).
    expect(r.rows()).toEqual([{ underlying: "TSLA", day: "2026-11-23", iv: (await r.tracker.atmIv("TSLA", r.now + 60_000))! }]);
    // The next day, today's row is history: one day, the current equal to it → percentile 0, rank null (flat).
    const next = await r.tracker.stats("TSLA", r.now + DAY);
    expect(next.ivHistoryDays).toBe(1);
  });

  test("bounded: days older than keepDays are deleted at each sample", async () => {
    const r = await rig(3, 10);
    r.tracker.put("TSLA", "2026-11-01", 0.3, r.now);
    r.tracker.put("TSLA", "2026-11-12", 0.3, r.now);
    r.tracker.put("TSLA", "2026-11-14", 0.3, r.now);
    await r.tracker.sample(["TSLA"], r.now);
    // Kept: 10 days back from 23 Nov is 13 Nov; the rows before it are gone.
    expect(r.rows().map((x) => x.day)).toEqual(["2026-11-14", "2026-11-23"]);
    expect(nyDay(r.now - 10 * DAY)).toBe("2026-11-13");
  });
});

describe("served", () => {
  test("the chain replies carry ivRank, ivPercentile and the window over a real server; without a history source they are null", async () => {
    const r = await rig(5, 400);
    for (const [day, iv] of [["2026-11-17", 0.4], ["2026-11-18", 0.6], ["2026-11-19", 0.45], ["2026-11-20", 0.55]] as const) r.tracker.put("TSLA", day, iv, r.now);
    const withIv = await startServer(r.engine, { host: "127.0.0.1", port: 0, rest: { chains: { ivStats: (u, t) => r.tracker.stats(u, t), now: () => r.now } } });
    const plain = await startServer(r.engine, { host: "127.0.0.1", port: 0 });
    cleanups.push(() => withIv.stop(), () => plain.stop());
    const expected = await r.tracker.stats("TSLA", r.now);
    for (const path of ["/v1/chains/TSLA", "/v1/chains/TSLA/2026-11-27?right=put"]) {
      const body = await (await fetch(`${withIv.url}${path}`)).json() as any;
      expect(body).toMatchObject({ ivRank: expected.ivRank, ivPercentile: 50, ivWindowDays: 5, ivHistoryDays: 4 });
      const bare = await (await fetch(`${plain.url}${path}`)).json() as any;
      expect(bare).toMatchObject({ ivRank: null, ivPercentile: null, ivWindowDays: null, ivHistoryDays: 0 });
    }
  });

  test("the app on its defaults: chains and Gen-Acc's candidates carry the 252-day window (no history yet: null)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "alluse-iv-app-"));
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ dataDir: dir, port: 0, feed: { symbols: ["TSLA"], tickRatePerS: 2000, optionExpiries: 2, strikesPerSide: 8 } }));
    const app = await startApp(await loadConfig(["--config", file], {}), createLogger("error", "test", () => {}));
    cleanups.push(async () => { await app.stop(); rmSync(dir, { recursive: true, force: true }); });
    const key = app.trading.keys.create(["trade"], ["Gen-Acc"]).secret;
    await waitFor(() => app.engine.instruments.filter((i) => i.underlying === "TSLA").every((i) => app.engine.quote(i.index).ask !== null), 10_000);
    const get = async (p: string) => (await (await fetch(`${app.server.url}${p}`, { headers: { authorization: `Bearer ${key}` } })).json()) as any;
    const list = await get("/v1/chains/TSLA");
    expect(list).toMatchObject({ ivRank: null, ivPercentile: null, ivWindowDays: 252, ivHistoryDays: 0 });
    const cands = await get("/v1/strategy/candidates?account=Gen-Acc&underlying=TSLA");
    expect(cands).toMatchObject({ account: "Gen-Acc", right: "put", band: { lo: 0.4, hi: 0.5 }, ivWindowDays: 252, ivRank: null });
    for (const c of cands.candidates) {
      expect(Math.abs(c.delta)).toBeGreaterThanOrEqual(0.4);
      expect(Math.abs(c.delta)).toBeLessThanOrEqual(0.5);
      expect(c.contracts * c.strike * 100).toBeLessThanOrEqual(cands.buyingPower);
    }
  });
});
