// Option chains by underlying and expiry, read from the engine's instrument table (the synthetic
// market's weeklies, or whatever the IBKR feed loaded) and priced from the live quote table.
// Every leg of one chain is solved for implied vol and priced in ONE WASM call
// (GreeksEngine.impliedVols → impliedVolBatch over the greeks region), never once per leg; the
// inputs are exactly those of GET /v1/greeks/{symbol}, so a chain leg and that route agree.

import type { Instrument } from "../domain/instrument.ts";
import { expiryMs } from "../domain/instrument.ts";
import type { Engine } from "../engine/engine.ts";
import type { GreeksEngine, GreeksInput, GreeksStatus } from "../risk/greeks.ts";
import { quoteMid } from "../domain/quote.ts";

/** Why a leg has no greeks: the WASM status, or no two-sided quote for the leg or the underlying. */
export type LegStatus = GreeksStatus | "no_quote";

/** One option of a chain row: its quote, implied vol and greeks (null when status is not ok). */
export interface ChainLeg {
  symbol: string;
  bid: number | null;
  ask: number | null;
  mid: number | null;
  last: number | null;
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  vega: number | null;
  theta: number | null;
  status: LegStatus;
  /** IBKR's model delta (tickOptionComputation) with --feed ib, once TWS sent one; null otherwise (always null on other feeds). */
  ibDelta: number | null;
  /** IBKR's model implied vol, as ibDelta. */
  ibIv: number | null;
}

/** IBKR's model values of an option, as the IB feed last received them (src/feed/ib.ts). */
export interface ModelGreeks {
  iv: number;
  delta: number;
}

/** Looks up IBKR's model greeks of an option symbol; undefined when none were received. */
export type ModelGreeksSource = (symbol: string) => ModelGreeks | undefined;

/** IBKR's model greeks with a change signal: what the chain stream follows with --feed ib. */
export interface ModelGreeksFeed {
  greeks: ModelGreeksSource;
  /** Calls `listener` with the engine row of each option whose model values arrived; returns the detach. */
  onChange(listener: (engineRow: number) => void): () => void;
}

/** The ibDelta / ibIv of a leg: TWS's "not computed" values (undefined, NaN, −1 vol, |delta| > 1) are null. */
export function ibFields(model: ModelGreeksSource | undefined, symbol: string): { ibDelta: number | null; ibIv: number | null } {
  const g = model?.(symbol);
  if (!g) return { ibDelta: null, ibIv: null };
  return {
    ibDelta: Number.isFinite(g.delta) && Math.abs(g.delta) <= 1 ? g.delta : null,
    ibIv: Number.isFinite(g.iv) && g.iv >= 0 ? g.iv : null,
  };
}

/** One strike of a chain. */
export interface ChainRow {
  strike: number;
  call: ChainLeg | null;
  put: ChainLeg | null;
}

/** One expiry of an underlying, priced now. */
export interface Chain {
  underlying: string;
  /** YYYY-MM-DD. */
  expiry: string;
  /** Mid of the underlying; null without a two-sided quote. */
  spot: number | null;
  /** Years (ACT/365) to the expiry instant; negative once expired. */
  tYears: number;
  rows: ChainRow[];
}

/** Which legs a chain reply keeps: one right, and |delta| within [minDelta, maxDelta]. */
export interface ChainFilter {
  right?: "call" | "put";
  minDelta?: number;
  maxDelta?: number;
}

/** Market parameters the pricing assumes (as GET /v1/greeks uses). */
export interface ChainMarket {
  rate: number;
  divYield: number;
}

/** Engine instrument indexes of one strike's legs (-1 when absent). */
interface StrikeLegs {
  strike: number;
  call: number;
  put: number;
}

const YEAR_MS = 365 * 86_400_000;

/** YYYYMMDD → YYYY-MM-DD. */
export function isoDate(yyyymmdd: string): string {
  return `${yyyymmdd.slice(0, 4)}-${yyyymmdd.slice(4, 6)}-${yyyymmdd.slice(6, 8)}`;
}

/** YYYY-MM-DD (a real calendar date) → YYYYMMDD, or undefined for anything else. */
export function compactDate(iso: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return undefined;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (d.toISOString().slice(0, 10) !== iso) return undefined;
  return `${m[1]}${m[2]}${m[3]}`;
}


/**
 * The chains the engine's instruments form. The index is rebuilt only when instruments were
 * added since it was last built (instruments are never removed while running), so a lookup
 * costs a map access.
 */
export class ChainBook {
  private built = -1;
  /** underlying → YYYYMMDD → strikes ascending. */
  private chains = new Map<string, Map<string, StrikeLegs[]>>();

  constructor(private readonly engine: Engine) {}

  /** The underlying's expiries as YYYYMMDD ascending; undefined when the symbol is not a known stock or underlying. */
  expiries(underlying: string): string[] | undefined {
    this.refresh();
    const byExpiry = this.chains.get(underlying);
    if (byExpiry) return [...byExpiry.keys()].sort();
    return this.engine.instrument(underlying)?.kind === "stock" ? [] : undefined;
  }

  /** The strikes of one expiry (YYYYMMDD), ascending; undefined when there is no such chain. */
  strikes(underlying: string, expiry: string): readonly StrikeLegs[] | undefined {
    this.refresh();
    return this.chains.get(underlying)?.get(expiry);
  }

  private refresh(): void {
    const list = this.engine.instruments;
    if (list.length === this.built) return;
    const chains = new Map<string, Map<string, Map<number, StrikeLegs>>>();
    for (const i of list as readonly Instrument[]) {
      if (i.kind !== "option" || !i.underlying || !i.expiry || i.strike === undefined || !i.right) continue;
      let byExpiry = chains.get(i.underlying);
      if (!byExpiry) chains.set(i.underlying, (byExpiry = new Map()));
      let byStrike = byExpiry.get(i.expiry);
      if (!byStrike) byExpiry.set(i.expiry, (byStrike = new Map()));
      let legs = byStrike.get(i.strike);
      if (!legs) byStrike.set(i.strike, (legs = { strike: i.strike, call: -1, put: -1 }));
      if (i.right === "C") legs.call = i.index;
      else legs.put = i.index;
    }
    this.chains = new Map([...chains].map(([u, byExpiry]) =>
      [u, new Map([...byExpiry].map(([e, byStrike]) => [e, [...byStrike.values()].sort((a, b) => a.strike - b.strike)]))]));
    this.built = list.length;
  }
}

/** A leg before pricing: its quote, and its slot in the batch (-1 when it has no two-sided quote). */
interface PendingLeg {
  leg: ChainLeg;
  slot: number;
}

/**
 * Prices one chain now: one impliedVolBatch over every leg with a two-sided quote (when the
 * underlying has one), then the filter. `strikes` comes from ChainBook.strikes(). `greeks` is
 * the WASM GreeksEngine; the benchmark passes a plain-TS solver with the same interface.
 * `model` (the IB feed's) fills each leg's ibDelta / ibIv; without it they are null.
 */
export function priceChain(
  engine: Engine, greeks: Pick<GreeksEngine, "impliedVols">, market: ChainMarket, underlying: string, expiry: string,
  strikes: readonly StrikeLegs[], nowMs: number, filter: ChainFilter = {}, model?: ModelGreeksSource,
): Chain {
  const und = engine.instrument(underlying);
  const uq = und ? engine.quote(und.index) : undefined;
  const spot = uq ? quoteMid(uq.bid, uq.ask) : null;
  const tYears = (expiryMs(expiry) - nowMs) / YEAR_MS;
  const inputs: GreeksInput[] = [];
  const pending = (index: number, right: "C" | "P", strike: number): PendingLeg | null => {
    if (index < 0) return null;
    const q = engine.quote(index);
    const m = quoteMid(q.bid, q.ask);
    const leg: ChainLeg = {
      symbol: q.symbol, bid: q.bid, ask: q.ask, mid: m, last: q.last,
      iv: null, delta: null, gamma: null, vega: null, theta: null, status: "no_quote", ...ibFields(model, q.symbol),
    };
    if (spot === null || m === null) return { leg, slot: -1 };
    inputs.push({ spot, strike, tYears: Math.max(tYears, 0), rate: market.rate, divYield: market.divYield, right, price: m });
    return { leg, slot: inputs.length - 1 };
  };
  const wantCall = filter.right !== "put", wantPut = filter.right !== "call";
  const staged = strikes.map((s) => ({
    strike: s.strike, call: wantCall ? pending(s.call, "C", s.strike) : null, put: wantPut ? pending(s.put, "P", s.strike) : null,
  }));
  const results = inputs.length > 0 ? greeks.impliedVols(inputs) : [];
  const finish = (p: PendingLeg | null): ChainLeg | null => {
    if (!p) return null;
    if (p.slot >= 0) {
      const r = results[p.slot]!;
      p.leg.status = r.status;
      if (r.status === "ok") {
        p.leg.iv = r.vol; p.leg.delta = r.delta; p.leg.gamma = r.gamma; p.leg.vega = r.vega; p.leg.theta = r.theta;
      }
    }
    return inBand(p.leg, filter) ? p.leg : null;
  };
  const rows: ChainRow[] = [];
  const filtered = filter.right !== undefined || filter.minDelta !== undefined || filter.maxDelta !== undefined;
  for (const s of staged) {
    const row = { strike: s.strike, call: finish(s.call), put: finish(s.put) };
    // A filter that left a strike with no leg drops the strike; an unfiltered chain keeps every strike.
    if (!filtered || row.call || row.put) rows.push(row);
  }
  return { underlying, expiry: isoDate(expiry), spot, tYears, rows };
}

/** True when a leg passes the delta band (a leg without a delta never passes a band). */
function inBand(leg: ChainLeg, f: ChainFilter): boolean {
  if (f.minDelta === undefined && f.maxDelta === undefined) return true;
  if (leg.delta === null) return false;
  const d = Math.abs(leg.delta);
  return (f.minDelta === undefined || d >= f.minDelta) && (f.maxDelta === undefined || d <= f.maxDelta);
}
