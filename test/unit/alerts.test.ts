// The alert engine over a real SQLite file: hysteresis, hold times, deduplication, the
// lifecycle, persistence across a restart, and every bound (rules, readings, open alerts,
// resolved rows). Time is the test's own clock passed to evaluate(); nothing waits.

import { afterEach, describe, expect, test } from "bun:test";
import type { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AlertEngine, OVERFLOW_RULE, type AlertEngineOptions, type AlertRule, type Reading } from "../../src/monitor/alerts.ts";
import type { AlertTransition } from "../../src/monitor/alert-types.ts";
import { AlertStore } from "../../src/store/alerts.ts";
import { openDatabase } from "../../src/store/db.ts";
import { waitFor } from "../helpers/wait.ts";

const dirs: string[] = [];
const dbs: Database[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(dir?: string): { dir: string; store: AlertStore; db: Database } {
  const d = dir ?? mkdtempSync(join(tmpdir(), "alluse-alerts-"));
  if (!dir) dirs.push(d);
  const db = openDatabase(join(d, "alluse.db"), "none");
  dbs.push(db);
  return { dir: d, db, store: new AlertStore(db) };
}

/** A rule whose readings the test sets directly. */
function manual(over: Partial<AlertRule> = {}): AlertRule & { values: Map<string, number> } {
  const values = new Map<string, number>();
  return {
    name: "test.util", description: "Utilisation", unit: "%", direction: "above", warning: 80, critical: 100, clear: 70,
    read: (): Reading[] => [...values].map(([key, value]) => ({ key, value })), values, ...over,
  };
}

function engine(store: AlertStore, o: Partial<AlertEngineOptions> = {}): { alerts: AlertEngine; seen: AlertTransition[] } {
  const alerts = new AlertEngine(store, o);
  const seen: AlertTransition[] = [];
  alerts.onTransition((t) => seen.push(t));
  return { alerts, seen };
}

describe("hysteresis and hold", () => {
  test("raises at the threshold, holds inside the band, clears only below the clear threshold", () => {
    const { store } = open();
    const { alerts, seen } = engine(store);
    const rule = manual();
    alerts.addRule(rule);
    rule.values.set("Gen-Acc", 79.99);
    alerts.evaluate(1000);
    expect(alerts.activeAlerts()).toEqual([]);
    rule.values.set("Gen-Acc", 80);
    alerts.evaluate(2000);
    expect(alerts.activeAlerts()).toMatchObject([{ rule: "test.util", key: "Gen-Acc", state: "open", severity: "warning", value: 80, threshold: 80 }]);
    for (const v of [79, 75, 70]) {
      rule.values.set("Gen-Acc", v);
      alerts.evaluate(3000);
    }
    expect(alerts.activeAlerts()).toMatchObject([{ state: "open", value: 70 }]);
    rule.values.set("Gen-Acc", 69.99);
    alerts.evaluate(4000);
    expect(alerts.activeAlerts()).toEqual([]);
    expect(seen.map((t) => t.type)).toEqual(["raised", "resolved"]);
    expect(seen[1]!.alert).toMatchObject({ state: "resolved", resolvedTs: 4000, value: 69.99 });
  });

  test("a below rule mirrors the comparisons", () => {
    const { store } = open();
    const { alerts, seen } = engine(store);
    const rule = manual({ name: "test.margin", direction: "below", warning: 20, critical: 10, clear: 25 });
    alerts.addRule(rule);
    rule.values.set("", 9);
    alerts.evaluate(1);
    rule.values.set("", 22);
    alerts.evaluate(2);
    expect(seen).toHaveLength(1);
    rule.values.set("", 15);
    alerts.evaluate(2);
    rule.values.set("", 26);
    alerts.evaluate(3);
    expect(seen.map((t) => `${t.type}:${t.alert.severity}`)).toEqual(["raised:critical", "deescalated:warning", "resolved:warning"]);
  });

  test("holdMs: the condition must last to raise and the clear must last to resolve", () => {
    const { store } = open();
    const { alerts, seen } = engine(store);
    const rule = manual({ holdMs: 5000 });
    alerts.addRule(rule);
    rule.values.set("k", 90);
    alerts.evaluate(0);
    alerts.evaluate(4999);
    expect(seen).toEqual([]);
    rule.values.set("k", 50);
    alerts.evaluate(6000);
    rule.values.set("k", 90);
    alerts.evaluate(7000);
    alerts.evaluate(11_999);
    expect(seen).toEqual([]);
    alerts.evaluate(12_000);
    expect(seen.map((t) => t.type)).toEqual(["raised"]);
    rule.values.set("k", 50);
    alerts.evaluate(13_000);
    rule.values.set("k", 85);
    alerts.evaluate(14_000);
    rule.values.set("k", 50);
    alerts.evaluate(15_000);
    alerts.evaluate(19_999);
    expect(seen.map((t) => t.type)).toEqual(["raised"]);
    alerts.evaluate(20_000);
    expect(seen.map((t) => t.type)).toEqual(["raised", "resolved"]);
  });
});

describe("deduplication and lifecycle", () => {
  test("a condition that stays bad is one alert whose value and severity follow it; a re-fire is a new alert", () => {
    const { store } = open();
    const { alerts, seen } = engine(store);
    const rule = manual();
    alerts.addRule(rule);
    for (const [t, v] of [[1, 85], [2, 90], [3, 120], [4, 130], [5, 95], [6, 85]] as const) {
      rule.values.set("A", v);
      alerts.evaluate(t);
    }
    expect(seen.map((t) => t.type)).toEqual(["raised", "escalated", "deescalated"]);
    expect(new Set(seen.map((t) => t.alert.id)).size).toBe(1);
    const [only] = alerts.activeAlerts();
    expect(only).toMatchObject({ value: 85, severity: "warning" });
    expect(store.list({}, 100, 0).total).toBe(1);
    rule.values.delete("A");
    alerts.evaluate(7);
    rule.values.set("A", 100);
    alerts.evaluate(8);
    const again = alerts.activeAlerts();
    expect(again).toHaveLength(1);
    expect(again[0]!.id).not.toBe(only!.id);
    expect(again[0]!.severity).toBe("critical");
    expect(store.counts()).toEqual({ open: 1, acknowledged: 0, resolved: 1 });
  });

  test("open → acknowledged → resolved; ack is idempotent, refused once resolved, 404 when unknown", () => {
    const { store } = open();
    const { alerts, seen } = engine(store);
    const rule = manual();
    alerts.addRule(rule);
    rule.values.set("A", 100);
    alerts.evaluate(10);
    const id = alerts.activeAlerts()[0]!.id;
    expect(alerts.ack(id, "key1", 20)).toMatchObject({ ok: true, alert: { state: "acknowledged", ackedTs: 20, ackedBy: "key1" } });
    expect(alerts.ack(id, "key2", 30)).toMatchObject({ ok: true, alert: { ackedTs: 20, ackedBy: "key1" } });
    // Acknowledged alerts keep following the condition.
    rule.values.set("A", 85);
    alerts.evaluate(40);
    expect(alerts.get(id)).toMatchObject({ state: "acknowledged", severity: "warning", value: 85 });
    rule.values.set("A", 10);
    alerts.evaluate(50);
    expect(alerts.ack(id, "key1", 60)).toEqual({ ok: false, error: "ALREADY_RESOLVED" });
    expect(alerts.ack(999, "key1", 60)).toEqual({ ok: false, error: "NOT_FOUND" });
    expect(seen.map((t) => `${t.type}:${t.alert.state}`)).toEqual(["raised:open", "acknowledged:acknowledged", "deescalated:acknowledged", "resolved:resolved"]);
    expect(store.get(id)).toMatchObject({ state: "resolved", ackedBy: "key1", resolvedTs: 50 });
  });

  test("a key missing from the readings counts as clear; a failing rule leaves its alerts alone", () => {
    const { store } = open();
    const { alerts } = engine(store);
    let fail = false;
    const rule = manual();
    const read = rule.read;
    rule.read = (now) => {
      if (fail) throw new Error("source down");
      return read(now);
    };
    alerts.addRule(rule);
    rule.values.set("A", 90).set("B", 90);
    alerts.evaluate(1);
    fail = true;
    alerts.evaluate(2);
    expect(alerts.activeAlerts()).toHaveLength(2);
    expect(alerts.stats.ruleErrors).toBe(1);
    fail = false;
    rule.values.delete("B");
    alerts.evaluate(3);
    expect(alerts.activeAlerts().map((a) => a.key)).toEqual(["A"]);
    expect(store.list({ state: "resolved" }, 10, 0).items[0]).toMatchObject({ key: "B", value: null });
  });

  test("malformed and duplicate rules are refused", () => {
    const { store } = open();
    const { alerts } = engine(store, { maxRules: 2 });
    expect(() => alerts.addRule(manual({ name: "Bad Name" }))).toThrow(/must match/);
    expect(() => alerts.addRule(manual({ warning: 120, critical: 100 }))).toThrow(/critical \(100\) must be at or above warning \(120\)/);
    expect(() => alerts.addRule(manual({ clear: 90 }))).toThrow(/clear \(90\) must be at or below/);
    expect(() => alerts.addRule(manual({ warning: undefined, critical: undefined }))).toThrow(/warning or a critical/);
    alerts.addRule(manual());
    expect(() => alerts.addRule(manual())).toThrow(/already registered/);
    alerts.addRule(manual({ name: "test.two" }));
    expect(() => alerts.addRule(manual({ name: "test.three" }))).toThrow(/at most 2/);
  });
});

describe("persistence", () => {
  test("an active alert survives a restart and resolves afterwards; no duplicate is raised", () => {
    const first = open();
    const a1 = engine(first.store).alerts;
    const rule = manual();
    a1.addRule(rule);
    rule.values.set("A", 150).set("B", 85);
    a1.evaluate(100);
    const idB = a1.activeAlerts().find((a) => a.key === "B")!.id;
    a1.ack(idB, "admin", 110);
    first.db.close();
    dbs.splice(dbs.indexOf(first.db), 1);

    const second = open(first.dir);
    const { alerts: a2, seen } = engine(second.store);
    expect(a2.activeAlerts()).toMatchObject([{ key: "A", state: "open", severity: "critical" }, { key: "B", state: "acknowledged", ackedBy: "admin" }]);
    const rule2 = manual();
    a2.addRule(rule2);
    rule2.values.set("A", 150).set("B", 85);
    a2.evaluate(200);
    expect(seen).toEqual([]);
    rule2.values.set("A", 10);
    a2.evaluate(300);
    expect(seen.map((t) => `${t.type}:${t.alert.key}`)).toEqual(["resolved:A"]);
    expect(second.store.counts()).toEqual({ open: 0, acknowledged: 1, resolved: 1 });
  });
});

describe("bounds", () => {
  test("maxOpen: beyond the cap one overflow alert counts what was held back; room frees → they raise", () => {
    const { store } = open();
    const { alerts, seen } = engine(store, { maxOpen: 3 });
    const rule = manual();
    alerts.addRule(rule);
    for (const k of ["a", "b", "c", "d", "e"]) rule.values.set(k, 90);
    alerts.evaluate(1);
    expect(alerts.activeAlerts().filter((a) => a.rule === "test.util")).toHaveLength(3);
    const overflow = alerts.activeAlerts().filter((a) => a.rule === OVERFLOW_RULE);
    expect(overflow).toMatchObject([{ severity: "critical", value: 2 }]);
    alerts.evaluate(2);
    expect(seen.filter((t) => t.alert.rule === OVERFLOW_RULE).map((t) => t.type)).toEqual(["raised"]);
    rule.values.delete("a");
    rule.values.delete("b");
    alerts.evaluate(3);
    expect(alerts.activeAlerts().map((a) => a.key).sort()).toEqual(["c", "d", "e"]);
    expect(seen.filter((t) => t.alert.rule === OVERFLOW_RULE).map((t) => t.type)).toEqual(["raised", "resolved"]);
  });

  test("the overflow alert's message shows the current figure as it changes, not the first one", () => {
    const { store } = open();
    const { alerts, seen } = engine(store, { maxOpen: 3 });
    const rule = manual();
    alerts.addRule(rule);
    for (const k of ["a", "b", "c", "d", "e"]) rule.values.set(k, 90);
    alerts.evaluate(1);
    const id = alerts.activeAlerts().find((a) => a.rule === OVERFLOW_RULE)!.id;
    expect(alerts.get(id)!.message).toEndWith(": 2 >= 1");
    for (const k of ["f", "g", "h", "i", "j"]) rule.values.set(k, 90);
    alerts.evaluate(2);
    expect(alerts.get(id)).toMatchObject({ value: 7, message: "Conditions held back by the cap of 3 active alerts: 7 >= 1" });
    expect(alerts.list({ rule: OVERFLOW_RULE }, 10, 0).items[0]!.message).toEndWith(": 7 >= 1");
    // A changed figure is a new reading, not a transition.
    expect(seen.filter((t) => t.alert.rule === OVERFLOW_RULE).map((t) => t.type)).toEqual(["raised"]);
  });

  test("maxResolved: the oldest resolved rows are pruned, active ones never", () => {
    const { store } = open();
    const { alerts } = engine(store, { maxResolved: 5 });
    const rule = manual();
    alerts.addRule(rule);
    rule.values.set("stay", 90);
    for (let i = 0; i < 12; i++) {
      rule.values.set("flap", 90);
      alerts.evaluate(i * 10);
      rule.values.set("flap", 0);
      alerts.evaluate(i * 10 + 5);
    }
    expect(store.counts()).toEqual({ open: 1, acknowledged: 0, resolved: 5 });
    const resolved = store.list({ state: "resolved" }, 100, 0).items;
    expect(resolved.map((a) => a.raisedTs)).toEqual([110, 100, 90, 80, 70]);
  });

  test("maxReadingsPerRule: readings past the bound are ignored and counted", () => {
    const { store } = open();
    const { alerts } = engine(store, { maxReadingsPerRule: 4 });
    const rule = manual();
    alerts.addRule(rule);
    for (let i = 0; i < 10; i++) rule.values.set(`k${i}`, 95);
    alerts.evaluate(1);
    expect(alerts.activeAlerts()).toHaveLength(4);
    expect(alerts.stats.readingsDropped).toBe(6);
  });

  test("list filters and pages newest first", () => {
    const { store } = open();
    const { alerts } = engine(store);
    const rule = manual();
    alerts.addRule(rule);
    rule.values.set("w", 85).set("c", 100);
    alerts.evaluate(1);
    expect(alerts.list({ severity: "critical" }, 10, 0).items.map((a) => a.key)).toEqual(["c"]);
    expect(alerts.list({ rule: "nope" }, 10, 0).total).toBe(0);
    const page = alerts.list({ state: "open" }, 1, 0);
    expect(page.total).toBe(2);
    expect(page.items.map((a) => a.key)).toEqual(["c"]);
    expect(alerts.counts()).toContainEqual({ state: "open", severity: "critical", n: 1 });
  });

  test("the timer keeps running through a database error, counting it; the alert is raised once the store works", async () => {
    const { store, db } = open();
    const { alerts, seen } = engine(store, { evaluateEveryMs: 100 });
    const rule = manual();
    alerts.addRule(rule);
    rule.values.set("A", 90);
    db.exec("ALTER TABLE alerts RENAME TO alerts_gone");
    alerts.start();
    try {
      await waitFor(() => alerts.stats.storeErrors >= 2, 5000, "two failed evaluations");
      expect(seen).toEqual([]);
      db.exec("ALTER TABLE alerts_gone RENAME TO alerts");
      await waitFor(() => seen.length === 1, 5000, "the raise");
      expect(alerts.activeAlerts()).toMatchObject([{ key: "A", state: "open" }]);
    } finally {
      alerts.stop();
    }
  });
});

