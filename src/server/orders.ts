// REST routes for orders and accounts. Every route needs an API key (Authorization: Bearer);
// the order manager validates, journals and answers, this file only authenticates, parses and
// encodes. A reply leaves only once what it reports is durable (the manager waits for it).
//
//   POST   /v1/orders                     place (201; 200 with the original for a repeated clientOrderId)
//   GET    /v1/orders?account=&status=&open=&symbol=&limit=&offset=
//   GET    /v1/orders/:id                 one order, with ?events=true its journaled events
//   PATCH  /v1/orders/:id                 modify qty / limitPrice / stopPrice
//   DELETE /v1/orders/:id                 cancel
//   GET    /v1/accounts                   accounts the key may see
//   GET    /v1/accounts/:id               one account: cash, equity, P&L, buying power
//   GET    /v1/accounts/:id/positions
//   GET    /v1/accounts/:id/fills?limit=&offset=

import type { Context, Hono } from "hono";
import type { RestErrorCode } from "../client/protocol.ts";
import { hasScope, mayTrade, type KeyStore } from "../auth/keys.ts";
import { ORDER_STATUSES, type OrderStatus } from "../domain/order.ts";
import type { OrderManager } from "../oms/manager.ts";
import type { OmsError, Result } from "../oms/validate.ts";
import { fillView, orderView } from "../oms/views.ts";
import { intQuery, jsonBody, keyAuthenticator } from "./key-auth.ts";
import { errorResponse } from "./rest.ts";
import { z } from "zod";
import { accountViewSchema, fillViewSchema, orderViewSchema, pageFields, positionsReplySchema } from "../client/protocol-schemas.ts";
import { modifySchema, newOrderSchema } from "../oms/validate.ts";
import type { RouteDoc } from "./openapi-registry.ts";
import { currentTrace, record, resumeTrace, STAGE_TIMING } from "../oms/stages.ts";

/** What the order routes need. */
export interface OrderRoutesDeps {
  oms: OrderManager;
  keys: KeyStore;
  /** Most rows one list reply carries. */
  maxRows: number;
  /** Requests per second per API key, and the burst allowed at once. */
  keyRatePerS: number;
  keyBurst: number;
  /** Largest request body accepted. */
  maxBodyBytes: number;
}

/** Defaults: 16 KiB is a hundred times an order; 1,000 requests/s per key covers a busy strategy. */
export const ORDER_ROUTE_DEFAULTS = { keyRatePerS: 1000, keyBurst: 2000, maxBodyBytes: 16 * 1024 };

function omsError(e: OmsError): Response {
  return errorResponse(e.status, e.code as RestErrorCode, e.message, e.field);
}

/** Adds the order and account routes. */
export function orderRoutes(deps: OrderRoutesDeps): (app: Hono) => void {
  const auth = keyAuthenticator(deps);
  const tradeKey = (c: Context) => auth(c, "trade");
  const body = (c: Context) => jsonBody(c, deps.maxBodyBytes);

  const reply = <T>(r: Result<T>, encode: (v: T) => unknown, status = 200): Response =>
    r.ok ? Response.json(encode(r.value), { status }) : omsError(r.error);

  return (app) => {
    app.post("/v1/orders", async (c) => {
      // The opt-in stage timer (src/oms/stages.ts); tr is undefined unless ALLUSE_STAGE_TIMING=1.
      const tr = STAGE_TIMING ? currentTrace() : undefined;
      tr?.mark("handler");
      const key = tradeKey(c);
      if (key instanceof Response) return key;
      tr?.mark("auth");
      const b = await body(c);
      if (b instanceof Response) return b;
      if (tr) {
        tr.mark("body");
        resumeTrace(tr);
      }
      const r = await deps.oms.submit(b, (a) => mayTrade(key, a));
      if (!r.ok) return omsError(r.error);
      const res = Response.json(orderView(r.value.order), { status: r.value.created ? 201 : 200 });
      if (tr) {
        tr.mark("replied");
        record(tr);
      }
      return res;
    });

    app.get("/v1/orders", async (c) => {
      const key = tradeKey(c);
      if (key instanceof Response) return key;
      const account = c.req.query("account");
      if (account === undefined && !key.accounts.includes("*") && !hasScope(key, "admin")) {
        return errorResponse(400, "BAD_REQUEST", "account is required for a key limited to some accounts", "account");
      }
      if (account !== undefined && !mayTrade(key, account)) return errorResponse(403, "FORBIDDEN", `this key may not see account ${account}`, "account");
      const status = c.req.query("status");
      if (status !== undefined && !ORDER_STATUSES.includes(status as OrderStatus)) {
        return errorResponse(400, "BAD_REQUEST", `status must be one of ${ORDER_STATUSES.join(", ")}`, "status");
      }
      const open = c.req.query("open");
      if (open !== undefined && open !== "true" && open !== "false") return errorResponse(400, "BAD_REQUEST", "open must be true or false", "open");
      const limit = intQuery(c, "limit", deps.maxRows, deps.maxRows);
      if (limit instanceof Response) return limit;
      const offset = intQuery(c, "offset", 0, 1e9);
      if (offset instanceof Response) return offset;
      const filter = {
        ...(account !== undefined ? { account } : {}), ...(status !== undefined ? { status: status as OrderStatus } : {}),
        ...(open !== undefined ? { open: open === "true" } : {}), ...(c.req.query("symbol") ? { symbol: c.req.query("symbol")! } : {}),
      };
      const { items, total } = await deps.oms.listOrders(filter, limit, offset);
      return c.json({ orders: items.map(orderView), total, offset, next: offset + items.length < total ? offset + items.length : null });
    });

    app.get("/v1/orders/:id", async (c) => {
      const key = tradeKey(c);
      if (key instanceof Response) return key;
      const id = c.req.param("id");
      const o = await deps.oms.order(id, (a) => mayTrade(key, a));
      if (!o) return errorResponse(404, "NOT_FOUND", `no order ${id}`, "id");
      if (c.req.query("events") === "true") return c.json({ ...orderView(o), events: await deps.oms.durableRead(() => deps.oms.events(id)) });
      return c.json(orderView(o));
    });

    app.patch("/v1/orders/:id", async (c) => {
      const key = tradeKey(c);
      if (key instanceof Response) return key;
      const b = await body(c);
      if (b instanceof Response) return b;
      return reply(await deps.oms.modify(c.req.param("id"), b, (a) => mayTrade(key, a)), orderView);
    });

    app.delete("/v1/orders/:id", async (c) => {
      const key = tradeKey(c);
      if (key instanceof Response) return key;
      return reply(await deps.oms.cancel(c.req.param("id"), (a) => mayTrade(key, a)), orderView);
    });

    app.get("/v1/accounts", async (c) => {
      const key = tradeKey(c);
      if (key instanceof Response) return key;
      const ids = deps.oms.accountIds().filter((a) => mayTrade(key, a));
      return c.json({ accounts: await deps.oms.durableRead(() => ids.map((id) => deps.oms.account(id))) });
    });

    const accountOf = (c: Context): string | Response => {
      const key = tradeKey(c);
      if (key instanceof Response) return key;
      const id = c.req.param("id")!;
      if (!deps.oms.account(id) || !mayTrade(key, id)) return errorResponse(404, "NOT_FOUND", `no account ${id}`, "id");
      return id;
    };

    app.get("/v1/accounts/:id", async (c) => {
      const id = accountOf(c);
      return id instanceof Response ? id : c.json(await deps.oms.durableRead(() => deps.oms.account(id)));
    });

    app.get("/v1/accounts/:id/positions", async (c) => {
      const id = accountOf(c);
      if (id instanceof Response) return id;
      // Both read at one instant, after everything applied is on disk.
      return c.json(await deps.oms.durableRead(() => ({ account: id, positions: deps.oms.positions(id), underlyings: deps.oms.underlyingBases(id) })));
    });

    app.get("/v1/accounts/:id/fills", async (c) => {
      const id = accountOf(c);
      if (id instanceof Response) return id;
      const limit = intQuery(c, "limit", deps.maxRows, deps.maxRows);
      if (limit instanceof Response) return limit;
      const offset = intQuery(c, "offset", 0, 1e9);
      if (offset instanceof Response) return offset;
      const { items, total } = await deps.oms.fills({ account: id }, limit, offset);
      return c.json({ fills: items.map(fillView), total, offset, next: offset + items.length < total ? offset + items.length : null });
    });
  };
}

const idParam = z.object({ id: z.string().describe("The order id the server assigned") });
const accountParam = z.object({ id: z.string().describe("An account id") });
const pageQuery = {
  limit: z.number().int().min(0).optional().describe("Most rows (default and most: maxRestRows)"),
  offset: z.number().int().min(0).optional().describe("First row (default 0)"),
};
const journal: Record<number, readonly RestErrorCode[]> = { 503: ["JOURNAL_FULL", "JOURNAL_FAILED"] };
/** A journaled order event (GET /v1/orders/{id}?events=true). */
const orderEventSchema = z.object({
  seq: z.number().int(), ts: z.number(), kind: z.string(), status: orderViewSchema.shape.status, detail: z.record(z.string(), z.unknown()).nullable(),
});

/** The routes of this file, for the OpenAPI document. */
export const orderRouteDocs: RouteDoc[] = [
  { method: "post", path: "/v1/orders", tag: "orders", auth: "trade", summary: "Place an order", body: newOrderSchema,
    description: "Idempotent by clientOrderId per account: a repeat answers 200 with the original order.",
    replies: { 201: { description: "Placed (journaled)", schema: orderViewSchema }, 200: { description: "A repeated clientOrderId: the original order", schema: orderViewSchema } },
    errors: {
      400: ["BAD_REQUEST", "BAD_QUANTITY", "PRICE_OFF_TICK", "OPTION_EXPIRED", "UNKNOWN_INSTRUMENT"], 403: ["FORBIDDEN"], 404: ["UNKNOWN_ACCOUNT"],
      409: ["DUPLICATE_CLIENT_ORDER_ID"], 422: ["RISK_DENIED"], 429: ["TOO_MANY_OPEN_ORDERS"], ...journal,
    } },
  { method: "get", path: "/v1/orders", tag: "orders", auth: "trade", summary: "Orders, newest first, one page",
    query: z.object({
      account: z.string().optional().describe("Required for a key limited to some accounts"),
      status: orderViewSchema.shape.status.optional(), open: z.enum(["true", "false"]).optional(), symbol: z.string().optional(), ...pageQuery,
    }),
    replies: { 200: { description: "One page of orders", schema: z.object({ orders: z.array(orderViewSchema), ...pageFields }) } },
    errors: { 400: ["BAD_REQUEST"] } },
  { method: "get", path: "/v1/orders/:id", tag: "orders", auth: "trade", summary: "One order, with ?events=true its journaled events", params: idParam,
    query: z.object({ events: z.enum(["true", "false"]).optional() }),
    replies: { 200: { description: "The order (and its events when asked)", schema: orderViewSchema.extend({ events: z.array(orderEventSchema).optional() }) } },
    errors: { 404: ["NOT_FOUND"] } },
  { method: "patch", path: "/v1/orders/:id", tag: "orders", auth: "trade", summary: "Modify qty, limitPrice or stopPrice", params: idParam, body: modifySchema,
    replies: { 200: { description: "The order, pending_replace until the broker answers", schema: orderViewSchema } },
    errors: { 400: ["BAD_REQUEST", "BAD_QUANTITY", "PRICE_OFF_TICK"], 404: ["NOT_FOUND"], 409: ["ORDER_NOT_MODIFIABLE"], 422: ["RISK_DENIED"], ...journal } },
  { method: "delete", path: "/v1/orders/:id", tag: "orders", auth: "trade", summary: "Cancel an order", params: idParam,
    replies: { 200: { description: "The order, pending_cancel or canceled", schema: orderViewSchema } },
    errors: { 404: ["NOT_FOUND"], 409: ["ORDER_NOT_CANCELABLE"], ...journal } },
  { method: "get", path: "/v1/accounts", tag: "accounts", auth: "trade", summary: "Accounts the key may trade",
    replies: { 200: { description: "The accounts", schema: z.object({ accounts: z.array(accountViewSchema) }) } } },
  { method: "get", path: "/v1/accounts/:id", tag: "accounts", auth: "trade", summary: "One account: cash, equity, P&L, buying power", params: accountParam,
    replies: { 200: { description: "The account", schema: accountViewSchema } }, errors: { 404: ["NOT_FOUND"] } },
  { method: "get", path: "/v1/accounts/:id/positions", tag: "accounts", auth: "trade", summary: "An account's positions", params: accountParam,
    replies: { 200: { description: "The positions, and the wheel's adjusted cost basis of each underlying traded", schema: positionsReplySchema } }, errors: { 404: ["NOT_FOUND"] } },
  { method: "get", path: "/v1/accounts/:id/fills", tag: "accounts", auth: "trade", summary: "An account's fills, one page", params: accountParam,
    query: z.object(pageQuery),
    replies: { 200: { description: "One page of fills", schema: z.object({ fills: z.array(fillViewSchema), ...pageFields }) } },
    errors: { 400: ["BAD_REQUEST"], 404: ["NOT_FOUND"] } },
];
