// Risk across a restart of the real server process: Gen-Acc buys shares with a trade key, the
// server is stopped (SIGTERM, then kill -9) and started again on the same data directory. Until
// the feed marks the position again it is "not yet valued" (never worth 0), the loss policy
// waits, /readyz names the wait, and the account stays active with the same small daily P&L.

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RiskView } from "../../src/client/protocol.ts";
import { createKeyCli, startServerProcess, type ServerProcess } from "../helpers/process.ts";
import { waitForAsync } from "../helpers/wait.ts";

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

type Server = ServerProcess;
// Round the clock: this test is about restarts, not sessions, and must fill its buys at any hour.
const startServer = (dir: string) => startServerProcess(["--port", "0", "--data-dir", dir, "--symbols", "SPY,AAPL", "--option-expiries", "0", "--tick-rate", "200",
  "--paper-hours", "always", "--log-level", "error"]);
const createKey = createKeyCli;

async function risk(s: Server, key: string): Promise<RiskView> {
  const res = await fetch(`${s.url}/v1/risk/Gen-Acc`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as RiskView;
}

/** Buys `qty` SPY at market on Gen-Acc, retrying while the feed has no fresh quote yet. */
async function buySpy(s: Server, key: string, qty: number, tag: string): Promise<void> {
  let n = 0;
  await waitForAsync(async () => {
    const res = await fetch(`${s.url}/v1/orders`, {
      method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ account: "Gen-Acc", clientOrderId: `${tag}-${++n}`, symbol: "SPY", side: "buy", type: "market", tif: "DAY", qty }),
    });
    const o = (await res.json()) as { status: string; reason?: string };
    if (o.status === "denied" && !o.reason?.startsWith("NO_QUOTE")) throw new Error(`buy denied: ${o.reason}`);
    return o.status === "filled";
  }, 15_000, "a filled SPY buy", 50);
}

/** One restart scenario: buy, stop with `signal`, restart, check the account. */
async function restartKeepsRisk(signal: "SIGTERM" | "SIGKILL"): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "alluse-restart-risk-"));
  dirs.push(dir);
  const key = createKey(dir, "trade");
  const admin = createKey(dir, "admin");
  let s = await startServer(dir);
  try {
    await buySpy(s, key, 20, "a");
    await buySpy(s, key, 20, "b");
    await waitForAsync(async () => (await risk(s, key)).positions.some((p) => p.symbol === "SPY" && p.qty === 40 && p.status === "ok"), 10_000, "SPY marked");
    const before = await risk(s, key);
    expect(before.state).toBe("active");
    // Two round-trip costs at most: the spread and commissions, not the position's value.
    expect(Math.abs(before.dailyPnl)).toBeLessThan(500);
    s.proc.kill(signal);
    await s.proc.exited;

    s = await startServer(dir);
    // The first thing the restarted server says: still active, SPY never worth 0.
    const first = await risk(s, key);
    expect(first.state).toBe("active");
    expect(first.sessionOpenEquity).toBe(before.sessionOpenEquity);
    expect(Math.abs(first.dailyPnl)).toBeLessThan(1_000);
    const spy = first.positions.find((p) => p.symbol === "SPY")!;
    expect(spy.qty).toBe(40);
    // Live already, or the last mark stored before the stop (flagged stale): never nothing.
    expect(spy.mark).toBeGreaterThan(0);
    expect(spy.marketValue).toBeCloseTo(40 * spy.mark!, 6);
    if (spy.status !== "ok") expect(first.valuation).toBe("waiting_for_marks");
    // Once the feed marks SPY, /readyz is ready and the figures are live again.
    await waitForAsync(async () => (await fetch(`${s.url}/readyz`)).status === 200, 15_000, "/readyz ready");
    await waitForAsync(async () => (await risk(s, key)).valuation === "marked", 10_000, "the book marked");
    const firm = (await (await fetch(`${s.url}/v1/risk`, { headers: { authorization: `Bearer ${key}` } })).json()) as { firm: { valuation: string } };
    expect(firm.firm.valuation).toBe("marked");
    const after = await risk(s, key);
    expect(after.state).toBe("active");
    expect(Math.abs(after.dailyPnl)).toBeLessThan(1_000);
    const audit = (await (await fetch(`${s.url}/v1/admin/risk/audit?account=Gen-Acc`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { records: { actor: string }[] };
    expect(audit.records.filter((r) => r.actor === "risk")).toEqual([]);
  } finally {
    s.proc.kill("SIGTERM");
    await s.proc.exited;
  }
}

test("SIGTERM and restart with a position: Gen-Acc stays active, daily P&L stays small", () => restartKeepsRisk("SIGTERM"), 90_000);

test("kill -9 and restart with a position: Gen-Acc stays active, daily P&L stays small", () => restartKeepsRisk("SIGKILL"), 90_000);
