// Pre-trade check latency. What it measures, and how to rerun: `bun bench/pretrade.ts` (or
// `npm run bench -- pretrade`).
//
// One call of the order manager's pre-trade hook (src/risk/pretrade.ts) as the order path makes
// it: bring the order's row up to date from the ledger and the position, write the check row,
// call preTradeCheck() in WASM (every check: state, rates, instrument, price, quote band,
// notional, open orders, worst-case position, exposure, concentration, delta, buying power,
// delta band), count the passing order as working. Timed one call at a time with
// Bun.nanoseconds(); the order is then removed from the book outside the timed region so the
// book stays the same size. Books of 3, 50 and 250 positions (a third of them options) show how
// the account loop scales; the budget (DESIGN.md) is p99 ≤ 5 µs. The baseline in the same run is
// the pass-through hook, i.e. the cost of the call and the timing itself.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { optionSymbol, type Instrument } from "../src/domain/instrument.ts";
import type { Order } from "../src/domain/order.ts";
import { TickKind } from "../src/domain/tick.ts";
import { Engine } from "../src/engine/engine.ts";
import { createLogger } from "../src/log.ts";
import { accountsSchema } from "../src/oms/accounts.ts";
import type { Ledger } from "../src/oms/portfolio.ts";
import { PASS_THROUGH, type PreTradeContext, type PreTradeHook } from "../src/oms/pretrade.ts";
import { RiskService } from "../src/risk/service.ts";
import { riskSchema } from "../src/risk/settings.ts";
import { openDatabase } from "../src/store/db.ts";

/** One measured book size. */
export interface PretradeResult {
  name: string;
  positions: number;
  nsP50: number;
  nsP99: number;
  nsP999: number;
  checksPerS: number;
}

const CALLS = 200_000;
const NOW = Date.parse("2026-11-23T15:00:00Z");

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function book(positions: number): Promise<{ engine: Engine; risk: RiskService; insts: Instrument[]; close(): void }> {
  const engine = await Engine.create({ core: "wasm", maxInstruments: 1024, prefault: true });
  const insts: Instrument[] = [];
  const stocks = Math.max(1, Math.ceil((positions * 2) / 3));
  for (let i = 0; i < stocks; i++) {
    const s = engine.addInstrument({ symbol: `S${i}`, kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" });
    insts.push(s);
    engine.write(s.index, TickKind.Bid, 100, 1000, NOW);
    engine.write(s.index, TickKind.Ask, 100.02, 1000, NOW);
  }
  for (let i = 0; insts.length < positions + 1; i++) {
    const und = `S${i % stocks}`;
    const o = engine.addInstrument({
      symbol: optionSymbol(und, "20261127", "P", 95 + (i % 10)), kind: "option", tickSize: 0.01, multiplier: 100, currency: "USD",
      underlying: und, expiry: "20261127", right: "P", strike: 95 + (i % 10),
    });
    insts.push(o);
    engine.write(o.index, TickKind.Bid, 1, 100, NOW);
    engine.write(o.index, TickKind.Ask, 1.05, 100, NOW);
  }
  engine.flush(NOW);
  const dir = mkdtempSync(join(tmpdir(), "alluse-bench-pretrade-"));
  const db = openDatabase(join(dir, "risk.db"), "none");
  const risk = new RiskService({
    engine, db, log: createLogger("error", "bench", () => {}), clock: () => NOW,
    accounts: accountsSchema.parse({ capital: 10_000_000, list: [{ id: "A", share: 1, mode: "regT" }] }),
    config: riskSchema.parse({ defaults: { submitRatePerS: 1e6, maxOpenOrders: 100_000, maxOrderNotional: 10, maxConcentration: 10 } }),
  });
  risk.book.setCash("A", 10_000_000);
  for (const inst of insts.slice(0, positions)) risk.book.setPosition("A", inst, inst.kind === "stock" ? 100 : -1, 0);
  risk.recompute();
  return { engine, risk, insts, close: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

function run(name: string, hook: PreTradeHook, risk: RiskService | undefined, inst: Instrument, positions: number): PretradeResult {
  const ledger: Ledger = { account: "A", cashMicros: 10_000_000e6, realizedMicros: 0, commissionsMicros: 0, depositsMicros: 10_000_000e6 };
  const ctx: PreTradeContext = {
    instrument: inst, quote: () => { throw new Error("unused"); }, openOrders: () => [], position: () => undefined,
    ledger: () => ledger, nowMs: NOW,
  };
  const order: Order = {
    id: "O0", account: "A", clientOrderId: "c", symbol: inst.symbol, side: "buy", type: "limit", tif: "DAY", qty: 10,
    limitPriceUnits: 100_00000000, multiplier: inst.multiplier, status: "initialized", filledQty: 0, avgFillPriceUnits: 0,
    triggered: false, createdTs: NOW, updatedTs: NOW, version: 0,
  };
  const times = new Float64Array(CALLS);
  for (let i = 0; i < CALLS; i++) {
    order.id = `O${i}`;
    const t0 = Bun.nanoseconds();
    const r = hook.checkNew(order, ctx);
    times[i] = Bun.nanoseconds() - t0;
    if (!r.ok) throw new Error(`bench order denied: ${r.code}: ${r.message}`);
    if (risk) risk.book.onOrder({ ...order, status: "canceled" }, inst);
  }
  times.sort();
  const p50 = percentile(times, 0.5);
  return { name, positions, nsP50: p50, nsP99: percentile(times, 0.99), nsP999: percentile(times, 0.999), checksPerS: 1e9 / p50 };
}

/** Runs the pre-trade benchmark over books of several sizes. */
export async function benchPretrade(): Promise<PretradeResult[]> {
  const out: PretradeResult[] = [];
  for (const positions of [3, 50, 250]) {
    const b = await book(positions);
    const inst = b.insts[0]!;
    run("warm-up", b.risk.hook, b.risk, inst, positions);
    out.push(run("pass-through hook (baseline)", PASS_THROUGH, undefined, inst, positions));
    out.push(run("WASM pre-trade check", b.risk.hook, b.risk, inst, positions));
    b.risk.stop();
    b.close();
  }
  return out;
}

if (import.meta.main) {
  const r = await benchPretrade();
  console.log("| variant | positions in the account | p50 ns | p99 ns | p99.9 ns |\n|---|---:|---:|---:|---:|");
  for (const x of r) console.log(`| ${x.name} | ${x.positions} | ${x.nsP50.toFixed(0)} | ${x.nsP99.toFixed(0)} | ${x.nsP999.toFixed(0)} |`);
}
