// The valuation rule of the risk engine across a restart (WASM risk region, SQLite, the order
// manager; no feed, a virtual clock): a held instrument without a live mark is valued at its last
// stored mark and flagged stale, or not valued at all (counted at cost) when there is none —
// never at 0 and never at a model price; the loss policy, the session-open equity and the peak
// wait for live marks, at most risk.markWaitMs; /readyz names what is missing.

import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { RiskSnapshot } from "../../src/risk/snapshot.ts";
import { MONDAY_10AM } from "../helpers/oms.ts";
import { PUT, startRiskRig, type RiskRig } from "../helpers/risk.ts";

let rig: RiskRig | undefined;
afterEach(async () => {
  await rig?.close();
  if (rig) rmSync(rig.h.dir, { recursive: true, force: true });
  rig = undefined;
});

/** The test's own connection to the rig's database; the closed rig's writer thread may still hold it for a moment. */
function openDb(dir: string): Database {
  const db = new Database(join(dir, "alluse.db"));
  db.exec("PRAGMA busy_timeout = 5000");
  return db;
}

const TIGHT = { dailyLossReduce: 0.02, dailyLossHalt: 0.03 };
const WAIT_MS = 10_000;

function snap(r: RiskRig): RiskSnapshot {
  r.h.risk!.recompute();
  return r.h.risk!.snapshot("T")!;
}

/**
 * First run: 900 AAPL bought at 100.02 ($4.50 commission), then marked at 97.01: a real loss of
 * $2,713.50 under loose limits. Returns that snapshot; the rig is closed (a clean stop).
 */
async function firstRun(): Promise<{ dir: string; before: RiskSnapshot }> {
  const r = await startRiskRig({});
  expect((await r.place({ qty: 900 })).json.status).toBe("filled");
  await r.h.store.journal.durable();
  r.h.quote("AAPL", 97, 100_000, 97.02, 100_000);
  const before = snap(r);
  expect(before.dailyPnl).toBeCloseTo(-(900 * 100.02 + 4.5 - 900 * 97.01), 6);
  await r.close();
  return { dir: r.h.dir, before };
}

/** Restarts on `dir` with tight loss limits and no quotes. */
async function restart(dir: string, nowMs = MONDAY_10AM + 60_000): Promise<RiskRig> {
  return (rig = await startRiskRig(TIGHT, { dir, quotes: false, nowMs, risk: { markWaitMs: WAIT_MS } }));
}

describe("valuation after a restart", () => {
  test("a position is valued at its stored mark, flagged stale; the loss policy waits for a live mark, then acts on the real loss", async () => {
    const { dir, before } = await firstRun();
    const r = await restart(dir);
    let s = snap(r);
    // A loss of $2,713.50 is past the $2,000 reduce limit, but the book is not marked yet.
    expect(s.state).toBe("active");
    expect(s.valuation).toBe("waiting_for_marks");
    expect(s.unmarked).toEqual(["AAPL"]);
    expect(s.positions[0]).toMatchObject({ symbol: "AAPL", qty: 900, status: "stale" });
    expect(s.positions[0]!.mark).toBeCloseTo(97.01, 9);
    expect(s.equity).toBeCloseTo(before.equity, 6);
    expect(s.dailyPnl).toBeCloseTo(before.dailyPnl, 6);
    expect(r.h.risk!.marksReadiness()).toStartWith("waiting for live marks (T AAPL)");

    r.h.quote("AAPL", 97, 100_000, 97.02, 100_000);
    s = snap(r);
    expect(s.valuation).toBe("marked");
    expect(s.positions[0]!.status).toBe("ok");
    expect(r.h.risk!.marksReadiness()).toBeNull();
    expect(s.state).toBe("reducing");
    expect(s.stateReason).toBe("daily loss $2713.50 reached the reduce limit $2000.00");
  });

  test("with no live mark by the end of the wait, the stored mark stands (stale) and the policy acts on it", async () => {
    const { dir } = await firstRun();
    const r = await restart(dir);
    expect(r.h.risk!.maybeRecompute()).toBe(false);
    expect(snap(r).state).toBe("active");
    r.h.clock.now += WAIT_MS;
    expect(r.h.risk!.maybeRecompute()).toBe(true);
    const s = r.h.risk!.snapshot("T")!;
    expect(s.valuation).toBe("stale");
    expect(s.unmarked).toEqual(["AAPL"]);
    expect(r.h.risk!.marksReadiness()).toBeNull();
    expect(s.state).toBe("reducing");
  });

  test("without a stored mark a position is not valued: no mark, counted at cost, no P&L", async () => {
    const { dir } = await firstRun();
    const db = openDb(dir);
    db.exec("DELETE FROM risk_marks");
    db.close();
    const r = await restart(dir);
    const s = snap(r);
    expect(s.state).toBe("active");
    expect(s.positions[0]).toMatchObject({ symbol: "AAPL", qty: 900, status: "not_valued", mark: null, unrealizedPnl: 0 });
    expect(s.positions[0]!.marketValue).toBeGreaterThan(90_000);
    expect(s.equity).toBeCloseTo(s.cash + s.positions[0]!.marketValue, 6);
    expect(s.dailyPnl).toBeGreaterThan(-5);
  });

  test("an admin's decision while waiting for marks takes its figures from the first marked book", async () => {
    const { dir } = await firstRun();
    const r = await restart(dir);
    const { info, policy } = r.h.risk!.adminSetState("key:test", "T", "active", "restarted, checking");
    expect(info.override).toMatchObject({ lossAt: null, drawdownAt: null, step: 1000 });
    expect(policy.message).toStartWith("The account's positions are not all marked yet, so the loss policy is held.");
    r.h.quote("AAPL", 97, 100_000, 97.02, 100_000);
    const s = snap(r);
    // A loss of $2,713.50 is past the reduce limit, but the admin decided at it: the bound is $3,713.50.
    expect(s.state).toBe("active");
    expect(r.h.risk!.state("T").override).toMatchObject({ lossAt: 2713.5 });
    const audit = r.h.risk!.store.auditTrail("T", 1)[0]!;
    expect(audit).toMatchObject({ actor: "risk", action: "override", new: { lossAt: 2713.5 } });
    r.h.quote("AAPL", 95.9, 100_000, 95.92, 100_000); // loss $3,703.50
    expect(snap(r).state).toBe("active");
    r.h.quote("AAPL", 95.88, 100_000, 95.9, 100_000); // loss $3,721.50
    expect(snap(r).state).toBe("halted");
  });

  test("stored marks are kept only for held instruments, so the table stays as small as the book", async () => {
    const { dir } = await firstRun();
    let db = openDb(dir);
    db.exec("INSERT INTO risk_marks (symbol, mark, ts) VALUES ('MSFT', 1, 0)");
    db.close();
    const r = await restart(dir);
    await r.close();
    db = openDb(dir);
    expect(db.query("SELECT symbol FROM risk_marks ORDER BY symbol").all()).toEqual([{ symbol: "AAPL" }]);
    db.close();
    rig = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  test("on a new day the session opens at the first marked equity, not at an unmarked book's", async () => {
    const { dir, before } = await firstRun();
    const r = await restart(dir, MONDAY_10AM + 86_400_000);
    let s = snap(r);
    expect(s.sessionOpenEquity).toBeNull();
    expect(s.peakEquity).toBeNull();
    expect(s.dailyPnl).toBe(0);
    r.h.quote("AAPL", 97, 100_000, 97.02, 100_000);
    s = snap(r);
    expect(s.sessionOpenEquity).toBeCloseTo(before.equity, 6);
    expect(s.peakEquity).toBeCloseTo(before.equity, 6);
    r.h.quote("AAPL", 96, 100_000, 96.02, 100_000);
    s = snap(r);
    expect(s.dailyPnl).toBeCloseTo(-900, 6);
    expect(s.state).toBe("active");
  });

  test("an option keeps its stored mark (never a model price) until its own quote arrives", async () => {
    let r = await startRiskRig({});
    expect((await r.place({ symbol: PUT, side: "sell", type: "limit", limitPrice: 9.8, qty: 2 })).json.status).toBe("filled");
    await r.h.store.journal.durable();
    const before = snap(r);
    expect(before.positions[0]!.mark).toBeCloseTo(9.9, 9);
    await r.close();
    r = await restart(r.h.dir);
    r.h.quote("TSLA", 200, 100_000, 200.1, 100_000); // the underlying moves a long way; the put has no quote yet
    let s = snap(r);
    expect(s.positions[0]).toMatchObject({ symbol: PUT, qty: -2, status: "stale" });
    expect(s.positions[0]!.mark).toBeCloseTo(9.9, 9);
    expect(s.dailyPnl).toBeCloseTo(before.dailyPnl, 6);
    expect(s.valuation).toBe("waiting_for_marks");
    r.h.quote(PUT, 49, 500, 51, 500);
    s = snap(r);
    expect(s.positions[0]!.status).toBe("ok");
    expect(s.positions[0]!.mark).toBe(50);
    expect(s.state).toBe("halted");
  });
});
