// The plain shapes of the alert engine (src/monitor/alerts.ts), shared by the store, the REST
// and WebSocket delivery and the webhooks. Nothing here does anything.

import type { AlertView } from "../client/protocol.ts";

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

/** One alert as stored and as served (REST, WebSocket, webhooks): the protocol's AlertView. */
export type Alert = AlertView;

/** One change of one alert: the alert as it is after the change. */
export interface AlertTransition {
  type: TransitionType;
  alert: Alert;
  ts: number;
}
