// What the simulator does with each client request after START_API. Handlers are looked up in a
// table by message id, so later slices (orders, positions, account) add entries without touching
// the ones here.

import type { Logger } from "../../log.ts";
import type { SimConnection } from "./connection.ts";
import type { SimMarketData } from "./marketdata.ts";
import {
  contractData, contractDataEnd, currentTime, errorMessage, FieldCursor, IN, managedAccounts, MarketDataType, nextValidId,
  parseReqContractDetails, parseReqMktData, parseReqSecDefOptParams, parseVersionAndInt, secDefOptParams, secDefOptParamsEnd,
} from "./messages.ts";
import type { Universe } from "./universe.ts";

/** What request handlers may use of the simulator. */
export interface SimContext {
  readonly universe: Universe;
  readonly marketData: SimMarketData;
  readonly accounts: readonly string[];
  readonly log: Logger;
  /** True when the client has no live market data permission for this IB symbol (a fault). */
  notSubscribed(symbol: string): boolean;
  /** True while a competing live session holds the market data (a fault): reqMktData gets 10197. */
  marketDataCompeting(): boolean;
  /** True while contract look-ups fail (a fault): contract details and market data by contract get 200. */
  contractsFailing(): boolean;
  /** The next order id TWS would hand this client id. */
  nextOrderId(clientId: number): number;
  /** Wall clock, epoch ms. */
  now(): number;
}

/** Handles one request; the message id has been read, `c` is at field 1. */
export type RequestHandler = (ctx: SimContext, conn: SimConnection, c: FieldCursor) => void;

/** Exchanges each option chain is listed on in securityDefinitionOptionParameter. */
const CHAIN_EXCHANGES = ["SMART", "CBOE"] as const;

function reqMktData(ctx: SimContext, conn: SimConnection, c: FieldCursor): void {
  const r = parseReqMktData(c);
  const refusal = ctx.contractsFailing() ? 200 : ctx.marketDataCompeting() ? 10197 : 0;
  if (refusal !== 0) {
    errorMessage(conn.out, r.reqId, refusal);
    return conn.scheduleFlush();
  }
  const matches = ctx.universe.match(r.contract);
  if (matches.length !== 1) {
    errorMessage(conn.out, r.reqId, 200, matches.length > 1 ? ` (ambiguous: ${matches.length} contracts match)` : "");
    return conn.scheduleFlush();
  }
  if (conn.subs.has(r.reqId)) {
    errorMessage(conn.out, r.reqId, 322);
    return conn.scheduleFlush();
  }
  const contract = matches[0]!;
  let delayed = false;
  if (ctx.notSubscribed(contract.symbol)) {
    // Delayed data needs reqMarketDataType(3 or 4); without it TWS refuses with 354.
    if (conn.marketDataType < MarketDataType.Delayed) {
      errorMessage(conn.out, r.reqId, 354);
      return conn.scheduleFlush();
    }
    errorMessage(conn.out, r.reqId, 10167);
    delayed = true;
  }
  const sub = { reqId: r.reqId, number: contract.number, delayed };
  if (r.snapshot) ctx.marketData.snapshot(conn, sub, ctx.now());
  else ctx.marketData.subscribe(conn, sub, ctx.now());
}

function cancelMktData(ctx: SimContext, conn: SimConnection, c: FieldCursor): void {
  const reqId = parseVersionAndInt(c);
  if (!ctx.marketData.unsubscribe(conn, reqId)) {
    errorMessage(conn.out, reqId, 300, String(reqId));
    conn.scheduleFlush();
  }
}

function reqContractDetails(ctx: SimContext, conn: SimConnection, c: FieldCursor): void {
  const r = parseReqContractDetails(c);
  const matches = ctx.contractsFailing() ? [] : ctx.universe.match(r.contract);
  if (matches.length === 0) errorMessage(conn.out, r.reqId, 200);
  else {
    for (const m of matches) contractData(conn.out, r.reqId, m);
    contractDataEnd(conn.out, r.reqId);
  }
  conn.scheduleFlush();
}

function reqSecDefOptParams(ctx: SimContext, conn: SimConnection, c: FieldCursor): void {
  const r = parseReqSecDefOptParams(c);
  const u = ctx.universe;
  const conId = r.conId > 0 ? r.conId : u.match({ conId: 0, symbol: r.symbol, secType: "STK", expiry: "", strike: undefined, right: "",
    multiplier: "", exchange: "", primaryExch: "", currency: "", localSymbol: "", tradingClass: "" })[0]?.conId ?? 0;
  const chain = u.chain(conId);
  if (!chain || chain.underlying.symbol !== r.symbol.toUpperCase()) {
    errorMessage(conn.out, r.reqId, 200);
    return conn.scheduleFlush();
  }
  // An underlying without listed options still gets the end marker, as TWS sends.
  if (chain.expirations.length > 0) {
    for (const ex of CHAIN_EXCHANGES) secDefOptParams(conn.out, r.reqId, ex, conId, chain.underlying.symbol, "100", chain.expirations, chain.strikes);
  }
  secDefOptParamsEnd(conn.out, r.reqId);
  conn.scheduleFlush();
}

function reqCurrentTime(ctx: SimContext, conn: SimConnection, c: FieldCursor): void {
  c.int();
  c.end();
  currentTime(conn.out, Math.floor(ctx.now() / 1000));
  conn.scheduleFlush();
}

function reqMarketDataType(_ctx: SimContext, conn: SimConnection, c: FieldCursor): void {
  const type = parseVersionAndInt(c);
  if (type >= MarketDataType.Live && type <= MarketDataType.DelayedFrozen) conn.marketDataType = type;
}

function reqIds(ctx: SimContext, conn: SimConnection, c: FieldCursor): void {
  parseVersionAndInt(c);
  nextValidId(conn.out, ctx.nextOrderId(conn.clientId));
  conn.scheduleFlush();
}

function reqManagedAccounts(ctx: SimContext, conn: SimConnection, c: FieldCursor): void {
  c.int();
  c.end();
  managedAccounts(conn.out, ctx.accounts);
  conn.scheduleFlush();
}

/** The market data, contract and session requests of this slice, by message id. */
export function marketDataHandlers(): Map<number, RequestHandler> {
  return new Map<number, RequestHandler>([
    [IN.REQ_MKT_DATA, reqMktData],
    [IN.CANCEL_MKT_DATA, cancelMktData],
    [IN.REQ_CONTRACT_DATA, reqContractDetails],
    [IN.REQ_SEC_DEF_OPT_PARAMS, reqSecDefOptParams],
    [IN.REQ_CURRENT_TIME, reqCurrentTime],
    [IN.REQ_MARKET_DATA_TYPE, reqMarketDataType],
    [IN.REQ_IDS, reqIds],
    [IN.REQ_MANAGED_ACCTS, reqManagedAccounts],
  ]);
}
