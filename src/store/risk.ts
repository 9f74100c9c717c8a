// Queries of the risk tables (migrations 5 and 7). These are rare, admin-paced writes (a state
// change, a limit change, once a day per account for the session open), or small throttled ones
// (the day's peak equity and the last marks of held instruments, at most once a second), so they
// go straight to SQLite in their own transaction rather than through the order journal.

import type { Database, Statement } from "bun:sqlite";

/** A persisted trading state. */
export interface StoredState {
  scope: string;
  state: string;
  reason: string;
  manual: boolean;
  sinceTs: number;
  /** An admin's decision against the loss policy (JSON as the service wrote it), if any. */
  override?: unknown;
}

/** One audit record. */
export interface AuditRecord {
  seq: number;
  ts: number;
  actor: string;
  action: string;
  scope: string;
  old: unknown;
  new: unknown;
}

/**
 * A stored JSON column that does not parse (a damaged row): carried to the caller, which logs it
 * and drops the row, instead of a throw that would stop the risk service's start.
 */
export class DamagedJson {
  constructor(readonly text: string, readonly error: string) {}
}

/** The JSON in a stored column, or DamagedJson when it is not JSON. */
export function parseStored(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    return new DamagedJson(text.slice(0, 200), String((err as Error).message));
  }
}

/** Audit records kept; older ones are pruned on insert. */
export const AUDIT_MAX_ROWS = 100_000;

/** The risk tables. */
export class RiskStore {
  private readonly q: Record<string, Statement>;

  constructor(private readonly db: Database) {
    this.q = {
      states: db.prepare("SELECT scope, state, reason, manual, since_ts, override FROM risk_state"),
      setState: db.prepare("INSERT OR REPLACE INTO risk_state (scope, state, reason, manual, since_ts, override) VALUES (?, ?, ?, ?, ?, ?)"),
      setOverride: db.prepare("UPDATE risk_state SET override = ? WHERE scope = ?"),
      marks: db.prepare("SELECT symbol, mark FROM risk_marks"),
      setMark: db.prepare("INSERT OR REPLACE INTO risk_marks (symbol, mark, ts) VALUES (?, ?, ?)"),
      dropMark: db.prepare("DELETE FROM risk_marks WHERE symbol = ?"),
      limits: db.prepare("SELECT account, override FROM risk_limits"),
      setLimits: db.prepare("INSERT OR REPLACE INTO risk_limits (account, override, updated_ts) VALUES (?, ?, ?)"),
      session: db.prepare("SELECT date, open_equity, peak_equity FROM risk_session WHERE account = ?"),
      setSession: db.prepare("INSERT OR REPLACE INTO risk_session (account, date, open_equity, peak_equity) VALUES (?, ?, ?, ?)"),
      audit: db.prepare("INSERT INTO risk_audit (ts, actor, action, scope, old, new) VALUES (?, ?, ?, ?, ?, ?)"),
      prune: db.prepare("DELETE FROM risk_audit WHERE seq <= (SELECT MAX(seq) FROM risk_audit) - ?"),
      list: db.prepare("SELECT seq, ts, actor, action, scope, old, new FROM risk_audit WHERE (? IS NULL OR scope = ?) ORDER BY seq DESC LIMIT ?"),
    };
  }

  /** Every persisted trading state. */
  states(): StoredState[] {
    return (this.q.states!.all() as Record<string, unknown>[]).map((r) => ({
      scope: r.scope as string, state: r.state as string, reason: r.reason as string, manual: r.manual === 1, sinceTs: r.since_ts as number,
      ...(r.override === null ? {} : { override: parseStored(r.override as string) }),
    }));
  }

  /** Admin limit overrides by account. */
  limitOverrides(): Map<string, unknown> {
    return new Map((this.q.limits!.all() as { account: string; override: string }[]).map((r) => [r.account, parseStored(r.override)]));
  }

  /** The stored session-open and peak equity of an account, if any. */
  session(account: string): { date: string; openEquity: number; peakEquity: number } | undefined {
    const r = this.q.session!.get(account) as { date: string; open_equity: number; peak_equity: number } | null;
    return r ? { date: r.date, openEquity: r.open_equity, peakEquity: r.peak_equity } : undefined;
  }

  /** Stores the session-open and peak equity of an account. */
  setSession(account: string, date: string, openEquity: number, peakEquity: number): void {
    this.q.setSession!.run(account, date, openEquity, peakEquity);
  }

  /** Stores a state change and its audit record (with `policy`, what the loss policy will do next) in one transaction. */
  changeState(s: StoredState, actor: string, old: unknown, policy?: string): void {
    const override = s.override === undefined ? null : JSON.stringify(s.override);
    this.db.transaction(() => {
      this.q.setState!.run(s.scope, s.state, s.reason, s.manual ? 1 : 0, s.sinceTs, override);
      this.audit(s.sinceTs, actor, "state", s.scope, old, {
        state: s.state, reason: s.reason, manual: s.manual,
        ...(s.override === undefined ? {} : { override: s.override }), ...(policy === undefined ? {} : { policy }),
      });
    })();
  }

  /** Replaces the admin override of a scope's state and audits it (the figures it was taken at became known later). */
  setOverride(scope: string, override: unknown, actor: string, ts: number): void {
    this.db.transaction(() => {
      this.q.setOverride!.run(JSON.stringify(override), scope);
      this.audit(ts, actor, "override", scope, null, override);
    })();
  }

  /** The last stored mark (dollars) of every instrument that has one. */
  marks(): Map<string, number> {
    return new Map((this.q.marks!.all() as { symbol: string; mark: number }[]).map((r) => [r.symbol, r.mark]));
  }

  /** Stores last marks (dollars) in one transaction. */
  setMarks(marks: Iterable<[string, number]>, ts: number): void {
    this.db.transaction(() => {
      for (const [symbol, mark] of marks) this.q.setMark!.run(symbol, mark, ts);
    })();
  }

  /** Forgets the stored marks of these instruments. */
  dropMarks(symbols: Iterable<string>): void {
    this.db.transaction(() => {
      for (const symbol of symbols) this.q.dropMark!.run(symbol);
    })();
  }

  /** Stores an account's limit override and its audit record in one transaction. */
  changeLimits(account: string, override: unknown, actor: string, old: unknown, next: unknown, ts: number): void {
    this.db.transaction(() => {
      this.q.setLimits!.run(account, JSON.stringify(override), ts);
      this.audit(ts, actor, "limits", account, old, next);
    })();
  }

  /** Appends one audit record (pruning beyond AUDIT_MAX_ROWS). */
  audit(ts: number, actor: string, action: string, scope: string, old: unknown, next: unknown): void {
    this.q.audit!.run(ts, actor, action, scope, old === undefined ? null : JSON.stringify(old), next === undefined ? null : JSON.stringify(next));
    this.q.prune!.run(AUDIT_MAX_ROWS);
  }

  /** The newest audit records, of one scope or all. */
  auditTrail(scope: string | undefined, limit: number): AuditRecord[] {
    return (this.q.list!.all(scope ?? null, scope ?? null, limit) as Record<string, unknown>[]).map((r) => ({
      seq: r.seq as number, ts: r.ts as number, actor: r.actor as string, action: r.action as string, scope: r.scope as string,
      // A damaged old/new value is listed as its stored text: the trail stays readable around it.
      old: r.old === null ? null : auditValue(r.old as string), new: r.new === null ? null : auditValue(r.new as string),
    }));
  }
}

/** An audit column's JSON, or its text when it does not parse. */
function auditValue(text: string): unknown {
  const v = parseStored(text);
  return v instanceof DamagedJson ? text : v;
}
