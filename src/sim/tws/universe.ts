// The simulator's contract universe: the SyntheticMarket's instruments as IB contracts (conIds,
// contract details, option chain parameters) and the lookups TWS does for a request contract.
// Also the model greeks TWS reports in tickOptionComputation, from the market's own parameters.

import { normCdf, normPdf } from "../../domain/blackscholes.ts";
import type { InstrumentSpec } from "../../domain/instrument.ts";
import { fridayExpiries, type SyntheticMarket } from "../../feed/market.ts";
import type { ContractDetailsFields, RequestContract } from "./messages.ts";

/** conIds of stocks start here (instrument number added); options start at OPTION_CONID_BASE. */
export const STOCK_CONID_BASE = 100_000;
/** conIds of options: far from stocks so a mix-up fails loudly. */
export const OPTION_CONID_BASE = 500_000_000;
const CALENDAR_YEAR_MS = 365 * 86_400_000;
/** Listing exchanges by name, for realistic primaryExch values; the rest are NASDAQ. */
const PRIMARY: Readonly<Record<string, string>> = { SPY: "ARCA", QQQ: "NASDAQ", AAPL: "NASDAQ", MSFT: "NASDAQ", TSLA: "NASDAQ", NVDA: "NASDAQ", AMZN: "NASDAQ", META: "NASDAQ", GOOGL: "NASDAQ", AMD: "NASDAQ" };

/** One contract of the universe, with the market instrument it is driven by. */
export interface SimContract extends ContractDetailsFields {
  /** Instrument number in the SyntheticMarket (and row in the simulator's tables). */
  number: number;
  /** Our symbol (stock ticker or option symbol), as the market names it. */
  ourSymbol: string;
  /** Expiry instant, epoch ms, for options (16:00 New York); 0 for stocks. */
  expiryMs: number;
}

/** Model values of one option as TWS reports them: vega per vol point, theta per calendar day. */
export interface ModelGreeks {
  iv: number; delta: number; optPrice: number; pvDividend: number; gamma: number; vega: number; theta: number; undPrice: number;
}

/** The contracts of one SyntheticMarket, indexed every way a request may ask. */
export class Universe {
  /** Contracts by instrument number. */
  readonly contracts: SimContract[] = [];
  private readonly byConId = new Map<number, SimContract>();
  private readonly bySymbol = new Map<string, SimContract[]>();

  constructor(readonly market: SyntheticMarket, startMs: number, optionExpiries: number) {
    const expiryMs = new Map(fridayExpiries(startMs, optionExpiries).map((e) => [e.expiry, e.expiryMs]));
    const specs = market.instruments();
    const stockConId = new Map<string, number>();
    specs.forEach((s, i) => {
      if (s.kind === "stock") stockConId.set(s.symbol, STOCK_CONID_BASE + i);
    });
    specs.forEach((s, i) => this.add(toContract(s, i, stockConId, expiryMs)));
  }

  private add(c: SimContract): void {
    this.contracts.push(c);
    this.byConId.set(c.conId, c);
    const list = this.bySymbol.get(c.symbol) ?? [];
    list.push(c);
    this.bySymbol.set(c.symbol, list);
  }

  /** The contract with this conId. */
  byId(conId: number): SimContract | undefined {
    return this.byConId.get(conId);
  }

  /** Every contract a request contract matches, as TWS matches: conId alone, else the given fields. */
  match(r: RequestContract): SimContract[] {
    if (r.conId > 0) {
      const c = this.byConId.get(r.conId);
      return c ? [c] : [];
    }
    const secType = r.secType.toUpperCase();
    const right = r.right.toUpperCase().startsWith("C") ? "C" : r.right.toUpperCase().startsWith("P") ? "P" : "";
    return (this.bySymbol.get(r.symbol.toUpperCase()) ?? []).filter((c) =>
      c.secType === secType &&
      (r.expiry === "" || c.expiry.startsWith(r.expiry)) &&
      (r.strike === undefined || r.strike === 0 || Math.abs(c.strike - r.strike) < 1e-9) &&
      (right === "" || c.right === right) &&
      (r.currency === "" || r.currency.toUpperCase() === c.currency) &&
      (r.exchange === "" || r.exchange.toUpperCase() === "SMART" || r.exchange.toUpperCase() === c.primaryExch) &&
      (r.localSymbol === "" || r.localSymbol === c.localSymbol) &&
      (r.tradingClass === "" || r.tradingClass === c.tradingClass) &&
      (r.multiplier === "" || Number(r.multiplier) === Number(c.multiplier || 1)));
  }

  /** The option chain of an underlying: expirations and strikes over all of them, sorted. */
  chain(underConId: number): { underlying: SimContract; expirations: string[]; strikes: number[] } | undefined {
    const underlying = this.byConId.get(underConId);
    if (!underlying || underlying.secType !== "STK") return undefined;
    const options = (this.bySymbol.get(underlying.symbol) ?? []).filter((c) => c.secType === "OPT");
    return {
      underlying,
      expirations: [...new Set(options.map((c) => c.expiry))].sort(),
      strikes: [...new Set(options.map((c) => c.strike))].sort((a, b) => a - b),
    };
  }

  /** Black-Scholes model values of an option at the market's current underlying mid. */
  greeks(c: SimContract, nowMs: number): ModelGreeks {
    const m = this.market;
    const spot = m.underlyingMid(c.symbol);
    const iv = m.volOf(c.ourSymbol);
    const r = m.ratePerYear;
    const t = Math.max(c.expiryMs - nowMs, 60_000) / CALENDAR_YEAR_MS;
    const sqrtT = Math.sqrt(t);
    const d1 = (Math.log(spot / c.strike) + (r + 0.5 * iv * iv) * t) / (iv * sqrtT);
    const d2 = d1 - iv * sqrtT;
    const isCall = c.right === "C";
    const disc = Math.exp(-r * t);
    const price = m.theoreticalValue(c.ourSymbol, spot, nowMs);
    const pdf = normPdf(d1);
    const thetaYear = -(spot * pdf * iv) / (2 * sqrtT) + (isCall ? -r * c.strike * disc * normCdf(d2) : r * c.strike * disc * normCdf(-d2));
    return {
      iv, delta: isCall ? normCdf(d1) : normCdf(d1) - 1, optPrice: price, pvDividend: 0,
      gamma: pdf / (spot * iv * sqrtT), vega: (spot * pdf * sqrtT) / 100, theta: thetaYear / 365, undPrice: spot,
    };
  }
}

function toContract(s: InstrumentSpec, number: number, stockConId: Map<string, number>, expiryMs: Map<string, number>): SimContract {
  if (s.kind === "stock") {
    return {
      number, ourSymbol: s.symbol, expiryMs: 0, conId: stockConId.get(s.symbol)!, symbol: s.symbol, secType: "STK", expiry: "", strike: 0,
      right: "", exchange: "SMART", primaryExch: PRIMARY[s.symbol] ?? "NASDAQ", currency: s.currency, localSymbol: s.symbol,
      tradingClass: PRIMARY[s.symbol] === "ARCA" ? s.symbol : "NMS", minTick: s.tickSize, multiplier: "",
      longName: `${s.symbol} (simulated)`, underConId: 0, industry: "Technology",
    };
  }
  const u = s.underlying!, right = s.right!, strike = s.strike!, expiry = s.expiry!;
  return {
    number, ourSymbol: s.symbol, expiryMs: expiryMs.get(expiry) ?? Date.parse(`${expiry.slice(0, 4)}-${expiry.slice(4, 6)}-${expiry.slice(6)}T20:00:00Z`),
    conId: OPTION_CONID_BASE + number, symbol: u, secType: "OPT", expiry, strike, right, exchange: "SMART", primaryExch: "",
    currency: s.currency, localSymbol: occSymbol(u, expiry, right, strike), tradingClass: u, minTick: s.tickSize,
    multiplier: String(s.multiplier), longName: `${u} (simulated)`, underConId: stockConId.get(u)!, industry: "",
  };
}

/** The OCC option symbol IB uses as localSymbol: root padded to 6, YYMMDD, C/P, strike × 1000 in 8 digits. */
export function occSymbol(root: string, expiry: string, right: string, strike: number): string {
  return `${root.padEnd(6, " ")}${expiry.slice(2)}${right}${String(Math.round(strike * 1000)).padStart(8, "0")}`;
}
