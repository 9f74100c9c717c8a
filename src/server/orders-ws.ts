// Order entry and account topics over /ws. A connection authenticates with its first order
// request ({"op":"auth","key":…}), which also opens market data to a client that needs a key
// for it (src/auth/market-gate.ts); then it may submit, cancel and modify orders (answered by an
// order frame carrying the request id) and watch accounts: every durable order change, fill
// and position change of a watched account is pushed, one account frame per commit that
// touched it, and its risk at the risk engine's publish cadence (100 ms). Quotes keep flowing on the same connection. The order manager does the work.
// When a key is revoked, every connection authenticated with it is closed with 4001. A failed
// auth ends the identity: nothing an earlier key granted outlives a failed attempt to replace it.
//
//   → {"op":"auth","id":1,"key":"ak_…"}                          ← {"t":"authed","id":1,"scopes":["trade"],"accounts":["Gen-Acc"]}
//   → {"op":"watch","id":2,"accounts":["Gen-Acc"]}               ← {"t":"watching","id":2,…} then account + open orders
//   → {"op":"submit","id":3,"order":{…POST /v1/orders body…}}    ← {"t":"order","id":3,"order":{…}}
//   → {"op":"cancel","id":4,"orderId":"O12"}                     ← {"t":"order","id":4,"order":{…}}
//   → {"op":"modify","id":5,"orderId":"O12","changes":{"qty":5}} ← {"t":"order","id":5,"order":{…}}
//   → {"op":"preview","id":6,"order":{…POST /v1/orders body…}}   ← {"t":"preview","id":6,"preview":{"allowed",…}}

import { z } from "zod";
import { CLOSE_CODES, type ErrorFrame, type RiskView, type ServerFrame, type WsErrorCode } from "../client/protocol.ts";
import { hasScope, mayTrade, type ApiKey, type KeyStore } from "../auth/keys.ts";
import type { OmsUpdate, OrderManager } from "../oms/manager.ts";
import { parseBody, type OmsError, type Result } from "../oms/validate.ts";
import { fillView, orderView } from "../oms/views.ts";
import type { Order } from "../domain/order.ts";
import type { Hub, Socket } from "./hub.ts";
import type { OrderPreviewer } from "../options/preview.ts";
import { KeyBuckets } from "./key-auth.ts";
import { createLogger, type Logger } from "../log.ts";

/** What the server asks of a WebSocket extension: claim some ops, hear about closes. */
export interface WsExtension {
  /** True when the decoded message is for this extension (by its op). */
  handles(value: unknown): boolean;
  /** Every op it claims, for the server's answer to an unknown op. */
  readonly ops: readonly string[];
  /** Handles a message it claimed; never throws for anything a client can send. */
  handle(ws: Socket, value: unknown): void;
  /** The connection closed. */
  closed(ws: Socket): void;
  /** The server stops. */
  stop(): void;
}

const OPS = new Set(["auth", "submit", "preview", "cancel", "modify", "watch", "unwatch"]);
const id = z.number().int().min(0).max(0xffff_ffff).optional();
const orderId = z.string().min(1).max(20);
/** The order-entry requests (src/server/asyncapi.ts documents submit and preview with newOrderSchema). */
export const orderRequestSchema = z.discriminatedUnion("op", [
  z.strictObject({ op: z.literal("auth"), id, key: z.string().min(1).max(100) }),
  z.strictObject({ op: z.literal("submit"), id, order: z.record(z.string(), z.unknown()) }),
  z.strictObject({ op: z.literal("preview"), id, order: z.record(z.string(), z.unknown()) }),
  z.strictObject({ op: z.literal("cancel"), id, orderId }),
  z.strictObject({ op: z.literal("modify"), id, orderId, changes: z.record(z.string(), z.unknown()) }),
  z.strictObject({ op: z.literal("watch"), id, accounts: z.array(z.string().min(1).max(32)).min(1).max(64) }),
  z.strictObject({ op: z.literal("unwatch"), id, accounts: z.array(z.string().min(1).max(32)).min(1).max(64) }),
]);
type Request = z.infer<typeof orderRequestSchema>;

/**
 * A well-formed submit, checked by hand: zod would copy the order only for submit() to parse it
 * again. Anything else (including every malformed submit) goes through zod for its error.
 */
function wellFormedSubmit(value: unknown): Request | undefined {
  const v = value as Record<string, unknown>;
  if (v.op !== "submit") return undefined;
  for (const k in v) if (k !== "op" && k !== "id" && k !== "order") return undefined;
  const id = v.id, order = v.order;
  if (id !== undefined && !(Number.isInteger(id) && (id as number) >= 0 && (id as number) <= 0xffff_ffff)) return undefined;
  if (typeof order !== "object" || order === null || Array.isArray(order)) return undefined;
  return v as Request;
}

/**
 * An order-manager error's field as a path inside the WebSocket request. The manager names the
 * order of a cancel or modify `id` (REST's path parameter); here that is the request's `orderId`,
 * since `id` is the request id (an unknown order, one that cannot be canceled or modified). A
 * field of the order or the changes is prefixed with `order.` or `changes.`.
 */
function fieldInRequest(e: OmsError, prefix: string | undefined): OmsError {
  if (e.field === "id") return { ...e, field: "orderId" };
  return prefix && e.field ? { ...e, field: `${prefix}.${e.field}` } : e;
}

/** Limits of the extension. */
export interface OrdersWsOptions {
  /** Order requests per second per API key, and the burst (shared by all of a key's connections). */
  keyRatePerS: number;
  keyBurst: number;
  /** Where a failed order request is logged (a bug: client input is answered, never thrown). */
  log?: Logger;
}

/** Order entry and account topics; see the file comment. */
export class OrdersWs implements WsExtension {
  private readonly keyOf = new WeakMap<Socket, ApiKey>();
  /** Connections by the id of the key they authenticated with, to close them when it is revoked. */
  private readonly byKey = new Map<string, Set<Socket>>();
  private readonly watchers = new Map<string, Set<Socket>>();
  private readonly watching = new WeakMap<Socket, Set<string>>();
  /** Connections that needed a key for market data and got it from an auth message. */
  private readonly marketByAuth = new WeakSet<Socket>();
  private readonly buckets: KeyBuckets;
  private readonly dirty = new Set<string>();
  private flushScheduled = false;
  private riskOf: ((account: string) => RiskView | undefined) | undefined;
  private previewer: OrderPreviewer | undefined;
  private readonly detach: () => void;
  private readonly detachRevoke: () => void;

  private readonly log: Logger;

  constructor(private readonly hub: Hub, private readonly oms: OrderManager, private readonly keys: KeyStore, private readonly opts: OrdersWsOptions) {
    this.log = opts.log ?? createLogger("error", "orders-ws");
    this.detach = oms.onUpdate((u) => this.publish(u));
    this.detachRevoke = keys.onRevoke((id) => this.revoked(id));
    this.buckets = new KeyBuckets(keys, opts.keyRatePerS, opts.keyBurst);
  }

  /** The order ops. */
  readonly ops: readonly string[] = [...OPS];

  /** Claims the order ops. */
  handles(value: unknown): boolean {
    return typeof value === "object" && value !== null && OPS.has((value as { op?: unknown }).op as string);
  }

  /** Handles one order op. */
  handle(ws: Socket, value: unknown): void {
    let req = wellFormedSubmit(value);
    if (!req) {
      const parsed = parseBody(orderRequestSchema, value);
      const rid = typeof (value as { id?: unknown }).id === "number" ? ((value as { id: number }).id) : undefined;
      if (!parsed.ok) {
        // A malformed auth is a failed auth: it ends the identity an earlier one gave.
        if ((value as { op?: unknown }).op === "auth") this.identify(ws, undefined);
        return this.error(ws, parsed.error, rid);
      }
      req = parsed.value;
    }
    if (req.op === "auth") return this.auth(ws, req.key, req.id);
    const key = this.keyOf.get(ws);
    if (!key) return this.error(ws, { status: 401, code: "UNAUTHORIZED", message: 'send {"op":"auth","key":…} first' }, req.id);
    if (!hasScope(key, "trade")) return this.error(ws, { status: 403, code: "FORBIDDEN", message: "this API key has no trade scope" }, req.id);
    if (!this.buckets.take(key.id)) {
      return this.error(ws, { status: 429, code: "RATE_LIMITED", message: `over ${this.opts.keyRatePerS} order requests/s for this API key` }, req.id);
    }
    void this.run(ws, key, req).catch((err) => {
      this.log.error("order request failed", { conn: ws.data.id, err });
    });
  }

  /** Forgets a closed connection's watches. */
  closed(ws: Socket): void {
    for (const a of this.watching.get(ws) ?? []) this.watchers.get(a)?.delete(ws);
    this.watching.delete(ws);
    const key = this.keyOf.get(ws);
    if (key) this.forget(ws, key.id);
  }

  /** Stops listening to the order manager. */
  stop(): void {
    this.detach();
    this.detachRevoke();
    this.buckets.stop();
  }

  private revoked(keyId: string): void {
    for (const ws of this.byKey.get(keyId) ?? []) {
      this.keyOf.delete(ws);
      ws.close(CLOSE_CODES.keyRevoked, "API key revoked");
    }
    this.byKey.delete(keyId);
  }

  private forget(ws: Socket, keyId: string): void {
    const set = this.byKey.get(keyId);
    set?.delete(ws);
    if (set?.size === 0) this.byKey.delete(keyId);
  }

  private auth(ws: Socket, token: string, rid: number | undefined): void {
    const key = this.keys.verify(token);
    this.identify(ws, key);
    if (!key) {
      const message = "the API key is not valid; this connection is no longer authenticated (send a valid auth)";
      return this.error(ws, { status: 401, code: "UNAUTHORIZED", message, field: "key" }, rid);
    }
    this.send(ws, { t: "authed", ...(rid === undefined ? {} : { id: rid }), scopes: key.scopes, accounts: key.accounts });
  }

  /**
   * Makes `key` the connection's identity, or none. Everything the previous identity granted and
   * the new one does not is withdrawn: watches of accounts it may not trade, and market data
   * that an auth message opened for a client that needed a key (its subscriptions end with it).
   */
  private identify(ws: Socket, key: ApiKey | undefined): void {
    const previous = this.keyOf.get(ws);
    if (previous) this.forget(ws, previous.id);
    this.keyOf.delete(ws);
    const mine = this.watching.get(ws);
    for (const a of [...(mine ?? [])]) {
      if (key && mayTrade(key, a)) continue;
      this.watchers.get(a)?.delete(ws);
      mine!.delete(a);
    }
    const readsMarket = key !== undefined && (hasScope(key, "read") || hasScope(key, "trade"));
    if (ws.data.needsKey && readsMarket) {
      ws.data.needsKey = false;
      this.marketByAuth.add(ws);
    } else if (this.marketByAuth.has(ws) && !readsMarket) {
      this.marketByAuth.delete(ws);
      ws.data.needsKey = true;
      this.hub.unsubscribe(ws, [...ws.data.symbols]);
    }
    if (!key) return;
    this.keyOf.set(ws, key);
    let sockets = this.byKey.get(key.id);
    if (!sockets) this.byKey.set(key.id, (sockets = new Set()));
    sockets.add(ws);
  }

  private async run(ws: Socket, key: ApiKey, req: Exclude<Request, { op: "auth" }>): Promise<void> {
    const scope = (a: string) => mayTrade(key, a);
    const reply = (r: Result<Order>, prefix?: string) => {
      if (!r.ok) return this.error(ws, fieldInRequest(r.error, prefix), req.id);
      this.send(ws, { t: "order", ...(req.id === undefined ? {} : { id: req.id }), order: orderView(r.value) });
    };
    switch (req.op) {
      case "submit": {
        const r = await this.oms.submit(req.order, scope);
        return reply(r.ok ? { ok: true, value: r.value.order } : r, "order");
      }
      case "preview": {
        // Rate-limited with the key's order requests above: a preview costs a check like a submit.
        if (!this.previewer) return this.error(ws, { status: 404, code: "NOT_FOUND", message: "order preview is not available on this server" }, req.id);
        const r = this.previewer.preview(req.order, scope);
        if (!r.ok) return this.error(ws, fieldInRequest(r.error, "order"), req.id);
        return this.send(ws, { t: "preview", ...(req.id === undefined ? {} : { id: req.id }), preview: r.value });
      }
      case "cancel":
        return reply(await this.oms.cancel(req.orderId, scope));
      case "modify":
        return reply(await this.oms.modify(req.orderId, req.changes, scope), "changes");
      case "watch":
      case "unwatch":
        return this.watch(ws, req.op === "watch", req.accounts, scope, req.id);
    }
  }

  private async watch(ws: Socket, on: boolean, accounts: string[], scope: (a: string) => boolean, rid: number | undefined): Promise<void> {
    const known = new Set(this.oms.accountIds());
    const bad = accounts.findIndex((a) => !known.has(a) || !scope(a));
    if (bad >= 0) return this.error(ws, { status: 404, code: "UNKNOWN_ACCOUNT", message: `no account ${accounts[bad]} this key may see`, field: `accounts[${bad}]` }, rid);
    let mine = this.watching.get(ws);
    if (!mine) this.watching.set(ws, (mine = new Set()));
    for (const a of accounts) {
      let set = this.watchers.get(a);
      if (!set) this.watchers.set(a, (set = new Set()));
      if (on) (set.add(ws), mine.add(a));
      else (set.delete(ws), mine.delete(a));
    }
    this.send(ws, { t: "watching", ...(rid === undefined ? {} : { id: rid }), accounts: [...mine] });
    if (!on) return;
    // The snapshot: each account, then its working orders; everything pushed later is newer.
    const snapshot = await this.oms.durableRead(() => accounts.map((a) => ({ account: this.oms.account(a)!, orders: this.oms.openOrders(a) })));
    for (const s of snapshot) {
      this.send(ws, { t: "account", account: s.account });
      for (const o of s.orders) this.send(ws, { t: "order", order: orderView(o) });
      const risk = this.riskOf?.(s.account.id);
      if (risk) this.send(ws, { t: "risk", risk });
    }
  }

  /** Where watch() finds an account's latest risk for its snapshot (set by the app when the risk engine runs). */
  setRiskSource(riskOf: (account: string) => RiskView | undefined): void {
    this.riskOf = riskOf;
  }

  /** Sets what answers the preview op (the app sets it; without it the op is refused with NOT_FOUND). */
  setPreviewer(previewer: OrderPreviewer): void {
    this.previewer = previewer;
  }

  /** Pushes an account's risk to the connections watching it (the risk engine calls this at its publish cadence). */
  pushRisk(risk: RiskView): void {
    const set = this.watchers.get(risk.account);
    if (!set || set.size === 0) return;
    const frame: ServerFrame = { t: "risk", risk };
    for (const ws of set) this.send(ws, frame);
  }

  private publish(u: OmsUpdate): void {
    const set = this.watchers.get(u.account);
    if (!set || set.size === 0) return;
    if (u.type === "order") {
      const frame: ServerFrame = { t: "order", order: orderView(u.order) };
      for (const ws of set) this.send(ws, frame);
      return;
    }
    const fill: ServerFrame = { t: "fill", fill: fillView(u.fill) };
    const position: ServerFrame = { t: "position", position: this.oms.positionView(u.position) };
    for (const ws of set) {
      this.send(ws, fill);
      this.send(ws, position);
    }
    // Account values change with every fill; one frame per account per commit is enough.
    this.dirty.add(u.account);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flushAccounts());
    }
  }

  private flushAccounts(): void {
    this.flushScheduled = false;
    for (const a of this.dirty) {
      const view = this.oms.account(a);
      if (!view) continue;
      const frame: ServerFrame = { t: "account", account: view };
      for (const ws of this.watchers.get(a) ?? []) this.send(ws, frame);
    }
    this.dirty.clear();
  }

  private send(ws: Socket, frame: ServerFrame): void {
    this.hub.send(ws, frame);
  }

  private error(ws: Socket, e: OmsError, rid: number | undefined): void {
    const frame: ErrorFrame = { t: "error", code: e.code as WsErrorCode, message: e.message };
    if (e.field !== undefined) frame.field = e.field;
    if (rid !== undefined) frame.id = rid;
    this.hub.send(ws, frame);
  }
}
