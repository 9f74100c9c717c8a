// Instruments: stocks and option contracts. An instrument's index is its row in every engine
// table; indexes are dense, assigned in definition order, and never reused while running.

/** Call or put. */
export type OptionRight = "C" | "P";

/** A tradable instrument as the rest of the system sees it. */
export interface Instrument {
  /** Row in the engine's tables. */
  index: number;
  /** Unique symbol: a stock ticker, or the option symbol from optionSymbol(). */
  symbol: string;
  kind: "stock" | "option";
  /** Minimum price increment. */
  tickSize: number;
  /** Contract multiplier: 1 for stocks, 100 for equity options. */
  multiplier: number;
  /** Currency of prices. */
  currency: string;
  /** Underlying symbol, for options. */
  underlying?: string;
  /** Expiry date as YYYYMMDD, for options. */
  expiry?: string;
  strike?: number;
  right?: OptionRight;
}

/** What a feed or caller says about an instrument to be added to the engine. */
export type InstrumentSpec = Omit<Instrument, "index"> & {
  /** Jump band as a fraction of the reference price (default 0.1 for stocks, 1.0 for options). */
  jumpBand?: number;
  /** Absolute part of the jump band in ticks (default 5). */
  jumpFloorTicks?: number;
};

/** Plain symbol characters: letters, digits, dot, dash, slash; 1 to 32 of them. */
export const SYMBOL_PATTERN = /^[A-Z0-9][A-Z0-9.\-/]{0,31}$/;

/** Builds the option symbol: UNDERLYING-YYYYMMDD-C|P-STRIKE, e.g. AAPL-20261127-C-202.5. */
export function optionSymbol(underlying: string, expiry: string, right: OptionRight, strike: number): string {
  return `${underlying}-${expiry}-${right}-${strike}`;
}

/** Parses an option symbol; returns undefined for anything that is not one. */
export function parseOptionSymbol(symbol: string): { underlying: string; expiry: string; right: OptionRight; strike: number } | undefined {
  const m = /^([A-Z0-9.]+)-(\d{8})-([CP])-(\d+(?:\.\d+)?)$/.exec(symbol);
  if (!m) return undefined;
  return { underlying: m[1]!, expiry: m[2]!, right: m[3] as OptionRight, strike: Number(m[4]) };
}

/** Options expire at 16:00 New York; 21:00 UTC is that time in winter (EST), within an hour all year. */
const EXPIRY_UTC_HOUR = 21;

/** The expiry instant of an option expiring on YYYYMMDD, epoch ms. */
export function expiryMs(expiry: string): number {
  const y = Number(expiry.slice(0, 4)), m = Number(expiry.slice(4, 6)), d = Number(expiry.slice(6, 8));
  return Date.UTC(y, m - 1, d, EXPIRY_UTC_HOUR);
}
