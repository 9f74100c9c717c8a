// The alert engine. A rule is a named source of numeric readings keyed by what they are about
// (a symbol, an account, "" for one series) with warning and/or critical thresholds. Every
// evaluateEveryMs the engine reads every rule once and moves each (rule, key) through
// open → acknowledged → resolved:
//
// - Deduplication: at most one active (open or acknowledged) alert per (rule, key). A condition
//   that stays bad updates that alert's value and severity; once resolved, firing again opens a
//   new alert with a new id. The database enforces the same rule with a partial unique index.
// - Hysteresis: an alert is raised when a reading reaches a raise threshold and resolved only
//   when it is past `clear` on the safe side, so a value hovering at the threshold does not
//   flap; `holdMs` additionally asks the condition (bad to raise, clear to resolve) to last.
// - Bounds: rules (maxRules), readings per rule per evaluation (maxReadingsPerRule), active
//   alerts (maxOpen: beyond it one "alerts.overflow" alert says how many were held back),
//   conditions waiting out their hold (4 × maxOpen), and resolved rows kept (maxResolved).
//
// Every transition is written to SQLite before listeners (WebSocket, webhooks) hear of it, so
// active alerts survive a restart; latest readings between transitions live in memory only.

import type { Logger } from "../log.ts";
import type { AlertFilter, AlertStore } from "../store/alerts.ts";
import type { Alert, AlertTransition, Severity, TransitionType } from "./alert-types.ts";
import { checkRule, isClear, messageOf, severityOf, thresholdOf, withOverrides, type AlertRule, type RuleShape, type ThresholdOverride } from "./alert-rule.ts";
import { addListener } from "../domain/listeners.ts";

export type { AlertRule, Reading, ThresholdOverride } from "./alert-rule.ts";

/** Bounds and cadence of the engine. */
export interface AlertEngineOptions {
  /** Evaluation period (100 ms to 60 s). */
  evaluateEveryMs: number;
  /** Most active alerts; conditions beyond it are held back and counted by one overflow alert. */
  maxOpen: number;
  /** Most resolved alerts kept in the database; the oldest are deleted. */
  maxResolved: number;
  /** Most readings taken from one rule per evaluation; the rest are ignored and counted. */
  maxReadingsPerRule: number;
  /** Most rules. */
  maxRules: number;
  /** Configured thresholds by rule name; they replace the registering code's values. */
  overrides?: Record<string, ThresholdOverride>;
  clock?: () => number;
  log?: Logger;
}

/** Defaults: 1 s cadence; 1,000 open alerts is more than an operator can read, 10,000 resolved rows ~2 MB. */
export const ALERT_DEFAULTS = { evaluateEveryMs: 1000, maxOpen: 1000, maxResolved: 10_000, maxReadingsPerRule: 10_000, maxRules: 256 };

/** Name of the alert raised when maxOpen holds conditions back. */
export const OVERFLOW_RULE = "alerts.overflow";

/** Why an acknowledgement was refused. */
export type AckError = "NOT_FOUND" | "ALREADY_RESOLVED";

/** Counters for metrics and tests. */
export interface AlertEngineStats {
  evaluations: number;
  ruleErrors: number;
  /** Evaluations cut short by a database error. */
  storeErrors: number;
  /** Readings ignored because a rule returned more than maxReadingsPerRule. */
  readingsDropped: number;
  /** Conditions held back by maxOpen (or by the 4 × maxOpen bound on waiting ones) in the last evaluation. */
  heldBack: number;
  transitions: Record<TransitionType, number>;
}

interface Active {
  alert: Alert;
  /** When the reading first became clear (resolve after holdMs), or NaN. */
  clearSinceMs: number;
}

const MAX_KEY_CHARS = 128;

/** The alert engine; see the file comment. */
export class AlertEngine {
  readonly stats: AlertEngineStats = {
    evaluations: 0, ruleErrors: 0, storeErrors: 0, readingsDropped: 0, heldBack: 0,
    transitions: { raised: 0, escalated: 0, deescalated: 0, acknowledged: 0, resolved: 0 },
  };
  private readonly rules = new Map<string, AlertRule>();
  private readonly active = new Map<string, Map<string, Active>>();
  private readonly byId = new Map<number, Active>();
  /** Bad conditions waiting out holdMs, or held back by maxOpen: rule → key → since. */
  private readonly pending = new Map<string, Map<string, number>>();
  private pendingCount = 0;
  private readonly listeners: ((t: AlertTransition) => void)[] = [];
  private readonly clock: () => number;
  private readonly opts: AlertEngineOptions;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly store: AlertStore, options: Partial<AlertEngineOptions> = {}) {
    this.opts = { ...ALERT_DEFAULTS, ...options };
    const o = this.opts;
    if (!(o.evaluateEveryMs >= 100 && o.evaluateEveryMs <= 60_000)) throw new Error(`evaluateEveryMs must be 100 to 60000, got ${o.evaluateEveryMs}`);
    for (const k of ["maxOpen", "maxResolved", "maxReadingsPerRule", "maxRules"] as const) {
      if (!(Number.isInteger(o[k]) && o[k] >= 1)) throw new Error(`${k} must be a positive integer, got ${o[k]}`);
    }
    this.clock = o.clock ?? Date.now;
    // A restart picks up where the last run stopped: active alerts stay active until their rule clears them.
    for (const alert of store.active()) this.track(alert);
  }

  /**
   * Registers a rule; a malformed or duplicate rule is a bug in the caller and throws (so does
   * a configured override that makes it malformed: the message names the rule).
   */
  addRule(given: AlertRule): void {
    const rule = withOverrides(given, this.opts.overrides?.[given.name]);
    checkRule(rule);
    if (this.rules.has(rule.name) || rule.name === OVERFLOW_RULE) throw new Error(`alert rule ${rule.name} is already registered`);
    if (this.rules.size >= this.opts.maxRules) throw new Error(`at most ${this.opts.maxRules} alert rules`);
    this.rules.set(rule.name, rule);
  }

  /** Removes a rule; its active alerts stay active (and can be acknowledged) until it is added again and clears them. */
  removeRule(name: string): boolean {
    this.dropPending(name);
    return this.rules.delete(name);
  }

  /** Names of the registered rules. */
  ruleNames(): string[] {
    return [...this.rules.keys()];
  }

  /** A registered rule as in effect (configured overrides applied), without its read(). */
  ruleInfo(name: string): Omit<AlertRule, "read"> | undefined {
    const r = this.rules.get(name);
    if (!r) return undefined;
    const { read: _read, ...info } = r;
    return info;
  }

  /** Hears every transition, after it is stored; returns the detach function. */
  onTransition(listener: (t: AlertTransition) => void): () => void {
    return addListener(this.listeners, listener);
  }

  /** Starts evaluating every evaluateEveryMs. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        this.evaluate();
      } catch (err) {
        // Only the store can throw here (disk full, database locked past its timeout): the next
        // round retries from memory, which still holds every active alert.
        this.stats.storeErrors++;
        this.opts.log?.error("alert evaluation failed", { error: String(err) });
      }
    }, this.opts.evaluateEveryMs);
    this.timer.unref?.();
  }

  /** Stops the periodic evaluation. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads every rule once and applies what changed; the timer calls it, tests call it with their clock. */
  evaluate(nowMs: number = this.clock()): void {
    this.stats.evaluations++;
    let heldBack = 0;
    for (const rule of this.rules.values()) heldBack += this.evaluateRule(rule, nowMs);
    this.stats.heldBack = heldBack;
    this.overflow(heldBack, nowMs);
  }

  /** Active alerts (open and acknowledged), oldest first. */
  activeAlerts(): Alert[] {
    return [...this.byId.values()].map((a) => ({ ...a.alert })).sort((a, b) => a.id - b.id);
  }

  /** One alert by id, with its latest reading when active. */
  get(id: number): Alert | undefined {
    const live = this.byId.get(id);
    return live ? { ...live.alert } : this.store.get(id);
  }

  /** Alerts matching a filter, newest first, one page; active ones carry their latest reading. */
  list(f: AlertFilter, limit: number, offset: number): { items: Alert[]; total: number } {
    const page = this.store.list(f, limit, offset);
    return { total: page.total, items: page.items.map((a) => (this.byId.has(a.id) ? { ...this.byId.get(a.id)!.alert } : a)) };
  }

  /** Active alerts counted by state and severity (metrics). */
  counts(): { state: "open" | "acknowledged"; severity: Severity; n: number }[] {
    const out = new Map<string, number>();
    for (const { alert } of this.byId.values()) out.set(`${alert.state}/${alert.severity}`, (out.get(`${alert.state}/${alert.severity}`) ?? 0) + 1);
    const rows: { state: "open" | "acknowledged"; severity: Severity; n: number }[] = [];
    for (const state of ["open", "acknowledged"] as const) {
      for (const severity of ["warning", "critical"] as const) rows.push({ state, severity, n: out.get(`${state}/${severity}`) ?? 0 });
    }
    return rows;
  }

  /**
   * Acknowledges an alert on behalf of an API key. Acknowledging an acknowledged alert is a
   * no-op that returns it (idempotent); a resolved one is refused.
   */
  ack(id: number, by: string, nowMs: number = this.clock()): { ok: true; alert: Alert } | { ok: false; error: AckError } {
    const live = this.byId.get(id);
    if (!live) return { ok: false, error: this.store.get(id) ? "ALREADY_RESOLVED" : "NOT_FOUND" };
    const a = live.alert;
    if (a.state === "open") {
      a.state = "acknowledged";
      a.ackedTs = nowMs;
      a.ackedBy = by;
      this.commit(live, "acknowledged", nowMs);
    }
    return { ok: true, alert: { ...a } };
  }

  private evaluateRule(rule: AlertRule, nowMs: number): number {
    const readings = new Map<string, number>();
    try {
      let n = 0;
      for (const r of rule.read(nowMs)) {
        if (++n > this.opts.maxReadingsPerRule) {
          this.stats.readingsDropped++;
          continue;
        }
        if (Number.isFinite(r.value) && typeof r.key === "string" && r.key.length <= MAX_KEY_CHARS) readings.set(r.key, r.value);
      }
    } catch (err) {
      // A rule that cannot read says nothing about its conditions: leave its alerts as they are.
      this.stats.ruleErrors++;
      this.opts.log?.warn("alert rule failed", { rule: rule.name, error: String(err) });
      return 0;
    }
    // Vanished keys first, so the room they free under maxOpen is there for this round's raises.
    for (const key of [...(this.active.get(rule.name)?.keys() ?? [])]) if (!readings.has(key)) this.step(rule, key, null, nowMs);
    const pend = this.pending.get(rule.name);
    if (pend) for (const key of [...pend.keys()]) if (!readings.has(key)) this.unpend(rule.name, key);
    let heldBack = 0;
    for (const [key, value] of readings) if (!this.step(rule, key, value, nowMs)) heldBack++;
    return heldBack;
  }

  /** Applies one reading (null: not reported); false when a raise was held back by a bound. */
  private step(rule: AlertRule, key: string, value: number | null, nowMs: number): boolean {
    const live = this.active.get(rule.name)?.get(key);
    const hold = rule.holdMs ?? 0;
    if (!live) {
      const severity = value === null ? null : severityOf(rule, value);
      if (severity === null) {
        this.unpend(rule.name, key);
        return true;
      }
      const since = this.pend(rule.name, key, nowMs);
      if (since === undefined) return false;
      if (nowMs - since < hold) return true;
      if (this.byId.size - (this.overflowLive() ? 1 : 0) >= this.opts.maxOpen) return false;
      this.unpend(rule.name, key);
      this.raise(rule, key, severity, value!, nowMs);
      return true;
    }
    const a = live.alert;
    if (value === null || isClear(rule, value)) {
      if (live.clearSinceMs !== live.clearSinceMs) live.clearSinceMs = nowMs;
      if (value !== null) a.value = value;
      if (nowMs - live.clearSinceMs >= hold) this.resolve(live, value, nowMs);
      return true;
    }
    live.clearSinceMs = NaN;
    a.value = value;
    const severity = severityOf(rule, value);
    // Inside the hysteresis band (bad enough to stay, not bad enough to raise) the severity holds.
    if (severity !== null && severity !== a.severity) {
      a.severity = severity;
      a.threshold = thresholdOf(rule, severity);
      a.message = messageOf(rule, key, severity, value);
      this.commit(live, severity === "critical" ? "escalated" : "deescalated", nowMs);
    }
    return true;
  }

  private raise(rule: RuleShape, key: string, severity: Severity, value: number, nowMs: number): void {
    const alert = this.store.insert({
      rule: rule.name, key, severity, value, threshold: thresholdOf(rule, severity),
      message: messageOf(rule, key, severity, value), raisedTs: nowMs,
    });
    const live = this.track(alert);
    this.stats.transitions.raised++;
    this.emit({ type: "raised", alert: { ...live.alert }, ts: nowMs });
  }

  private resolve(live: Active, value: number | null, nowMs: number): void {
    const a = live.alert;
    a.state = "resolved";
    a.resolvedTs = nowMs;
    a.value = value;
    this.commit(live, "resolved", nowMs);
    this.active.get(a.rule)?.delete(a.key);
    this.byId.delete(a.id);
    this.store.prune(this.opts.maxResolved);
  }

  /** Stores the alert as it now is, counts and announces the transition. */
  private commit(live: Active, type: TransitionType, nowMs: number): void {
    live.alert.updatedTs = nowMs;
    this.store.update(live.alert);
    this.stats.transitions[type]++;
    this.emit({ type, alert: { ...live.alert }, ts: nowMs });
  }

  private emit(t: AlertTransition): void {
    for (const l of this.listeners) {
      try {
        l(t);
      } catch (err) {
        this.opts.log?.error("alert listener failed", { error: String(err) });
      }
    }
  }

  private track(alert: Alert): Active {
    const live: Active = { alert, clearSinceMs: NaN };
    let m = this.active.get(alert.rule);
    if (!m) this.active.set(alert.rule, (m = new Map()));
    m.set(alert.key, live);
    this.byId.set(alert.id, live);
    return live;
  }

  /** Since when a bad condition has lasted; undefined when 4 × maxOpen conditions already wait. */
  private pend(rule: string, key: string, nowMs: number): number | undefined {
    let m = this.pending.get(rule);
    const since = m?.get(key);
    if (since !== undefined) return since;
    if (this.pendingCount >= this.opts.maxOpen * 4) return undefined;
    if (!m) this.pending.set(rule, (m = new Map()));
    m.set(key, nowMs);
    this.pendingCount++;
    return nowMs;
  }

  private unpend(rule: string, key: string): void {
    if (this.pending.get(rule)?.delete(key)) this.pendingCount--;
  }

  private dropPending(rule: string): void {
    this.pendingCount -= this.pending.get(rule)?.size ?? 0;
    this.pending.delete(rule);
  }

  private overflowLive(): Active | undefined {
    return this.active.get(OVERFLOW_RULE)?.get("");
  }

  /** Keeps the one overflow alert in step with how many conditions the bounds held back. */
  private overflow(heldBack: number, nowMs: number): void {
    const live = this.overflowLive();
    if (heldBack === 0) {
      if (live) this.resolve(live, 0, nowMs);
      return;
    }
    if (live) {
      // The figure is the alert's point: its message follows the value (in memory, like any
      // latest reading; not a transition), instead of keeping the count it was raised with.
      if (live.alert.value !== heldBack) {
        live.alert.value = heldBack;
        live.alert.message = messageOf(this.overflowShape(), "", "critical", heldBack);
      }
      return;
    }
    this.raise(this.overflowShape(), "", "critical", heldBack, nowMs);
  }

  private overflowShape(): RuleShape {
    return { name: OVERFLOW_RULE, description: `Conditions held back by the cap of ${this.opts.maxOpen} active alerts`, direction: "above", critical: 1 };
  }
}

