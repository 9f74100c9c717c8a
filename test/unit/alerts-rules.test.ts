// The built-in alert rules over real parts (the WASM test engine, a registry histogram) and
// plain stats objects, evaluated by a real AlertEngine on the test's clock; configured
// threshold overrides; the sample window's bounds.

import { afterEach, describe, expect, test } from "bun:test";
import type { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TickKind } from "../../src/domain/tick.ts";
import {
  brokerAnomalyRule, brokerConnectionRule, brokerSessionRule, feedRejectRateRule, latencySloRule, quoteStalenessRule, SampleWindow, slowClientsRule, slowDisconnectsRule,
} from "../../src/monitor/alert-rules.ts";
import { AlertEngine, type AlertEngineOptions, type AlertRule } from "../../src/monitor/alerts.ts";
import { LATENCY_SECONDS_BUCKETS } from "../../src/monitor/metrics.ts";
import { MetricsRegistry } from "../../src/monitor/registry.ts";
import { AlertStore } from "../../src/store/alerts.ts";
import { openDatabase } from "../../src/store/db.ts";
import { TestMarket } from "../helpers/market.ts";
import { setQuote } from "../helpers/quotes.ts";

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

function engine(o: Partial<AlertEngineOptions> = {}): AlertEngine {
  const dir = mkdtempSync(join(tmpdir(), "alluse-alert-rules-"));
  const db: Database = openDatabase(join(dir, "alluse.db"), "none");
  cleanup.push(() => (db.close(), rmSync(dir, { recursive: true, force: true })));
  return new AlertEngine(new AlertStore(db), o);
}

const summary = (a: AlertEngine) => a.activeAlerts().map((x) => `${x.rule}/${x.key}/${x.severity}`);

describe("built-in rules", () => {
  test("quote staleness: age of the last accepted tick of subscribed rows only; never-quoted rows are skipped", async () => {
    const m = await TestMarket.create();
    const t0 = Date.parse("2026-11-23T15:00:00Z");
    setQuote(m.engine, "AAPL", 100, 100, 100.02, 100, t0);
    setQuote(m.engine, "MSFT", 300, 100, 300.02, 100, t0 + 4000);
    const subscribed = [m.row("AAPL"), m.row("MSFT"), m.row("TSLA")];
    const rule = quoteStalenessRule(m.engine, () => subscribed, { warning: 5000, critical: 30_000 });
    expect([...rule.read(t0 + 6000)]).toEqual([{ key: "AAPL", value: 6000 }, { key: "MSFT", value: 2000 }]);
    const a = engine();
    a.addRule(rule);
    a.evaluate(t0 + 6000);
    expect(summary(a)).toEqual(["feed.quote_stale/AAPL/warning"]);
    a.evaluate(t0 + 31_000);
    expect(summary(a)).toEqual(["feed.quote_stale/AAPL/critical", "feed.quote_stale/MSFT/warning"]);
    setQuote(m.engine, "AAPL", 100, 100, 100.02, 100, t0 + 31_500);
    subscribed.splice(1, 1);
    a.evaluate(t0 + 32_000);
    expect(summary(a)).toEqual([]);
  });

  test("quote staleness is silent while quotes are not expected (outside the exchange session)", async () => {
    const m = await TestMarket.create();
    const t0 = Date.parse("2026-11-23T15:00:00Z");
    setQuote(m.engine, "AAPL", 100, 100, 100.02, 100, t0);
    let open = false;
    const rule = quoteStalenessRule(m.engine, () => [m.row("AAPL")], {}, () => open);
    expect([...rule.read(t0 + 60_000)]).toEqual([]);
    open = true;
    expect([...rule.read(t0 + 60_000)]).toEqual([{ key: "AAPL", value: 60_000 }]);
  });

  test("feed reject rate: percentage over the window, silent below minTicks", async () => {
    const m = await TestMarket.create();
    const rule = feedRejectRateRule(m.engine, { windowMs: 10_000, minTicks: 100 });
    const write = (good: number, bad: number) => {
      const now = Date.now();
      for (let i = 0; i < good; i++) m.engine.write(m.row("AAPL"), TickKind.Trade, 100, 1, now);
      for (let i = 0; i < bad; i++) m.engine.write(m.row("AAPL"), TickKind.Trade, Number.NaN, 1, now);
      m.engine.flush(now);
    };
    expect([...rule.read(0)]).toEqual([]);
    write(50, 0);
    expect([...rule.read(1000)]).toEqual([]);
    write(90, 10);
    expect([...rule.read(2000)]).toEqual([{ key: "", value: (100 * 10) / 150 }]);
    // At 11.5 s the samples of 0 s and 1 s left the window: only what came after the 2 s sample counts.
    write(198, 2);
    expect([...rule.read(11_500)]).toEqual([{ key: "", value: 1 }]);
  });

  test("tick-to-publish p99 over the window from the real histogram; below minSamples it says nothing", () => {
    const registry = new MetricsRegistry();
    const h = registry.histogram({ name: "t_seconds", help: "t", buckets: LATENCY_SECONDS_BUCKETS });
    const child = h.labels();
    const rule = latencySloRule({ bounds: h.bounds, counts: () => child.counts }, { windowMs: 60_000, minSamples: 100, warning: 10, critical: 50 });
    expect([...rule.read(0)]).toEqual([]);
    for (let i = 0; i < 1000; i++) h.observe(0.0002);
    // Rank 990 of 1,000, all in (0.1 ms, 0.25 ms]: 0.1 + 0.15 × 0.99 ms.
    expect([...rule.read(1000)][0]!.value).toBeCloseTo(0.1 + 0.15 * 0.99, 9);
    for (let i = 0; i < 1000; i++) h.observe(i < 950 ? 0.0002 : 0.08);
    // 2,000 samples, 50 of them in (50 ms, 100 ms]: p99 (rank 1,980) interpolates inside that bucket.
    const [r] = [...rule.read(2000)];
    expect(r!.value).toBeCloseTo(50 + 50 * (30 / 50), 6);
  });

  test("slow clients hold 5 s before raising; slow disconnects count over the window", () => {
    const stats = { slowClients: 0, slowDisconnects: 0 };
    const a = engine();
    a.addRule(slowClientsRule(() => stats));
    a.addRule(slowDisconnectsRule(() => stats, { windowMs: 60_000 }));
    a.evaluate(0);
    stats.slowClients = 2;
    a.evaluate(1000);
    expect(summary(a)).toEqual([]);
    a.evaluate(6000);
    expect(summary(a)).toEqual(["ws.slow_clients//warning"]);
    stats.slowDisconnects = 12;
    a.evaluate(7000);
    expect(summary(a)).toEqual(["ws.slow_clients//warning", "ws.slow_disconnects//critical"]);
    a.evaluate(68_000);
    expect(summary(a)).toEqual(["ws.slow_clients//warning"]);
  });

  test("broker anomalies: one refused message warns, ten are critical, and the alert resolves once the window has passed", () => {
    let total = 1;
    const a = engine();
    a.addRule(brokerAnomalyRule(() => total, { windowMs: 60_000 }));
    // One before the first evaluation (at start-up) counts too.
    a.evaluate(0);
    expect(summary(a)).toEqual(["broker.anomalies//warning"]);
    total = 11;
    a.evaluate(1000);
    expect(summary(a)).toEqual(["broker.anomalies//critical"]);
    a.evaluate(62_000);
    expect(summary(a)).toEqual([]);
  });

  test("IB session: degraded warns, down is critical, both after a 1 s hold; connected resolves", () => {
    const session = { state: "connected" };
    const a = engine();
    a.addRule(brokerConnectionRule(session));
    a.evaluate(0);
    session.state = "degraded";
    a.evaluate(500);
    a.evaluate(1499);
    expect(summary(a)).toEqual([]);
    a.evaluate(1500);
    expect(summary(a)).toEqual(["broker.connection/ib/warning"]);
    session.state = "reconnecting";
    a.evaluate(2000);
    expect(summary(a)).toEqual(["broker.connection/ib/critical"]);
    session.state = "connected";
    a.evaluate(2500);
    a.evaluate(3500);
    expect(summary(a)).toEqual([]);
  });

  test("a session that needs an operator is one critical broker.session alert naming the state, not a second broker.connection one", () => {
    const session = { state: "connected" };
    const a = engine();
    a.addRule(brokerConnectionRule(session));
    a.addRule(brokerSessionRule(session));
    a.evaluate(0);
    for (const state of ["competing", "not_ready"]) {
      session.state = state;
      a.evaluate(10_000);
      a.evaluate(11_000);
      expect(summary(a)).toEqual([`broker.session/${state}/critical`]);
      session.state = "connected";
      a.evaluate(12_000);
      a.evaluate(13_000);
      expect(summary(a)).toEqual([]);
    }
    // reauth follows a lost connection (1100): both say so, each its own part.
    session.state = "reauth";
    a.evaluate(20_000);
    a.evaluate(21_000);
    expect(summary(a).sort()).toEqual(["broker.connection/ib/critical", "broker.session/reauth/critical"]);
  });
});

describe("configured overrides", () => {
  const rule = (): AlertRule => ({ name: "risk.daily_loss", description: "Daily loss", unit: "%", direction: "above", warning: 80, critical: 100, read: () => [{ key: "Gen-Acc", value: 60 }] });

  test("replace the registering code's thresholds by rule name; read() still runs on the caller's object", () => {
    const a = engine({ overrides: { "risk.daily_loss": { warning: 50 } } });
    a.addRule(rule());
    a.evaluate(1);
    expect(a.activeAlerts()).toMatchObject([{ key: "Gen-Acc", severity: "warning", threshold: 50 }]);
  });

  test("an override that makes the rule malformed is refused with the rule's name", () => {
    const a = engine({ overrides: { "risk.daily_loss": { warning: 150 } } });
    expect(() => a.addRule(rule())).toThrow(/risk.daily_loss: critical \(100\) must be at or above warning \(150\)/);
  });
});

describe("SampleWindow", () => {
  test("keeps samples within the window and at most cap of them", () => {
    const w = new SampleWindow<number>(100, 3);
    for (let t = 0; t < 5; t++) w.push(t * 10, t);
    expect(w.within(40).map((s) => s.v)).toEqual([2, 3, 4]);
    expect(w.within(135).map((s) => s.v)).toEqual([4]);
  });
});
