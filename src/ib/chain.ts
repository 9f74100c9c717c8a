// Choosing the bounded slice of an option chain the feed subscribes to: the nearest expiries
// and the strikes around the underlying's price. Pure functions, so the choice is testable
// without a connection.

import type { SnapshotPrices } from "./requests.ts";

/** The first `count` expirations (YYYYMMDD) on or after `todayYmd`, in date order. */
export function pickExpiries(expirations: readonly string[], todayYmd: string, count: number): string[] {
  return [...new Set(expirations)].filter((e) => /^\d{8}$/.test(e) && e >= todayYmd).sort().slice(0, count);
}

/** The strike nearest `spot` and `perSide` strikes each side of it (fewer at the ends of the list), ascending. */
export function pickStrikes(strikes: readonly number[], spot: number, perSide: number): number[] {
  const sorted = [...new Set(strikes)].filter((k) => k > 0).sort((a, b) => a - b);
  if (sorted.length === 0 || !(spot > 0)) return [];
  let atm = 0;
  for (let i = 1; i < sorted.length; i++) if (Math.abs(sorted[i]! - spot) < Math.abs(sorted[atm]! - spot)) atm = i;
  return sorted.slice(Math.max(0, atm - perSide), atm + perSide + 1);
}

/** The price to centre a chain on: the mid when both sides are quoted, else the last trade, else the close. */
export function referencePrice(p: SnapshotPrices): number | undefined {
  if (p.bid !== undefined && p.ask !== undefined && p.bid > 0 && p.ask >= p.bid) return (p.bid + p.ask) / 2;
  if (p.last !== undefined && p.last > 0) return p.last;
  if (p.close !== undefined && p.close > 0) return p.close;
  return undefined;
}

const NY_DATE = new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York", year: "numeric", month: "2-digit", day: "2-digit" });

/** Today's New York date as YYYYMMDD: US option expiries are New York dates. */
export function newYorkYmd(atMs: number = Date.now()): string {
  return NY_DATE.format(new Date(atMs)).replaceAll("-", "");
}
