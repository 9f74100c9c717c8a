// A Bloom filter over client order ids: "certainly new" without a database lookup for almost
// every order, in memory fixed at start. A false positive only costs the lookup it saves, so
// the filter may fill past its design size and stays correct, just less useful.

import { hashSeed } from "../domain/random.ts";

/** A fixed-size Bloom filter of strings. */
export class BloomFilter {
  private readonly bits: Uint32Array;
  private readonly mask: number;
  /** Items added (for the false-positive estimate). */
  count = 0;

  // The hashes of the last item: a new order asks mightContain and then add for the same
  // key, so the second hashing is skipped.
  private last: string | undefined;
  private h1 = 0;
  private h2 = 0;

  /**
   * Sized for `capacity` items at about 1 % false positives (9.6 bits and 7 probes an item),
   * rounded up to a power of two bits: 1 M ids take 2 MiB.
   */
  constructor(readonly capacity: number, private readonly probes = 7) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`bloom capacity must be a positive integer, got ${capacity}`);
    let n = 1024;
    while (n < capacity * 9.6) n *= 2;
    this.bits = new Uint32Array(n / 32);
    this.mask = n - 1;
  }

  /** Adds an item. */
  add(item: string): void {
    this.hash(item);
    const h1 = this.h1, h2 = this.h2;
    for (let i = 0; i < this.probes; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.count++;
  }

  /** False when the item was certainly never added. */
  mightContain(item: string): boolean {
    this.hash(item);
    const h1 = this.h1, h2 = this.h2;
    for (let i = 0; i < this.probes; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  private hash(item: string): void {
    if (item === this.last) return;
    this.h1 = hashSeed(item, 0x9747b28c);
    this.h2 = hashSeed(item, 0x85ebca6b) | 1;
    this.last = item;
  }
}
