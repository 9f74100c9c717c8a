// The alerts block of the configuration: rule overrides are checked against the rule catalogue
// (names, signs, the order of thresholds in the rule's direction) and the webhook queue against
// what one evaluation can change; thresholdProblem for a rule where lower is worse.

import { expect, test } from "bun:test";
import { RULE_CATALOG } from "../../src/monitor/alert-catalog.ts";
import { thresholdProblem } from "../../src/monitor/alert-rule.ts";
import { alertsSchema } from "../../src/monitor/alert-setup.ts";

/** Each issue as "path: message". */
function issues(alerts: unknown): string[] {
  const r = alertsSchema.safeParse(alerts);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

test("an unknown rule name is one issue naming it, listing every valid name", () => {
  const got = issues({ rules: { "feed.quote_stal": { warning: 1 }, "feed.quote_stale": { warning: 10_000 } } });
  expect(got).toEqual([`rules.feed.quote_stal: unknown alert rule; valid rules: ${Object.keys(RULE_CATALOG).sort().join(", ")}`]);
  expect(issues({ rules: { "alerts.overflow": { critical: 5 } } })).toHaveLength(1);
});

test("negative thresholds are refused, each by its field", () => {
  expect(issues({ rules: { "feed.reject_rate": { warning: -1, critical: -0.5, clear: -2 } } })).toEqual([
    "rules.feed.reject_rate.warning: must be at least 0", "rules.feed.reject_rate.critical: must be at least 0", "rules.feed.reject_rate.clear: must be at least 0",
  ]);
});

test("thresholds are checked merged with the rule's defaults, in its direction", () => {
  expect(issues({ rules: { "feed.quote_stale": { warning: 10_000 } } })).toEqual([]);
  expect(issues({ rules: { "feed.quote_stale": { warning: 40_000 } } })).toEqual([
    "rules.feed.quote_stale: critical (30000) must be at or above warning (40000): higher is worse for this rule",
  ]);
  expect(issues({ rules: { "orders.rejects": { warning: 30, critical: 10 } } })).toHaveLength(1);
  expect(issues({ rules: { "risk.limit_utilisation": { clear: 90 } } })).toEqual([
    "rules.risk.limit_utilisation: clear (90) must be at or below the raise thresholds (80): higher is worse for this rule",
  ]);
  expect(issues({ rules: { "risk.limit_utilisation": { warning: 95, clear: 90 } } })).toEqual([]);
});

test("for a rule where lower is worse the order is mirrored", () => {
  const below = { direction: "below" as const };
  expect(thresholdProblem({ ...below, warning: 10, critical: 5, clear: 12 })).toBeUndefined();
  expect(thresholdProblem({ ...below, warning: 5, critical: 10 })).toBe("critical (10) must be at or below warning (5): lower is worse for this rule");
  expect(thresholdProblem({ ...below, warning: 10, clear: 8 })).toBe("clear (8) must be at or above the raise thresholds (10): lower is worse for this rule");
});

test("the webhook queue holds at least one evaluation's worth of alerts; 4 × maxOpen by default", () => {
  expect(alertsSchema.parse({}).webhooks).toMatchObject({ maxQueue: 4000, maxBatch: 100, format: "batch" });
  expect(alertsSchema.parse({ maxOpen: 50 }).webhooks.maxQueue).toBe(200);
  expect(issues({ webhooks: { maxQueue: 1000 } })).toEqual(["webhooks.maxQueue: must be at least 2001 (2 × alerts.maxOpen + 1), what one evaluation can change"]);
  expect(alertsSchema.parse({ maxOpen: 10, webhooks: { maxQueue: 21 } }).webhooks.maxQueue).toBe(21);
  expect(issues({ webhooks: { format: "xml" } })).toHaveLength(1);
});
