// Pre-trade check latency. What it measures, and how to rerun: `bun bench/pretrade.ts` (or
// `npm run bench -- pretrade`); `bun bench/pretrade.ts --runs 5 [--baseline DIR]` for medians
// over runs, each in a fresh process, alternating with another checkout's bench when given.
//
// One call of the order manager's pre-trade hook (src/risk/pretrade.ts) as the order path makes
// it: bring the order's row up to date from the ledger and the position, write the check row,
// call preTradeCheck() in WASM (every check: state, rates, instrument, price, quote band,
// notional, open orders, worst-case position, exposure, concentration, delta, buying power,
// delta band), count the passing order as working. Timed one call at a time with
// Bun.nanoseconds(); the order is then removed from the book outside the timed region so the
// book stays the same size. Books of 3, 50, 250 and 1,000 positions in one account (a third of them
// options) show that the check is flat in the book (running sums, assembly/risk-sums.ts); the
// budget (DESIGN.md) is p99 ≤ 2 µs. Yardsticks in the same run: the pass-through hook (the cost of
// the call and the timing itself) and the walking check (preTradeCheckWalk: the same check with
// the account's figures from a walk over every row, as the check was before running sums).

import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
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
import { median } from "./compare.ts";

/** One measured book size. */
export interface PretradeResult {
  name: string;
  positions: number;
  nsP50: number;
  nsP99: number;
  nsP999: number;
  checksPerS: number;
  /** 1-minute load average when the run started (runs in child processes only). */
  load1?: number;
}

const CALLS = 200_000;
const NOW = Date.parse("2026-11-23T15:00:00Z");

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function book(positions: number): Promise<{ engine: Engine; risk: RiskService; insts: Instrument[]; close(): void }> {
  const engine = await Engine.create({ core: "wasm", maxInstruments: 2048, prefault: true });
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

function run(name: string, hook: PreTradeHook, risk: RiskService | undefined, inst: Instrument, positions: number, calls = CALLS): PretradeResult {
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
  const times = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
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

/** The book sizes measured: 1,000 fits one account (RISK_MAX_POSITIONS is 1,024). */
export const SIZES = [3, 50, 250, 1000];

/** Runs the pre-trade benchmark over books of several sizes. */
export async function benchPretrade(sizes = SIZES): Promise<PretradeResult[]> {
  const out: PretradeResult[] = [];
  for (const positions of sizes) {
    const b = await book(positions);
    const inst = b.insts[0]!;
    run("warm-up", b.risk.hook, b.risk, inst, positions);
    out.push(run("pass-through hook (yardstick)", PASS_THROUGH, undefined, inst, positions));
    out.push(run("WASM pre-trade check (running sums)", b.risk.hook, b.risk, inst, positions));
    b.risk.tables.useWalkingCheck(true);
    // Fewer calls: at 1,000 rows each walks for ~20 µs, and 50,000 samples still place a p99.
    run("warm-up", b.risk.hook, b.risk, inst, positions, CALLS / 4);
    out.push(run("walking check (reference, as before)", b.risk.hook, b.risk, inst, positions, CALLS / 4));
    b.risk.tables.useWalkingCheck(false);
    b.risk.stop();
    b.close();
  }
  return out;
}

const HERE = resolve(import.meta.dir, "..");

/** One run in a fresh process of `tree`'s bench/pretrade.ts; an older tree's table is read back from its markdown. */
async function child(tree: string): Promise<PretradeResult[]> {
  const load1 = loadavg()[0]!;
  const args = tree === HERE ? ["--child"] : [];
  const proc = Bun.spawn([process.execPath, join(tree, "bench/pretrade.ts"), ...args], { cwd: tree, stdout: "pipe", stderr: "inherit" });
  const text = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`pretrade bench on ${tree} failed`);
  if (tree === HERE) return (JSON.parse(text.trim().split("\n").at(-1)!) as PretradeResult[]).map((x) => ({ ...x, load1 }));
  const rows: PretradeResult[] = [];
  for (const line of text.split("\n")) {
    const m = /^\| ([^|]+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$/.exec(line.trim());
    if (m) rows.push({ name: `baseline: ${m[1]!.trim()}`, positions: Number(m[2]), nsP50: Number(m[3]), nsP99: Number(m[4]), nsP999: Number(m[5]), checksPerS: 1e9 / Number(m[3]), load1 });
  }
  return rows;
}

const us = (ns: number) => (ns / 1000).toFixed(2);

/** Medians over runs per (variant, positions), with each run's range, as markdown rows. */
export function medianTable(runs: PretradeResult[][]): string[] {
  const groups = new Map<string, PretradeResult[]>();
  for (const x of runs.flat()) {
    const k = `${x.name}|${x.positions}`;
    groups.set(k, [...(groups.get(k) ?? []), x]);
  }
  const rows = ["| variant | positions | p50 µs median (range) | p99 µs median (range) | p99.9 µs median |", "|---|---:|---:|---:|---:|"];
  const range = (xs: number[]) => `${us(Math.min(...xs))}–${us(Math.max(...xs))}`;
  for (const xs of [...groups.values()].sort((a, b) => a[0]!.positions - b[0]!.positions)) {
    const p50 = xs.map((x) => x.nsP50), p99 = xs.map((x) => x.nsP99);
    rows.push(`| ${xs[0]!.name} | ${xs[0]!.positions} | ${us(median(p50))} (${range(p50)}) | ${us(median(p99))} (${range(p99)}) | ${us(median(xs.map((x) => x.nsP999)))} |`);
  }
  const loads = runs.flat().map((x) => x.load1 ?? NaN);
  rows.push("", `${runs.length} runs in all, each in a fresh process; 1-minute load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} at their starts.`);
  return rows;
}

if (import.meta.main) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  if (process.argv.includes("--child")) {
    console.log(JSON.stringify(await benchPretrade()));
  } else if (arg("--runs") || arg("--baseline")) {
    const baseline = arg("--baseline");
    const runs: PretradeResult[][] = [];
    for (let r = 0; r < Number(arg("--runs") ?? 3); r++) {
      // Alternate which goes first, so neither side always meets the same moment of the load.
      const trees = baseline ? (r % 2 === 0 ? [resolve(baseline), HERE] : [HERE, resolve(baseline)]) : [HERE];
      for (const tree of trees) runs.push(await child(tree));
    }
    const byTree = baseline ? runs.length / 2 : runs.length;
    console.log(`${new Date().toISOString()} — ${byTree} runs${baseline ? ` here and on ${baseline}` : ""}`);
    console.log(medianTable(runs).join("\n"));
  } else {
    const r = await benchPretrade();
    console.log("| variant | positions in the account | p50 ns | p99 ns | p99.9 ns |\n|---|---:|---:|---:|---:|");
    for (const x of r) console.log(`| ${x.name} | ${x.positions} | ${x.nsP50.toFixed(0)} | ${x.nsP99.toFixed(0)} | ${x.nsP999.toFixed(0)} |`);
  }
}
