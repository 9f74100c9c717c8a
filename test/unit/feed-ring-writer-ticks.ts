// The known tick sequence shared by feed-ring-writer.test.ts and its worker fixture.

/** Fills `out` with tick k: instrument k mod `instruments`, a price on the 0.01 grid within 2 % of 100, size 1..97. */
export function knownTick(k: number, instruments: number, out: { index: number; price: number; size: number }): void {
  out.index = k % instruments;
  out.price = (10_000 + ((k * 31) % 200)) / 100;
  out.size = 1 + (k % 97);
}
