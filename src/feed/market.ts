// The synthetic market: a pure, seeded generator of realistic ticks for stocks and a small
// weekly option chain on each. Same seed and same sequence of generate() calls give the same
// ticks, bit for bit. Time is whatever the caller passes: the real-time driver (synthetic.ts)
// passes the wall clock, tests pass a virtual clock.
//
// Cost model, per tick: a handful of uniform draws, at most one normal (the underlying's
// diffusion step), one Black-Scholes price for option ticks, no allocation. The state lives in
// typed arrays indexed by instrument number: stocks first (0..stocks-1), then their options.
// The universe (profiles, strikes, expiries) is in market-universe.ts and the catalogue of
// invalid ticks in market-bad-ticks.ts; both are re-exported here.

import { bsPrice } from "../domain/blackscholes.ts";
import { type InstrumentSpec, type OptionRight, optionSymbol, SYMBOL_PATTERN } from "../domain/instrument.ts";
import { Rng } from "../domain/random.ts";
import { TickKind as K } from "../domain/tick.ts";
import { nowMs, TRADING_YEAR_MS } from "../domain/time.ts";
import type { InstrumentIndex, TickSink } from "./feed.ts";
import { BAD_TICK_KINDS, type BadTickKind } from "./market-bad-ticks.ts";
import { check, DEFAULT_SYMBOLS, fridayExpiries, profileOf, strikeStep, type SymbolProfile } from "./market-universe.ts";

/** Profiles, strikes and expiries of the universe (market-universe.ts). */
export { DEFAULT_PROFILES, DEFAULT_SYMBOLS, fridayExpiries, strikeStep, type SymbolProfile } from "./market-universe.ts";
/** The kinds of invalid ticks and their reject reasons (market-bad-ticks.ts). */
export { BAD_TICK_KINDS, BAD_TICK_REASONS, type BadTickKind } from "./market-bad-ticks.ts";

/** Options of the synthetic market; every field has a default. */
export interface SyntheticMarketOptions {
  /** Underlying symbols (default DEFAULT_SYMBOLS). */
  symbols?: readonly string[];
  /** Seed of every random draw (default 1). */
  seed?: number;
  /** Virtual clock at construction, epoch ms: sets the expiries and the first diffusion step (default now). */
  startMs?: number;
  /** Per-symbol start price and volatility, over DEFAULT_PROFILES and the seeded profile of unknown names. */
  profiles?: Readonly<Record<string, Partial<SymbolProfile>>>;
  /** Weekly expiries per underlying, 0 for no options (default 2). */
  optionExpiries?: number;
  /** Strikes each side of the at-the-money strike (default 5). */
  strikesPerSide?: number;
  /** Share of ticks on options, in [0, 1] (default 0.5; ignored without options). */
  optionShare?: number;
  /** Share of valid ticks that are trades (default 0.1). */
  tradeShare?: number;
  /** Share of valid ticks that change a displayed size only (default 0.1). */
  sizeShare?: number;
  /** Share of ticks made deliberately invalid, in [0, 0.5] (default 0.001). */
  badTickRate?: number;
  /** Risk-free rate for option prices, continuously compounded (default 0.04). */
  ratePerYear?: number;
}

/** Every tick of this market is on a 0.01 grid: prices are integer ticks divided by this. */
const TICKS_PER_DOLLAR = 100;
const TICK_SIZE = 1 / TICKS_PER_DOLLAR;
/** Option time to expiry is quoted ACT/365, as traders quote implied volatility. */
const CALENDAR_YEAR_MS = 365 * 86_400_000;
/** Stock spread in ticks per dollar of price per unit of volatility: TSLA 420 × 0.6 → about 6 ticks. */
const STOCK_SPREAD_PER_VOL = 0.024;
/** Option spread in ticks per dollar of premium per unit of implied volatility: a 12.00 call at 0.6 → about 14 ticks. */
const OPTION_SPREAD_PER_VOL = 2;
const STOCK_JUMP_BAND = 0.1;
const OPTION_JUMP_BAND = 1.0;
const JUMP_FLOOR_TICKS = 5;
const MAX_LOTS = 50;
const MAX_CONTRACTS = 50;

/** A seeded, deterministic generator of stock and option ticks. */
export class SyntheticMarket {
  /** Number of underlyings (instrument numbers 0..stockCount-1). */
  readonly stockCount: number;
  /** Number of options (instrument numbers after the stocks). */
  readonly optionCount: number;
  /** Ticks generated so far, valid and invalid. */
  ticks = 0;
  /** Invalid ticks generated so far. */
  badTicks = 0;
  private readonly specs: InstrumentSpec[] = [];
  private readonly numberOf = new Map<string, number>();
  private readonly rng: Rng;
  private readonly optionShare: number;
  private readonly tradeShare: number;
  private readonly sizeShare: number;
  private readonly badRate: number;
  private readonly rate: number;
  // Per instrument.
  private readonly under: Int32Array;
  private readonly isCall: Uint8Array;
  private readonly strike: Float64Array;
  private readonly expiryMs: Float64Array;
  private readonly vol: Float64Array;
  private readonly spreadCoef: Float64Array;
  private readonly closeTicks: Float64Array;
  private readonly closeSent: Uint8Array;
  private readonly bidT: Float64Array;
  private readonly askT: Float64Array;
  private readonly theoSpot: Float64Array;
  private readonly theoTs: Float64Array;
  private readonly theoValue: Float64Array;
  // Per underlying (indexed by the stock's instrument number).
  private readonly mid: Float64Array;
  private readonly midTs: Float64Array;
  private readonly driftPerMs: Float64Array;
  private readonly sigmaPerSqrtMs: Float64Array;
  private readonly badCounts = new Float64Array(BAD_TICK_KINDS.length);
  private lastTsMs: number;
  private rows = new Int32Array(0);
  private rowsFor: InstrumentIndex | null = null;

  constructor(opts: SyntheticMarketOptions = {}) {
    const symbols = opts.symbols ?? DEFAULT_SYMBOLS;
    const seed = opts.seed ?? 1;
    const startMs = opts.startMs ?? nowMs();
    const expiries = opts.optionExpiries ?? 2;
    const perSide = opts.strikesPerSide ?? 5;
    this.tradeShare = opts.tradeShare ?? 0.1;
    this.sizeShare = opts.sizeShare ?? 0.1;
    this.badRate = opts.badTickRate ?? 0.001;
    this.rate = opts.ratePerYear ?? 0.04;
    check(symbols.length > 0 && new Set(symbols).size === symbols.length, "symbols must be a non-empty list without duplicates");
    for (const s of symbols) check(SYMBOL_PATTERN.test(s) && !s.includes("-"), `symbol ${JSON.stringify(s)} is not a plain ticker`);
    check(Number.isFinite(startMs), "startMs must be finite");
    check(Number.isInteger(expiries) && expiries >= 0 && expiries <= 8, "optionExpiries must be an integer in [0, 8]");
    check(Number.isInteger(perSide) && perSide >= 0 && perSide <= 50, "strikesPerSide must be an integer in [0, 50]");
    check(this.badRate >= 0 && this.badRate <= 0.5, "badTickRate must be in [0, 0.5]");
    check(this.tradeShare >= 0 && this.sizeShare >= 0 && this.tradeShare + this.sizeShare <= 1, "tradeShare + sizeShare must be in [0, 1]");
    check(Number.isFinite(this.rate), "ratePerYear must be finite");
    this.rng = new Rng(seed);
    this.lastTsMs = startMs;

    const profiles = symbols.map((s) => profileOf(s, seed, opts.profiles?.[s]));
    const expiryList = expiries > 0 ? fridayExpiries(startMs, expiries) : [];
    type Opt = { spec: InstrumentSpec; u: number; expiryMs: number; iv: number };
    const options: Opt[] = [];
    symbols.forEach((sym, u) => {
      const { price, vol } = profiles[u]!;
      this.addSpec({ symbol: sym, kind: "stock", tickSize: TICK_SIZE, multiplier: 1, currency: "USD", jumpBand: STOCK_JUMP_BAND, jumpFloorTicks: JUMP_FLOOR_TICKS });
      const step = strikeStep(price);
      const atm = Math.round(price / step);
      for (const ex of expiryList) {
        const tYears = Math.max(ex.expiryMs - startMs, 86_400_000) / CALENDAR_YEAR_MS;
        for (let k = atm - perSide; k <= atm + perSide; k++) {
          const strike = Math.round(k * step * 1e4) / 1e4;
          if (!(strike > 0)) continue;
          // A mild equity smile: implied vol rises for low strikes (skew) and in both wings.
          const z = Math.log(strike / price) / (vol * Math.sqrt(tYears));
          const iv = vol * Math.min(2.5, Math.max(0.5, 1 - 0.05 * z + 0.02 * z * z));
          for (const right of ["C", "P"] as OptionRight[]) {
            const spec: InstrumentSpec = {
              symbol: optionSymbol(sym, ex.expiry, right, strike), kind: "option", tickSize: TICK_SIZE, multiplier: 100,
              currency: "USD", underlying: sym, expiry: ex.expiry, strike, right, jumpBand: OPTION_JUMP_BAND, jumpFloorTicks: JUMP_FLOOR_TICKS,
            };
            options.push({ spec, u, expiryMs: ex.expiryMs, iv });
          }
        }
      }
    });
    for (const o of options) this.addSpec(o.spec);
    this.stockCount = symbols.length;
    this.optionCount = options.length;
    this.optionShare = this.optionCount > 0 ? (opts.optionShare ?? 0.5) : 0;
    check(this.optionShare >= 0 && this.optionShare <= 1, "optionShare must be in [0, 1]");

    const n = this.specs.length;
    this.under = new Int32Array(n); this.isCall = new Uint8Array(n); this.strike = new Float64Array(n);
    this.expiryMs = new Float64Array(n); this.vol = new Float64Array(n); this.spreadCoef = new Float64Array(n);
    this.closeTicks = new Float64Array(n); this.closeSent = new Uint8Array(n); this.bidT = new Float64Array(n);
    this.askT = new Float64Array(n); this.theoSpot = new Float64Array(n); this.theoTs = new Float64Array(n);
    this.theoValue = new Float64Array(n);
    this.mid = new Float64Array(this.stockCount); this.midTs = new Float64Array(this.stockCount);
    this.driftPerMs = new Float64Array(this.stockCount); this.sigmaPerSqrtMs = new Float64Array(this.stockCount);
    profiles.forEach(({ price, vol }, u) => {
      this.under[u] = u;
      this.vol[u] = vol;
      this.spreadCoef[u] = vol * STOCK_SPREAD_PER_VOL;
      this.closeTicks[u] = Math.max(1, Math.round(price * TICKS_PER_DOLLAR));
      this.mid[u] = price;
      this.midTs[u] = startMs;
      // GBM in trading time: the engine annualises realised variance by TRADING_YEAR_MS too.
      const varPerMs = (vol * vol) / TRADING_YEAR_MS;
      this.driftPerMs[u] = -0.5 * varPerMs;
      this.sigmaPerSqrtMs[u] = Math.sqrt(varPerMs);
    });
    options.forEach((o, j) => {
      const i = this.stockCount + j;
      this.under[i] = o.u;
      this.isCall[i] = o.spec.right === "C" ? 1 : 0;
      this.strike[i] = o.spec.strike!;
      this.expiryMs[i] = o.expiryMs;
      this.vol[i] = o.iv;
      this.spreadCoef[i] = Math.min(o.iv, 1) * OPTION_SPREAD_PER_VOL;
      this.closeTicks[i] = Math.max(1, Math.round(this.theo(i, profiles[o.u]!.price, startMs) * TICKS_PER_DOLLAR));
    });
  }

  private addSpec(spec: InstrumentSpec): void {
    check(!this.numberOf.has(spec.symbol), `duplicate instrument ${spec.symbol}`);
    this.numberOf.set(spec.symbol, this.specs.length);
    this.specs.push(spec);
  }

  /** Every instrument the market ticks, stocks first; fixed at construction. */
  instruments(): InstrumentSpec[] {
    return this.specs.map((s) => ({ ...s }));
  }

  /** Invalid ticks generated so far, by kind. */
  badTicksByKind(): Record<BadTickKind, number> {
    const out = {} as Record<BadTickKind, number>;
    BAD_TICK_KINDS.forEach((k, i) => (out[k] = this.badCounts[i]!));
    return out;
  }

  /** Current model mid of an underlying (its last diffused value). */
  underlyingMid(symbol: string): number {
    const i = this.instrumentNumber(symbol);
    check(i < this.stockCount, `${symbol} is not an underlying`);
    return this.mid[i]!;
  }

  /** Black-Scholes value of an option of this market at `spot` and `tsMs`, with its implied vol. */
  theoreticalValue(symbol: string, spot: number, tsMs: number): number {
    const i = this.instrumentNumber(symbol);
    check(i >= this.stockCount, `${symbol} is not an option`);
    return bsPrice(this.isCall[i] === 1, spot, this.strike[i]!, (this.expiryMs[i]! - tsMs) / CALENDAR_YEAR_MS, this.vol[i]!, this.rate);
  }

  /** Implied volatility of an option, or the volatility of an underlying. */
  volOf(symbol: string): number {
    return this.vol[this.instrumentNumber(symbol)]!;
  }

  /** The risk-free rate used for option values. */
  get ratePerYear(): number {
    return this.rate;
  }

  private instrumentNumber(symbol: string): number {
    const i = this.numberOf.get(symbol);
    if (i === undefined) throw new Error(`${symbol} is not an instrument of this market`);
    return i;
  }

  /**
   * Writes `count` ticks to `sink`, all stamped with exchange time `tsMs`, without flushing.
   * `indexOf` maps symbols to engine rows; it is resolved once per distinct function.
   * The clock must not go backwards between calls.
   */
  generate(count: number, tsMs: number, sink: TickSink, indexOf: InstrumentIndex): void {
    check(Number.isInteger(count) && count >= 0, "count must be a non-negative integer");
    check(Number.isFinite(tsMs) && tsMs >= this.lastTsMs, "tsMs must be finite and not earlier than startMs or the previous call");
    this.lastTsMs = tsMs;
    const rows = this.rowsOf(indexOf);
    const rng = this.rng;
    for (let c = 0; c < count; c++) {
      const i = this.optionCount > 0 && rng.next() < this.optionShare
        ? this.stockCount + rng.int(this.optionCount)
        : rng.int(this.stockCount);
      this.tick(i, rows[i]!, tsMs, sink);
    }
    this.ticks += count;
  }

  private rowsOf(indexOf: InstrumentIndex): Int32Array {
    if (indexOf !== this.rowsFor) {
      const rows = new Int32Array(this.specs.length);
      this.specs.forEach((s, i) => {
        const row = indexOf(s.symbol);
        if (row === undefined) throw new Error(`instrument ${s.symbol} is not defined in the sink; define instruments() before generating`);
        rows[i] = row;
      });
      this.rows = rows;
      this.rowsFor = indexOf;
    }
    return this.rows;
  }

  /** Moves an underlying's mid forward to `tsMs` by one exact GBM step. */
  private advance(u: number, tsMs: number): number {
    const dt = tsMs - this.midTs[u]!;
    if (dt > 0) {
      this.mid[u] = this.mid[u]! * Math.exp(this.driftPerMs[u]! * dt + this.sigmaPerSqrtMs[u]! * Math.sqrt(dt) * this.rng.normal());
      this.midTs[u] = tsMs;
    }
    return this.mid[u]!;
  }

  /** Option value, cached per option until the spot or the time changes. */
  private theo(i: number, spot: number, tsMs: number): number {
    if (this.theoSpot[i] === spot && this.theoTs[i] === tsMs) return this.theoValue[i]!;
    const v = bsPrice(this.isCall[i] === 1, spot, this.strike[i]!, (this.expiryMs[i]! - tsMs) / CALENDAR_YEAR_MS, this.vol[i]!, this.rate);
    this.theoSpot[i] = spot;
    this.theoTs[i] = tsMs;
    this.theoValue[i] = v;
    return v;
  }

  private tick(i: number, row: number, tsMs: number, sink: TickSink): void {
    const rng = this.rng;
    if (this.closeSent[i] === 0) {
      // The first tick of every instrument is its previous close, as IBKR sends on subscribe.
      this.closeSent[i] = 1;
      sink.write(row, K.Close, this.closeTicks[i]! / TICKS_PER_DOLLAR, 0, tsMs);
      return;
    }
    const isOption = i >= this.stockCount;
    const spot = this.advance(this.under[i]!, tsMs);
    const value = isOption ? this.theo(i, spot, tsMs) : spot;
    // The model quote in ticks: a spread that widens with price and volatility, jittered by a tick.
    const spread = 1 + Math.floor(value * this.spreadCoef[i]! + rng.next());
    let bid = Math.round(value * TICKS_PER_DOLLAR - spread * 0.5);
    if (bid < 1) bid = 1;
    const ask = bid + spread;
    const x = rng.next();
    if (x < this.badRate) {
      this.badTick(i, row, tsMs, sink, isOption);
      return;
    }
    const y = (x - this.badRate) / (1 - this.badRate);
    const shownBid = this.bidT[i]!, shownAsk = this.askT[i]!;
    const twoSided = shownBid > 0 && shownAsk > 0;
    if (twoSided && y < this.tradeShare) {
      // Trades print at or inside the displayed touch.
      const at = shownBid + rng.int(shownAsk - shownBid + 1);
      sink.write(row, K.Trade, at / TICKS_PER_DOLLAR, this.tradeSize(isOption), tsMs);
      return;
    }
    if (twoSided && y < this.tradeShare + this.sizeShare) {
      sink.write(row, rng.next() < 0.5 ? K.BidSize : K.AskSize, 0, this.quoteSize(isOption), tsMs);
      return;
    }
    let bidSide = twoSided ? rng.next() < 0.5 : shownBid === 0;
    // Never cross the side still displayed: when the model has moved through it, update it instead.
    if (bidSide && shownAsk > 0 && bid >= shownAsk) bidSide = false;
    else if (!bidSide && shownBid > 0 && ask <= shownBid) bidSide = true;
    if (bidSide) {
      this.bidT[i] = bid;
      sink.write(row, K.Bid, bid / TICKS_PER_DOLLAR, this.quoteSize(isOption), tsMs);
    } else {
      this.askT[i] = ask;
      sink.write(row, K.Ask, ask / TICKS_PER_DOLLAR, this.quoteSize(isOption), tsMs);
    }
  }

  /** Displayed size: round lots of 100 shares for stocks, 1 to 50 contracts for options. */
  private quoteSize(isOption: boolean): number {
    const e = -Math.log(this.rng.nextOpen());
    return isOption ? Math.min(MAX_CONTRACTS, 1 + Math.floor(e * 8)) : 100 * Math.min(MAX_LOTS, 1 + Math.floor(e * 3));
  }

  private tradeSize(isOption: boolean): number {
    const e = -Math.log(this.rng.nextOpen());
    return isOption ? Math.min(MAX_CONTRACTS, 1 + Math.floor(e * 4)) : 100 * Math.min(MAX_LOTS, 1 + Math.floor(e * 1.5));
  }

  private badTick(i: number, row: number, tsMs: number, sink: TickSink, isOption: boolean): void {
    const rng = this.rng;
    const shownBid = this.bidT[i]!, shownAsk = this.askT[i]!;
    const twoSided = shownBid > 0 && shownAsk > 0;
    // Crossed and jump ticks are defined against the displayed quote, so they need one.
    const k = rng.int(twoSided ? BAD_TICK_KINDS.length : BAD_TICK_KINDS.length - 2);
    const r = rng.next();
    let kind: number = r < 0.4 ? K.Bid : r < 0.8 ? K.Ask : K.Trade;
    let price: number;
    switch (BAD_TICK_KINDS[k]!) {
      case "nan": price = NaN; break;
      case "zero": price = 0; break;
      case "negative": price = -(shownAsk > 0 ? shownAsk : 2) / TICKS_PER_DOLLAR; if (price === -1) price = -1.01; break;
      case "ib_minus_one": price = -1; break;
      case "ib_max_double": price = 1.7976931348623157e308; break;
      case "ib_max_int": price = 2147483647; break;
      case "crossed": {
        const by = 1 + rng.int(3);
        // An ask below the bid needs room above zero; otherwise cross with a bid over the ask.
        if (r < 0.5 || shownBid - by < 1) { kind = K.Bid; price = (shownAsk + by) / TICKS_PER_DOLLAR; }
        else { kind = K.Ask; price = (shownBid - by) / TICKS_PER_DOLLAR; }
        break;
      }
      default: {
        // A jump clears the engine's band (band × reference + floor) by a factor of 2 to 4:
        // 20–40 % for stocks; options, whose band is 100 %, can only jump up.
        const ref = (shownBid + shownAsk) * 0.5;
        const off = ((isOption ? OPTION_JUMP_BAND : STOCK_JUMP_BAND) * ref + JUMP_FLOOR_TICKS) * (2 + 2 * rng.next());
        const down = rng.next() < 0.5 && ref - off >= 1;
        price = Math.round(down ? ref - off : ref + off) / TICKS_PER_DOLLAR;
      }
    }
    this.badCounts[k]!++;
    this.badTicks++;
    sink.write(row, kind, price, kind === K.Trade ? this.tradeSize(isOption) : this.quoteSize(isOption), tsMs);
  }
}
