// What a rule is and the pure arithmetic of its thresholds: validation, severity, clearing,
// configured overrides and messages. The engine (alerts.ts) holds the state; nothing here does.

import type { Severity } from "./alert-types.ts";

/** One reading of a rule: the value for one key. */
export interface Reading {
  /** What the value is about (symbol, account…); "" for a rule with a single series. At most 128 characters. */
  key: string;
  /** The measured value in the rule's unit; a non-finite value counts as "not reported". */
  value: number;
}

/**
 * A rule other modules register with `AlertEngine.addRule`. For direction "above" a reading
 * at or over `warning` raises a warning, at or over `critical` a critical alert, and the alert
 * resolves once a reading is below `clear`; "below" mirrors all three comparisons.
 */
export interface AlertRule {
  /** Unique name, lower case: letters, digits, ".", "_", "-" (e.g. "risk.limit_utilisation"). */
  name: string;
  /** What the rule watches, for humans; starts every alert message. */
  description: string;
  /** Unit of the readings, shown in messages ("%", "ms", "bps", "/min"). */
  unit?: string;
  direction: "above" | "below";
  /** Raise threshold of a warning; at least one of warning and critical. */
  warning?: number;
  /** Raise threshold of a critical alert; past `warning` in the rule's direction. */
  critical?: number;
  /** Resolve threshold, on the safe side of both raise thresholds; defaults to the milder one. */
  clear?: number;
  /** How long a condition must last before it raises and before it resolves; default 0. */
  holdMs?: number;
  /** Current readings, called once per evaluation; a key missing from them counts as clear. */
  read(nowMs: number): Iterable<Reading>;
}

/** Thresholds the configuration may set for a rule by its name. */
export type ThresholdOverride = Partial<Pick<AlertRule, "warning" | "critical" | "clear" | "holdMs">>;

/** What raising an alert needs of a rule (the overflow alert has no read()). */
export type RuleShape = Pick<AlertRule, "name" | "description" | "unit" | "direction" | "warning" | "critical">;

const NAME_RE = /^[a-z][a-z0-9._-]{0,63}$/;

/** The rule with configured thresholds in place; read() still runs on the caller's object. */
export function withOverrides(r: AlertRule, o: ThresholdOverride | undefined): AlertRule {
  if (!o) return r;
  const out: AlertRule = {
    name: r.name, description: r.description, direction: r.direction, read: (now) => r.read(now),
    ...defined({ unit: r.unit, warning: r.warning, critical: r.critical, clear: r.clear, holdMs: r.holdMs }),
  };
  return Object.assign(out, defined(o));
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Throws for a malformed rule, naming it: a bad rule is a bug in the registering code. */
export function checkRule(r: AlertRule): void {
  if (!NAME_RE.test(r.name)) throw new Error(`alert rule name ${JSON.stringify(r.name)} must match ${NAME_RE}`);
  if (r.direction !== "above" && r.direction !== "below") throw new Error(`alert rule ${r.name}: direction must be above or below`);
  const problem = thresholdProblem(r);
  if (problem !== undefined) throw new Error(`alert rule ${r.name}: ${problem}`);
  if (typeof r.read !== "function") throw new Error(`alert rule ${r.name}: read must be a function`);
}

/**
 * What is wrong with a rule's thresholds, in one sentence, or undefined: at least one raise
 * threshold, all finite, critical at or past warning and clear on the safe side of both, in
 * the rule's direction. The configuration (alert-setup.ts) reports it for overrides as exit 2.
 */
export function thresholdProblem(r: Pick<AlertRule, "direction" | "warning" | "critical" | "clear" | "holdMs">): string | undefined {
  if (r.warning === undefined && r.critical === undefined) return "needs a warning or a critical threshold";
  for (const k of ["warning", "critical", "clear", "holdMs"] as const) {
    if (r[k] !== undefined && !Number.isFinite(r[k])) return `${k} must be finite`;
  }
  if ((r.holdMs ?? 0) < 0) return "holdMs must be >= 0";
  const above = r.direction === "above";
  const worse = (a: number, b: number) => (above ? a > b : a < b);
  const side = above ? "higher" : "lower";
  if (r.warning !== undefined && r.critical !== undefined && worse(r.warning, r.critical)) {
    return `critical (${r.critical}) must be at or ${above ? "above" : "below"} warning (${r.warning}): ${side} is worse for this rule`;
  }
  const mildest = r.warning ?? r.critical!;
  if (r.clear !== undefined && worse(r.clear, mildest)) {
    return `clear (${r.clear}) must be at or ${above ? "below" : "above"} the raise thresholds (${mildest}): ${side} is worse for this rule`;
  }
  return undefined;
}

function reaches(direction: "above" | "below", value: number, threshold: number | undefined): boolean {
  return threshold !== undefined && (direction === "above" ? value >= threshold : value <= threshold);
}

/** The severity a reading raises to, or null when it reaches no raise threshold. */
export function severityOf(r: Pick<AlertRule, "direction" | "warning" | "critical">, value: number): Severity | null {
  if (reaches(r.direction, value, r.critical)) return "critical";
  if (reaches(r.direction, value, r.warning)) return "warning";
  return null;
}

/** True when a reading is past the clear threshold on the safe side. */
export function isClear(r: AlertRule, value: number): boolean {
  const clear = r.clear ?? r.warning ?? r.critical!;
  return r.direction === "above" ? value < clear : value > clear;
}

/** The threshold of a severity. */
export function thresholdOf(r: Pick<AlertRule, "warning" | "critical">, severity: Severity): number | null {
  return (severity === "critical" ? r.critical : r.warning) ?? null;
}

/** The human summary of an alert at a severity and value. */
export function messageOf(r: Pick<AlertRule, "description" | "unit" | "direction" | "warning" | "critical">, key: string, severity: Severity, value: number): string {
  const unit = r.unit ?? "";
  const v = Number.isInteger(value) ? String(value) : value.toPrecision(4);
  return `${r.description}${key ? ` (${key})` : ""}: ${v}${unit} ${r.direction === "above" ? ">=" : "<="} ${thresholdOf(r, severity)}${unit}`;
}
