// REST routes of the risk engine (src/risk/ computes; this file authenticates, parses, encodes).
//
//   GET   /v1/risk                        firm state and the risk of every account the key may trade
//   GET   /v1/risk/:account               one account's risk (snapshot at most publishMs old)
//   POST  /v1/admin/risk/state            {account?, state, reason}: set a trading state (no account: firm-wide);
//                                         the reply's `policy` says what the loss policy will do next
//   POST  /v1/admin/risk/kill             {account?, reason}: halt and cancel every working order
//   PATCH /v1/admin/risk/limits/:account  a partial set of limits; replaces those fields
//   GET   /v1/admin/risk/audit?account=&limit=   the newest audit records

import type { Context, Hono } from "hono";
import { z } from "zod";
import { mayTrade, type ApiKey } from "../auth/keys.ts";
import { FIRM, type RiskService, type StateInfo } from "../risk/service.ts";
import { limitsOverrideSchema } from "../risk/settings.ts";
import type { RiskSnapshot } from "../risk/snapshot.ts";
import { intQuery, jsonBody, keyAuthenticator, type KeyAuthOptions } from "./key-auth.ts";
import { fieldPath } from "./messages.ts";
import { errorResponse } from "./rest.ts";
import { riskViewSchema } from "../client/protocol-schemas.ts";
import { policyOverrideSchema, type PolicyNote } from "../risk/policy.ts";
import { limitsSchema } from "../risk/settings.ts";
import type { AuditRecord } from "../store/risk.ts";
import type { RouteDoc } from "./openapi-registry.ts";

/** What the risk routes need. */
export interface RiskRoutesDeps extends KeyAuthOptions {
  risk: RiskService;
  maxBodyBytes: number;
  /** Most audit rows one reply carries. */
  maxRows: number;
}

const account = z.string().min(1).max(32);
const reason = z.string().min(1).max(500);
const stateSchema = z.strictObject({ account: account.optional(), state: z.enum(["active", "reducing", "halted"]), reason });
const killSchema = z.strictObject({ account: account.optional(), reason });

/** Sums of the additive fields over accounts; VaR summed is an upper bound of the firm's (see docs). */
function firmOf(risk: RiskService, snaps: RiskSnapshot[]) {
  const sum = (f: (s: RiskSnapshot) => number) => snaps.reduce((t, s) => t + f(s), 0);
  const st = risk.state(FIRM);
  return {
    state: st.state, stateReason: st.reason, equity: sum((s) => s.equity), marketValue: sum((s) => s.marketValue),
    grossExposure: sum((s) => s.grossExposure), dollarDelta: sum((s) => s.dollarDelta), dollarGamma: sum((s) => s.dollarGamma),
    vega: sum((s) => s.vega), theta: sum((s) => s.theta), dailyPnl: sum((s) => s.dailyPnl), var99Bound: sum((s) => s.var99),
    maxScore: snaps.reduce((m, s) => Math.max(m, s.score), 0),
    // The least marked account's: firm sums include its provisional figures.
    valuation: snaps.some((s) => s.valuation === "waiting_for_marks") ? "waiting_for_marks" : snaps.some((s) => s.valuation === "stale") ? "stale" : "marked",
  };
}

/** Adds the risk routes. */
export function riskRoutes(deps: RiskRoutesDeps): (app: Hono) => void {
  const auth = keyAuthenticator(deps);
  const { risk } = deps;
  const visible = (key: ApiKey, a: string) => risk.hasAccount(a) && mayTrade(key, a);
  const parse = <T>(schema: z.ZodType<T>, raw: unknown): T | Response => {
    const r = schema.safeParse(raw);
    if (r.success) return r.data;
    const issue = r.error.issues[0]!;
    return errorResponse(400, "BAD_REQUEST", issue.message, fieldPath(issue.path));
  };
  /** The admin key, the parsed body and the scope it names, or the error reply. */
  const adminRequest = async <T extends { account?: string }>(c: Context, schema: z.ZodType<T>) => {
    const key = auth(c, "admin");
    if (key instanceof Response) return key;
    const raw = await jsonBody(c, deps.maxBodyBytes);
    if (raw instanceof Response) return raw;
    const body = parse(schema, raw);
    if (body instanceof Response) return body;
    const scope = scopeOf(body.account);
    if (scope instanceof Response) return scope;
    return { actor: `key:${key.id}`, body, scope };
  };
  const scopeOf = (a: string | undefined): string | Response =>
    a === undefined ? FIRM : risk.hasAccount(a) ? a : errorResponse(404, "UNKNOWN_ACCOUNT", `no account ${JSON.stringify(a)}`, "account");

  return (app) => {
    app.get("/v1/risk", (c) => {
      const key = auth(c, "trade");
      if (key instanceof Response) return key;
      const snaps = risk.allSnapshots().filter((s) => visible(key, s.account));
      return c.json({ firm: firmOf(risk, snaps), accounts: snaps });
    });

    app.get("/v1/risk/:account", (c) => {
      const key = auth(c, "trade");
      if (key instanceof Response) return key;
      const a = c.req.param("account");
      const snap = visible(key, a) ? risk.snapshot(a) : undefined;
      if (!snap) return errorResponse(404, "NOT_FOUND", `no risk for account ${JSON.stringify(a)}`, "account");
      return c.json(snap);
    });

    app.post("/v1/admin/risk/state", async (c) => {
      const r = await adminRequest(c, stateSchema);
      if (r instanceof Response) return r;
      // The reply says what the loss policy will do next, so an override is never reverted silently.
      const { info, policy } = risk.adminSetState(r.actor, r.scope, r.body.state, r.body.reason);
      return c.json({ scope: r.scope, ...info, policy });
    });

    app.post("/v1/admin/risk/kill", async (c) => {
      const r = await adminRequest(c, killSchema);
      if (r instanceof Response) return r;
      const canceled = await risk.kill(r.actor, r.scope, r.body.reason);
      return c.json({ scope: r.scope, state: risk.state(r.scope), canceled });
    });

    app.patch("/v1/admin/risk/limits/:account", async (c) => {
      const key = auth(c, "admin");
      if (key instanceof Response) return key;
      const scope = scopeOf(c.req.param("account"));
      if (scope instanceof Response) return scope;
      const raw = await jsonBody(c, deps.maxBodyBytes);
      if (raw instanceof Response) return raw;
      const body = parse(limitsOverrideSchema, raw);
      if (body instanceof Response) return body;
      if (Object.keys(body).length === 0) return errorResponse(400, "BAD_REQUEST", "give at least one limit to change");
      return c.json({ account: scope, limits: risk.setLimits(`key:${key.id}`, scope, body) });
    });

    app.get("/v1/admin/risk/audit", (c) => {
      const key = auth(c, "admin");
      if (key instanceof Response) return key;
      const limit = intQuery(c, "limit", deps.maxRows, deps.maxRows);
      if (limit instanceof Response) return limit;
      const a = c.req.query("account");
      return c.json({ records: risk.store.auditTrail(a, limit) });
    });
  };
}

const tradingState = z.enum(["active", "reducing", "halted"]);
/** A trading state as the admin routes answer it (src/risk/service.ts StateInfo). */
const stateInfoSchema = z.object({
  state: tradingState, reason: z.string(), manual: z.boolean(), sinceTs: z.number(), override: policyOverrideSchema.optional(),
});
/** What the loss policy will do next (src/risk/policy.ts PolicyNote). */
const policyNoteSchema = z.object({
  message: z.string(), wouldSetNow: tradingState.nullable(),
  bounds: z.object({ lossReduce: z.number(), lossHalt: z.number(), drawdownReduce: z.number(), drawdownHalt: z.number() }).nullable(),
  until: z.string().nullable(),
});
/** A risk audit record; old and new are the values the action replaced and set. */
const auditRecordSchema = z.object({ seq: z.number().int(), ts: z.number(), actor: z.string(), action: z.string(), scope: z.string(), old: z.unknown(), new: z.unknown() });

// Compile-time: the documented shapes are exactly the service's.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _shapes: [Same<z.infer<typeof stateInfoSchema>, StateInfo>, Same<z.infer<typeof policyNoteSchema>, PolicyNote>,
  Same<z.infer<typeof auditRecordSchema>, AuditRecord>] = [true, true, true];
void _shapes;
const accountParam = z.object({ account: z.string().describe("An account id") });

/** The firm line of GET /v1/risk: sums over the accounts the key may trade. */
const firmRiskSchema = z.object({
  state: tradingState, stateReason: z.string(), equity: z.number(), marketValue: z.number(), grossExposure: z.number(), dollarDelta: z.number(),
  dollarGamma: z.number(), vega: z.number(), theta: z.number(), dailyPnl: z.number(), var99Bound: z.number(), maxScore: z.number(),
  valuation: z.enum(["marked", "waiting_for_marks", "stale"]),
});

/** The routes of this file, for the OpenAPI document. */
export const riskRouteDocs: RouteDoc[] = [
  { method: "get", path: "/v1/risk", tag: "risk", auth: "trade", summary: "Firm state and the risk of every account the key may trade",
    replies: { 200: { description: "Firm sums and per-account risk", schema: z.object({ firm: firmRiskSchema, accounts: z.array(riskViewSchema) }) } } },
  { method: "get", path: "/v1/risk/:account", tag: "risk", auth: "trade", summary: "One account's risk", params: accountParam,
    replies: { 200: { description: "The account's risk (at most risk.publishMs old)", schema: riskViewSchema } }, errors: { 404: ["NOT_FOUND"] } },
  { method: "post", path: "/v1/admin/risk/state", tag: "risk admin", auth: "admin", summary: "Set a trading state (no account: firm-wide)", body: stateSchema,
    replies: { 200: { description: "The new state; `policy` says what the loss policy will do next", schema: stateInfoSchema.extend({ scope: z.string(), policy: policyNoteSchema }) } },
    errors: { 404: ["UNKNOWN_ACCOUNT"] } },
  { method: "post", path: "/v1/admin/risk/kill", tag: "risk admin", auth: "admin", summary: "Kill switch: halt and cancel every working order", body: killSchema,
    replies: { 200: { description: "The halted scope and the orders canceled", schema: z.object({ scope: z.string(), state: stateInfoSchema, canceled: z.array(z.string()) }) } },
    errors: { 404: ["UNKNOWN_ACCOUNT"] } },
  { method: "patch", path: "/v1/admin/risk/limits/:account", tag: "risk admin", auth: "admin", summary: "Override some limits of an account", params: accountParam,
    body: limitsOverrideSchema,
    replies: { 200: { description: "The effective limits", schema: z.object({ account: z.string(), limits: limitsSchema }) } },
    errors: { 404: ["UNKNOWN_ACCOUNT"] } },
  { method: "get", path: "/v1/admin/risk/audit", tag: "risk admin", auth: "admin", summary: "The newest risk audit records",
    query: z.object({ account: z.string().optional(), limit: z.number().int().min(0).optional().describe("Most records (default and most: maxRestRows)") }),
    replies: { 200: { description: "Audit records, newest first", schema: z.object({ records: z.array(auditRecordSchema) }) } },
    errors: { 400: ["BAD_REQUEST"] } },
];
