// The plain shapes of the alert engine (src/monitor/alerts.ts), shared by the store, the REST
// and WebSocket delivery and the webhooks. Nothing here does anything.

/** How bad: warning needs attention, critical needs it now. */
export type Severity = "warning" | "critical";
/** Every severity, mildest first. */
export const SEVERITIES: readonly Severity[] = ["warning", "critical"];

/** Lifecycle: open → acknowledged (by an admin) → resolved (by the condition clearing). */
export type AlertState = "open" | "acknowledged" | "resolved";
/** Every state, in lifecycle order. */
export const ALERT_STATES: readonly AlertState[] = ["open", "acknowledged", "resolved"];

/** What happened to an alert; each is pushed to WebSocket clients and webhooks. */
export type TransitionType = "raised" | "escalated" | "deescalated" | "acknowledged" | "resolved";
/** Every transition type. */
export const TRANSITION_TYPES: readonly TransitionType[] = ["raised", "escalated", "deescalated", "acknowledged", "resolved"];

/** One alert as stored and as served (REST, WebSocket, webhooks). Times are epoch ms. */
export interface Alert {
  /** Unique for ever (SQLite rowid); a resolved alert that fires again gets a new id. */
  id: number;
  /** Name of the rule that raised it. */
  rule: string;
  /** What it is about within the rule (a symbol, an account, "" for a single-series rule). */
  key: string;
  state: AlertState;
  severity: Severity;
  /** Latest reading while active; the reading that cleared it once resolved (null when the key vanished). */
  value: number | null;
  /** The threshold of the current severity. */
  threshold: number | null;
  /** Human-readable summary, set when raised and on each severity change. */
  message: string;
  raisedTs: number;
  /** Last stored change. */
  updatedTs: number;
  ackedTs: number | null;
  /** Id of the API key that acknowledged it. */
  ackedBy: string | null;
  resolvedTs: number | null;
}

/** One change of one alert: the alert as it is after the change. */
export interface AlertTransition {
  type: TransitionType;
  alert: Alert;
  ts: number;
}
