// The alerts and broker-session topics of the wire protocol (split out of protocol.ts, which
// re-exports it): alert views and frames, the session frame and the topic requests.
// Client-side code: no server imports.

/** One alert (docs/protocol.md, "Alerts"). Times are epoch ms. */
export interface AlertView {
  /** Unique for ever; a resolved alert that fires again gets a new id. */
  id: number;
  rule: string;
  /** What it is about within the rule (a symbol, an account, "" for a single-series rule). */
  key: string;
  state: "open" | "acknowledged" | "resolved";
  severity: "warning" | "critical";
  value: number | null;
  threshold: number | null;
  message: string;
  raisedTs: number;
  updatedTs: number;
  ackedTs: number | null;
  /** Id of the API key that acknowledged it. */
  ackedBy: string | null;
  resolvedTs: number | null;
}

/** Reply to alerts.subscribe / alerts.unsubscribe: the active alerts when subscribing. */
export interface AlertsFrame {
  t: "alerts";
  id?: number;
  subscribed: boolean;
  alerts: AlertView[];
}

/** A transition pushed to subscribers (with `event`), or the reply to alerts.ack (with `id`). */
export interface AlertFrame {
  t: "alert";
  id?: number;
  event?: "raised" | "escalated" | "deescalated" | "acknowledged" | "resolved";
  ts?: number;
  alert: AlertView;
}

/** One IBKR data farm as TWS last reported it (2103/2104 market, 2105/2106 historical, 2157/2158 security definitions). */
export interface SessionFarm {
  kind: "market" | "hmds" | "secdef";
  name: string;
  ok: boolean;
}

/**
 * The broker session topic (docs/protocol.md, "Broker session"): the reply to session.subscribe /
 * session.unsubscribe (with `subscribed`), or a pushed change (with `event`).
 */
export type SessionFrame =
  | { t: "session"; id?: number; subscribed: boolean; connection: { name: "ib"; state: string; reason: string; since: number } | null; farms: SessionFarm[] }
  | { t: "session"; event: "state"; from: string; to: string; reason: string; ts: number }
  | { t: "session"; event: "farm"; farm: SessionFarm; ts: number };

/** The alerts and broker-session topics (docs/protocol.md, "Alerts" and "Broker session"). */
export type TopicRequest =
  | { op: "alerts.subscribe" | "alerts.unsubscribe" | "session.subscribe" | "session.unsubscribe"; id?: number }
  | { op: "alerts.ack"; id?: number; alertId: number };
