// The `alerts` topic over /ws (docs/protocol.md, "Alerts"). A connection authenticates with
// the same {"op":"auth"} message as order entry, so one auth serves both: this extension wraps
// the order extension (`inner`), notes the key of every auth message, and passes the message
// and every other op it does not own on to `inner`, which answers them. Without an inner
// extension it answers auth itself. Any valid key may subscribe; acknowledging needs admin.
//
//   → {"op":"alerts.subscribe","id":1}               ← {"t":"alerts","id":1,"subscribed":true,"alerts":[…active…]}
//                                                    ← {"t":"alert","event":"raised","ts":…,"alert":{…}} on every transition
//   → {"op":"alerts.ack","id":2,"alertId":17}        ← {"t":"alert","id":2,"alert":{…}} (the push follows for subscribers)
//   → {"op":"alerts.unsubscribe","id":3}             ← {"t":"alerts","id":3,"subscribed":false,"alerts":[]}

import { z } from "zod";
import type { AlertFrame, AlertsFrame, ErrorFrame, WsErrorCode } from "../client/protocol.ts";
import { hasScope, type ApiKey, type KeyStore } from "../auth/keys.ts";
import type { Alert, AlertTransition, TransitionType } from "../monitor/alert-types.ts";
import type { AlertEngine } from "../monitor/alerts.ts";
import type { Hub, Socket } from "./hub.ts";
import type { WsExtension } from "./orders-ws.ts";

/** The alert frames are protocol types; re-exported for the server's readers. */
export type { AlertFrame, AlertsFrame };

const OPS = new Set(["alerts.subscribe", "alerts.unsubscribe", "alerts.ack"]);
const id = z.number().int().min(0).max(0xffff_ffff).optional();
/** The alerts topic requests. */
export const alertRequestSchema = z.discriminatedUnion("op", [
  z.strictObject({ op: z.literal("alerts.subscribe"), id }),
  z.strictObject({ op: z.literal("alerts.unsubscribe"), id }),
  z.strictObject({ op: z.literal("alerts.ack"), id, alertId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }),
]);

/** The alerts topic, wrapping the order extension (`inner`); see the file comment. */
export class AlertsWs implements WsExtension {
  private readonly keyOf = new WeakMap<Socket, ApiKey>();
  /** Subscribed connections: bounded by the server's connection limit. */
  private readonly subscribers = new Set<Socket>();
  private readonly detach: () => void;

  constructor(private readonly hub: Hub, private readonly alerts: AlertEngine, private readonly keys: KeyStore, private readonly inner?: WsExtension) {
    this.detach = alerts.onTransition((t) => this.push(t));
  }

  /** The alert ops, auth, and the inner extension's. */
  get ops(): readonly string[] {
    return [...new Set(["auth", ...OPS, ...(this.inner?.ops ?? [])])];
  }

  /** Claims the alert ops, auth, and whatever the inner extension claims. */
  handles(value: unknown): boolean {
    if (typeof value !== "object" || value === null) return false;
    const op = (value as { op?: unknown }).op;
    return op === "auth" || OPS.has(op as string) || (this.inner?.handles(value) ?? false);
  }

  /** Handles one alert op; auth is noted, then answered by the inner extension (or here). */
  handle(ws: Socket, value: unknown): void {
    const op = (value as { op?: unknown }).op;
    if (op === "auth") return this.auth(ws, value);
    if (!OPS.has(op as string)) return this.inner!.handle(ws, value);
    const parsed = alertRequestSchema.safeParse(value);
    const rid = typeof (value as { id?: unknown }).id === "number" ? (value as { id: number }).id : undefined;
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return this.error(ws, "BAD_REQUEST", issue.message, issue.path.map(String).join(".") || undefined, rid);
    }
    const req = parsed.data;
    const key = this.keyOf.get(ws);
    if (!key) return this.error(ws, "UNAUTHORIZED", 'send {"op":"auth","key":…} first', undefined, req.id);
    switch (req.op) {
      case "alerts.subscribe":
        this.subscribers.add(ws);
        return this.send(ws, { t: "alerts", ...withId(req.id), subscribed: true, alerts: this.alerts.activeAlerts() });
      case "alerts.unsubscribe":
        this.subscribers.delete(ws);
        return this.send(ws, { t: "alerts", ...withId(req.id), subscribed: false, alerts: [] });
      case "alerts.ack": {
        if (!hasScope(key, "admin")) return this.error(ws, "FORBIDDEN", "acknowledging alerts needs an API key with the admin scope", undefined, req.id);
        const r = this.alerts.ack(req.alertId, key.id);
        if (r.ok) return this.send(ws, { t: "alert", ...withId(req.id), alert: r.alert });
        if (r.error === "NOT_FOUND") return this.error(ws, "NOT_FOUND", `no alert ${req.alertId}`, "alertId", req.id);
        return this.error(ws, "ALERT_RESOLVED", `alert ${req.alertId} is already resolved`, "alertId", req.id);
      }
    }
  }

  /** Forgets a closed connection. */
  closed(ws: Socket): void {
    this.subscribers.delete(ws);
    this.keyOf.delete(ws);
    this.inner?.closed(ws);
  }

  /** Stops listening to the alert engine. */
  stop(): void {
    this.detach();
    this.subscribers.clear();
    this.inner?.stop();
  }

  private auth(ws: Socket, value: unknown): void {
    const token = (value as { key?: unknown }).key;
    const key = typeof token === "string" ? this.keys.verify(token) : undefined;
    // Like order entry, a failed auth ends an earlier successful one, and the alerts it opened.
    if (key) this.keyOf.set(ws, key);
    else {
      this.keyOf.delete(ws);
      this.subscribers.delete(ws);
    }
    if (this.inner) return this.inner.handle(ws, value);
    const rid = typeof (value as { id?: unknown }).id === "number" ? (value as { id: number }).id : undefined;
    if (!key) return this.error(ws, "UNAUTHORIZED", "the API key is not valid", "key", rid);
    this.hub.send(ws, { t: "authed", ...withId(rid), scopes: key.scopes, accounts: key.accounts });
  }

  private push(t: AlertTransition): void {
    const frame: AlertFrame = { t: "alert", event: t.type, ts: t.ts, alert: t.alert };
    for (const ws of this.subscribers) this.send(ws, frame);
  }

  private send(ws: Socket, frame: AlertsFrame | AlertFrame): void {
    this.hub.send(ws, frame);
  }

  private error(ws: Socket, code: WsErrorCode, message: string, field: string | undefined, rid: number | undefined): void {
    const frame: ErrorFrame = { t: "error", code, message, ...(field === undefined ? {} : { field }), ...withId(rid) };
    this.hub.send(ws, frame);
  }
}

function withId(id: number | undefined): { id?: number } {
  return id === undefined ? {} : { id };
}
