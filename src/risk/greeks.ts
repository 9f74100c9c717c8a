// Black-Scholes-Merton greeks and implied volatility, computed in the engine's WASM module over
// the greeks region of its shared memory (assembly/greeks.ts). One WASM call per batch of up to
// `capacity` options; the region's layout is read from the module's exports, never restated.

import type { Engine } from "../engine/engine.ts";
import { createWasmCore, wasmInstanceOf } from "../engine/wasm.ts";

/** One option to price. `vol` is used by greeks(); `price` by impliedVols(). */
export interface GreeksInput {
  spot: number;
  strike: number;
  /** Time to expiry in years. */
  tYears: number;
  /** Continuously compounded risk-free rate. */
  rate: number;
  /** Continuous dividend yield. */
  divYield: number;
  right: "C" | "P";
  vol?: number;
  price?: number;
}

/** Why a row has no (or only an intrinsic) result. */
export type GreeksStatus = "ok" | "bad_input" | "no_time" | "below_bound" | "above_bound" | "no_convergence";

/** Price and greeks of one option; vega and rho per 1.00, theta per year. */
export interface GreeksResult {
  status: GreeksStatus;
  /** The volatility used: the input vol, or the solved implied vol (NaN when none). */
  vol: number;
  price: number;
  delta: number;
  gamma: number;
  vega: number;
  theta: number;
  rho: number;
}

/** Field indexes and status codes of the greeks region, as the module exports them. */
const FIELD_NAMES = [
  "G_SPOT", "G_STRIKE", "G_TIME", "G_RATE", "G_DIV", "G_VOL", "G_TARGET", "G_RIGHT", "G_PRICE", "G_DELTA",
  "G_GAMMA", "G_VEGA", "G_THETA", "G_RHO", "G_IV", "G_STATUS", "GREEKS_STRIDE", "GREEKS_CAPACITY", "greeksOffset",
  "GS_OK", "GS_BAD_INPUT", "GS_NO_TIME", "GS_BELOW_BOUND", "GS_ABOVE_BOUND", "GS_NO_CONVERGENCE",
] as const;

/** The greeks region's layout, read from the module. */
export type GreeksLayout = Record<(typeof FIELD_NAMES)[number], number>;

interface GreeksExports {
  greeksBatch(count: number): number;
  impliedVolBatch(count: number): number;
}

/** Computes greeks and implied vols in WASM; not reentrant (one shared region). */
export class GreeksEngine {
  /** Rows one batch call holds. */
  readonly capacity: number;
  /** The region as f64 rows of `layout.GREEKS_STRIDE` fields: the zero-allocation batch path. */
  readonly rows: Float64Array;
  private readonly statusNames: GreeksStatus[] = [];

  private constructor(readonly layout: GreeksLayout, private readonly ex: GreeksExports, buffer: ArrayBufferLike) {
    this.capacity = layout.GREEKS_CAPACITY;
    this.rows = new Float64Array(buffer, layout.greeksOffset, layout.GREEKS_CAPACITY * layout.GREEKS_STRIDE);
    const L = layout;
    this.statusNames[L.GS_OK] = "ok";
    this.statusNames[L.GS_BAD_INPUT] = "bad_input";
    this.statusNames[L.GS_NO_TIME] = "no_time";
    this.statusNames[L.GS_BELOW_BOUND] = "below_bound";
    this.statusNames[L.GS_ABOVE_BOUND] = "above_bound";
    this.statusNames[L.GS_NO_CONVERGENCE] = "no_convergence";
  }

  /**
   * Uses the engine's own WASM instance and memory; an engine on the TypeScript core gets a
   * small standalone instance of the same module instead (the region is the same layout).
   */
  static async create(engine?: Engine): Promise<GreeksEngine> {
    let instance = engine ? wasmInstanceOf(engine.core.buffer) : undefined;
    let buffer = engine?.core.buffer;
    if (!instance) {
      const core = await createWasmCore({ maxInstruments: 1, ringCapacity: 1, barHistory: 1, maxAccounts: 1 });
      instance = wasmInstanceOf(core.buffer);
      buffer = core.buffer;
    }
    if (!instance || !buffer) throw new Error("no WASM instance for the greeks region");
    const layout = {} as GreeksLayout;
    for (const name of FIELD_NAMES) {
      const g = instance.exports[name];
      if (!(g instanceof WebAssembly.Global)) throw new Error(`engine module does not export global ${name}`);
      layout[name] = Number(g.value);
    }
    return new GreeksEngine(layout, instance.exports as unknown as GreeksExports, buffer);
  }

  /** Prices rows 0..count-1 of `rows` at their G_VOL in one WASM call; returns rows priced OK. */
  greeksBatch(count: number): number {
    return this.checked(this.ex.greeksBatch(count), count);
  }

  /** Solves rows 0..count-1 for implied vol from G_TARGET and prices them; returns rows solved. */
  impliedVolBatch(count: number): number {
    return this.checked(this.ex.impliedVolBatch(count), count);
  }

  /** Greeks at each input's `vol`. */
  greeks(inputs: readonly GreeksInput[]): GreeksResult[] {
    return this.run(inputs, false);
  }

  /** Implied vol from each input's `price`, and the greeks at that vol. */
  impliedVols(inputs: readonly GreeksInput[]): GreeksResult[] {
    return this.run(inputs, true);
  }

  private checked(rc: number, count: number): number {
    if (rc < 0) throw new Error(`greeks batch of ${count} failed with code ${rc} (capacity ${this.capacity})`);
    return rc;
  }

  private run(inputs: readonly GreeksInput[], solve: boolean): GreeksResult[] {
    const L = this.layout;
    const S = L.GREEKS_STRIDE;
    const r = this.rows;
    const out: GreeksResult[] = [];
    for (let start = 0; start < inputs.length; start += this.capacity) {
      const n = Math.min(this.capacity, inputs.length - start);
      for (let i = 0; i < n; i++) {
        const inp = inputs[start + i]!;
        const b = i * S;
        r[b + L.G_SPOT] = inp.spot;
        r[b + L.G_STRIKE] = inp.strike;
        r[b + L.G_TIME] = inp.tYears;
        r[b + L.G_RATE] = inp.rate;
        r[b + L.G_DIV] = inp.divYield;
        r[b + L.G_VOL] = inp.vol ?? NaN;
        r[b + L.G_TARGET] = inp.price ?? NaN;
        r[b + L.G_RIGHT] = inp.right === "C" ? 1 : 0;
      }
      if (solve) this.impliedVolBatch(n); else this.greeksBatch(n);
      for (let i = 0; i < n; i++) {
        const b = i * S;
        out.push({
          status: this.statusNames[r[b + L.G_STATUS]!]!,
          vol: r[b + L.G_VOL]!,
          price: r[b + L.G_PRICE]!,
          delta: r[b + L.G_DELTA]!,
          gamma: r[b + L.G_GAMMA]!,
          vega: r[b + L.G_VEGA]!,
          theta: r[b + L.G_THETA]!,
          rho: r[b + L.G_RHO]!,
        });
      }
    }
    return out;
  }
}
