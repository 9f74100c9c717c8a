// A seeded pseudo-random generator for simulations and tests: xoshiro128** (Blackman and
// Vigna) on 32-bit words, seeded through splitmix32 so that nearby seeds give unrelated
// streams. It is deterministic on every platform because it uses only 32-bit integer
// arithmetic (Math.imul, >>>), and it allocates nothing after construction, so a market
// generator can draw millions of numbers per second without garbage.

/** Hashes a string to a 32-bit seed (FNV-1a followed by a murmur3 finaliser). */
export function hashSeed(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A deterministic xoshiro128** stream with uniform, integer and normal draws. */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  // Box-Muller yields normals in pairs; the second one is kept for the next call.
  private spare = 0;
  private hasSpare = false;

  /** Seeds the stream from a number (hashed from its decimal form, so 1 and 1.5 differ) or a string. */
  constructor(seed: number | string) {
    let x = typeof seed === "string" ? hashSeed(seed) : hashSeed(String(seed));
    const next = (): number => {
      // splitmix32: every state word depends on the whole seed, and the state is never all zero
      // because splitmix32 is a bijection on a counter that advances by an odd constant.
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A stream starting from an explicit xoshiro128** state (for checking against reference vectors). */
  static fromState(s0: number, s1: number, s2: number, s3: number): Rng {
    if (((s0 | s1 | s2 | s3) >>> 0) === 0) throw new Error("xoshiro128** state must not be all zero");
    const r = new Rng(0);
    r.s0 = s0 >>> 0;
    r.s1 = s1 >>> 0;
    r.s2 = s2 >>> 0;
    r.s3 = s3 >>> 0;
    return r;
  }

  /** The next uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 32 random bits (ample for simulation). */
  next(): number {
    return this.nextU32() * 2.3283064365386963e-10;
  }

  /** A uniform double in (0, 1]: safe to take the logarithm of. */
  nextOpen(): number {
    return (this.nextU32() + 1) * 2.3283064365386963e-10;
  }

  /** A uniform integer in [0, n) for 1 <= n <= 2^32. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A uniform double in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** A standard normal draw (Box-Muller, polar-free form). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const r = Math.sqrt(-2 * Math.log(this.nextOpen()));
    const theta = 6.283185307179586 * this.next();
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return r * Math.cos(theta);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
