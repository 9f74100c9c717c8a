// Resolving the configured universe to IB contracts: each stock by contract details, and for
// each a bounded slice of its option chain (reqSecDefOptParams for expiries and strikes, a
// snapshot for the price to centre on, contract details per expiry and right). Bounded by the
// account's market data lines; the line count is checked before anything is subscribed.

import { type Contract, type ContractDetails, OptionType, SecType } from "@stoqey/ib";
import { type InstrumentSpec, optionSymbol } from "../domain/instrument.ts";
import type { Logger } from "../log.ts";
import { newYorkYmd, pickExpiries, pickStrikes, referencePrice } from "./chain.ts";
import { IbCode, isNotSubscribed } from "./codes.ts";
import { IbRequestError, type IbRequests } from "./requests.ts";
import type { IbSession } from "./session.ts";

/** An instrument with the contract that subscribes it. */
export interface IbInstrument {
  spec: InstrumentSpec;
  contract: Contract;
}

/** What to resolve. */
export interface IbUniverse {
  symbols: readonly string[];
  /** Nearest expiries per underlying, 0 for stocks only. */
  optionExpiries: number;
  strikesPerSide: number;
  currency: string;
  /** Market data lines of the account: more instruments is an error. */
  maxLines: number;
}

/** Resolves a universe through one session. */
export class IbInstrumentResolver {
  /** True once a snapshot needed delayed data (the connection was switched to type 3). */
  delayed = false;
  private opts!: IbUniverse;

  constructor(private readonly session: IbSession, private readonly requests: IbRequests, private readonly log: Logger) {}

  /** Stocks first (in the order given), then each underlying's options by expiry, strike, right. */
  async resolve(universe: IbUniverse): Promise<IbInstrument[]> {
    this.opts = universe;
    const stocks = await Promise.all(universe.symbols.map((s) => this.resolveStock(s)));
    const lines = stocks.map((d) => stockLine(d));
    this.checkLines(lines.length, "stocks");
    if (universe.optionExpiries > 0) {
      const chains = await Promise.all(stocks.map((d) => this.optionLines(d)));
      for (const c of chains) lines.push(...c);
    }
    this.checkLines(lines.length, "stocks and options");
    return lines;
  }

  private checkLines(count: number, what: string): void {
    if (count > this.opts.maxLines) {
      throw new Error(`ib feed: ${count} ${what} need ${count} market data lines but maxLines is ${this.opts.maxLines}; ` +
        "reduce symbols, option expiries or strikes per side, or raise ib.maxLines if the account has more lines");
    }
  }

  private async resolveStock(symbol: string): Promise<ContractDetails> {
    const currency = this.opts.currency;
    let found: ContractDetails[];
    try {
      found = await this.requests.contractDetails({ symbol, secType: SecType.STK, exchange: "SMART", currency });
    } catch (err) {
      if (err instanceof IbRequestError && err.code === IbCode.NoSecurityDefinition) throw new Error(`ib feed: IB knows no ${currency} stock ${symbol} (200)`);
      throw err;
    }
    const d = found.find((x) => x.contract.currency === currency && x.contract.conId);
    if (!d) throw new Error(`ib feed: IB knows no ${currency} stock ${symbol}`);
    return d;
  }

  private async optionLines(stock: ContractDetails): Promise<IbInstrument[]> {
    const { symbol, conId } = stock.contract as Required<Pick<Contract, "symbol" | "conId">>;
    const chains = await this.requests.optionChains(symbol, SecType.STK, conId);
    const chain = chains.find((c) => c.exchange === "SMART") ?? chains[0];
    if (!chain) {
      this.log.warn("ib: no listed options", { symbol });
      return [];
    }
    const expiries = pickExpiries(chain.expirations, newYorkYmd(), this.opts.optionExpiries);
    const spot = await this.spot(symbol, conId);
    const strikes = new Set(pickStrikes(chain.strikes, spot, this.opts.strikesPerSide));
    const out: IbInstrument[] = [];
    for (const expiry of expiries) {
      for (const right of [OptionType.Call, OptionType.Put]) {
        const details = await this.requests.contractDetails({
          symbol, secType: SecType.OPT, lastTradeDateOrContractMonth: expiry, right, exchange: "SMART",
          currency: stock.contract.currency, tradingClass: chain.tradingClass, multiplier: chain.multiplier,
        });
        for (const d of details) if (strikes.has(d.contract.strike!)) out.push(optionLine(d, symbol));
      }
    }
    return out.sort((a, b) => a.spec.expiry!.localeCompare(b.spec.expiry!) || a.spec.strike! - b.spec.strike! || a.spec.right!.localeCompare(b.spec.right!));
  }

  /** The underlying's price to centre its chain on; falls back to delayed data on 354. */
  private async spot(symbol: string, conId: number): Promise<number> {
    const contract: Contract = { conId, exchange: "SMART" };
    let prices;
    try {
      prices = await this.requests.snapshot(contract);
    } catch (err) {
      if (!(err instanceof IbRequestError && typeof err.code === "number" && isNotSubscribed(err.code))) throw err;
      if (!this.delayed) {
        this.delayed = true;
        await this.session.request("reqMarketDataType 3", (api) => api.reqMarketDataType(3));
      }
      prices = await this.requests.snapshot(contract);
    }
    const ref = referencePrice(prices);
    if (ref === undefined) throw new Error(`ib feed: no price for ${symbol} to centre its option chain on`);
    return ref;
  }
}

function stockLine(d: ContractDetails): IbInstrument {
  const c = d.contract;
  return {
    spec: { symbol: c.symbol!, kind: "stock", tickSize: d.minTick || 0.01, multiplier: 1, currency: c.currency ?? "USD" },
    contract: { conId: c.conId, exchange: "SMART" },
  };
}

function optionLine(d: ContractDetails, underlying: string): IbInstrument {
  const c = d.contract;
  const expiry = c.lastTradeDateOrContractMonth!.slice(0, 8);
  const right = c.right === OptionType.Call ? "C" : "P";
  return {
    spec: {
      symbol: optionSymbol(underlying, expiry, right, c.strike!), kind: "option", tickSize: d.minTick || 0.01, multiplier: c.multiplier || 100,
      currency: c.currency ?? "USD", underlying, expiry, strike: c.strike!, right,
    },
    contract: { conId: c.conId, exchange: "SMART" },
  };
}
