// Black-Scholes-Merton prices of European calls and puts, with a continuous dividend yield.
// Plain doubles, no allocation: the synthetic market prices an option on every option tick.
// The WASM greeks and the implied-volatility solver are a separate module; this one only
// needs to be right and cheap, and the tests pin it to published values and to parity.

/** The standard normal density. */
export function normPdf(x: number): number {
  return 0.3989422804014327 * Math.exp(-0.5 * x * x);
}

/**
 * The standard normal cumulative distribution, accurate to about 1e-14 everywhere: Hart's
 * (1968) rational approximation in the centre and a continued fraction in the tails, as given
 * by G. West, "Better approximations to cumulative normal functions" (2005).
 */
export function normCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  let tail: number;
  if (a > 37) {
    tail = 0;
  } else {
    const e = Math.exp(-0.5 * a * a);
    if (a < 7.07106781186547) {
      let n = 3.52624965998911e-2 * a + 0.700383064443688;
      n = n * a + 6.37396220353165;
      n = n * a + 33.912866078383;
      n = n * a + 112.079291497871;
      n = n * a + 221.213596169931;
      n = n * a + 220.206867912376;
      let d = 8.83883476483184e-2 * a + 1.75566716318264;
      d = d * a + 16.064177579207;
      d = d * a + 86.7807322029461;
      d = d * a + 296.564248779674;
      d = d * a + 637.333633378831;
      d = d * a + 793.826512519948;
      d = d * a + 440.413735824752;
      tail = (e * n) / d;
    } else {
      let b = a + 0.65;
      b = a + 4 / b;
      b = a + 3 / b;
      b = a + 2 / b;
      b = a + 1 / b;
      tail = e / b / 2.506628274631;
    }
  }
  return x > 0 ? 1 - tail : tail;
}

/**
 * Price of a European option. `tYears` is the time to expiry in years, `vol` the annualised
 * volatility, `rate` and `divYield` continuously compounded annual rates. At or after expiry,
 * or with zero volatility, the price is the discounted intrinsic value of the forward.
 */
export function bsPrice(isCall: boolean, spot: number, strike: number, tYears: number, vol: number, rate = 0, divYield = 0): number {
  if (!(spot > 0) || !(strike > 0)) return NaN;
  const t = tYears > 0 ? tYears : 0;
  const dfR = Math.exp(-rate * t);
  const fwdDisc = spot * Math.exp(-divYield * t);
  const sd = vol * Math.sqrt(t);
  if (!(sd > 0)) {
    const intrinsic = isCall ? fwdDisc - strike * dfR : strike * dfR - fwdDisc;
    return intrinsic > 0 ? intrinsic : 0;
  }
  const d1 = (Math.log(spot / strike) + (rate - divYield) * t) / sd + 0.5 * sd;
  const d2 = d1 - sd;
  return isCall
    ? fwdDisc * normCdf(d1) - strike * dfR * normCdf(d2)
    : strike * dfR * normCdf(-d2) - fwdDisc * normCdf(-d1);
}
