// The order manager's half of an order preview: the same validation a submit runs (shape,
// account, scope, instrument, expiry, quantity, tick grid, the open-order bound), giving the
// order as it would be built and the pre-trade context the check would see. Nothing here
// changes state: no order id is taken, no client order id is registered, nothing is journaled
// and no broker is called. The risk half is src/options/preview.ts.

import type { Instrument } from "../domain/instrument.ts";
import { sameTerms, type Order } from "../domain/order.ts";
import { toUnits } from "../domain/price.ts";
import type { PreTradeContext } from "./pretrade.ts";
import { clientKey, type OmsState, type Scope } from "./state.ts";
import { checkNewOrder, fail, parseNewOrder, type Result } from "./validate.ts";

/** A reason a previewed order would be refused or flagged: a code and a sentence. */
export interface PreviewNote {
  code: string;
  message: string;
}

/** A validated order that was not placed, with what a pre-trade check of it would read. */
export interface OrderDraft {
  /** The order a submit would build; its id is "preview" (no id is taken). */
  order: Readonly<Order>;
  instrument: Instrument;
  context: PreTradeContext;
  /** Refusals the order manager itself would give (the open-order bound). */
  denials: PreviewNote[];
  /** Things a submit would do differently from placing the order (a reused client order id). */
  warnings: PreviewNote[];
}

/** The id a draft carries: never a real order id (those are O1, O2, …). */
export const PREVIEW_ORDER_ID = "preview";

/** Validates a new-order body as submit() would and builds the draft, without changing anything. */
export function draftOrder(s: OmsState, body: unknown, scope: Scope): Result<OrderDraft> {
  const parsed = parseNewOrder(body);
  if (!parsed.ok) return parsed as Result<never>;
  const req = parsed.value;
  if (!s.accountCfg.get(req.account)) return fail(404, "UNKNOWN_ACCOUNT", `no account ${JSON.stringify(req.account)}`, "account");
  if (!scope(req.account)) return fail(403, "FORBIDDEN", `this key may not trade account ${req.account}`, "account");
  const now = s.clock();
  const inst = s.deps.market.instrument(req.symbol);
  const warnings: PreviewNote[] = [];
  const existing = s.byClientId(req.account, req.clientOrderId, clientKey(req.account, req.clientOrderId));
  if (existing) {
    const terms = { symbol: req.symbol, side: req.side, type: req.type, tif: req.tif as Order["tif"], qty: req.qty,
      limitPriceUnits: req.limitPrice === undefined ? undefined : toUnits(req.limitPrice),
      stopPriceUnits: req.stopPrice === undefined ? undefined : toUnits(req.stopPrice) };
    if (!sameTerms(existing, terms)) {
      return fail(409, "DUPLICATE_CLIENT_ORDER_ID", `clientOrderId ${req.clientOrderId} was used for ${existing.id} with different terms`, "clientOrderId");
    }
    warnings.push({ code: "CLIENT_ORDER_ID_USED", message: `clientOrderId ${req.clientOrderId} is order ${existing.id}: a submit of this body returns it instead of placing a new order` });
  }
  const terms = checkNewOrder(req, inst, now, s.deps.calendar, s.options.bounds);
  if (!terms.ok) return terms as Result<never>;
  const denials: PreviewNote[] = [];
  const max = s.options.maxOpenOrdersPerAccount;
  if (s.openByAccount.get(req.account)!.size >= max) {
    denials.push({ code: "TOO_MANY_OPEN_ORDERS", message: `account ${req.account} has ${max} working orders, its limit` });
  }
  const order: Order = {
    id: PREVIEW_ORDER_ID, account: req.account, clientOrderId: req.clientOrderId, ...terms.value, multiplier: inst!.multiplier,
    status: "initialized", filledQty: 0, avgFillPriceUnits: 0, triggered: false, createdTs: now, updatedTs: now, version: 0,
  };
  return { ok: true, value: { order, instrument: inst!, context: s.context(order.account, inst!, now, PREVIEW_ORDER_ID), denials, warnings } };
}
