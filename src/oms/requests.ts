// Client requests: submit, cancel and modify. Each validates, runs the pre-trade hook, changes
// the order through OmsState.apply(), writes ahead for an external broker (the broker sees
// nothing the journal does not have on disk), hands the request to the broker and replies once
// everything the reply reflects is durable.

import { isTerminal, sameTerms, type Order, type OrderStatus } from "../domain/order.ts";
import type { Instrument } from "../domain/instrument.ts";
import { clientKey, toBrokerOrder, type Live, type OmsState, type Scope } from "./state.ts";
import { markCommit, record, STAGE_TIMING, takeTrace, type StageTrace } from "./stages.ts";
import { checkNewOrder, checkPrice, checkQty, fail, modifySchema, parseBody, parseNewOrder, requestTerms, type Result } from "./validate.ts";

/** Places a new order from a request body; the same client order id and body returns the original. */
export async function submit(s: OmsState, body: unknown, scope: Scope): Promise<Result<{ order: Order; created: boolean }>> {
  // The opt-in stage timer (stages.ts): undefined, and no clock read, unless ALLUSE_STAGE_TIMING=1.
  const tr = STAGE_TIMING ? takeTrace() : undefined;
  const parsed = parseNewOrder(body);
  if (!parsed.ok) return parsed as Result<never>;
  const req = parsed.value;
  const cfg = s.accountCfg.get(req.account);
  if (!cfg) return fail(404, "UNKNOWN_ACCOUNT", `no account ${JSON.stringify(req.account)}`, "account");
  if (!scope(req.account)) return fail(403, "FORBIDDEN", `this key may not trade account ${req.account}`, "account");
  const now = s.clock();
  const inst = s.deps.market.instrument(req.symbol);
  const key = clientKey(req.account, req.clientOrderId);
  const existing = s.byClientId(req.account, req.clientOrderId, key);
  if (existing) {
    // The original's instrument resolves the repeat's defaults; an unknown symbol differs anyway.
    const terms = requestTerms(req, inst ?? { symbol: req.symbol, kind: "stock" } as Instrument);
    if (!sameTerms(existing, terms)) {
      return fail(409, "DUPLICATE_CLIENT_ORDER_ID", `clientOrderId ${req.clientOrderId} was used for ${existing.id} with different terms`, "clientOrderId");
    }
    return s.durableReply({ order: { ...existing }, created: false });
  }
  const terms = checkNewOrder(req, inst, now, s.deps.calendar, s.options.bounds);
  if (!terms.ok) return terms as Result<never>;
  const admit = s.admit(req.account);
  if (admit) return admit;
  tr?.mark("validated");
  const order: Order = {
    id: `O${++s.orderNum}`, account: req.account, clientOrderId: req.clientOrderId, ...terms.value, multiplier: inst!.multiplier,
    status: "initialized", filledQty: 0, avgFillPriceUnits: 0, triggered: false, createdTs: now, updatedTs: now, version: 0,
  };
  const live: Live = { order, snap: order, broker: s.deps.brokers[cfg.broker]!, sent: false, fillIds: new Set(), lastSeq: 0, key };
  s.live.set(order.id, live);
  s.byClient.set(key, live);
  s.clientIds.add(key);
  const check = s.preTrade.checkNew(order, s.context(order.account, inst!, now, order.id));
  tr?.mark("pretrade");
  if (!check.ok) {
    s.apply(live, "denied", "denied", now, { code: check.code }, (o) => (o.reason = `${check.code}: ${check.message}`));
    s.closed.push(live);
    return s.durableReply({ order: live.snap, created: true });
  }
  s.apply(live, "submitted", "submitted", now);
  tr?.mark("enqueued");
  s.openByAccount.get(order.account)!.add(live);
  // Only an external broker needs the write-ahead; skipping the await for the paper broker
  // saves a turn of the microtask queue per order.
  if (live.broker.external) {
    const ahead = await s.writeAhead(live);
    if (ahead) return ahead;
  }
  if (live.order.status === "submitted" && !live.sent && !s.stopped) {
    live.sent = true;
    live.broker.submit(toBrokerOrder(live.order, inst!));
  }
  if (tr) return timedReply(s, tr, { order: live.snap, created: true });
  return s.durableReply({ order: live.snap, created: true });
}

/** durableReply() with the stage timer's marks: the broker's, then the commit's that made the reply durable. */
function timedReply<T>(s: OmsState, tr: StageTrace, value: T): Promise<Result<T>> {
  tr.mark("broker");
  return s.durableReply(value).then((r) => {
    markCommit(tr);
    if (!tr.http) record(tr);
    return r;
  });
}

/** Asks to cancel an order. */
export async function cancel(s: OmsState, id: string, scope: Scope): Promise<Result<Order>> {
  const live = s.live.get(id);
  if (!live) return notLive(s, id, scope, "canceled");
  const o = live.order;
  if (!scope(o.account)) return fail(404, "NOT_FOUND", `no order ${id}`, "id");
  if (isTerminal(o.status)) return fail(409, "ORDER_NOT_CANCELABLE", `order ${id} is ${o.status}`, "id");
  if (o.status === "pending_cancel") return s.durableReply({ ...o });
  const admit = s.admit(undefined);
  if (admit) return admit;
  const now = s.clock();
  if (!live.sent) {
    s.apply(live, "canceled", "canceled", now, undefined, (x) => (x.reason = "canceled before it reached the broker"));
    return s.durableReply({ ...o });
  }
  s.apply(live, "cancel_requested", "pending_cancel", now);
  if (live.broker.external) {
    const ahead = await s.writeAhead(live);
    if (ahead) return ahead;
  }
  // The status may have moved while the write-ahead was committing (a fill, a reject).
  if ((o.status as OrderStatus) === "pending_cancel" && !s.stopped) live.broker.cancel(id);
  return s.durableReply({ ...o });
}

/** Changes an order's quantity or prices. */
export async function modify(s: OmsState, id: string, body: unknown, scope: Scope): Promise<Result<Order>> {
  const parsed = parseBody(modifySchema, body);
  if (!parsed.ok) return parsed as Result<never>;
  const req = parsed.value;
  if (req.qty === undefined && req.limitPrice === undefined && req.stopPrice === undefined) {
    return fail(400, "BAD_REQUEST", "give at least one of qty, limitPrice, stopPrice", "qty");
  }
  const live = s.live.get(id);
  if (!live) return notLive(s, id, scope, "modified");
  const o = live.order;
  if (!scope(o.account)) return fail(404, "NOT_FOUND", `no order ${id}`, "id");
  if (o.status !== "accepted" && o.status !== "partially_filled") {
    return fail(409, "ORDER_NOT_MODIFIABLE", `order ${id} is ${o.status}; only accepted or partially filled orders can be modified`, "id");
  }
  const inst = s.deps.market.instrument(o.symbol)!;
  const changes: { qty?: number; limitPriceUnits?: number; stopPriceUnits?: number } = {};
  if (req.qty !== undefined) {
    const q = checkQty(req.qty, inst, s.options.bounds, o.filledQty);
    if (!q.ok) return q as Result<never>;
    changes.qty = q.value;
  }
  if (req.limitPrice !== undefined) {
    if (o.limitPriceUnits === undefined) return fail(400, "BAD_REQUEST", `a ${o.type} order has no limitPrice`, "limitPrice");
    const p = checkPrice(req.limitPrice, inst, "limitPrice");
    if (!p.ok) return p as Result<never>;
    changes.limitPriceUnits = p.value;
  }
  if (req.stopPrice !== undefined) {
    if (o.stopPriceUnits === undefined || o.triggered) return fail(400, "BAD_REQUEST", `order ${id} has no stopPrice to change`, "stopPrice");
    const p = checkPrice(req.stopPrice, inst, "stopPrice");
    if (!p.ok) return p as Result<never>;
    changes.stopPriceUnits = p.value;
  }
  const now = s.clock();
  const check = s.preTrade.checkModify(o, { ...o, ...changes }, s.context(o.account, inst, now, o.id));
  if (!check.ok) return fail(422, "RISK_DENIED", `${check.code}: ${check.message}`);
  const admit = s.admit(undefined);
  if (admit) return admit;
  s.apply(live, "modify_requested", "pending_replace", now, { ...changes });
  if (live.broker.external) {
    const ahead = await s.writeAhead(live);
    if (ahead) return ahead;
  }
  if ((o.status as OrderStatus) === "pending_replace" && !s.stopped) live.broker.modify(id, changes);
  return s.durableReply({ ...o });
}

/** The answer for an order not in memory: 404, or 409 naming its stored (finished) state. */
async function notLive(s: OmsState, id: string, scope: Scope, verb: string): Promise<Result<never>> {
  const stored = s.deps.store.order(id);
  if (!stored || !scope(stored.account)) return fail(404, "NOT_FOUND", `no order ${id}`, "id");
  const code = verb === "canceled" ? "ORDER_NOT_CANCELABLE" : "ORDER_NOT_MODIFIABLE";
  return fail(409, code, `order ${id} is ${stored.status} and cannot be ${verb}`, "id");
}
