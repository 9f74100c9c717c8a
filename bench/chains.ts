// Micro benchmark: a full option-chain recompute — 10 underlyings × 4 weekly expiries × 80
// strikes × call and put = 6,400 legs — with implied vol solved from each leg's mid and the
// greeks priced at it, in WASM against the same algorithm in plain TypeScript, same run.
//
// Two lines per side:
// - "full": what GET /v1/chains does for every chain: read the quotes from the engine, build
//   the inputs, solve and price, build the reply rows (src/options/chains.ts priceChain, one
//   impliedVols call per chain). The TS side runs the very same function with a plain-TS
//   solver behind the same interface, so only the solver differs.
// - "core": only the solve-and-price over the 6,400 rows already laid out (WASM: the greeks
//   region, 7 impliedVolBatch calls of ≤ 1,024; TS: the same rows in a Float64Array).
// The TS solver is assembly/greeks.ts ported line for line (Cody's N(), the shared exp between
// N(d1) and N(d2), Newton on vega inside a shrinking bracket with bisection fallback), and the
// benchmark checks that both sides agree on every IV before it times anything.
//
// Rerun: bun bench/chains.ts

import { measure } from "mitata";
import { optionSymbol } from "../src/domain/instrument.ts";
import { bsPrice } from "../src/domain/blackscholes.ts";
import { TickKind } from "../src/domain/tick.ts";
import { Engine } from "../src/engine/engine.ts";
import { fridayExpiries } from "../src/feed/market.ts";
import { ChainBook, priceChain } from "../src/options/chains.ts";
import { GreeksEngine, type GreeksInput, type GreeksLayout, type GreeksResult, type GreeksStatus } from "../src/risk/greeks.ts";

const UNDERLYINGS = 10;
const EXPIRIES = 4;
const STRIKES = 80;
const MARKET = { rate: 0.04, divYield: 0 };

// ---- the WASM solver in plain TS (assembly/greeks.ts) ------------------------------------------

const INV_SQRT_2PI = 0.3989422804014327;
const SQRT_32 = 5.656854249492380195206754896838;
const IV_MIN = 1e-6;
const IV_MAX = 10.0;
const IV_MAX_ITER = 100;

function cdfWithGauss(x: number, gauss: number): number {
  if (Number.isNaN(x)) return x;
  const y = Math.abs(x);
  if (y <= 0.67448975) {
    const z = y > 1.1102230246251565e-16 ? x * x : 0.0;
    let num = 0.065682337918207449113 * z;
    let den = z;
    num = (num + 2.2352520354606839287) * z; den = (den + 47.20258190468824187) * z;
    num = (num + 161.02823106855587881) * z; den = (den + 976.09855173777669322) * z;
    num = (num + 1067.6894854603709582) * z; den = (den + 10260.932208618978205) * z;
    return 0.5 + x * (num + 18154.981253343561249) / (den + 45507.789335026729956);
  }
  let tail: number;
  if (y <= SQRT_32) {
    let num = 1.0765576773720192317e-8 * y;
    let den = y;
    num = (num + 0.39894151208813466764) * y; den = (den + 22.266688044328115691) * y;
    num = (num + 8.8831497943883759412) * y; den = (den + 235.38790178262499861) * y;
    num = (num + 93.506656132177855979) * y; den = (den + 1519.377599407554805) * y;
    num = (num + 597.27027639480026226) * y; den = (den + 6485.558298266760755) * y;
    num = (num + 2494.5375852903726711) * y; den = (den + 18615.571640885098091) * y;
    num = (num + 6848.1904505362823326) * y; den = (den + 34900.952721145977266) * y;
    num = (num + 11602.651437647350124) * y; den = (den + 38912.003286093271411) * y;
    tail = gauss * (num + 9842.7148383839780218) / (den + 19685.429676859990727);
  } else if (y < 38.5) {
    const z = 1.0 / (y * y);
    let num = 0.02307344176494017303 * z;
    let den = z;
    num = (num + 0.21589853405795699) * z; den = (den + 1.28426009614491121) * z;
    num = (num + 0.1274011611602473639) * z; den = (den + 0.468238212480865118) * z;
    num = (num + 0.022235277870649807) * z; den = (den + 0.0659881378689285515) * z;
    num = (num + 0.001421619193227893466) * z; den = (den + 0.00378239633202758244) * z;
    const r = z * (num + 2.9112874951168792e-5) / (den + 7.29751555083966205e-5);
    tail = gauss * (INV_SQRT_2PI - r) / y;
  } else {
    tail = 0;
  }
  return x > 0 ? 1.0 - tail : tail;
}

/** Price and greeks of one option, written into `o` (price, delta, gamma, vega, theta, rho). */
function priceTs(o: Float64Array, s: number, k: number, t: number, r: number, q: number, vol: number, isCall: boolean): void {
  const dfR = Math.exp(-r * t), dfQ = Math.exp(-q * t), sqrtT = Math.sqrt(t), sd = vol * sqrtT;
  if (!(sd > 0)) {
    const fwd = s * dfQ - k * dfR;
    const itm = isCall ? fwd > 0 : fwd < 0;
    o[0] = itm ? (isCall ? fwd : -fwd) : 0; o[1] = itm ? (isCall ? dfQ : -dfQ) : 0; o[2] = 0; o[3] = 0;
    o[4] = itm ? (isCall ? q * s * dfQ - r * k * dfR : r * k * dfR - q * s * dfQ) : 0;
    o[5] = itm ? (isCall ? k * t * dfR : -k * t * dfR) : 0;
    return;
  }
  const d1 = (Math.log(s / k) + (r - q) * t) / sd + 0.5 * sd;
  const d2 = d1 - sd;
  const sq = s * dfQ, kr = k * dfR;
  const g1 = Math.exp(-0.5 * d1 * d1);
  let g2 = g1 * (sq / kr);
  if (g1 === 0 || !Number.isFinite(g2)) g2 = Math.exp(-0.5 * d2 * d2);
  const pdf = INV_SQRT_2PI * g1;
  const decay = -sq * pdf * vol / (2 * sqrtT);
  o[2] = dfQ * pdf / (s * sd);
  o[3] = sq * pdf * sqrtT;
  if (isCall) {
    const n1 = cdfWithGauss(d1, g1), n2 = cdfWithGauss(d2, g2);
    o[0] = sq * n1 - kr * n2; o[1] = dfQ * n1; o[4] = decay + q * sq * n1 - r * kr * n2; o[5] = kr * t * n2;
  } else {
    const n1 = cdfWithGauss(-d1, g1), n2 = cdfWithGauss(-d2, g2);
    o[0] = kr * n2 - sq * n1; o[1] = -dfQ * n1; o[4] = decay - q * sq * n1 + r * kr * n2; o[5] = -kr * t * n2;
  }
}

const scratch = new Float64Array(6);
let solveStatus: GreeksStatus = "ok";

function settled(s: number, k: number, t: number, r: number, q: number, target: number, isCall: boolean, vol: number, lo: number, hi: number): number {
  if (hi === IV_MAX) {
    priceTs(scratch, s, k, t, r, q, IV_MAX, isCall);
    if (scratch[0]! < target) { solveStatus = "above_bound"; return NaN; }
  }
  if (lo === IV_MIN) {
    priceTs(scratch, s, k, t, r, q, IV_MIN, isCall);
    if (scratch[0]! > target) { solveStatus = "below_bound"; return NaN; }
  }
  solveStatus = "ok";
  return vol;
}

function solveVolTs(s: number, k: number, t: number, r: number, q: number, target: number, isCall: boolean): number {
  const sq = s * Math.exp(-q * t), kr = k * Math.exp(-r * t);
  const lower = isCall ? Math.max(sq - kr, 0) : Math.max(kr - sq, 0);
  const upper = isCall ? sq : kr;
  if (!(target > lower)) { solveStatus = "below_bound"; return NaN; }
  if (!(target < upper)) { solveStatus = "above_bound"; return NaN; }
  let lo = IV_MIN, hi = IV_MAX;
  let vol = Math.sqrt(2 * Math.abs(Math.log(sq / kr)) / t);
  if (!(vol > 0.2)) vol = 0.2;
  if (vol > hi) vol = 0.5 * (lo + hi);
  const tol = 1e-14 * Math.max(1.0, target);
  for (let n = 0; n < IV_MAX_ITER; n++) {
    priceTs(scratch, s, k, t, r, q, vol, isCall);
    const diff = scratch[0]! - target;
    if (Math.abs(diff) <= tol) { solveStatus = "ok"; return vol; }
    if (diff > 0) hi = vol; else lo = vol;
    let next = vol - diff / scratch[3]!;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - vol) <= 1e-15 * vol) return settled(s, k, t, r, q, target, isCall, next, lo, hi);
    vol = next;
  }
  solveStatus = lo >= IV_MAX * 0.999999 ? "above_bound" : "no_convergence";
  return NaN;
}

/** The plain-TS solver behind GreeksEngine's impliedVols() interface. */
const tsSolver = {
  impliedVols(inputs: readonly GreeksInput[]): GreeksResult[] {
    return inputs.map((i) => {
      const isCall = i.right === "C";
      const vol = i.tYears > 0 ? solveVolTs(i.spot, i.strike, i.tYears, i.rate, i.divYield, i.price!, isCall) : NaN;
      if (!(i.tYears > 0)) solveStatus = "no_time";
      if (solveStatus !== "ok") return { status: solveStatus, vol, price: NaN, delta: NaN, gamma: NaN, vega: NaN, theta: NaN, rho: NaN };
      const o = new Float64Array(6);
      priceTs(o, i.spot, i.strike, i.tYears, i.rate, i.divYield, vol, isCall);
      return { status: "ok", vol, price: o[0]!, delta: o[1]!, gamma: o[2]!, vega: o[3]!, theta: o[4]!, rho: o[5]! };
    });
  },
};

/** Solves rows 0..n-1 laid out as the greeks region, in TS (the "core" line). */
function impliedVolRowsTs(rows: Float64Array, L: GreeksLayout, n: number): void {
  const o = new Float64Array(6);
  for (let i = 0; i < n; i++) {
    const b = i * L.GREEKS_STRIDE;
    const s = rows[b + L.G_SPOT]!, k = rows[b + L.G_STRIKE]!, t = rows[b + L.G_TIME]!, r = rows[b + L.G_RATE]!, q = rows[b + L.G_DIV]!;
    const isCall = rows[b + L.G_RIGHT] === 1;
    const vol = solveVolTs(s, k, t, r, q, rows[b + L.G_TARGET]!, isCall);
    rows[b + L.G_IV] = vol;
    rows[b + L.G_VOL] = vol;
    priceTs(o, s, k, t, r, q, vol, isCall);
    rows[b + L.G_PRICE] = o[0]!; rows[b + L.G_DELTA] = o[1]!; rows[b + L.G_GAMMA] = o[2]!; rows[b + L.G_VEGA] = o[3]!;
    rows[b + L.G_THETA] = o[4]!; rows[b + L.G_RHO] = o[5]!;
  }
}

// ---- the market ----------------------------------------------------------------------------------

/** An engine holding 10 underlyings × 4 Friday expiries × 80 strikes, calls and puts, quoted around Black-Scholes with a smile. */
async function buildMarket(nowMs: number): Promise<{ engine: Engine; chains: { und: string; expiry: string }[] }> {
  const n = UNDERLYINGS * (1 + EXPIRIES * STRIKES * 2);
  const engine = await Engine.create({ core: "wasm", maxInstruments: 8192, ringCapacity: 16384 });
  const expiries = fridayExpiries(nowMs, EXPIRIES);
  const chains: { und: string; expiry: string }[] = [];
  for (let u = 0; u < UNDERLYINGS; u++) {
    const und = `U${u}`;
    const spot = 50 + u * 40;
    engine.addInstrument({ symbol: und, kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" });
    engine.write(engine.instrument(und)!.index, TickKind.Bid, spot - 0.01, 100, nowMs);
    engine.write(engine.instrument(und)!.index, TickKind.Ask, spot + 0.01, 100, nowMs);
    const step = spot / 100;
    for (const ex of expiries) {
      chains.push({ und, expiry: ex.expiry });
      const t = (ex.expiryMs - nowMs) / (365 * 86_400_000);
      for (let j = 0; j < STRIKES; j++) {
        const strike = Math.round((spot + (j - STRIKES / 2) * step) * 100) / 100;
        const m = Math.log(strike / spot);
        const vol = 0.25 + 0.3 * m * m - 0.1 * m + u * 0.02;
        for (const right of ["C", "P"] as const) {
          const symbol = optionSymbol(und, ex.expiry, right, strike);
          engine.addInstrument({ symbol, kind: "option", tickSize: 0.01, multiplier: 100, currency: "USD", underlying: und, expiry: ex.expiry, strike, right });
          const fair = bsPrice(right === "C", spot, strike, t, vol, MARKET.rate);
          const bid = Math.max(0.01, Math.round((fair - 0.02) * 100) / 100);
          const row = engine.instrument(symbol)!.index;
          engine.write(row, TickKind.Bid, bid, 10, nowMs);
          engine.write(row, TickKind.Ask, bid + 0.04, 10, nowMs);
        }
      }
    }
  }
  engine.flush(nowMs);
  if (engine.instruments.length !== n) throw new Error(`built ${engine.instruments.length} instruments, expected ${n}`);
  return { engine, chains };
}

/** Rounds of alternating WASM / TS measurements. */
const ROUNDS = 11;

/** One benchmark line: WASM against TS on the same work, same run. */
export interface ChainBenchResult {
  name: string;
  /** Median over rounds of the median time of one recompute of all 6,400 legs, ms. */
  wasmMsP50: number;
  tsMsP50: number;
  /** Legs per second of the WASM side at its median. */
  wasmLegsPerS: number;
  /** Median over rounds of TS time / WASM time measured in the same round (> 1: WASM faster). */
  tsOverWasm: number;
  tsOverWasmRange: [number, number];
}

/** Runs the chain benchmarks; returns one line per variant and the largest IV difference between the two solvers. */
export async function benchChains(): Promise<{ results: ChainBenchResult[]; legs: number; solved: number; maxIvDiff: number }> {
  const now = Date.now();
  const { engine, chains } = await buildMarket(now);
  const book = new ChainBook(engine);
  const greeks = await GreeksEngine.create(engine);
  const strikes = chains.map((c) => book.strikes(c.und, c.expiry)!);
  const legs = UNDERLYINGS * EXPIRIES * STRIKES * 2;
  const all = (solver: Pick<GreeksEngine, "impliedVols">) => chains.map((c, i) => priceChain(engine, solver, MARKET, c.und, c.expiry, strikes[i]!, now));

  // Both solvers must agree before either is timed.
  const w = all(greeks), t = all(tsSolver);
  let maxIvDiff = 0, solved = 0;
  w.forEach((chain, i) => chain.rows.forEach((row, j) => {
    for (const side of ["call", "put"] as const) {
      const a = row[side]!, b = t[i]!.rows[j]![side]!;
      if (a.status !== b.status) throw new Error(`${a.symbol}: WASM ${a.status}, TS ${b.status}`);
      if (a.iv !== null) { solved++; maxIvDiff = Math.max(maxIvDiff, Math.abs(a.iv - b.iv!)); }
    }
  }));

  // The core: the 6,400 rows laid out once (as the chains had them), solved in place.
  const flat = w.flatMap((c) => c.rows.flatMap((row) => (["call", "put"] as const).map((side) =>
    ({ spot: c.spot!, strike: row.strike, tYears: c.tYears, right: side === "call" ? 1 : 0, target: row[side]!.mid! }))));
  const L = greeks.layout;
  const S = L.GREEKS_STRIDE;
  const layout = (rows: Float64Array, from: number, n: number) => {
    for (let i = 0; i < n; i++) {
      const x = flat[from + i]!;
      const b = i * S;
      rows[b + L.G_SPOT] = x.spot; rows[b + L.G_STRIKE] = x.strike; rows[b + L.G_TIME] = x.tYears; rows[b + L.G_RATE] = MARKET.rate;
      rows[b + L.G_DIV] = MARKET.divYield; rows[b + L.G_TARGET] = x.target; rows[b + L.G_RIGHT] = x.right;
    }
  };
  const cap = greeks.capacity;
  const batches: Float64Array[] = [];
  for (let from = 0; from < legs; from += cap) {
    const n = Math.min(cap, legs - from);
    const rows = new Float64Array(cap * S);
    layout(rows, from, n);
    batches.push(rows);
  }
  const wasmCore = () => {
    for (let b = 0; b < batches.length; b++) {
      const n = Math.min(cap, legs - b * cap);
      greeks.rows.set(batches[b]!.subarray(0, n * S));
      greeks.impliedVolBatch(n);
    }
  };
  const tsRows = batches.map((b) => b.slice());
  const tsCore = () => {
    for (let b = 0; b < tsRows.length; b++) impliedVolRowsTs(tsRows[b]!, L, Math.min(cap, legs - b * cap));
  };
  const results = [
    await pair("full recompute (40 chains: quotes → inputs → solve + greeks → reply rows; 1 batch call per chain)", () => all(greeks), () => all(tsSolver), legs),
    await pair("core solve + greeks (6,400 rows already laid out; WASM: 7 impliedVolBatch calls)", wasmCore, tsCore, legs),
  ];
  return { results, legs, solved, maxIvDiff };
}

/**
 * Times WASM and TS in alternating rounds (the order swapped each round), each round a short
 * mitata measure of both: on a shared, loaded machine the load drifts by 2× within a minute, so
 * the ratio is taken within each round and the median of the rounds is reported.
 */
async function pair(name: string, wasm: () => unknown, ts: () => unknown, legs: number): Promise<ChainBenchResult> {
  const opts = { min_cpu_time: 250_000_000 };
  const w: number[] = [], t: number[] = [], ratio: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const first = round % 2 === 0 ? wasm : ts;
    const second = round % 2 === 0 ? ts : wasm;
    const a = (await measure(first, opts)).p50, b = (await measure(second, opts)).p50;
    const [wNs, tNs] = round % 2 === 0 ? [a, b] : [b, a];
    w.push(wNs); t.push(tNs); ratio.push(tNs / wNs);
  }
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  return {
    name, wasmMsP50: med(w) / 1e6, tsMsP50: med(t) / 1e6, wasmLegsPerS: (legs / med(w)) * 1e9, tsOverWasm: med(ratio),
    tsOverWasmRange: [Math.min(...ratio), Math.max(...ratio)],
  };
}

if (import.meta.main) {
  const { results, legs, solved, maxIvDiff } = await benchChains();
  console.log(`${legs} legs (${UNDERLYINGS} underlyings × ${EXPIRIES} expiries × ${STRIKES} strikes × C/P), ${solved} with an IV; max |IV WASM − IV TS| = ${maxIvDiff.toExponential(2)}`);
  for (const r of results) {
    console.log(r.name);
    console.log(`  WASM ${r.wasmMsP50.toFixed(2)} ms (${(r.wasmLegsPerS / 1e6).toFixed(3)} M legs/s)   TS ${r.tsMsP50.toFixed(2)} ms   TS/WASM ${r.tsOverWasm.toFixed(2)}× (rounds ${r.tsOverWasmRange[0].toFixed(2)}–${r.tsOverWasmRange[1].toFixed(2)})`);
  }
}
