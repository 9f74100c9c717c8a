// Live option chains: the chains some client streams, kept priced as the market moves. Engine
// batches only mark what changed (a leg's quote, or the underlying); collect(), run at the
// publish cadence, re-solves IV and greeks in WASM for the changed legs only — every leg of a
// chain when its underlying moved — in one batch call per chain, and reports the rows whose
// quote or greeks actually changed. Bursts between two collects are conflated: a row is
// recomputed and reported once, at its latest state. With --feed ib, IBKR's model values
// arriving for an option mark its row too (touch), since a leg also shows them (ibDelta, ibIv).

import { expiryMs } from "../domain/instrument.ts";
import type { Engine } from "../engine/engine.ts";
import type { GreeksEngine, GreeksInput } from "../risk/greeks.ts";
import { ibFields, isoDate, type ChainBook, type ChainLeg, type ChainMarket, type ChainRow, type ModelGreeksSource } from "./chains.ts";
import { quoteMid } from "../domain/quote.ts";

const YEAR_MS = 365 * 86_400_000;

/** One chain being streamed, with its latest priced state. */
export interface LiveChain {
  readonly key: string;
  readonly underlying: string;
  /** YYYYMMDD. */
  readonly expiry: string;
  spot: number | null;
  tYears: number;
  /** Rows by strike ascending, fixed when the chain was opened. */
  readonly rows: ChainRow[];
  /** Engine indexes of each row's call and put (-1 when absent). */
  readonly legIndex: { call: number; put: number }[];
  /** Streams holding it open. */
  refs: number;
  /** Row indexes with a leg whose quote changed since the last collect. */
  readonly dirtyRows: Set<number>;
  /** The underlying's quote changed since the last collect: every leg is repriced. */
  undDirty: boolean;
}

/** Why a chain cannot be opened. */
export type OpenRefusal = { code: "NOT_FOUND" | "TOO_MANY_ROWS"; message: string; field: "underlying" | "expiry" };

/** The changed rows of one chain after a collect. */
export interface ChainChange {
  chain: LiveChain;
  rows: number[];
}

/** Where a watched engine row sits: a leg (row, side) of a chain, or the chain's underlying (row -1). */
interface Watch {
  chain: LiveChain;
  row: number;
}


const LEG_FIELDS = ["bid", "ask", "last", "iv", "delta", "gamma", "vega", "theta", "status", "ibDelta", "ibIv"] as const;

/** True when two legs would read differently to a client. */
function legChanged(a: ChainLeg | null, b: ChainLeg | null): boolean {
  if (a === null || b === null) return a !== b;
  for (const f of LEG_FIELDS) if (a[f] !== b[f]) return true;
  return false;
}

/** The chains being streamed; see the file comment. */
export class ChainStreams {
  private readonly live = new Map<string, LiveChain>();
  /** Engine row → the chains it feeds (legs and underlyings). */
  private readonly watches = new Map<number, Watch[]>();
  private readonly detach: () => void;
  /** Legs repriced in WASM since start (tests and metrics). */
  legsPriced = 0;
  /** WASM batch calls since start. */
  batches = 0;

  constructor(
    private readonly engine: Engine, private readonly greeks: GreeksEngine, private readonly book: ChainBook,
    private readonly market: ChainMarket, private readonly maxRowsPerChain: number, private readonly now: () => number = Date.now,
    /** IBKR's model greeks (--feed ib): read when a leg is repriced (its quote, the underlying, or touch() for new model values). */
    private readonly model?: ModelGreeksSource,
  ) {
    this.detach = engine.onBatch((changed) => this.onBatch(changed));
  }

  /** Opens (or shares) the stream of one chain, priced now; expiry is YYYYMMDD. */
  open(underlying: string, expiry: string): LiveChain | OpenRefusal {
    const key = `${underlying}|${expiry}`;
    const known = this.live.get(key);
    if (known) {
      known.refs++;
      return known;
    }
    const expiries = this.book.expiries(underlying);
    if (!expiries) return { code: "NOT_FOUND", message: `unknown underlying ${JSON.stringify(underlying)}`, field: "underlying" };
    const strikes = this.book.strikes(underlying, expiry);
    if (!strikes) {
      return { code: "NOT_FOUND", message: `${underlying} has no options expiring ${isoDate(expiry)}; expiries: ${expiries.map(isoDate).join(", ") || "none"}`, field: "expiry" };
    }
    if (strikes.length > this.maxRowsPerChain) {
      return { code: "TOO_MANY_ROWS", message: `the chain has ${strikes.length} strikes; a stream carries at most ${this.maxRowsPerChain} (chains.maxRowsPerChain)`, field: "expiry" };
    }
    const chain: LiveChain = {
      key, underlying, expiry, spot: null, tYears: 0, refs: 1, undDirty: true, dirtyRows: new Set(),
      rows: strikes.map((s) => ({ strike: s.strike, call: null, put: null })),
      legIndex: strikes.map((s) => ({ call: s.call, put: s.put })),
    };
    this.live.set(key, chain);
    const und = this.engine.instrument(underlying);
    if (und) this.watch(und.index, { chain, row: -1 });
    chain.legIndex.forEach((l, row) => {
      if (l.call >= 0) this.watch(l.call, { chain, row });
      if (l.put >= 0) this.watch(l.put, { chain, row });
    });
    this.reprice(chain);
    return chain;
  }

  /** Releases one stream of a chain; the last one stops pricing it. */
  close(chain: LiveChain): void {
    if (--chain.refs > 0 || this.live.get(chain.key) !== chain) return;
    this.live.delete(chain.key);
    for (const [index, list] of this.watches) {
      const rest = list.filter((w) => w.chain !== chain);
      if (rest.length === 0) this.watches.delete(index);
      else if (rest.length !== list.length) this.watches.set(index, rest);
    }
  }

  /** Chains open now. */
  get size(): number {
    return this.live.size;
  }

  /** Reprices what changed since the last collect; returns the rows that read differently now. */
  collect(): ChainChange[] {
    const out: ChainChange[] = [];
    for (const chain of this.live.values()) {
      if (!chain.undDirty && chain.dirtyRows.size === 0) continue;
      const rows = this.reprice(chain);
      if (rows.length > 0) out.push({ chain, rows });
    }
    return out;
  }

  /** Marks what an engine row feeds as changed without a quote change (IBKR's model values arrived for it). */
  touch(index: number): void {
    if (this.live.size > 0) this.onBatch([index]);
  }

  /** Stops following engine batches. */
  stop(): void {
    this.detach();
    this.live.clear();
    this.watches.clear();
  }

  private watch(index: number, w: Watch): void {
    const list = this.watches.get(index);
    if (list) list.push(w);
    else this.watches.set(index, [w]);
  }

  private onBatch(changed: Uint32Array | readonly number[]): void {
    if (this.live.size === 0) return;
    for (let i = 0; i < changed.length; i++) {
      const list = this.watches.get(changed[i]!);
      if (!list) continue;
      for (const w of list) {
        if (w.row < 0) w.chain.undDirty = true;
        else w.chain.dirtyRows.add(w.row);
      }
    }
  }

  /** Reprices the dirty legs of a chain (all of them when its underlying moved) in one WASM batch; returns the changed rows. */
  private reprice(chain: LiveChain): number[] {
    const rowsToPrice = chain.undDirty ? chain.rows.map((_, i) => i) : [...chain.dirtyRows].sort((a, b) => a - b);
    chain.undDirty = false;
    chain.dirtyRows.clear();
    const und = this.engine.instrument(chain.underlying);
    const uq = und ? this.engine.quote(und.index) : undefined;
    const spot = uq ? quoteMid(uq.bid, uq.ask) : null;
    const tYears = (expiryMs(chain.expiry) - this.now()) / YEAR_MS;
    chain.spot = spot;
    chain.tYears = tYears;
    const inputs: GreeksInput[] = [];
    const staged: { row: number; side: "call" | "put"; leg: ChainLeg; slot: number }[] = [];
    for (const row of rowsToPrice) {
      const strike = chain.rows[row]!.strike;
      for (const side of ["call", "put"] as const) {
        const index = chain.legIndex[row]![side];
        if (index < 0) continue;
        const q = this.engine.quote(index);
        const m = quoteMid(q.bid, q.ask);
        const leg: ChainLeg = {
          symbol: q.symbol, bid: q.bid, ask: q.ask, mid: m, last: q.last, iv: null, delta: null, gamma: null, vega: null, theta: null, status: "no_quote",
          ...ibFields(this.model, q.symbol),
        };
        let slot = -1;
        if (spot !== null && m !== null) {
          slot = inputs.length;
          inputs.push({ spot, strike, tYears: Math.max(tYears, 0), rate: this.market.rate, divYield: this.market.divYield, right: side === "call" ? "C" : "P", price: m });
        }
        staged.push({ row, side, leg, slot });
      }
    }
    if (inputs.length > 0) {
      const results = this.greeks.impliedVols(inputs);
      this.batches += Math.ceil(inputs.length / this.greeks.capacity);
      this.legsPriced += inputs.length;
      for (const s of staged) {
        if (s.slot < 0) continue;
        const r = results[s.slot]!;
        s.leg.status = r.status;
        if (r.status === "ok") {
          s.leg.iv = r.vol; s.leg.delta = r.delta; s.leg.gamma = r.gamma; s.leg.vega = r.vega; s.leg.theta = r.theta;
        }
      }
    }
    const changed = new Set<number>();
    for (const s of staged) {
      const row = chain.rows[s.row]!;
      if (legChanged(row[s.side], s.leg)) {
        // Rows are replaced, never mutated: a frame already encoded keeps its state.
        chain.rows[s.row] = { ...row, [s.side]: s.leg };
        changed.add(s.row);
      }
    }
    return [...changed].sort((a, b) => a - b);
  }
}
