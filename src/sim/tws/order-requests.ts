// The order, execution, position and account requests, as handler-table entries over the order
// book. Answers follow TWS: open orders as openOrder + orderStatus pairs then openOrderEnd;
// executions as execDetails + commissionReport pairs then execDetailsEnd; positions then
// positionEnd; account summary values per account and tag then accountSummaryEnd.

import type { SimConnection } from "./connection.ts";
import { type FieldCursor, IN } from "./messages.ts";
import {
  accountSummary, accountSummaryEnd, commissionReport, execDetails, execDetailsEnd, openOrder, openOrderEnd, orderStatus,
  parseCancelOrder, parsePlaceOrder, parseReqAccountSummary, parseReqExecutions, pnl, position, positionEnd,
} from "./order-messages.ts";
import type { SimOrderBook } from "./orders.ts";
import type { RequestHandler, SimContext } from "./requests.ts";

/** Account summary tags the simulator computes; others are ignored, as TWS ignores unknown tags. */
export const SUMMARY_TAGS = [
  "NetLiquidation", "TotalCashValue", "GrossPositionValue", "EquityWithLoanValue", "InitMarginReq", "MaintMarginReq",
  "AvailableFunds", "ExcessLiquidity", "BuyingPower",
] as const;

function sendOpenOrders(book: SimOrderBook, conn: SimConnection, clientId: number | "all"): void {
  for (const o of book.openOrdersFor(clientId)) {
    openOrder(conn.out, o.terms, o.status);
    orderStatus(conn.out, o.terms, o.status, o.filled, o.avg, o.last);
  }
  openOrderEnd(conn.out);
  conn.scheduleFlush();
}

/**
 * Account values from the book's cash and positions at mark. Margin is a plain Reg T sketch:
 * stock 50 % initial / 25 % maintenance of the absolute value; a short option holds 20 % of
 * the underlying's value plus the option's value; a long option holds nothing beyond its cost.
 * BuyingPower is AvailableFunds × 2 (Reg T's 50 %).
 */
export function accountValues(book: SimOrderBook, ctx: SimContext, account: string): Record<(typeof SUMMARY_TAGS)[number], number> {
  let value = 0, gross = 0, init = 0, maint = 0;
  for (const { account: a, position: p } of book.allPositions()) {
    if (a !== account) continue;
    const c = p.contract, mult = c.secType === "OPT" ? Number(c.multiplier) : 1;
    const v = p.qty * book.markOf(c) * mult;
    value += v;
    gross += Math.abs(v);
    if (c.secType === "STK") {
      init += 0.5 * Math.abs(v);
      maint += 0.25 * Math.abs(v);
    } else if (p.qty < 0) {
      const under = ctx.universe.byId(c.underConId);
      const m = 0.2 * Math.abs(p.qty) * mult * (under ? book.markOf(under) : 0) + Math.abs(v);
      init += m;
      maint += m;
    }
  }
  const cash = book.cashOf(account), net = cash + value;
  return {
    NetLiquidation: net, TotalCashValue: cash, GrossPositionValue: gross, EquityWithLoanValue: net, InitMarginReq: init, MaintMarginReq: maint,
    AvailableFunds: net - init, ExcessLiquidity: net - maint, BuyingPower: Math.max(0, (net - init) * 2),
  };
}

/** The order and account handlers over one order book, by message id. */
export function orderHandlers(book: SimOrderBook): Map<number, RequestHandler> {
  const placeOrder: RequestHandler = (_ctx, conn, c) => book.place(conn, parsePlaceOrder(c));
  const cancelOrder: RequestHandler = (_ctx, conn, c) => book.cancel(conn, parseCancelOrder(c));
  const reqOpenOrders: RequestHandler = (_ctx, conn, c) => {
    c.int();
    c.end();
    sendOpenOrders(book, conn, conn.clientId);
  };
  // Client 0 sees every client's orders in TWS; here every client may ask for all of them.
  const reqAllOpenOrders: RequestHandler = (_ctx, conn, c) => {
    c.int();
    c.end();
    sendOpenOrders(book, conn, "all");
  };
  const reqAutoOpenOrders: RequestHandler = (_ctx, conn, c) => {
    c.int();
    c.bool();
    c.end();
    sendOpenOrders(book, conn, "all");
  };
  const reqExecutions: RequestHandler = (_ctx, conn, c) => {
    const f = parseReqExecutions(c);
    for (const e of book.executionsFor(f)) {
      execDetails(conn.out, f.reqId, e);
      commissionReport(conn.out, e);
    }
    execDetailsEnd(conn.out, f.reqId);
    conn.scheduleFlush();
  };
  const reqPositions: RequestHandler = (ctx, conn, c) => {
    c.int();
    c.end();
    for (const { account, position: p } of book.allPositions()) {
      // IB's average cost is per share or per contract, multiplier included.
      if (ctx.accounts.includes(account)) position(conn.out, account, p.contract, p.qty, p.cost / p.qty);
    }
    positionEnd(conn.out);
    conn.scheduleFlush();
  };
  const reqAccountSummary: RequestHandler = (ctx, conn, c) => {
    const r = parseReqAccountSummary(c);
    const tags = SUMMARY_TAGS.filter((t) => r.tags.includes(t) || r.tags.includes("$LEDGER") || r.tags.length === 0);
    for (const account of ctx.accounts) {
      const v = accountValues(book, ctx, account);
      for (const t of tags) accountSummary(conn.out, r.reqId, account, t, v[t].toFixed(2), "USD");
    }
    accountSummaryEnd(conn.out, r.reqId);
    conn.scheduleFlush();
  };
  // reqPnL: [92, reqId, account, modelCode]. TWS streams P&L about once a second; the simulator
  // answers once per request, which is what a client reading the first value needs.
  const reqPnL: RequestHandler = (_ctx, conn, c) => {
    const reqId = c.int(), account = c.str();
    c.str();
    c.end();
    const p = book.pnlOf(account);
    pnl(conn.out, reqId, p.daily, p.unrealized, p.realized);
    conn.scheduleFlush();
  };
  // Subscriptions are answered once, so there is nothing to stop.
  const ignore: RequestHandler = (_ctx, _conn, c: FieldCursor) => parseCancel(c);
  return new Map<number, RequestHandler>([
    [IN.PLACE_ORDER, placeOrder], [IN.CANCEL_ORDER, cancelOrder], [IN.REQ_OPEN_ORDERS, reqOpenOrders],
    [IN.REQ_ALL_OPEN_ORDERS, reqAllOpenOrders], [IN.REQ_AUTO_OPEN_ORDERS, reqAutoOpenOrders], [IN.REQ_EXECUTIONS, reqExecutions],
    [IN.REQ_POSITIONS, reqPositions], [IN.REQ_ACCOUNT_SUMMARY, reqAccountSummary], [IN.CANCEL_ACCOUNT_SUMMARY, ignore], [IN.CANCEL_POSITIONS, ignore],
    [IN.REQ_PNL, reqPnL], [IN.CANCEL_PNL, ignore],
  ]);
}

/** Reads a subscription cancel: cancelAccountSummary is [63, version, reqId]; cancelPositions [64, version] and cancelPnL [93, reqId] carry one field. */
function parseCancel(c: FieldCursor): void {
  if (c.id === IN.CANCEL_ACCOUNT_SUMMARY) c.int();
  c.int();
  c.end();
}
