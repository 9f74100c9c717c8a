// Money is fixed-point too: an integer number of micros (1e-6 of the currency) held in a
// double, exact up to 2^53 micros ≈ $9 billion — ample for an account, and fine enough that
// IBKR's $0.005 a share and every price on a 0.0001 grid times a whole quantity is exact.
// Prices are price units (PRICE_SCALE = 1e8 per 1.0); one micro is 100 price units.

import { PRICE_SCALE } from "./price.ts";

/** Micros per 1.0 of currency. */
export const MONEY_SCALE = 1e6;

/** Price units per micro (PRICE_SCALE / MONEY_SCALE). */
const UNITS_PER_MICRO = PRICE_SCALE / MONEY_SCALE;

/** Converts a decimal amount of money to integer micros. */
export function toMicros(amount: number): number {
  return Math.round(amount * MONEY_SCALE);
}

/** Converts integer micros back to a decimal amount. */
export function fromMicros(micros: number): number {
  return micros / MONEY_SCALE;
}

/**
 * Value of `qty` at a price in price units with a contract multiplier, in micros. The price is
 * scaled down first so the product stays below 2^53 for any price under $90 M and any
 * quantity the order manager accepts.
 */
export function notionalMicros(priceUnits: number, qty: number, multiplier: number): number {
  return Math.round(priceUnits / UNITS_PER_MICRO) * qty * multiplier;
}
