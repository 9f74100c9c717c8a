// Campaign `tws`: the whole server (--feed ib --broker ib, SQLite journal) against the TWS
// simulator on loopback, under order flow, while the simulator misbehaves the way a real TWS /
// IB Gateway does. Each run is one fault, in turn:
//   drop      every socket is cut; TWS stays up.
//   restart   TWS restarts: down 0–300 ms, execution ids start again (every other time
//             nextValidId too); the execIds of the next fills repeat earlier ones.
//   filldrop  a resting limit order is traded through while nobody is connected; its execution
//             waits for the reconnect's reqExecutions.
// Around each fault a market order is placed and must fill. At the end the simulator's own
// executions (the truth: one per fill it made for our client id) are compared with the fills
// in the journal: a fill lost is an execution without its journal row, a fill doubled is a
// journal row more than once per (order, execId) or one the simulator never made. "Quotes
// back" is the time from TWS accepting connections again (at once for drop and filldrop, when
// the restart listens again) to the next tick the IB feed writes into the engine.
//
// Figure line (stdout): campaign tws: runs=… faults=drop:…,restart:…,filldrop:… fills=…
// fills_lost=… fills_doubled=… orders_unfilled=… quotes_back_ms_p50=… p99=… max=…
// Exit 0 when nothing was lost, doubled or left unfilled and, for a full run, quotes came back
// within 1 s at p99 (the budget). Loopback only, bounded in runs and time, stops by itself.
//
// Rerun: npm run campaign -- tws --runs 100, or bun -e 'import("./bench/campaign/tws.ts").then(m => m.run(["--runs", "100"])).then(c => process.exit(c))'

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type App, startApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { TwsSimulator } from "../../src/sim/tws/simulator.ts";
import { quantile } from "../ib-reconnect.ts";

/** The budget for quotes flowing again after TWS accepts connections (DESIGN.md). */
export const QUOTES_BACK_BUDGET_MS = 1000;
/** Runs of --short (the `npm test` version): each fault at least once. */
export const SHORT_RUNS = 4;
/** Most runs one invocation accepts. */
export const MAX_RUNS = 1000;
/** Longest a campaign may take before it stops itself, ms. */
const DEADLINE_MS = 20 * 60_000;
/** Longest one wait (a fill, quotes back, a reconciliation) may take, ms. */
const WAIT_MS = 10_000;
const CLIENT_ID = 21;
const FAULTS = ["drop", "restart", "filldrop"] as const;
type Fault = (typeof FAULTS)[number];

/** What one campaign measured. */
export interface TwsFigures {
  runs: number;
  faults: Record<Fault, number>;
  fills: number;
  fillsLost: number;
  fillsDoubled: number;
  ordersUnfilled: number;
  quotesBackMs: number[];
}

const say = (line: string) => process.stderr.write(`${line}\n`);

/** Waits on a condition, polling every 2 ms, bounded; false when it never came. */
async function until(cond: () => boolean, timeoutMs = WAIT_MS): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) return false;
    await Bun.sleep(2);
  }
  return true;
}

/** A deterministic generator (mulberry32), so a campaign can be rerun as it was. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the campaign and returns its figures. */
export async function campaignTws(runs: number, seed = 1): Promise<TwsFigures> {
  const random = seeded(seed);
  const quiet = createLogger("error", "campaign", () => {});
  const sim = new TwsSimulator({ host: "127.0.0.1", port: 0, symbols: ["AAPL"], optionExpiries: 0, tickRatePerS: 200, accounts: ["DU1"], log: quiet });
  await sim.start();
  const pin = () => sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  pin();
  const dataDir = mkdtempSync(join(tmpdir(), "alluse-campaign-tws-"));
  let app: App | undefined;
  const figures: TwsFigures = { runs: 0, faults: { drop: 0, restart: 0, filldrop: 0 }, fills: 0, fillsLost: 0, fillsDoubled: 0, ordersUnfilled: 0, quotesBackMs: [] };
  const placed: string[] = [];
  const started = performance.now();
  try {
    const config = await loadConfig(["--host", "127.0.0.1", "--port", "0", "--feed", "ib", "--broker", "ib", "--ib-host", "127.0.0.1", "--ib-port", String(sim.port),
      "--ib-client-id", String(CLIENT_ID), "--symbols", "AAPL", "--option-expiries", "0", "--data-dir", dataDir, "--log-level", "error"], {});
    app = await startApp(config, quiet);
    const a = app;
    const ticks = () => (a.feed.stats as { ticks: number }).ticks;
    if (!(await until(() => a.feed.live && ticks() > 0))) throw new Error("no quotes from the simulator at start");
    let n = 0;
    const order = async (extra: Record<string, unknown>): Promise<string | undefined> => {
      const r = await a.trading.oms.submit({ account: "Gen-Acc", clientOrderId: `tws-${++n}`, symbol: "AAPL", side: "buy", qty: 1, ...extra });
      if (!r.ok) return undefined;
      placed.push(r.value.order.id);
      return r.value.order.id;
    };
    const status = async (id: string) => (await a.trading.oms.order(id))?.status;
    const filled = async (id: string | undefined) => {
      if (id === undefined) return false;
      const end = performance.now() + WAIT_MS;
      while (performance.now() < end) {
        if ((await status(id)) === "filled") return true;
        await Bun.sleep(5);
      }
      return false;
    };
    for (let i = 0; i < runs && performance.now() - started < DEADLINE_MS; i++) {
      const fault = FAULTS[i % FAULTS.length]!;
      if (!(await until(() => a.feed.live))) throw new Error(`run ${i}: the session never came back`);
      // An order that fills before the fault; with filldrop, one resting below the market too.
      await filled(await order({ type: "market" }));
      const resting = fault === "filldrop" ? await order({ type: "limit", limitPrice: 99.5, tif: "GTC" }) : undefined;
      if (resting !== undefined && !(await until(() => a.trading.oms.openOrders("Gen-Acc").some((o) => o.id === resting && o.brokerOrderId !== undefined)))) {
        say(`tws: run ${i}: the resting order was never acknowledged`);
      }
      const before = ticks();
      let returnedAt: number;
      if (fault === "restart") {
        await sim.restart(Math.round(random() * 300), i % 2 === 0);
        returnedAt = performance.now();
      } else {
        returnedAt = performance.now();
        if (fault === "drop") sim.dropConnections();
        else sim.fillWhileDisconnected();
      }
      // Ticks written before the socket went count as old: wait for the first on the new connection.
      const back = await until(() => a.feed.live && ticks() > before);
      figures.quotesBackMs.push(back ? performance.now() - returnedAt : WAIT_MS);
      if (fault === "filldrop") pin();
      if (resting !== undefined && !(await filled(resting))) say(`tws: run ${i}: the order filled while disconnected did not arrive`);
      await filled(await order({ type: "market" }));
      figures.faults[fault]++;
      figures.runs++;
    }
    // Let the last reconciliation settle, then compare with the simulator's own executions.
    await until(() => a.trading.broker.name === "ib" && (a.trading.broker as { pendingExecutions?: number }).pendingExecutions === 0);
    for (const id of placed) if ((await status(id)) !== "filled") figures.ordersUnfilled++;
    compare(sim, a, figures);
    if (a.trading.store.journal.failed) throw a.trading.store.journal.failed;
  } finally {
    await app?.stop();
    await sim.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return figures;
}

/** Journal fills against the simulator's executions for our client id, by (order, execId). */
function compare(sim: TwsSimulator, app: App, f: TwsFigures): void {
  const truth = new Map<string, number>();
  for (const e of sim.orders.executionsFor({ clientId: CLIENT_ID, account: "", symbol: "", secType: "", side: "" })) {
    truth.set(`${e.orderRef}\u0000${e.execId}`, e.shares);
  }
  const seen = new Map<string, number>();
  const { items } = app.trading.store.fills({}, 1_000_000, 0);
  for (const fill of items) {
    if (fill.kind !== "trade" || fill.orderId === undefined) continue;
    // A reused execId is stored as "<execId>#<order>" (broker-events.ts); the execution is the part before.
    const suffix = `#${fill.orderId}`;
    const execId = fill.fillId.endsWith(suffix) ? fill.fillId.slice(0, -suffix.length) : fill.fillId;
    const key = `${fill.orderId}\u0000${execId}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  f.fills = truth.size;
  for (const key of truth.keys()) if (!seen.has(key)) f.fillsLost++;
  for (const [key, count] of seen) f.fillsDoubled += truth.has(key) ? count - 1 : count;
}

/** Parses the options, runs the campaign, prints the figure line; the exit code (0: targets met). */
export async function run(args: string[]): Promise<number> {
  let runs = 100, short = false, seed = 1;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--short") short = true;
    else if (a === "--runs" || a === "--seed") {
      const v = Number(args[++i]);
      if (!Number.isInteger(v) || v < 1 || (a === "--runs" && v > MAX_RUNS)) {
        say(`tws: ${a} must be an integer from 1${a === "--runs" ? ` to ${MAX_RUNS}` : ""}`);
        return 2;
      }
      if (a === "--runs") runs = v;
      else seed = v;
    } else {
      say(`tws: unknown option ${a} (options: --runs N, --short, --seed N)`);
      return 2;
    }
  }
  if (short) runs = Math.min(runs, SHORT_RUNS);
  const load = (await Bun.file("/proc/loadavg").text().catch(() => "")).split(" ").slice(0, 3).join(" ");
  say(`tws: ${runs} runs (faults ${FAULTS.join(", ")} in turn), load average ${load || "unknown"}`);
  const f = await campaignTws(runs, seed);
  const q = f.quotesBackMs, p50 = quantile(q, 0.5), p99 = quantile(q, 0.99), max = q.length ? Math.max(...q) : NaN;
  process.stdout.write(`campaign tws: runs=${f.runs} faults=drop:${f.faults.drop},restart:${f.faults.restart},filldrop:${f.faults.filldrop} fills=${f.fills} ` +
    `fills_lost=${f.fillsLost} fills_doubled=${f.fillsDoubled} orders_unfilled=${f.ordersUnfilled} quotes_back_ms_p50=${p50.toFixed(0)} p99=${p99.toFixed(0)} max=${max.toFixed(0)}\n`);
  const correct = f.runs === runs && f.fillsLost === 0 && f.fillsDoubled === 0 && f.ordersUnfilled === 0;
  // Timing is judged on full runs only: a few samples on a loaded machine say little about a p99.
  return correct && (short || p99 <= QUOTES_BACK_BUDGET_MS) ? 0 : 1;
}
