// The names, directions and default thresholds of every rule the app registers, known before
// anything starts, so the configuration can refuse an override of a rule that does not exist (a
// misspelt name would otherwise be ignored in silence) or one whose thresholds do not fit the
// rule's direction, with exit 2 and one line, before the database is opened. The built-in
// factories (alert-rules.ts) take their defaults from here; the risk engine's rules
// (src/risk/alert-rules.ts) are listed with the values they register, and a test of the whole
// app checks that every registered rule matches its entry here.

import type { AlertRule } from "./alert-rule.ts";

/** What the configuration needs of a rule: direction and default thresholds. */
export type RuleDefaults = Pick<AlertRule, "direction" | "warning" | "critical" | "clear" | "holdMs">;

/** Every rule the app can register, by name (the alerts.overflow alert has no configurable thresholds). */
export const RULE_CATALOG: Readonly<Record<string, Readonly<RuleDefaults>>> = {
  "feed.quote_stale": { direction: "above", warning: 5000, critical: 30_000 },
  "feed.reject_rate": { direction: "above", warning: 1, critical: 5 },
  "broker.connection": { direction: "above", warning: 1, critical: 2, holdMs: 1000 },
  "broker.session": { direction: "above", warning: 1, critical: 2, holdMs: 1000 },
  "broker.anomalies": { direction: "above", warning: 1, critical: 10 },
  "orders.rejects": { direction: "above", warning: 5, critical: 20 },
  "latency.tick_to_publish": { direction: "above", warning: 10, critical: 50, holdMs: 10_000 },
  "ws.slow_clients": { direction: "above", warning: 1, critical: 10, holdMs: 5000 },
  "ws.slow_disconnects": { direction: "above", warning: 1, critical: 10 },
  "execution.slippage": { direction: "above", warning: 25, critical: 100 },
  "alerts.webhook_drops": { direction: "above", warning: 1, critical: 100 },
  "store.checkpointer": { direction: "above", warning: 1, critical: 3 },
  "risk.limit_utilisation": { direction: "above", warning: 80, critical: 100, clear: 75 },
  "risk.daily_loss": { direction: "above", warning: 1, critical: 2, clear: 0.75 },
  "risk.trading_state": { direction: "above", warning: 1, critical: 2, clear: 0.5 },
};

/** The catalogue's defaults of a rule, for its factory; throws for a name not in the catalogue (a bug). */
export function defaultsOf(name: string): RuleDefaults {
  const d = RULE_CATALOG[name];
  if (!d) throw new Error(`alert rule ${name} is not in the catalogue (src/monitor/alert-catalog.ts)`);
  return { ...d };
}
