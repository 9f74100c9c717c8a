// Alert rows (migration 4). The alert engine writes one row per alert on each transition from
// the main thread's connection: transitions are rare (a handful a minute in a bad hour), so they
// do not need the order journal's writer thread, and a synchronous write means an alert the
// engine reports has already reached the database. Latest readings are kept in memory only.

import type { Database, Statement } from "bun:sqlite";
import type { Alert, AlertState, Severity } from "../monitor/alert-types.ts";

/** Filters for listing alerts. */
export interface AlertFilter {
  state?: AlertState;
  /** "active" is open or acknowledged. */
  active?: boolean;
  severity?: Severity;
  rule?: string;
}

type Row = Record<string, string | number | null>;

function toAlert(r: Row): Alert {
  return {
    id: r.id as number, rule: r.rule as string, key: r.key as string, state: r.state as AlertState,
    severity: r.severity as Severity, value: r.value as number | null, threshold: r.threshold as number | null,
    message: r.message as string, raisedTs: r.raised_ts as number, updatedTs: r.updated_ts as number,
    ackedTs: r.acked_ts as number | null, ackedBy: r.acked_by as string | null, resolvedTs: r.resolved_ts as number | null,
  };
}

/** The alerts table; see the file comment. */
export class AlertStore {
  private readonly q: Record<"insert" | "update" | "byId" | "active" | "prune" | "count", Statement>;

  constructor(private readonly db: Database) {
    this.q = {
      insert: db.prepare(`INSERT INTO alerts (rule, key, state, severity, value, threshold, message, raised_ts, updated_ts)
        VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?)`),
      update: db.prepare(`UPDATE alerts SET state = ?, severity = ?, value = ?, threshold = ?, message = ?, updated_ts = ?,
        acked_ts = ?, acked_by = ?, resolved_ts = ? WHERE id = ?`),
      byId: db.prepare("SELECT * FROM alerts WHERE id = ?"),
      active: db.prepare("SELECT * FROM alerts WHERE state != 'resolved' ORDER BY id"),
      // Everything resolved at or below the keep-th newest resolved id goes.
      prune: db.prepare(`DELETE FROM alerts WHERE state = 'resolved' AND id <= (
        SELECT id FROM alerts WHERE state = 'resolved' ORDER BY id DESC LIMIT 1 OFFSET ?)`),
      count: db.prepare("SELECT state, COUNT(*) AS n FROM alerts GROUP BY state"),
    };
  }

  /** Stores a new open alert and returns it with its id. */
  insert(a: Omit<Alert, "id" | "state" | "ackedTs" | "ackedBy" | "resolvedTs" | "updatedTs">): Alert {
    const r = this.q.insert.run(a.rule, a.key, a.severity, a.value, a.threshold, a.message, a.raisedTs, a.raisedTs);
    return { ...a, id: Number(r.lastInsertRowid), state: "open", updatedTs: a.raisedTs, ackedTs: null, ackedBy: null, resolvedTs: null };
  }

  /** Writes every mutable column of an existing alert. */
  update(a: Alert): void {
    this.q.update.run(a.state, a.severity, a.value, a.threshold, a.message, a.updatedTs, a.ackedTs, a.ackedBy, a.resolvedTs, a.id);
  }

  /** One alert by id. */
  get(id: number): Alert | undefined {
    const row = this.q.byId.get(id) as Row | null;
    return row ? toAlert(row) : undefined;
  }

  /** Alerts not resolved, oldest first (what a restart reloads). */
  active(): Alert[] {
    return (this.q.active.all() as Row[]).map(toAlert);
  }

  /** Alerts matching a filter, newest first, at most `limit` from `offset`, with the total. */
  list(f: AlertFilter, limit: number, offset: number): { items: Alert[]; total: number } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (f.state !== undefined) (where.push("state = ?"), args.push(f.state));
    if (f.active !== undefined) where.push(f.active ? "state != 'resolved'" : "state = 'resolved'");
    if (f.severity !== undefined) (where.push("severity = ?"), args.push(f.severity));
    if (f.rule !== undefined) (where.push("rule = ?"), args.push(f.rule));
    const w = where.length ? `WHERE ${where.join(" AND ")}` : "";
    const total = (this.db.query(`SELECT COUNT(*) AS n FROM alerts ${w}`).get(...args) as { n: number }).n;
    const rows = this.db.query(`SELECT * FROM alerts ${w} ORDER BY id DESC LIMIT ? OFFSET ?`).all(...args, limit, offset) as Row[];
    return { items: rows.map(toAlert), total };
  }

  /** Deletes the oldest resolved alerts beyond the newest `keep`; returns how many went. */
  prune(keep: number): number {
    return this.q.prune.run(keep).changes;
  }

  /** Rows per state (for tests and diagnostics). */
  counts(): Record<AlertState, number> {
    const out: Record<AlertState, number> = { open: 0, acknowledged: 0, resolved: 0 };
    for (const r of this.q.count.all() as { state: AlertState; n: number }[]) out[r.state] = r.n;
    return out;
  }
}
