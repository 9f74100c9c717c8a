// Crash campaign: the real server process under an order flood (REST and WebSocket, two accounts,
// place / modify / cancel, market and resting limit orders) is killed with SIGKILL after a
// seeded number of acknowledgments, then restarted on the same data directory. Each run checks:
//   1. under flood: every order state acknowledged or pushed to the client is still there and
//      no further back, every fill pushed is there, no fill or client order id is doubled,
//      fills add up to each order's filled quantity, positions and cash equal the sum of the
//      fills, and each account's trading state is what it was before the kill;
//   2. quiet: the restarted server, once its orders stopped changing, is killed again and
//      restarted, and orders, fills, positions, cash and states must be exactly equal.
// Runs share one data directory, so later runs restart over a growing journal with resting
// orders from earlier runs. Before the first run Com-Acc (watched, never traded by the flood)
// buys a holding worth 4 % of its capital, so that every restart has positions to value: a
// restart that mis-valued them would move the account's daily P&L and its trading state.
//
// Rerun: npm run campaign -- crash --runs 50 [--seed N] [--kill-min 200 --kill-max 800]
// Test version: --short (2 runs, smaller floods).
// Figure: campaign crash: runs=… acked=… lost=0 fillsLost=0 doubled=0 stateChanges=0 cashDiffs=0 positionDiffs=0 …

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../src/domain/random.ts";
import { waitForAsync } from "../../test/helpers/wait.ts";
import { addDiffs, checkAgainstKnown, checkUnchanged, noDiffs, stableSnapshot, type Snapshot } from "./crash-check.ts";
import { emptyKnown, flood, SYMBOLS } from "./crash-flood.ts";
import { createKey, figureLine, intOption, killAll, load1, parseOptions, startServer, stopServer, type ServerProc } from "./proc.ts";

/** Upper bound on --runs: each run is two restarts and a flood, ~5-15 s. */
const MAX_RUNS = 500;
/** The campaign stops starting runs after this long, whatever --runs says. */
const MAX_MINUTES = 60;

function serverArgs(configFile: string): string[] {
  // Large capital keeps the loss policy out of the way (commissions and spread of thousands of
  // round trips); inbound and key rates are raised so the flood measures durability, not rate limits;
  // the paper broker trades round the clock, so orders fill at any hour the campaign runs.
  return ["--config", configFile, "--symbols", SYMBOLS.join(","), "--option-expiries", "0", "--tick-rate", "2000", "--log-level", "error",
    "--capital", "100000000", "--key-rate", "1000000", "--paper-hours", "always"];
}

/** Mid (else last) price of each traded stock, once the feed has priced them all (bounded wait). */
async function mids(s: ServerProc): Promise<Record<string, number>> {
  type Quote = { symbol: string; bid: number | null; ask: number | null; last: number | null };
  const out: Record<string, number> = {};
  await waitForAsync(async () => {
    const r = (await (await fetch(`${s.url}/v1/quotes?symbols=${SYMBOLS.join(",")}`)).json()) as { quotes: Quote[] };
    for (const q of r.quotes) {
      const m = q.bid !== null && q.ask !== null ? (q.bid + q.ask) / 2 : q.last;
      if (m !== null) out[q.symbol] = m;
    }
    return Object.keys(out).length === SYMBOLS.length;
  }, 20_000, "prices of the traded stocks", 50);
  return out;
}

/** Share of Com-Acc's capital held in one stock before the first kill: past the loss policy's halt limit (3 %). */
const HOLDING_SHARE = 0.04;
/** Market orders tried to build the holding (each fills what the touch shows). */
const HOLDING_ORDERS = 200;

/**
 * Buys a holding in Com-Acc (which the flood never trades) worth HOLDING_SHARE of its capital.
 * A restart must value it as it was valued before: a restart that forgot the marks would see
 * the holding's whole value as a day's loss and halt the account, which the state check reports.
 */
async function buildHolding(s: ServerProc, key: string, symbol: string, mid: number): Promise<number> {
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const account = (await (await fetch(`${s.url}/v1/accounts/Com-Acc`, { headers })).json()) as { deposits: number };
  const target = Math.ceil((account.deposits * HOLDING_SHARE) / mid);
  let held = 0;
  for (let i = 0; i < HOLDING_ORDERS && held < target; i++) {
    const body = { account: "Com-Acc", clientOrderId: `holding-${i}`, symbol, side: "buy", type: "market", tif: "IOC", qty: Math.min(10_000, target - held) };
    const r = await fetch(`${s.url}/v1/orders`, { method: "POST", headers, body: JSON.stringify(body) });
    const o = (await r.json()) as { status: string; filledQty: number; reason: string | null };
    if (o.status === "denied" || o.status === "rejected") throw new Error(`the Com-Acc holding was refused: ${o.reason}`);
    held += o.filledQty;
  }
  if (held < target) throw new Error(`bought ${held} of ${target} ${symbol} for the Com-Acc holding in ${HOLDING_ORDERS} orders`);
  return held * mid;
}

/** Runs the campaign; returns 0 when nothing was lost, doubled or changed. */
export async function run(args: string[]): Promise<number> {
  const opts = parseOptions(args);
  const short = opts.has("short");
  const runs = intOption(opts, "runs", short ? 2 : 50, MAX_RUNS);
  const seed = intOption(opts, "seed", 20261206, 2 ** 31);
  const killMin = intOption(opts, "kill-min", short ? 60 : 200, 100_000);
  const killMax = Math.max(killMin, intOption(opts, "kill-max", short ? 200 : 800, 100_000));
  const rng = new Rng(seed);
  const dir = mkdtempSync(join(tmpdir(), "alluse-campaign-crash-"));
  const configFile = join(dir, "campaign.json");
  writeFileSync(configFile, JSON.stringify({ limits: { inboundRatePerS: 1_000_000, inboundBurst: 1_000_000 } }));
  const dataDir = join(dir, "data");
  const started = performance.now();
  const total = noDiffs();
  let holdingValue = 0, acked = 0, known = 0, statesKnown = 0, fillsKnown = 0, done = 0, restartMsMax = 0;
  let failure: string | undefined;
  try {
    const key = createKey(dataDir, "trade");
    let s = await startServer(dataDir, serverArgs(configFile));
    const prices = await mids(s);
    holdingValue = await buildHolding(s, key, SYMBOLS[0], prices[SYMBOLS[0]]!);
    let resting: string[] = [];
    for (let r = 1; r <= runs && performance.now() - started < MAX_MINUTES * 60_000; r++) {
      const k = emptyKnown();
      const plan = { killAfterAcks: killMin + rng.int(killMax - killMin + 1), tag: `c${seed}-${r}`, mids: await mids(s), resting };
      await flood(s, key, rng, plan, k);
      acked += k.acks;
      known += k.orders.size;
      const t0 = performance.now();
      s = await startServer(dataDir, serverArgs(configFile));
      restartMsMax = Math.max(restartMsMax, performance.now() - t0);
      const afterFlood = await stableSnapshot(s.url, key);
      addDiffs(total, checkAgainstKnown(k, afterFlood));
      statesKnown += k.states.size;
      fillsKnown += k.fillIds.size;
      // Kill the quiet server: nothing may change at all.
      s.proc.kill("SIGKILL");
      await s.proc.exited;
      s = await startServer(dataDir, serverArgs(configFile));
      const afterQuiet: Snapshot = await stableSnapshot(s.url, key);
      addDiffs(total, checkUnchanged(afterFlood, afterQuiet));
      resting = [...afterQuiet.orders.values()].filter((o) => o.type === "limit" && (o.status === "accepted" || o.status === "partially_filled")).map((o) => o.id);
      done = r;
    }
    await stopServer(s);
  } catch (err) {
    failure = (err as Error).message;
  } finally {
    await killAll();
    rmSync(dir, { recursive: true, force: true });
  }
  const ok = !failure && done === runs && total.lost + total.fillsLost + total.doubled + total.stateChanges + total.cashDiffs + total.positionDiffs === 0;
  console.log(figureLine("crash", {
    runs: done, acked, ordersKnown: known, fillsKnown, statesKnown, lost: total.lost, fillsLost: total.fillsLost, doubled: total.doubled,
    holdingUsd: Math.round(holdingValue), stateChanges: total.stateChanges, cashDiffs: total.cashDiffs, positionDiffs: total.positionDiffs,
    restartMsMax: Math.round(restartMsMax), seed, elapsedS: Math.round((performance.now() - started) / 1000), load1: load1(), ok,
  }));
  for (const n of total.notes) process.stderr.write(`crash: ${n}\n`);
  if (failure) process.stderr.write(`crash: failed: ${failure}\n`);
  return ok ? 0 : 1;
}
