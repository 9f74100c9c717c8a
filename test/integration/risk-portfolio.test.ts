// Live portfolio risk, trading states, the kill switch and the admin API, through the real order
// and risk REST routes with the WASM risk engine: VaR and concentration against a hand
// computation on a two-position book, option greeks against the greeks engine, a daily-loss
// path that drives an account to reducing then halted (and stays halted across a restart).

import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { expiryMs } from "../../src/domain/instrument.ts";
import { GreeksEngine } from "../../src/risk/greeks.ts";
import type { RiskSnapshot } from "../../src/risk/snapshot.ts";
import { PUT, startRiskRig, type RiskRig } from "../helpers/risk.ts";
import { waitFor } from "../helpers/wait.ts";

let rig: RiskRig | undefined;
afterEach(async () => {
  await rig?.close();
  if (rig) rmSync(rig.h.dir, { recursive: true, force: true });
  rig = undefined;
});

async function snap(r: RiskRig): Promise<RiskSnapshot> {
  r.h.risk!.recompute();
  const res = await r.call("GET", "/v1/risk/T");
  expect(res.status).toBe(200);
  return res.json;
}

describe("portfolio risk", () => {
  test("a two-stock book: exposure, stress, concentration and VaR match a hand computation", async () => {
    const r = (rig = await startRiskRig({}));
    expect((await r.place({ qty: 100 })).json.status).toBe("filled");
    expect((await r.place({ symbol: "MSFT", qty: 50 })).json.status).toBe("filled");
    await r.h.store.journal.durable();
    const s = await snap(r);
    // Both marked at the mid 100.01; both bought at the ask 100.02 with the $1 minimum commission.
    const d1 = 100 * 100.01, d2 = 50 * 100.01;
    expect(s.marketValue).toBeCloseTo(d1 + d2, 6);
    expect(s.cash).toBeCloseTo(100_000 - 150 * 100.02 - 2, 6);
    expect(s.equity).toBeCloseTo(s.cash + d1 + d2, 6);
    expect(s.dailyPnl).toBeCloseTo(s.equity - 100_000, 6);
    expect(s.grossExposure).toBeCloseTo(d1 + d2, 6);
    expect(s.dollarDelta).toBeCloseTo(d1 + d2, 6);
    expect(s.stress.down10).toBeCloseTo(-0.1 * (d1 + d2), 6);
    expect(s.stress.down40).toBeCloseTo(-0.4 * (d1 + d2), 6);
    expect(s.stress.vol50).toBe(0);
    expect(s.concentration.largestUnderlying).toBe("AAPL");
    expect(s.concentration.shareOfEquity).toBeCloseTo(d1 / s.equity, 9);
    expect(s.concentration.hhi).toBeCloseTo((d1 / (d1 + d2)) ** 2 + (d2 / (d1 + d2)) ** 2, 9);
    // No volatility estimate yet (one quote each): the default 30 % a year, over 252 days.
    // Delta-normal with one pairwise correlation rho = 0.5:
    //   var = (1 - rho)(s1² d1² + s2² d2²) + rho (s1 d1 + s2 d2)²
    const sigma = 0.3 / Math.sqrt(252);
    const variance = 0.5 * (sigma ** 2 * d1 ** 2 + sigma ** 2 * d2 ** 2) + 0.5 * (sigma * d1 + sigma * d2) ** 2;
    expect(s.var95).toBeCloseTo(1.6448536269514722 * Math.sqrt(variance), 6);
    expect(s.var99).toBeCloseTo(2.3263478740408408 * Math.sqrt(variance), 6);
    expect(s.positions.map((p) => p.symbol).sort()).toEqual(["AAPL", "MSFT"]);
    expect(s.score).toBeGreaterThanOrEqual(0);
    expect(s.score).toBeLessThanOrEqual(100);
  });

  test("a short put: implied vol and greeks from the option's mid, cash reserved, short-vol stress", async () => {
    const r = (rig = await startRiskRig({}));
    expect((await r.place({ symbol: PUT, side: "sell", qty: 1 })).json.status).toBe("filled");
    await r.h.store.journal.durable();
    const s = await snap(r);
    const t = (expiryMs("20261127") - r.h.clock.now) / (365 * 86_400_000);
    const [g] = (await GreeksEngine.create()).impliedVols([{ spot: 250.05, strike: 250, tYears: t, rate: 0.04, divYield: 0, right: "P", price: 9.9 }]);
    const p = s.positions.find((x) => x.symbol === PUT)!;
    expect(p.qty).toBe(-1);
    expect(p.status).toBe("ok");
    expect(p.iv!).toBeCloseTo(g!.vol, 9);
    expect(p.delta!).toBeCloseTo(g!.delta, 9);
    expect(p.vega!).toBeCloseTo(g!.vega, 9);
    expect(p.theta!).toBeCloseTo(g!.theta, 9);
    expect(p.dollarDelta).toBeCloseTo(-1 * g!.delta * 250.05 * 100, 6);
    expect(s.vega).toBeCloseTo(-g!.vega, 6); // per vol point: vega × 100 × qty / 100
    expect(s.theta).toBeCloseTo((-g!.theta * 100) / 365, 6);
    expect(s.buyingPower.required).toBe(25_000);
    expect(s.stress.down20).toBeLessThan(0);
    expect(s.stress.vol50).toBeLessThan(0);
    expect(s.stress.up10).toBeGreaterThan(0);
  });
});

describe("incremental recompute", () => {
  test("only ticks on held instruments, fills, orders and states make the timer recompute", async () => {
    const r = (rig = await startRiskRig({}));
    expect((await r.place({ qty: 10 })).json.status).toBe("filled");
    await r.h.store.journal.durable();
    const risk = r.h.risk!;
    expect(risk.maybeRecompute()).toBe(true);
    expect(risk.maybeRecompute()).toBe(false);
    r.h.quote("MSFT", 100.5, 1000, 100.52, 1000); // nobody holds or works MSFT
    expect(risk.maybeRecompute()).toBe(false);
    r.h.quote("AAPL", 100.5, 1000, 100.52, 1000);
    expect(risk.maybeRecompute()).toBe(true);
    expect(risk.snapshot("T")!.marketValue).toBeCloseTo(10 * 100.51, 6);
    risk.setState("test", "T", "reducing", "x");
    expect(risk.maybeRecompute()).toBe(true);
    expect(risk.snapshot("T")!.state).toBe("reducing");
    // A quiet book is still recomputed every few seconds (time decay, the session roll).
    r.h.clock.now += 5_000;
    expect(risk.maybeRecompute()).toBe(true);
  });
});

describe("trading states", () => {
  test("a falling market drives the account to reducing, then halted; the state survives a restart", async () => {
    let r = (rig = await startRiskRig({ dailyLossReduce: 0.02, dailyLossHalt: 0.03 }));
    expect((await r.place({ qty: 900 })).json.status).toBe("filled");
    await r.h.store.journal.durable();
    const states: { mid: number; state: string }[] = [];
    for (let mid = 100; mid >= 96; mid = Math.round((mid - 0.1) * 100) / 100) {
      r.h.quote("AAPL", mid - 0.01, 100_000, mid + 0.01, 100_000);
      const s = await snap(r);
      states.push({ mid, state: s.state });
      // Loss from the $100,000 open: 900 × 100.02 + $4.50 commission paid, 900 × mid held.
      expect(-s.dailyPnl).toBeCloseTo(90_022.5 - 900 * mid, 6);
      if (mid === 97.8) {
        expect(s.state).toBe("reducing");
        expect((await r.place({ qty: 1 })).json.reason).toStartWith("REDUCE_ONLY");
      }
    }
    const first = (st: string) => states.find((x) => x.state === st)?.mid;
    expect(first("reducing")).toBe(97.8); // loss 2,002.50 ≥ 2,000
    expect(first("halted")).toBe(96.6); // loss 3,082.50 ≥ 3,000
    expect(states.at(-1)!.state).toBe("halted");
    expect((await r.place({ side: "sell", qty: 1 })).json.reason).toStartWith("HALTED");
    const audit = (await r.call("GET", "/v1/admin/risk/audit?account=T")).json.records;
    expect(audit.filter((a: any) => a.action === "state" && a.actor === "risk").map((a: any) => a.new.state)).toEqual(["halted", "reducing"]);

    const dir = r.h.dir;
    await r.close();
    r = rig = await startRiskRig({ dailyLossReduce: 0.02, dailyLossHalt: 0.03 }, { dir });
    expect(r.h.risk!.state("T").state).toBe("halted");
    expect((await r.place({ side: "sell", qty: 1 })).json.reason).toStartWith("HALTED");
  });

  test("an admin's active stands for the day, said in the reply and the audit, until the loss grows by the step; it survives a restart", async () => {
    const limits = { dailyLossReduce: 0.02, dailyLossHalt: 0.03, drawdownReduce: 0.03, drawdownHalt: 0.05 };
    let r = (rig = await startRiskRig(limits));
    expect((await r.place({ qty: 900 })).json.status).toBe("filled");
    await r.h.store.journal.durable();
    const at = async (mid: number) => {
      r.h.quote("AAPL", mid - 0.01, 100_000, mid + 0.01, 100_000);
      return snap(r);
    };
    // Loss 900 × 100.02 + $4.50 − 900 × 96.5 = $3,172.50: past the $3,000 halt limit.
    expect((await at(96.5)).state).toBe("halted");
    const res = await r.call("POST", "/v1/admin/risk/state", { account: "T", state: "active", reason: "desk lead accepts the loss" });
    expect(res.status).toBe(200);
    // The policy does not take it back on the next recompute, nor at a loss below the new bound.
    expect((await at(96.5)).state).toBe("active");
    expect((await at(95.4)).state).toBe("active"); // loss $4,162.50
    expect(res.json).toMatchObject({
      scope: "T", state: "active", manual: true,
      override: { date: "2026-11-23", lossAt: 3172.5, step: 1000 },
      policy: { wouldSetNow: "halted", until: "2026-11-23", bounds: { lossReduce: 4172.5, lossHalt: 4172.5, drawdownHalt: 5000 } },
    });
    expect(res.json.policy.message).toBe(
      "The loss policy would set halted now (daily loss $3172.50 reached the halt limit $3000.00). This decision stands for the rest of " +
      "trading day 2026-11-23: the policy acts again only if the loss grows by a further $1000.00: reducing at a daily loss of $4172.50 " +
      "or a drawdown of $4172.50, halted at $4172.50 or $5000.00.");
    const audit = (await r.call("GET", "/v1/admin/risk/audit?account=T")).json.records;
    expect(audit[0]).toMatchObject({ action: "state", new: { state: "active", manual: true, policy: res.json.policy.message, override: { lossAt: 3172.5 } } });

    // A restart keeps the decision and its bound.
    const dir = r.h.dir;
    await r.close();
    r = rig = await startRiskRig(limits, { dir });
    expect((await at(95.4)).state).toBe("active");
    const s = await at(95.3); // loss $4,252.50 ≥ $4,172.50
    expect(s.state).toBe("halted");
    expect(s.stateReason).toBe(
      "daily loss $4252.50 reached $4172.50: the halt limit $3000.00 was raised by the admin's decision of " +
      `${new Date(res.json.override.decidedTs).toISOString()} to the daily loss then plus $1000.00`);
  });

  test("an admin's state on an untroubled account or the firm: the reply says the policy applies as usual", async () => {
    const r = (rig = await startRiskRig({ dailyLossReduce: 0.02, dailyLossHalt: 0.03, drawdownReduce: 0.03, drawdownHalt: 0.05 }));
    const res = await r.call("POST", "/v1/admin/risk/state", { account: "T", state: "active", reason: "routine" });
    expect(res.json.policy).toMatchObject({ wouldSetNow: null, bounds: { lossReduce: 2000, lossHalt: 3000, drawdownReduce: 3000, drawdownHalt: 5000 } });
    expect(res.json.policy.message).toStartWith("The loss policy applies as usual for the rest of trading day 2026-11-23: reducing at a daily loss of $2000.00");
    expect((await r.call("POST", "/v1/admin/risk/state", { account: "T", state: "halted", reason: "x" })).json.policy.message).toStartWith("Halted by hand");
    expect((await r.call("POST", "/v1/admin/risk/state", { state: "reducing", reason: "x" })).json.policy.message).toStartWith("Firm-wide state");
  });

  test("kill switch: halts, cancels every working order, is audited; admin only", async () => {
    const r = (rig = await startRiskRig({}));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await r.place({ type: "limit", limitPrice: 99, qty: 5 })).json.id);
    const trader = r.keys.create(["trade"], ["T"]).secret;
    expect((await r.call("POST", "/v1/admin/risk/kill", { account: "T", reason: "x" }, trader)).status).toBe(403);
    expect((await r.call("POST", "/v1/admin/risk/kill", { account: "NOPE", reason: "x" })).status).toBe(404);
    expect((await r.call("POST", "/v1/admin/risk/kill", { account: "T" })).json.error.field).toBe("reason");
    const res = await r.call("POST", "/v1/admin/risk/kill", { account: "T", reason: "operator drill" });
    expect(res.status).toBe(200);
    expect(res.json.canceled.sort()).toEqual([...ids].sort());
    expect(res.json.state.state).toBe("halted");
    await waitFor(() => r.h.oms.openOrders("T").length === 0, 5000, "every working order canceled");
    for (const id of ids) expect((await r.call("GET", `/v1/orders/${id}`)).json.status).toBe("canceled");
    expect((await r.place({ qty: 1 })).json.reason).toStartWith("HALTED");
    const kill = (await r.call("GET", "/v1/admin/risk/audit")).json.records.find((a: any) => a.action === "kill");
    expect(kill).toMatchObject({ scope: "T", new: { reason: "operator drill" } });
    expect(kill.actor).toStartWith("key:");
    // Back to active by hand.
    expect((await r.call("POST", "/v1/admin/risk/state", { account: "T", state: "active", reason: "drill over" })).status).toBe(200);
    expect((await r.place({ qty: 1 })).json.status).toBe("filled");
  });

  test("firm-wide halt from the admin API", async () => {
    const r = (rig = await startRiskRig({}));
    expect((await r.call("POST", "/v1/admin/risk/state", { state: "halted", reason: "firm" })).json).toMatchObject({ scope: "*", state: "halted" });
    expect((await r.place({ qty: 1 })).json.reason).toStartWith("HALTED");
    expect((await r.call("GET", "/v1/risk")).json.firm.state).toBe("halted");
    expect((await r.call("POST", "/v1/admin/risk/state", { state: "paused", reason: "x" })).json.error.field).toBe("state");
  });
});

describe("limits through the admin API", () => {
  test("a change applies at once and is audited with old and new; bad input changes nothing", async () => {
    const r = (rig = await startRiskRig({}));
    expect((await r.place({ type: "limit", limitPrice: 99, qty: 6 })).json.status).not.toBe("denied");
    expect((await r.call("PATCH", "/v1/admin/risk/limits/T", { maxQty: -1 })).json.error.field).toBe("maxQty");
    expect((await r.call("PATCH", "/v1/admin/risk/limits/T", { maxQtty: 5 })).status).toBe(400);
    expect((await r.call("PATCH", "/v1/admin/risk/limits/T", {})).status).toBe(400);
    expect((await r.call("PATCH", "/v1/admin/risk/limits/NOPE", { maxQty: 5 })).status).toBe(404);
    expect((await r.call("PATCH", "/v1/admin/risk/limits/T", "{not json")).json.error.code).toBe("BAD_JSON");
    const res = await r.call("PATCH", "/v1/admin/risk/limits/T", { maxQty: 5 });
    expect(res.status).toBe(200);
    expect(res.json.limits.maxQty).toBe(5);
    expect((await r.place({ type: "limit", limitPrice: 99, qty: 6 })).json.reason).toStartWith("BAD_QTY");
    const rec = (await r.call("GET", "/v1/admin/risk/audit?account=T")).json.records[0];
    expect(rec).toMatchObject({ action: "limits", scope: "T", old: { maxQty: 1_000_000 }, new: { maxQty: 5 } });
    // Only the admin changes limits; a trader sees only its own accounts' risk.
    const other = r.keys.create(["trade"], ["Elsewhere"]).secret;
    expect((await r.call("PATCH", "/v1/admin/risk/limits/T", { maxQty: 7 }, other)).status).toBe(403);
    r.h.risk!.recompute();
    expect((await r.call("GET", "/v1/risk/T", undefined, other)).status).toBe(404);
    expect((await r.call("GET", "/v1/risk", undefined, other)).json.accounts).toEqual([]);
    expect((await r.call("GET", "/v1/risk/T")).json.limits.maxQty).toBe(5);
  });
});

describe("bounds", () => {
  test("an account holds at most RISK_MAX_POSITIONS (1,024) instruments in the risk table; a freed row is reused", async () => {
    // Held positions, not working orders: the order manager allows 1,000 working orders per account.
    const CAP = 1024;
    const extra = Array.from({ length: CAP }, (_, i) => `S${i}`);
    const r = (rig = await startRiskRig({}, { extraStocks: extra }));
    expect(r.h.risk!.tables.maxPositions).toBe(CAP);
    for (const s of extra) r.h.quote(s, 10, 1000, 10.02, 1000);
    for (const s of extra) expect((await r.place({ symbol: s, type: "market", qty: 1 })).json.status).not.toBe("denied");
    await waitFor(() => r.h.oms.positions("T").filter((p) => p.qty !== 0).length === CAP, 10_000, "every fill");
    await r.h.store.journal.durable();
    const full = (await r.place({ symbol: "AAPL", type: "limit", limitPrice: 99, qty: 1 })).json;
    expect(full).toMatchObject({ status: "denied" });
    expect(full.reason).toContain(`${CAP} instruments`);
    expect((await r.place({ symbol: "S0", side: "sell", type: "market", qty: 1 })).json.status).not.toBe("denied");
    await waitFor(() => r.h.oms.positions("T").filter((p) => p.qty !== 0).length === CAP - 1, 5000, "the sale");
    await r.h.store.journal.durable();
    expect((await r.place({ symbol: "AAPL", type: "limit", limitPrice: 99, qty: 1 })).json.status).not.toBe("denied");
  }, 60_000);
});
