// The client-order-id Bloom filter: no false negatives ever, about 1 % false positives at its
// design size, still correct (just less useful) past it.

import { expect, test } from "bun:test";
import { BloomFilter } from "../../src/oms/bloom.ts";

test("everything added is found; strangers are mostly not, at about the designed rate", () => {
  const f = new BloomFilter(10_000);
  for (let i = 0; i < 10_000; i++) f.add(`Gen-Acc\u0000c${i}`);
  for (let i = 0; i < 10_000; i++) expect(f.mightContain(`Gen-Acc\u0000c${i}`)).toBe(true);
  let fp = 0;
  for (let i = 0; i < 100_000; i++) if (f.mightContain(`Rev-Acc\u0000x${i}`)) fp++;
  expect(fp / 100_000).toBeLessThan(0.02);
});

test("overfilled tenfold it still never forgets", () => {
  const f = new BloomFilter(1000);
  for (let i = 0; i < 10_000; i++) f.add(`k${i}`);
  for (let i = 0; i < 10_000; i++) expect(f.mightContain(`k${i}`)).toBe(true);
  expect(() => new BloomFilter(0)).toThrow(/positive integer/);
});
