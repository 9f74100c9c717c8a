// Black-Scholes-Merton (continuous dividend yield) prices, greeks and implied volatility over
// the greeks region of the shared memory. The host fills up to GREEKS_CAPACITY rows of inputs
// and makes one call per batch; nothing is allocated and every loop has a stated bound.
//
// Conventions: vega and rho are per 1.00 of volatility and rate (divide by 100 for "per
// point"), theta is per year (divide by 365 for per calendar day), all on one option.

import {
  GREEKS_CAPACITY, G_SPOT, G_STRIKE, G_TIME, G_RATE, G_DIV, G_VOL, G_TARGET, G_RIGHT, G_PRICE, G_DELTA, G_GAMMA,
  G_VEGA, G_THETA, G_RHO, G_IV, G_STATUS, GREEKS_STRIDE, GS_OK, GS_BAD_INPUT, GS_NO_TIME, GS_BELOW_BOUND,
  GS_ABOVE_BOUND, GS_NO_CONVERGENCE, E_BAD_CAPACITY, E_NOT_INITIALISED, greeksOffset, maxInstruments,
} from "./layout";

const INV_SQRT_2PI: f64 = 0.3989422804014327;
const SQRT_32: f64 = 5.656854249492380195206754896838;
/** Bounds of the implied-volatility search, annualised. */
const IV_MIN: f64 = 1e-6;
const IV_MAX: f64 = 10.0;
/** Iteration bound of the solver: Newton converges in < 10; bisection halves 1e7 to 1e-15 in ~75. */
const IV_MAX_ITER: i32 = 100;

// exp(-y²/2) computed as exp(-a²/2)·exp(-(y-a)(y+a)/2) with a = y rounded down to 1/16, which
// keeps the cancellation error of y² out of the exponent (Cody's device).
@inline function halfGaussTail(y: f64): f64 {
  const a = Math.trunc(y * 16) / 16;
  const del = (y - a) * (y + a);
  return Math.exp(-a * a * 0.5) * Math.exp(-del * 0.5);
}

/**
 * The standard normal CDF to about 1e-16 relative in both tails: W. J. Cody's rational
 * Chebyshev approximations of erf/erfc ("Rational Chebyshev approximations for the error
 * function", Math. Comp. 23, 1969), in three ranges of |x|.
 */
export function normCdf(x: f64): f64 {
  return cdfWithGauss(x, halfGaussTail(Math.abs(x)));
}

/**
 * Cody's N(x) with the factor exp(-x²/2) supplied by the caller (unused when |x| <= 0.674), so
 * the greeks can derive exp(-d2²/2) from exp(-d1²/2) without another exp().
 */
@inline function cdfWithGauss(x: f64, gauss: f64): f64 {
  if (isNaN(x)) return x;
  const y = Math.abs(x);
  if (y <= 0.67448975) {
    // Centre: x · R(x²) with Cody's first approximation.
    const z = y > 1.1102230246251565e-16 ? x * x : 0.0;
    let num = 0.065682337918207449113 * z;
    let den = z;
    num = (num + 2.2352520354606839287) * z; den = (den + 47.20258190468824187) * z;
    num = (num + 161.02823106855587881) * z; den = (den + 976.09855173777669322) * z;
    num = (num + 1067.6894854603709582) * z; den = (den + 10260.932208618978205) * z;
    return 0.5 + x * (num + 18154.981253343561249) / (den + 45507.789335026729956);
  }
  let tail: f64;
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
    // Far tail: an asymptotic series in 1/x².
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

@inline function field(row: usize, f: i32): f64 { return load<f64>(row + (<usize>f << 3)); }
@inline function setField(row: usize, f: i32, v: f64): void { store<f64>(row + (<usize>f << 3), v); }
@inline function rowAt(i: u32): usize { return greeksOffset + ((<usize>i * <usize>GREEKS_STRIDE) << 3); }

/** Checks the inputs shared by both batch calls; returns GS_OK or GS_BAD_INPUT. */
function checkInputs(s: f64, k: f64, t: f64, r: f64, q: f64, right: f64): i32 {
  if (!(s > 0) || !(k > 0) || !isFinite(s) || !isFinite(k)) return GS_BAD_INPUT;
  if (!(t >= 0) || !isFinite(t) || !isFinite(r) || !isFinite(q)) return GS_BAD_INPUT;
  if (right != 0 && right != 1) return GS_BAD_INPUT;
  return GS_OK;
}

/** Writes the price and greeks of one option at volatility `vol`; returns the status. */
export function priceRow(row: usize, s: f64, k: f64, t: f64, r: f64, q: f64, vol: f64, isCall: bool): i32 {
  const dfR = Math.exp(-r * t);
  const dfQ = Math.exp(-q * t);
  const sqrtT = Math.sqrt(t);
  const sd = vol * sqrtT;
  if (!(sd > 0)) {
    // At expiry or with no volatility the option is worth the discounted forward intrinsic.
    const fwd = s * dfQ - k * dfR;
    const itm = isCall ? fwd > 0 : fwd < 0;
    setField(row, G_PRICE, itm ? (isCall ? fwd : -fwd) : 0);
    setField(row, G_DELTA, itm ? (isCall ? dfQ : -dfQ) : 0);
    setField(row, G_GAMMA, 0);
    setField(row, G_VEGA, 0);
    // Theta and rho are the derivatives of that discounted intrinsic value, the limits of the
    // formulas below as vol → 0 (the density term vanishes, N(±d) → 1 in the money, 0 out of it).
    setField(row, G_THETA, itm ? (isCall ? q * s * dfQ - r * k * dfR : r * k * dfR - q * s * dfQ) : 0);
    setField(row, G_RHO, itm ? (isCall ? k * t * dfR : -k * t * dfR) : 0);
    return t > 0 ? GS_OK : GS_NO_TIME;
  }
  const d1 = (Math.log(s / k) + (r - q) * t) / sd + 0.5 * sd;
  const d2 = d1 - sd;
  const sq = s * dfQ;
  const kr = k * dfR;
  // exp(-d2²/2) = exp(-d1²/2) · sq/kr exactly, which saves two of the four exps per option.
  const g1 = Math.exp(-0.5 * d1 * d1);
  let g2 = g1 * (sq / kr);
  if (g1 == 0 || !isFinite(g2)) g2 = Math.exp(-0.5 * d2 * d2);
  const pdf = INV_SQRT_2PI * g1;
  const decay = -sq * pdf * vol / (2 * sqrtT);
  setField(row, G_GAMMA, dfQ * pdf / (s * sd));
  setField(row, G_VEGA, sq * pdf * sqrtT);
  if (isCall) {
    const n1 = cdfWithGauss(d1, g1);
    const n2 = cdfWithGauss(d2, g2);
    setField(row, G_PRICE, sq * n1 - kr * n2);
    setField(row, G_DELTA, dfQ * n1);
    setField(row, G_THETA, decay + q * sq * n1 - r * kr * n2);
    setField(row, G_RHO, kr * t * n2);
  } else {
    const n1 = cdfWithGauss(-d1, g1);
    const n2 = cdfWithGauss(-d2, g2);
    setField(row, G_PRICE, kr * n2 - sq * n1);
    setField(row, G_DELTA, -dfQ * n1);
    setField(row, G_THETA, decay - q * sq * n1 + r * kr * n2);
    setField(row, G_RHO, -kr * t * n2);
  }
  return GS_OK;
}

/**
 * Prices rows 0..count-1 of the greeks region at their G_VOL: writes G_PRICE, the greeks and
 * G_STATUS. Returns the number of rows priced with GS_OK, or an E_* code.
 */
export function greeksBatch(count: u32): i32 {
  if (maxInstruments == 0) return E_NOT_INITIALISED;
  if (count > GREEKS_CAPACITY) return E_BAD_CAPACITY;
  let ok: i32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const row = rowAt(i);
    const s = field(row, G_SPOT), k = field(row, G_STRIKE), t = field(row, G_TIME);
    const r = field(row, G_RATE), q = field(row, G_DIV), vol = field(row, G_VOL), right = field(row, G_RIGHT);
    let st = checkInputs(s, k, t, r, q, right);
    if (st == GS_OK && !(vol >= 0 && isFinite(vol))) st = GS_BAD_INPUT;
    if (st == GS_OK) st = priceRow(row, s, k, t, r, q, vol, right == 1);
    else setField(row, G_PRICE, NaN);
    setField(row, G_STATUS, <f64>st);
    if (st == GS_OK) ok++;
  }
  return ok;
}

// The reason the last solveVol() returned NaN (GS_OK when it succeeded).
let solveStatus: i32 = GS_OK;

/**
 * The search stopped moving at `vol`. If one side of the bracket is still the search bound it
 * was never priced, so a search that only ever saw prices on one side of the target has merely
 * walked up to IV_MAX (or down to IV_MIN): price the bound to tell a vol just inside it from a
 * target beyond it, which is above_bound (or below_bound), not a solution.
 */
function settled(row: usize, s: f64, k: f64, t: f64, r: f64, q: f64, target: f64, isCall: bool, vol: f64, lo: f64, hi: f64): f64 {
  if (hi == IV_MAX) {
    priceRow(row, s, k, t, r, q, IV_MAX, isCall);
    if (field(row, G_PRICE) < target) { solveStatus = GS_ABOVE_BOUND; return NaN; }
  }
  if (lo == IV_MIN) {
    priceRow(row, s, k, t, r, q, IV_MIN, isCall);
    if (field(row, G_PRICE) > target) { solveStatus = GS_BELOW_BOUND; return NaN; }
  }
  solveStatus = GS_OK;
  return vol;
}

/**
 * Solves the volatility that prices the option at `target`: Newton steps on vega kept inside a
 * bracket [lo, hi] that every evaluation narrows, with a bisection step whenever Newton would
 * leave the bracket. Returns the volatility, or NaN with the reason in `solveStatus`.
 */
export function solveVol(row: usize, s: f64, k: f64, t: f64, r: f64, q: f64, target: f64, isCall: bool): f64 {
  const sq = s * Math.exp(-q * t);
  const kr = k * Math.exp(-r * t);
  const lower = isCall ? Math.max(sq - kr, 0) : Math.max(kr - sq, 0);
  const upper = isCall ? sq : kr;
  if (!(target > lower)) { solveStatus = GS_BELOW_BOUND; return NaN; }
  if (!(target < upper)) { solveStatus = GS_ABOVE_BOUND; return NaN; }
  let lo = IV_MIN;
  let hi = IV_MAX;
  // Start where the time value is centred: sqrt(2|ln(F/K)| / t), floored at 20 % vol.
  let vol = Math.sqrt(2 * Math.abs(Math.log(sq / kr)) / t);
  if (!(vol > 0.2)) vol = 0.2;
  if (vol > hi) vol = 0.5 * (lo + hi);
  const tol = 1e-14 * Math.max(1.0, target);
  for (let n = 0; n < IV_MAX_ITER; n++) {
    priceRow(row, s, k, t, r, q, vol, isCall);
    const diff = field(row, G_PRICE) - target;
    if (Math.abs(diff) <= tol) { solveStatus = GS_OK; return vol; }
    if (diff > 0) hi = vol; else lo = vol;
    const vega = field(row, G_VEGA);
    let next = vol - diff / vega;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - vol) <= 1e-15 * vol) return settled(row, s, k, t, r, q, target, isCall, next, lo, hi);
    vol = next;
  }
  if (lo >= IV_MAX * 0.999999) { solveStatus = GS_ABOVE_BOUND; return NaN; }
  solveStatus = GS_NO_CONVERGENCE;
  return NaN;
}

/**
 * Solves the implied volatility of rows 0..count-1 from their G_TARGET price and prices them at
 * it: writes G_IV, G_VOL, G_PRICE, the greeks and G_STATUS (NaN outputs when there is no
 * solution). Returns the number solved, or an E_* code.
 */
export function impliedVolBatch(count: u32): i32 {
  if (maxInstruments == 0) return E_NOT_INITIALISED;
  if (count > GREEKS_CAPACITY) return E_BAD_CAPACITY;
  let ok: i32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const row = rowAt(i);
    const s = field(row, G_SPOT), k = field(row, G_STRIKE), t = field(row, G_TIME);
    const r = field(row, G_RATE), q = field(row, G_DIV), target = field(row, G_TARGET), right = field(row, G_RIGHT);
    let st = checkInputs(s, k, t, r, q, right);
    if (st == GS_OK && !isFinite(target)) st = GS_BAD_INPUT;
    if (st == GS_OK && !(t > 0)) st = GS_NO_TIME;
    let vol: f64 = NaN;
    if (st == GS_OK) {
      vol = solveVol(row, s, k, t, r, q, target, right == 1);
      st = solveStatus;
    }
    setField(row, G_IV, vol);
    setField(row, G_VOL, vol);
    if (st == GS_OK) {
      priceRow(row, s, k, t, r, q, vol, right == 1);
      ok++;
    } else {
      setField(row, G_PRICE, NaN);
      setField(row, G_DELTA, NaN);
      setField(row, G_GAMMA, NaN);
      setField(row, G_VEGA, NaN);
      setField(row, G_THETA, NaN);
      setField(row, G_RHO, NaN);
    }
    setField(row, G_STATUS, <f64>st);
  }
  return ok;
}
