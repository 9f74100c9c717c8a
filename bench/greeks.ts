// Micro benchmark: Black-Scholes-Merton greeks and implied volatility, WASM against the same
// formulas in plain TypeScript, on the same 1,024-option batch in the same run.
//
// What one measured operation is: one call pricing a 1,024-option batch already in the
// greeks region (price, delta, gamma, vega, theta, rho per option; calls and puts, spot
// 70–130 % of strike, 1 week to 2 years, vol 10–80 %, r = 4 %, q = 1 %). The TS line runs the
// same BSM formulas over an identical Float64Array, with src/domain's N() (Hart/West, one exp
// per call; the WASM side shares one exp between N(d1) and N(d2)). The IV line solves each option's vol from
// its price (Newton with a bisection fallback) and prices it at the solved vol.
//
// Rerun: bun bench/greeks.ts

import { measure } from "mitata";
import { normCdf, normPdf } from "../src/domain/blackscholes.ts";
import { GreeksEngine, type GreeksLayout } from "../src/risk/greeks.ts";

const BATCH = 1024;

/** One benchmark line. */
export interface GreeksBenchResult {
  name: string;
  /** Median time of one 1,024-option batch, ns. */
  batchNsP50: number;
  /** Options per second at the median. */
  optionsPerS: number;
}

/** Fills `n` rows with a deterministic spread of options. */
function fill(rows: Float64Array, L: GreeksLayout, n: number): void {
  for (let i = 0; i < n; i++) {
    const b = i * L.GREEKS_STRIDE;
    rows[b + L.G_SPOT] = 70 + ((i * 37) % 61);
    rows[b + L.G_STRIKE] = 100;
    rows[b + L.G_TIME] = 0.02 + ((i * 13) % 100) / 50;
    rows[b + L.G_RATE] = 0.04;
    rows[b + L.G_DIV] = 0.01;
    rows[b + L.G_VOL] = 0.1 + ((i * 7) % 71) / 100;
    rows[b + L.G_RIGHT] = i & 1;
  }
}

/** The WASM formulas in plain TS, over the same row layout. */
function greeksTs(rows: Float64Array, L: GreeksLayout, n: number): void {
  for (let i = 0; i < n; i++) {
    const b = i * L.GREEKS_STRIDE;
    const s = rows[b + L.G_SPOT]!, k = rows[b + L.G_STRIKE]!, t = rows[b + L.G_TIME]!;
    const r = rows[b + L.G_RATE]!, q = rows[b + L.G_DIV]!, vol = rows[b + L.G_VOL]!;
    const dfR = Math.exp(-r * t), dfQ = Math.exp(-q * t), sqrtT = Math.sqrt(t), sd = vol * sqrtT;
    const d1 = (Math.log(s / k) + (r - q) * t) / sd + 0.5 * sd;
    const d2 = d1 - sd;
    const sq = s * dfQ, kr = k * dfR, pdf = normPdf(d1);
    const decay = -sq * pdf * vol / (2 * sqrtT);
    rows[b + L.G_GAMMA] = dfQ * pdf / (s * sd);
    rows[b + L.G_VEGA] = sq * pdf * sqrtT;
    if (rows[b + L.G_RIGHT] === 1) {
      const n1 = normCdf(d1), n2 = normCdf(d2);
      rows[b + L.G_PRICE] = sq * n1 - kr * n2;
      rows[b + L.G_DELTA] = dfQ * n1;
      rows[b + L.G_THETA] = decay + q * sq * n1 - r * kr * n2;
      rows[b + L.G_RHO] = kr * t * n2;
    } else {
      const n1 = normCdf(-d1), n2 = normCdf(-d2);
      rows[b + L.G_PRICE] = kr * n2 - sq * n1;
      rows[b + L.G_DELTA] = -dfQ * n1;
      rows[b + L.G_THETA] = decay - q * sq * n1 + r * kr * n2;
      rows[b + L.G_RHO] = -kr * t * n2;
    }
    rows[b + L.G_STATUS] = 0;
  }
}

/** Runs the greeks benchmarks and returns one line per variant. */
export async function benchGreeks(): Promise<GreeksBenchResult[]> {
  const g = await GreeksEngine.create();
  const L = g.layout;
  if (g.capacity < BATCH) throw new Error(`greeks region holds ${g.capacity} options, the benchmark needs ${BATCH}`);
  const line = (name: string, ns: number): GreeksBenchResult => ({ name, batchNsP50: ns, optionsPerS: (BATCH / ns) * 1e9 });
  const results: GreeksBenchResult[] = [];

  fill(g.rows, L, BATCH);
  if (g.greeksBatch(BATCH) !== BATCH) throw new Error("the benchmark batch does not price cleanly");
  const wasm = await measure(() => g.greeksBatch(BATCH), { min_cpu_time: 1_000_000_000 });
  results.push(line("greeks wasm (1,024-option batches)", wasm.p50));

  const tsRows = new Float64Array(g.rows.length);
  fill(tsRows, L, BATCH);
  const ts = await measure(() => greeksTs(tsRows, L, BATCH), { min_cpu_time: 1_000_000_000 });
  results.push(line("greeks ts   (same formulas, same batch)", ts.p50));

  // IV inputs: each option's target is its own price at its vol; the solve overwrites G_VOL only.
  for (let i = 0; i < BATCH; i++) g.rows[i * L.GREEKS_STRIDE + L.G_TARGET] = g.rows[i * L.GREEKS_STRIDE + L.G_PRICE]!;
  const solved = g.impliedVolBatch(BATCH);
  const iv = await measure(() => g.impliedVolBatch(BATCH), { min_cpu_time: 1_000_000_000 });
  results.push(line(`iv solve + greeks wasm (${solved}/${BATCH} solvable)`, iv.p50));
  return results;
}

if (import.meta.main) {
  const rows = await benchGreeks();
  for (const r of rows) {
    console.log(`${r.name.padEnd(48)} ${(r.optionsPerS / 1e6).toFixed(2).padStart(8)} M options/s   (${(r.batchNsP50 / 1000).toFixed(1)} µs per batch)`);
  }
  console.log(`wasm / ts greeks ratio: ${(rows[1]!.batchNsP50 / rows[0]!.batchNsP50).toFixed(2)}×`);
}
