// The synthetic market's universe (split out of market.ts, which re-exports the public part):
// start prices and volatilities of the underlyings, and the strike grid and Friday expiries of
// their option chains. Pure functions of the seed, the names and the clock; no tick generation.

import { hashSeed, Rng } from "../domain/random.ts";

/** Start price (USD) and annualised volatility of an underlying. */
export interface SymbolProfile {
  price: number;
  vol: number;
}

/** Plausible 2026 levels and volatilities of the names the ALL-USE protocol trades, plus index ETFs. */
export const DEFAULT_PROFILES: Readonly<Record<string, SymbolProfile>> = {
  TSLA: { price: 420, vol: 0.6 }, NVDA: { price: 185, vol: 0.5 }, AAPL: { price: 255, vol: 0.25 },
  AMZN: { price: 230, vol: 0.32 }, MSFT: { price: 510, vol: 0.24 }, SPY: { price: 680, vol: 0.15 },
  QQQ: { price: 610, vol: 0.19 }, META: { price: 720, vol: 0.35 }, GOOGL: { price: 250, vol: 0.3 },
  AMD: { price: 220, vol: 0.55 },
};

/** The default underlyings. */
export const DEFAULT_SYMBOLS: readonly string[] = Object.keys(DEFAULT_PROFILES);

/** Strike spacing of a chain by price level, as US equity option chains list them near the money. */
export function strikeStep(price: number): number {
  return price < 20 ? 0.5 : price < 100 ? 1 : price < 300 ? 2.5 : price < 1000 ? 5 : 10;
}

const NEW_YORK_HOUR = new Intl.DateTimeFormat("en-US", { timeZone: "America/New_York", hour: "numeric", hourCycle: "h23" });

/** The first `count` Friday expiries (16:00 New York) after `startMs`, as YYYYMMDD and epoch ms. */
export function fridayExpiries(startMs: number, count: number): { expiry: string; expiryMs: number }[] {
  const out: { expiry: string; expiryMs: number }[] = [];
  const start = new Date(startMs);
  for (let d = 0; out.length < count; d++) {
    const day = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate() + d));
    if (day.getUTCDay() !== 5) continue;
    // 16:00 in New York is 20:00 UTC in daylight time and 21:00 UTC in standard time.
    const edt = day.getTime() + 20 * 3_600_000;
    const expiryMs = Number(NEW_YORK_HOUR.format(edt)) === 16 ? edt : edt + 3_600_000;
    if (expiryMs <= startMs) continue;
    const expiry = day.toISOString().slice(0, 10).replaceAll("-", "");
    out.push({ expiry, expiryMs });
  }
  return out;
}

/** The profile of a symbol: the default table, else drawn from the seed and the name; then overrides. */
export function profileOf(symbol: string, seed: number, override: Partial<SymbolProfile> | undefined): SymbolProfile {
  let base = DEFAULT_PROFILES[symbol];
  if (!base) {
    const r = new Rng(hashSeed(symbol, seed >>> 0));
    base = { price: Math.round(Math.exp(r.range(Math.log(10), Math.log(500))) * 100) / 100, vol: Math.round(r.range(0.2, 0.6) * 100) / 100 };
  }
  const p = { ...base, ...override };
  check(Number.isFinite(p.price) && p.price >= 0.05, `start price of ${symbol} must be at least 0.05`);
  check(Number.isFinite(p.vol) && p.vol > 0 && p.vol <= 3, `volatility of ${symbol} must be in (0, 3]`);
  return p;
}

/** Throws a synthetic-market configuration error unless `ok`. */
export function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(`synthetic market: ${message}`);
}
