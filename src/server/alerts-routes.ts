// REST routes for alerts (docs/protocol.md, "Alerts"). Reading needs any valid API key;
// acknowledging needs the admin scope. The alert engine does the work; this file
// authenticates, parses and encodes.
//
//   GET  /v1/alerts?state=&severity=&rule=&active=&limit=&offset=   newest first, one page
//   GET  /v1/alerts/:id
//   POST /v1/alerts/:id/ack        200 with the alert (also when already acknowledged);
//                                  404 unknown id; 409 ALERT_RESOLVED

import type { Context, Hono } from "hono";
import { hasScope, type KeyStore } from "../auth/keys.ts";
import type { RestErrorCode } from "../client/protocol.ts";
import { ALERT_STATES, SEVERITIES, type AlertState, type Severity } from "../monitor/alert-types.ts";
import type { AlertEngine } from "../monitor/alerts.ts";
import type { AlertFilter } from "../store/alerts.ts";
import { keyAuthenticator } from "./key-auth.ts";
import { errorResponse } from "./rest.ts";
import { z } from "zod";
import { alertViewSchema, pageFields } from "../client/protocol-schemas.ts";
import type { RouteDoc } from "./openapi-registry.ts";

/** Error codes of the alert routes. */
export type AlertErrorCode = Extract<RestErrorCode, "UNAUTHORIZED" | "FORBIDDEN" | "RATE_LIMITED" | "BAD_REQUEST" | "NOT_FOUND" | "ALERT_RESOLVED">;

/** What the alert routes need. */
export interface AlertRoutesDeps {
  alerts: AlertEngine;
  keys: KeyStore;
  /** Most rows one list reply carries. */
  maxRows: number;
  /** Requests per second per API key, and the burst. */
  keyRatePerS: number;
  keyBurst: number;
}

const fail = (status: number, code: AlertErrorCode, message: string, field?: string): Response => errorResponse(status, code, message, field);

const RULE_RE = /^[a-z][a-z0-9._-]{0,63}$/;

/** Adds the alert routes. */
export function alertRoutes(deps: AlertRoutesDeps): (app: Hono) => void {
  const auth = keyAuthenticator(deps);
  const authenticate = (c: Context) => auth(c);

  const idParam = (c: Context): number | Response => {
    const raw = c.req.param("id") ?? "";
    return /^[1-9]\d{0,14}$/.test(raw) ? Number(raw) : fail(404, "NOT_FOUND", `no alert ${JSON.stringify(raw)}`, "id");
  };

  const filterOf = (c: Context): AlertFilter | Response => {
    const f: AlertFilter = {};
    const state = c.req.query("state");
    if (state !== undefined) {
      if (!ALERT_STATES.includes(state as AlertState)) return fail(400, "BAD_REQUEST", `state must be one of ${ALERT_STATES.join(", ")}`, "state");
      f.state = state as AlertState;
    }
    const severity = c.req.query("severity");
    if (severity !== undefined) {
      if (!SEVERITIES.includes(severity as Severity)) return fail(400, "BAD_REQUEST", `severity must be one of ${SEVERITIES.join(", ")}`, "severity");
      f.severity = severity as Severity;
    }
    const rule = c.req.query("rule");
    if (rule !== undefined) {
      if (!RULE_RE.test(rule)) return fail(400, "BAD_REQUEST", "rule must be a rule name", "rule");
      f.rule = rule;
    }
    const active = c.req.query("active");
    if (active !== undefined) {
      if (active !== "true" && active !== "false") return fail(400, "BAD_REQUEST", "active must be true or false", "active");
      f.active = active === "true";
    }
    return f;
  };

  const intQuery = (c: Context, name: string, fallback: number, max: number): number | Response => {
    const raw = c.req.query(name);
    if (raw === undefined) return fallback;
    const n = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
    return n >= 0 && n <= max ? n : fail(400, "BAD_REQUEST", `${name} must be an integer from 0 to ${max}`, name);
  };

  return (app) => {
    app.get("/v1/alerts", (c) => {
      const key = authenticate(c);
      if (key instanceof Response) return key;
      const f = filterOf(c);
      if (f instanceof Response) return f;
      const limit = intQuery(c, "limit", deps.maxRows, deps.maxRows);
      if (limit instanceof Response) return limit;
      const offset = intQuery(c, "offset", 0, 1e9);
      if (offset instanceof Response) return offset;
      const { items, total } = deps.alerts.list(f, limit, offset);
      return c.json({ alerts: items, total, offset, next: offset + items.length < total ? offset + items.length : null });
    });

    app.get("/v1/alerts/:id", (c) => {
      const key = authenticate(c);
      if (key instanceof Response) return key;
      const id = idParam(c);
      if (id instanceof Response) return id;
      const alert = deps.alerts.get(id);
      return alert ? c.json({ alert }) : fail(404, "NOT_FOUND", `no alert ${id}`, "id");
    });

    app.post("/v1/alerts/:id/ack", (c) => {
      const key = authenticate(c);
      if (key instanceof Response) return key;
      if (!hasScope(key, "admin")) return fail(403, "FORBIDDEN", "acknowledging alerts needs an API key with the admin scope");
      const id = idParam(c);
      if (id instanceof Response) return id;
      const r = deps.alerts.ack(id, key.id);
      if (r.ok) return c.json({ alert: r.alert });
      return r.error === "NOT_FOUND" ? fail(404, "NOT_FOUND", `no alert ${id}`, "id") : fail(409, "ALERT_RESOLVED", `alert ${id} is already resolved`, "id");
    });
  };
}

const alertIdParam = z.object({ id: z.string().regex(/^[1-9]\d{0,14}$/).describe("An alert id") });

/** The routes of this file, for the OpenAPI document. */
export const alertRouteDocs: RouteDoc[] = [
  { method: "get", path: "/v1/alerts", tag: "alerts", auth: "any", summary: "Alerts, newest first, one page",
    query: z.object({
      state: z.enum(["open", "acknowledged", "resolved"]).optional(), severity: z.enum(["warning", "critical"]).optional(),
      rule: z.string().regex(RULE_RE).optional(), active: z.enum(["true", "false"]).optional(),
      limit: z.number().int().min(0).optional(), offset: z.number().int().min(0).optional(),
    }),
    replies: { 200: { description: "One page of alerts", schema: z.object({ alerts: z.array(alertViewSchema), ...pageFields }) } }, errors: { 400: ["BAD_REQUEST"] } },
  { method: "get", path: "/v1/alerts/:id", tag: "alerts", auth: "any", summary: "One alert", params: alertIdParam,
    replies: { 200: { description: "The alert", schema: z.object({ alert: alertViewSchema }) } }, errors: { 404: ["NOT_FOUND"] } },
  { method: "post", path: "/v1/alerts/:id/ack", tag: "alerts", auth: "admin", summary: "Acknowledge an alert (again: the same reply)", params: alertIdParam,
    replies: { 200: { description: "The acknowledged alert", schema: z.object({ alert: alertViewSchema }) } },
    errors: { 404: ["NOT_FOUND"], 409: ["ALERT_RESOLVED"] } },
];
