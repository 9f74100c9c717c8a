import { expect, test } from "bun:test";
import { HealthChecks, MAX_READINESS_CHECKS } from "../../src/monitor/health.ts";

test("readiness lists every failing check by name, and a throwing check counts as not ready", () => {
  const h = new HealthChecks();
  expect(h.readiness()).toEqual({ ready: true, reasons: [] });
  let live = false;
  h.register("feed", () => (live ? null : "synthetic is not live"));
  const remove = h.register("store", () => { throw new Error("disk full"); });
  expect(h.readiness()).toEqual({ ready: false, reasons: ["feed: synthetic is not live", "store: check failed: disk full"] });
  live = true;
  remove();
  expect(h.readiness()).toEqual({ ready: true, reasons: [] });
  expect(() => h.register("feed", () => null)).toThrow(/already registered/);
});

test("the number of checks is bounded", () => {
  const h = new HealthChecks();
  for (let i = 0; i < MAX_READINESS_CHECKS; i++) h.register(`c${i}`, () => null);
  expect(() => h.register("one-too-many", () => null)).toThrow(/at most/);
});
