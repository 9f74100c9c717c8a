// The pre-trade check's running sums (assembly/risk-sums.ts) against the walking reference
// (preTradeCheckWalk: the same check, the account's figures from a fresh walk over every row), on
// seeded random books: positions in stocks and options, working orders on both sides, a cash and
// a Reg-T account, fills, cancels, modifies, quote moves and recomputes interleaved. After every
// mutation random candidate orders are checked both ways; the answer and every figure the check
// reports must be identical, bit for bit (the sums are integer micro-dollars: see risk-sums.ts).

import { describe, expect, test } from "bun:test";
import { optionSymbol, type Instrument } from "../../src/domain/instrument.ts";
import type { Order } from "../../src/domain/order.ts";
import { Rng } from "../../src/domain/random.ts";
import { TickKind } from "../../src/domain/tick.ts";
import { Engine } from "../../src/engine/engine.ts";
import { RiskBook } from "../../src/risk/book.ts";
import { LIMIT_DEFAULTS } from "../../src/risk/settings.ts";
import { RISK_CODES, RiskTables, type CheckOrderType } from "../../src/risk/tables.ts";

const T0 = Date.parse("2026-11-23T15:00:00Z");
const ACCOUNTS = ["CASH", "MARGIN"] as const;

interface World {
  engine: Engine;
  t: RiskTables;
  book: RiskBook;
  insts: Instrument[];
  mids: Map<number, number>;
  now: number;
}

const looseBase = (limits: Partial<typeof LIMIT_DEFAULTS>): typeof LIMIT_DEFAULTS => ({
  ...LIMIT_DEFAULTS, submitRatePerS: 1_000_000, modifyRatePerS: 1_000_000, maxOpenOrders: 100_000, maxOrderNotional: 100, priceBand: 1,
  optionPriceBand: 1, maxQty: 1_000_000, ...limits,
});

async function world(stocks: number, optionsPerStock: number, limits: typeof LIMIT_DEFAULTS): Promise<World> {
  const engine = await Engine.create({ core: "wasm", maxInstruments: 2048 });
  const insts: Instrument[] = [];
  const mids = new Map<number, number>();
  for (let i = 0; i < stocks; i++) {
    const s = engine.addInstrument({ symbol: `S${i}`, kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD", jumpBand: 10 });
    insts.push(s);
    mids.set(s.index, 50 + 10 * i);
    for (let k = 0; k < optionsPerStock; k++) {
      const right = k % 2 === 0 ? "P" : "C";
      const strike = 40 + 10 * i + 5 * k;
      const o = engine.addInstrument({
        symbol: optionSymbol(`S${i}`, "20261218", right, strike), kind: "option", tickSize: 0.01, multiplier: 100, currency: "USD",
        underlying: `S${i}`, expiry: "20261218", right, strike, jumpBand: 10,
      });
      insts.push(o);
      mids.set(o.index, 1 + k * 0.5);
    }
  }
  const w: World = { engine, t: RiskTables.create(engine), book: undefined!, insts, mids, now: T0 };
  w.book = new RiskBook(w.t, engine, engine.options.maxInstruments);
  const p = (f: string, v: number) => (w.t.params[w.t.g[f]!] = v);
  p("RP_RATE", 0.04); p("RP_DIV", 0); p("RP_CORR", 0.5); p("RP_DEFAULT_VOL", 0.3);
  p("RP_DAY_MS", 23_400_000); p("RP_YEAR_MS", 365 * 86_400_000); p("RP_TRADING_DAYS", 252);
  for (const id of ACCOUNTS) {
    w.book.addAccount(id, 100_000, id === "CASH" ? "cash" : "regT");
    w.book.setLimits(id, limits);
    w.book.setCash(id, 100_000);
  }
  for (const inst of insts) quote(w, inst, 1);
  return w;
}

function quote(w: World, inst: Instrument, factor: number): void {
  const mid = Math.max(0.05, Math.round(w.mids.get(inst.index)! * factor * 100) / 100);
  w.mids.set(inst.index, mid);
  w.engine.write(inst.index, TickKind.Bid, mid - 0.01, 100, w.now);
  w.engine.write(inst.index, TickKind.Ask, mid + 0.01, 100, w.now);
  w.engine.flush(w.now);
}

function order(id: string, account: string, inst: Instrument, side: "buy" | "sell", qty: number, price: number, status: Order["status"]): Order {
  return {
    id, account, clientOrderId: id, symbol: inst.symbol, side, type: "limit", tif: "DAY", qty, limitPriceUnits: Math.round(price * 100) * 1_000_000,
    multiplier: inst.multiplier, status, filledQty: 0, avgFillPriceUnits: 0, triggered: false, createdTs: T0, updatedTs: T0, version: 0,
  };
}

/** The answer and every figure of one check, as a comparable string. */
function runBoth(w: World, slot: number, row: number, side: "buy" | "sell", type: CheckOrderType, add: number, total: number,
  lim: number | undefined, prev: number): { fast: string; walk: string; rc: number } {
  const k = w.t.check;
  const figures = (rc: number) => [rc, ...k].map((v) => (Object.is(v, -0) ? "-0" : String(v))).join(",");
  w.t.useWalkingCheck(false);
  const rc = w.t.runCheck(slot, row, side, type, add, total, lim, undefined, prev, w.now);
  const fast = figures(rc);
  w.t.useWalkingCheck(true);
  const rcW = w.t.runCheck(slot, row, side, type, add, total, lim, undefined, prev, w.now);
  const walk = figures(rcW);
  w.t.useWalkingCheck(false);
  return { fast, walk, rc };
}

/** Every row in use counts in exactly one underlying slot, of its own underlying, and every slot's count is its rows. */
function expectSlotsConsistent(w: World): void {
  const g = w.t.g;
  for (const id of ACCOUNTS) {
    const slot = w.book.slotOf(id)!;
    const rows = w.t.acc(slot, "A_ROWS");
    const refs = new Map<number, number>();
    for (let i = 0; i < rows; i++) {
      const us = w.t.pos(slot, i, "PR_U_SLOT");
      expect(Number.isInteger(us)).toBe(true);
      expect(w.t.undSums[w.t.undBase(slot) + us * g.US_STRIDE! + g.US_UND!]).toBe(w.t.pos(slot, i, "PR_UND"));
      refs.set(us, (refs.get(us) ?? 0) + 1);
    }
    for (let s = 0; s < w.t.acc(slot, "A_S_USLOTS"); s++) {
      expect(w.t.undSums[w.t.undBase(slot) + s * g.US_STRIDE! + g.US_REFS!]).toBe(refs.get(s) ?? 0);
    }
  }
}

/** Runs `steps` random mutations, checking `candidates` random orders both ways after each; returns the codes seen. */
function fuzz(w: World, seed: number, steps: number, candidates: number, universe: Instrument[], base: typeof LIMIT_DEFAULTS): Map<string, number> {
  const rng = new Rng(seed);
  const working = new Map<string, Order>();
  const held = new Map<string, number>();
  const seen = new Map<string, number>();
  let n = 0;
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  for (let step = 0; step < steps; step++) {
    w.now += 1 + rng.int(50);
    const account = pick(ACCOUNTS);
    const inst = pick(universe);
    const r = rng.next();
    if (r < 0.3) {
      // A fill: the ledger's new position (and cost) for one instrument, sometimes back to flat.
      const key = `${account}|${inst.symbol}`;
      const qty = rng.next() < 0.15 ? 0 : (held.get(key) ?? 0) + (rng.int(21) - 10) * (inst.kind === "stock" ? 10 : 1);
      held.set(key, qty);
      w.book.setPosition(account, inst, qty, qty * w.mids.get(inst.index)! * inst.multiplier);
    } else if (r < 0.55) {
      const id = `W${n++}`;
      const o = order(id, account, inst, rng.next() < 0.5 ? "buy" : "sell", 1 + rng.int(20), w.mids.get(inst.index)!, "accepted");
      working.set(id, o);
      w.book.onOrder(o, inst);
    } else if (r < 0.7 && working.size > 0) {
      // A cancel, a partial fill or a modify (a pending replace keeps the larger quantity).
      const o = pick([...working.values()]);
      const instO = w.insts.find((i) => i.symbol === o.symbol)!;
      const what = rng.int(3);
      if (what === 0) {
        working.delete(o.id);
        w.book.onOrder({ ...o, status: "canceled" }, instO);
      } else if (what === 1) {
        const next = { ...o, filledQty: Math.min(o.qty, o.filledQty + 1 + rng.int(3)), status: "partially_filled" as const };
        if (next.filledQty >= next.qty) { working.delete(o.id); w.book.onOrder({ ...next, status: "filled" }, instO); }
        else { working.set(o.id, next); w.book.onOrder(next, instO); }
      } else {
        const next = { ...o, qty: o.filledQty + 1 + rng.int(30), status: rng.next() < 0.5 ? "pending_replace" as const : "accepted" as const };
        working.set(o.id, next);
        w.book.onOrder(next, instO);
      }
    } else if (r < 0.8) {
      quote(w, inst, 1 + (rng.next() - 0.5) * 0.1);
    } else if (r < 0.87) {
      w.t.recompute(w.now);
    } else if (r < 0.9) {
      w.book.setCash(account, 20_000 + rng.next() * 150_000);
    } else if (r < 0.93) {
      // New limits (they are read at the check, never summed): from tight to off, so every check gets its turn.
      const f = () => (rng.next() < 0.3 ? 100 : 0.2 + rng.next() * 3);
      w.book.setLimits(account, { ...base, maxGrossExposure: f(), maxNetExposure: f(), maxConcentration: f(), maxDelta: f() });
    } else {
      for (let i = 0; i < 5; i++) quote(w, pick(universe), 1 + (rng.next() - 0.5) * 0.2);
    }
    for (let c = 0; c < candidates; c++) {
      const acct = pick(ACCOUNTS);
      const ci = pick(universe);
      const slot = w.book.slotOf(acct)!;
      const row = w.book.rowFor(acct, ci);
      const side = rng.next() < 0.5 ? "buy" : "sell";
      const qty = 1 + rng.int(ci.kind === "stock" ? 400 : 40);
      const market = rng.next() < 0.3;
      const lim = market ? undefined : Math.round(w.mids.get(ci.index)! * (1 + (rng.next() - 0.5) * 0.04) * 100) * 1_000_000;
      const modify = rng.next() < 0.2;
      const prev = modify ? rng.int(qty + 10) : NaN;
      const res = runBoth(w, slot, row, side, market ? "market" : "limit", qty, qty, lim, prev);
      if (res.fast !== res.walk) {
        throw new Error(`step ${step} candidate ${c}: running sums and walk differ\n fast ${res.fast}\n walk ${res.walk}`);
      }
      const code = RISK_CODES[res.rc]!;
      seen.set(code, (seen.get(code) ?? 0) + 1);
    }
    // One row without a valuation (a short option before its first recompute has no spot) must not
    // turn an account's sums into NaN: every check that reads them would pass until the next re-base.
    for (const id of ACCOUNTS) {
      for (const f of ["A_S_EQ", "A_S_GROSS", "A_S_NET_HI", "A_S_NET_LO", "A_S_DD_HI", "A_S_DD_LO", "A_S_REQ"]) {
        const v = w.t.acc(w.book.slotOf(id)!, f);
        if (!Number.isFinite(v)) throw new Error(`step ${step}: ${id} ${f} is ${v}`);
      }
    }
    if (step % 50 === 0) expectSlotsConsistent(w);
  }
  expectSlotsConsistent(w);
  return seen;
}

describe("pre-trade running sums equal the walking check", () => {
  test("random books of stocks and options, cash and Reg-T, fills, working orders, cancels, modifies, quotes, recomputes", async () => {
    // Limits tight enough (in units of the $100,000 capital) that every account-wide check denies some candidates.
    const base = looseBase({ maxGrossExposure: 1, maxNetExposure: 0.6, maxConcentration: 0.3, maxDelta: 0.5 });
    const w = await world(8, 6, base);
    const seen = fuzz(w, 14, 2000, 6, w.insts, base);
    for (const code of ["OK", "GROSS_EXPOSURE", "NET_EXPOSURE", "CONCENTRATION", "DELTA_LIMIT", "BUYING_POWER", "UNCOVERED_CALL", "SHORT_SALE"]) {
      expect(seen.get(code) ?? 0, `${code} never decided: ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
    }
  }, 60_000);

  test("a full table: compaction drops freed rows from the sums and moves the last row's terms with it", async () => {
    const base = looseBase({ maxGrossExposure: 100, maxNetExposure: 100, maxConcentration: 100, maxDelta: 100 });
    const w = await world(20, 60, base);
    const cap = w.t.maxPositions;
    expect(w.insts.length).toBeGreaterThan(cap);
    // Fill one account's table, then free every third row: the next new instruments compact it.
    for (const [i, inst] of w.insts.slice(0, cap).entries()) w.book.setPosition("MARGIN", inst, i % 3 === 0 ? 1 : 2, 0);
    for (const [i, inst] of w.insts.slice(0, cap).entries()) if (i % 3 === 0) w.book.setPosition("MARGIN", inst, 0, 0);
    w.t.recompute(w.now);
    const seen = fuzz(w, 15, 300, 4, w.insts, base);
    expect(w.book.symbolsOf("MARGIN").length).toBeLessThanOrEqual(cap);
    expect(seen.get("OK") ?? 0).toBeGreaterThan(0);
  }, 60_000);
});
