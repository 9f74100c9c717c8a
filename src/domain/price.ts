// Prices are fixed-point: an integer number of price units, PRICE_SCALE units per 1.0.
// Dividing an exact integer by a power of ten gives the double nearest the decimal, so
// fromUnits() always yields the canonical number for a price (0.1 + 0.2 noise never appears).

/** Price units per 1.0 of price; must equal PRICE_SCALE in assembly/layout.ts (checked at load). */
export const PRICE_SCALE = 1e8;

/** Converts a decimal price to the nearest integer number of price units. */
export function toUnits(price: number): number {
  return Math.round(price * PRICE_SCALE);
}

/** Converts integer price units back to a decimal price. */
export function fromUnits(units: number): number {
  return units / PRICE_SCALE;
}

/** Rounds a decimal price to the nearest multiple of `tickSize`, returning a decimal price. */
export function roundToTick(price: number, tickSize: number): number {
  const tick = toUnits(tickSize);
  return fromUnits(Math.floor((price * PRICE_SCALE) / tick + 0.5) * tick);
}
