// The order, execution, position and account messages of server version 193, both ways. Field
// orders follow @stoqey/ib 1.6.10's decoder (openOrder has ~150 fields, most of them attributes
// of order types we never simulate, sent empty or 0) and are proven by feeding every message
// through the real client (test/unit/sim-tws-decoder.test.ts).

import { type FieldCursor, OUT, readContract, type RequestContract } from "./messages.ts";
import type { SimContract } from "./universe.ts";
import type { Field, OutBuffer } from "./wire.ts";

/** IB's "unset" double, which the client decodes as undefined. */
const UNSET_DOUBLE = "1.7976931348623157E308";

/** An order as the simulator holds it, in IB's terms. */
export interface SimOrderTerms {
  orderId: number;
  clientId: number;
  permId: number;
  contract: SimContract;
  action: "BUY" | "SELL";
  qty: number;
  orderType: string;
  lmtPrice?: number;
  auxPrice?: number;
  tif: string;
  account: string;
  orderRef: string;
}

/** One execution as execDetails reports it. */
export interface SimExecution {
  execId: string;
  orderId: number;
  clientId: number;
  permId: number;
  contract: SimContract;
  account: string;
  side: "BOT" | "SLD";
  shares: number;
  price: number;
  /** Epoch ms. */
  timeMs: number;
  cumQty: number;
  avgPrice: number;
  orderRef: string;
  /** Commission of this execution, in currency units. */
  commission: number;
}

function contractFields(c: SimContract): Field[] {
  const opt = c.secType === "OPT";
  return [c.conId, c.symbol, c.secType, c.expiry, opt ? c.strike : 0, c.right, opt ? c.multiplier : "", "SMART", c.currency, c.localSymbol, c.tradingClass];
}

/** openOrder: every field the version-193 decoder reads, in its order. */
export function openOrder(o: OutBuffer, t: SimOrderTerms, status: string): void {
  const f: Field[] = [OUT.OPEN_ORDER, t.orderId, ...contractFields(t.contract),
    t.action, t.qty, t.orderType, t.lmtPrice ?? "", t.auxPrice ?? "", t.tif, "" /* ocaGroup */, t.account, "" /* openClose */, 0 /* origin */,
    t.orderRef, t.clientId, t.permId, 0 /* outsideRth */, 0 /* hidden */, 0 /* discretionaryAmt */, "" /* goodAfterTime */, "" /* sharesAllocation */,
    "", "", "" /* faGroup, faMethod, faPercentage */, "" /* modelCode */, "" /* goodTillDate */, "" /* rule80A */, "" /* percentOffset */,
    "" /* settlingFirm */, 0, "", -1 /* shortSaleSlot, designatedLocation, exemptCode */, 0 /* auctionStrategy */,
    "", "", "" /* startingPrice, stockRefPrice, delta */, "", "" /* stockRange */, "" /* displaySize */, 0, 0, 0 /* block, sweep, allOrNone */,
    "" /* minQty */, 0 /* ocaType */, 0, 0 /* eTradeOnly, firmQuoteOnly */, "" /* nbboPriceCap */, 0 /* parentId */, 0 /* triggerMethod */,
    "", 0, "", "" /* volatility, volatilityType, deltaNeutralOrderType (empty: no further delta-neutral fields), deltaNeutralAuxPrice */,
    0, 0 /* continuousUpdate, referencePriceType */, "", "" /* trailStopPrice, trailingPercent */, "", "" /* basisPoints, type */,
    "", 0, 0 /* comboLegsDescription, combo legs, order combo legs */, 0 /* smartComboRoutingParams */, "", "", "" /* scale (no increment: nothing more) */,
    "" /* hedgeType */, 0 /* optOutSmartRouting */, "", "" /* clearing */, 0 /* notHeld */, 0 /* deltaNeutralContract */, "" /* algoStrategy */,
    0 /* solicited */, 0 /* whatIf */, status, "", "", "", "", "", "" /* margins before / change */, "", "", "" /* margins after */,
    "", "", "", "" /* commission, min, max, currency */, "" /* warningText */, 0, 0 /* randomize size, price */, 0 /* conditions */,
    "", "", "", "", "", "", "", 0 /* adjusted order params */, "", "", "" /* softDollarTier */, "" /* cashQty */, 0 /* dontUseAutoPriceForHedge */,
    0 /* isOmsContainer */, 0 /* discretionaryUpToLimitPrice */, 0 /* usePriceMgmtAlgo */, "" /* duration */, "" /* postToAts */,
    0 /* autoCancelParent */, "", "", "", "", "" /* peg best / mid */, "" /* customerAccount */, 0 /* professionalCustomer */,
    "" /* bondAccruedInterest */, 0 /* includeOvernight */, "", "" /* extOperator, manualOrderIndicator */];
  o.write(f);
}

/** orderStatus: no version field from server 131 on. */
export function orderStatus(o: OutBuffer, t: SimOrderTerms, status: string, filled: number, avgFillPrice: number, lastFillPrice: number): void {
  o.write([OUT.ORDER_STATUS, t.orderId, status, filled, t.qty - filled, avgFillPrice, t.permId, 0, lastFillPrice, t.clientId, "", 0]);
}

/** execDetails; reqId −1 for a live execution, the request's id in answer to reqExecutions. */
export function execDetails(o: OutBuffer, reqId: number, e: SimExecution): void {
  o.write([OUT.EXECUTION_DATA, reqId, e.orderId, ...contractFields(e.contract), e.execId, execTime(e.timeMs), e.account, "SMART",
    e.side, e.shares, e.price, e.permId, e.clientId, 0 /* liquidation */, e.cumQty, e.avgPrice, e.orderRef, "" /* evRule */, "" /* evMultiplier */,
    "" /* modelCode */, 1 /* lastLiquidity: added */, 0 /* pendingPriceRevision */]);
}

/** commissionReport: realized P&L and yield unset, as TWS sends for an opening trade. */
export function commissionReport(o: OutBuffer, e: SimExecution): void {
  o.write([OUT.COMMISSION_REPORT, 1, e.execId, e.commission, e.contract.currency, UNSET_DOUBLE, UNSET_DOUBLE, 0]);
}

/** openOrderEnd. */
export function openOrderEnd(o: OutBuffer): void {
  o.write([OUT.OPEN_ORDER_END, 1]);
}

/** execDetailsEnd. */
export function execDetailsEnd(o: OutBuffer, reqId: number): void {
  o.write([OUT.EXECUTION_DATA_END, 1, reqId]);
}

/** position (version 3: with trading class and average cost; IB's average cost includes the multiplier). */
export function position(o: OutBuffer, account: string, c: SimContract, qty: number, avgCost: number): void {
  o.write([OUT.POSITION, 3, account, c.conId, c.symbol, c.secType, c.expiry, c.secType === "OPT" ? c.strike : 0, c.right,
    c.secType === "OPT" ? c.multiplier : "", c.primaryExch || "SMART", c.currency, c.localSymbol, c.tradingClass, qty, avgCost]);
}

/** positionEnd. */
export function positionEnd(o: OutBuffer): void {
  o.write([OUT.POSITION_END, 1]);
}

/** accountSummary: one tag of one account. */
export function accountSummary(o: OutBuffer, reqId: number, account: string, tag: string, value: string, currency: string): void {
  o.write([OUT.ACCOUNT_SUMMARY, 1, reqId, account, tag, value, currency]);
}

/** accountSummaryEnd. */
export function accountSummaryEnd(o: OutBuffer, reqId: number): void {
  o.write([OUT.ACCOUNT_SUMMARY_END, 1, reqId]);
}

/** pnl: daily, unrealized and realized P&L of an account (no version field). */
export function pnl(o: OutBuffer, reqId: number, daily: number, unrealized: number, realized: number): void {
  o.write([OUT.PNL, reqId, daily, unrealized, realized]);
}

/** TWS's execution time: "YYYYMMDD HH:MM:SS" followed by the zone (we always report UTC). */
export function execTime(ms: number): string {
  const d = new Date(ms), p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC`;
}

/** Parses the execution filter's time, "yyyymmdd-hh:mm:ss" (UTC here) or "yyyymmdd hh:mm:ss"; undefined when empty or malformed. */
export function parseFilterTime(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})[- ](\d{2}):(\d{2})(?::(\d{2}))?/.exec(s.trim());
  if (!m) return undefined;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0));
}

// Request parsers.

/** The head of placeOrder (server 193, no version field): everything up to orderRef and transmit. */
export interface PlaceOrderRequest {
  orderId: number;
  contract: RequestContract;
  action: string;
  qty: number;
  orderType: string;
  lmtPrice?: number;
  auxPrice?: number;
  tif: string;
  account: string;
  orderRef: string;
}

/**
 * Reads placeOrder up to orderRef. The ~100 fields after it describe order attributes the
 * simulator does not model (algos, conditions, scale, hedge, …), so they are not read; the
 * head's layout is what matters and an underrun in it still closes the connection.
 */
export function parsePlaceOrder(c: FieldCursor): PlaceOrderRequest {
  const orderId = c.int();
  const contract = readContract(c);
  c.str(); c.str(); // secIdType, secId
  const action = c.str().toUpperCase(), qty = c.num() ?? 0, orderType = c.str().toUpperCase();
  const lmtPrice = c.num(), auxPrice = c.num(), tif = c.str().toUpperCase();
  c.str(); // ocaGroup
  const account = c.str();
  c.str(); c.str(); // openClose, origin
  const orderRef = c.str();
  return { orderId, contract, action, qty, orderType, lmtPrice, auxPrice, tif, account, orderRef };
}

/** cancelOrder at server 193: [4, orderId, manualOrderCancelTime, extOperator, manualOrderIndicator]. */
export function parseCancelOrder(c: FieldCursor): number {
  const orderId = c.int();
  c.str(); c.str(); c.str();
  c.end();
  return orderId;
}

/** reqExecutions: version, reqId and the filter. */
export function parseReqExecutions(c: FieldCursor): { reqId: number; clientId: number; account: string; sinceMs?: number; symbol: string; secType: string; side: string } {
  c.int();
  const reqId = c.int(), clientId = c.int(), account = c.str(), sinceMs = parseFilterTime(c.str());
  const symbol = c.str().toUpperCase(), secType = c.str().toUpperCase();
  c.str(); // exchange
  const side = c.str().toUpperCase();
  c.end();
  return { reqId, clientId, account, sinceMs, symbol, secType, side };
}

/** reqAccountSummary: version, reqId, group, tags (comma separated). */
export function parseReqAccountSummary(c: FieldCursor): { reqId: number; group: string; tags: string[] } {
  c.int();
  const reqId = c.int(), group = c.str(), tags = c.str().split(",").map((t) => t.trim()).filter(Boolean);
  c.end();
  return { reqId, group, tags };
}
