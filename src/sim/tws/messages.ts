// TWS protocol vocabulary for server version 193: message ids both ways, tick types, error codes,
// the field order of every message the simulator sends, and parsers for the requests it reads.
// Field orders are protocol facts, checked by feeding every message through @stoqey/ib's decoder
// (test/unit/sim-tws-decoder.test.ts); the code is ours.

import { ProtocolError, type Field, type OutBuffer } from "./wire.ts";

/** Ids of messages TWS sends to the client. */
export const OUT = {
  TICK_PRICE: 1, TICK_SIZE: 2, ERR_MSG: 4, NEXT_VALID_ID: 9, CONTRACT_DATA: 10, MANAGED_ACCTS: 15,
  TICK_OPTION_COMPUTATION: 21, CURRENT_TIME: 49, CONTRACT_DATA_END: 52, TICK_SNAPSHOT_END: 57,
  MARKET_DATA_TYPE: 58, SECDEF_OPT_PARAMS: 75, SECDEF_OPT_PARAMS_END: 76, TICK_REQ_PARAMS: 81,
  ORDER_STATUS: 3, OPEN_ORDER: 5, EXECUTION_DATA: 11, OPEN_ORDER_END: 53, EXECUTION_DATA_END: 55, COMMISSION_REPORT: 59,
  POSITION: 61, POSITION_END: 62, ACCOUNT_SUMMARY: 63, ACCOUNT_SUMMARY_END: 64, PNL: 94,
  HISTORICAL_DATA: 17,
} as const;

/** Every message id the simulator can send; the decoder test proves each one decodes cleanly. */
export const OUT_IDS: readonly number[] = Object.values(OUT);

/** Ids of client requests the simulator understands. */
export const IN = {
  REQ_MKT_DATA: 1, CANCEL_MKT_DATA: 2, REQ_IDS: 8, REQ_CONTRACT_DATA: 9, REQ_MANAGED_ACCTS: 17,
  REQ_CURRENT_TIME: 49, REQ_MARKET_DATA_TYPE: 59, START_API: 71, REQ_SEC_DEF_OPT_PARAMS: 78,
  PLACE_ORDER: 3, CANCEL_ORDER: 4, REQ_OPEN_ORDERS: 5, REQ_EXECUTIONS: 7, REQ_AUTO_OPEN_ORDERS: 15, REQ_ALL_OPEN_ORDERS: 16,
  REQ_POSITIONS: 61, REQ_ACCOUNT_SUMMARY: 62, CANCEL_ACCOUNT_SUMMARY: 63, CANCEL_POSITIONS: 64, REQ_PNL: 92, CANCEL_PNL: 93,
  REQ_HISTORICAL_DATA: 20, CANCEL_HISTORICAL_DATA: 25,
} as const;

/** IB tick types the simulator sends (live and delayed variants). */
export const TICK = {
  BID_SIZE: 0, BID: 1, ASK: 2, ASK_SIZE: 3, LAST: 4, LAST_SIZE: 5, VOLUME: 8, CLOSE: 9, MODEL_OPTION: 13,
  DELAYED_BID: 66, DELAYED_ASK: 67, DELAYED_LAST: 68, DELAYED_BID_SIZE: 69, DELAYED_ASK_SIZE: 70,
  DELAYED_LAST_SIZE: 71, DELAYED_VOLUME: 74, DELAYED_CLOSE: 75, DELAYED_MODEL_OPTION: 83,
} as const;

/** Market data types of reqMarketDataType / marketDataType. */
export const MarketDataType = { Live: 1, Frozen: 2, Delayed: 3, DelayedFrozen: 4 } as const;

/** TWS error and status codes the simulator sends, with TWS's wording. */
export const CODES = {
  103: "Duplicate order id",
  162: "Historical Market Data Service error message:",
  200: "No security definition has been found for the request",
  201: "Order rejected - reason:",
  300: "Can't find EId with tickerId:",
  322: "Error processing request:-'bB' : cause - Duplicate ticker id",
  326: "Unable to connect as the client id is already in use. Retry with a unique client id.",
  354: "Requested market data is not subscribed.",
  366: "No historical data query found for ticker id:",
  1100: "Connectivity between IB and Trader Workstation has been lost.",
  1101: "Connectivity between IB and Trader Workstation has been restored - data lost.",
  1102: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
  2103: "Market data farm connection is broken:usfarm",
  2104: "Market data farm connection is OK:usfarm",
  2105: "HMDS data farm connection is broken:ushmds",
  2106: "HMDS data farm connection is OK:ushmds",
  2110: "Connectivity between Trader Workstation and server is broken. It will be restored automatically.",
  2157: "Sec-def data farm connection is broken:secdefnj",
  2158: "Sec-def data farm connection is OK:secdefnj",
  10147: "OrderId that needs to be cancelled is not found:",
  10167: "Requested market data is not subscribed. Displaying delayed market data.",
  10197: "No market data during competing live session",
} as const;
/** A code the simulator knows how to word. */
export type Code = keyof typeof CODES;

/** What the simulator sends for a contract in contractData. */
export interface ContractDetailsFields {
  conId: number;
  symbol: string;
  secType: "STK" | "OPT";
  /** YYYYMMDD for options, empty for stocks. */
  expiry: string;
  strike: number;
  right: "" | "C" | "P";
  exchange: string;
  primaryExch: string;
  currency: string;
  localSymbol: string;
  tradingClass: string;
  minTick: number;
  /** Empty for stocks, "100" for equity options. */
  multiplier: string;
  longName: string;
  underConId: number;
  industry: string;
}

// Encoders: one per message, in the field order the version-193 decoder reads.

/** tickPrice: version 6 carries a size and the attribute mask. */
export function tickPrice(o: OutBuffer, reqId: number, type: number, price: number, size: number, attribMask = 0): void {
  o.terminated(OUT.TICK_PRICE, `1\x006\x00${reqId}\x00${type}\x00${price}\x00${size}\x00${attribMask}\x00`);
}

/** tickSize. */
export function tickSize(o: OutBuffer, reqId: number, type: number, size: number): void {
  o.terminated(OUT.TICK_SIZE, `2\x006\x00${reqId}\x00${type}\x00${size}\x00`);
}

/** tickOptionComputation: no version field from server 156; -1 / -2 mean "not computed". */
export function tickOptionComputation(o: OutBuffer, reqId: number, type: number, g: {
  iv: number; delta: number; optPrice: number; pvDividend: number; gamma: number; vega: number; theta: number; undPrice: number;
}): void {
  o.write([OUT.TICK_OPTION_COMPUTATION, reqId, type, 0, g.iv, g.delta, g.optPrice, g.pvDividend, g.gamma, g.vega, g.theta, g.undPrice]);
}

/** An error or status message; id −1 for connection-wide ones. The last field is the advanced-reject JSON. */
export function errorMessage(o: OutBuffer, id: number, code: Code, suffix = ""): void {
  o.write([OUT.ERR_MSG, 2, id, code, CODES[code] + suffix, ""]);
}

/** nextValidId. */
export function nextValidId(o: OutBuffer, orderId: number): void {
  o.write([OUT.NEXT_VALID_ID, 1, orderId]);
}

/** managedAccounts: a comma-separated list. */
export function managedAccounts(o: OutBuffer, accounts: readonly string[]): void {
  o.write([OUT.MANAGED_ACCTS, 1, accounts.join(",")]);
}

/** currentTime, in epoch seconds. */
export function currentTime(o: OutBuffer, epochS: number): void {
  o.write([OUT.CURRENT_TIME, 1, epochS]);
}

/** marketDataType for one request. */
export function marketDataType(o: OutBuffer, reqId: number, type: number): void {
  o.write([OUT.MARKET_DATA_TYPE, 1, reqId, type]);
}

/** tickSnapshotEnd. */
export function tickSnapshotEnd(o: OutBuffer, reqId: number): void {
  o.write([OUT.TICK_SNAPSHOT_END, 1, reqId]);
}

/** tickReqParams: min tick, best-bid-offer exchange code, snapshot permissions. */
export function tickReqParams(o: OutBuffer, reqId: number, minTick: number): void {
  o.write([OUT.TICK_REQ_PARAMS, reqId, minTick, "9c0001", 3]);
}

/** contractData with every field of server version 193 (no version field from SIZE_RULES on). */
export function contractData(o: OutBuffer, reqId: number, c: ContractDetailsFields): void {
  const isOpt = c.secType === "OPT";
  const fields: Field[] = [
    OUT.CONTRACT_DATA, reqId, c.symbol, c.secType, c.expiry, c.expiry, isOpt ? c.strike : 0, c.right,
    c.exchange, c.currency, c.localSymbol, isOpt ? c.tradingClass : "NMS" /* marketName */, c.tradingClass, c.conId, c.minTick,
    c.multiplier, isOpt ? "ACTIVETIM,AD,ALERT,ALLOC,DAY,GTC,IOC,LMT,MKT,STP,STPLMT" : "ACTIVETIM,AD,ALERT,ALLOC,DAY,GTC,IOC,FOK,LMT,MKT,STP,STPLMT",
    isOpt ? "SMART,CBOE,ISE,AMEX" : `SMART,${c.primaryExch},ARCA,BATS`, 1 /* priceMagnifier */, c.underConId,
    c.longName, c.primaryExch, isOpt ? c.expiry.slice(0, 6) : "", c.industry, "", "", "US/Eastern",
    "20261123:0930-20261123:1600", "20261123:0930-20261123:1600", "" /* evRule */, "" /* evMultiplier */,
    0 /* secIdList count */, 1 /* aggGroup */, isOpt ? c.symbol : "", isOpt ? "STK" : "", "26,26" /* marketRuleIds */,
    isOpt ? c.expiry : "", isOpt ? "" : "COMMON", "1" /* minSize */, "1" /* sizeIncrement */, isOpt ? "1" : "100",
    0 /* ineligibility reasons */,
  ];
  o.write(fields);
}

/** contractDataEnd. */
export function contractDataEnd(o: OutBuffer, reqId: number): void {
  o.write([OUT.CONTRACT_DATA_END, 1, reqId]);
}

/** securityDefinitionOptionParameter: one per exchange; no version field. */
export function secDefOptParams(o: OutBuffer, reqId: number, exchange: string, underConId: number, tradingClass: string,
  multiplier: string, expirations: readonly string[], strikes: readonly number[]): void {
  o.write([OUT.SECDEF_OPT_PARAMS, reqId, exchange, underConId, tradingClass, multiplier, expirations.length, ...expirations, strikes.length, ...strikes]);
}

/** securityDefinitionOptionParameterEnd. */
export function secDefOptParamsEnd(o: OutBuffer, reqId: number): void {
  o.write([OUT.SECDEF_OPT_PARAMS_END, reqId]);
}

/** One bar of historicalData: time as TWS formats it (a date, or epoch seconds with formatDate 2). */
export interface BarFields {
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  wap: number;
  count: number;
}

/** historicalData: no version field from server 124; the whole run in one message, then (in the client) the end marker. */
export function historicalData(o: OutBuffer, reqId: number, startText: string, endText: string, bars: readonly BarFields[]): void {
  o.begin(OUT.HISTORICAL_DATA);
  for (const f of [String(OUT.HISTORICAL_DATA), String(reqId), startText, endText, String(bars.length)]) o.field(f);
  for (const b of bars) {
    o.field(b.time);
    for (const n of [b.open, b.high, b.low, b.close, b.volume, b.wap, b.count]) o.num(n);
  }
  o.end();
}

// Request parsers.

/** Reads the fields of one inbound message in order; throws ProtocolError on an underrun. */
export class FieldCursor {
  private i = 1;
  constructor(private readonly fields: readonly string[]) {}

  /** The message id (field 0). */
  get id(): number {
    return Number(this.fields[0]);
  }

  /** Next field as text. */
  str(): string {
    if (this.i >= this.fields.length) throw new ProtocolError(`message ${this.fields[0]} ends after ${this.fields.length} fields`);
    return this.fields[this.i++]!;
  }

  /** Next field as an integer; empty is 0. */
  int(): number {
    const s = this.str();
    const n = s === "" ? 0 : Number(s);
    if (!Number.isInteger(n)) throw new ProtocolError(`message ${this.fields[0]}: field ${this.i - 1} is not an integer: ${JSON.stringify(s)}`);
    return n;
  }

  /** Next field as a number; empty is undefined. */
  num(): number | undefined {
    const s = this.str();
    if (s === "") return undefined;
    const n = Number(s);
    if (Number.isNaN(n)) throw new ProtocolError(`message ${this.fields[0]}: field ${this.i - 1} is not a number: ${JSON.stringify(s)}`);
    return n;
  }

  /** Next field as a boolean (0/1, empty is false). */
  bool(): boolean {
    return this.int() !== 0;
  }

  /** Throws unless every field was read: a mismatch means our idea of the layout is wrong. */
  end(): void {
    if (this.i !== this.fields.length) throw new ProtocolError(`message ${this.fields[0]}: ${this.fields.length - this.i} unread fields`);
  }
}

/** A contract as a request describes it; empty fields are wildcards. */
export interface RequestContract {
  conId: number;
  symbol: string;
  secType: string;
  expiry: string;
  strike: number | undefined;
  right: string;
  multiplier: string;
  exchange: string;
  primaryExch: string;
  currency: string;
  localSymbol: string;
  tradingClass: string;
}

/** Reads the twelve contract fields requests share (conId … tradingClass). */
export function readContract(c: FieldCursor): RequestContract {
  return {
    conId: c.int(), symbol: c.str(), secType: c.str(), expiry: c.str(), strike: c.num(), right: c.str(),
    multiplier: c.str(), exchange: c.str(), primaryExch: c.str(), currency: c.str(), localSymbol: c.str(), tradingClass: c.str(),
  };
}

/** reqMktData: version 11 at server 193. */
export function parseReqMktData(c: FieldCursor): { reqId: number; contract: RequestContract; genericTicks: string; snapshot: boolean } {
  c.int(); // version
  const reqId = c.int();
  const contract = readContract(c);
  if (contract.secType.toUpperCase() === "BAG") {
    const legs = c.int();
    for (let i = 0; i < legs * 4; i++) c.str();
  }
  if (c.bool()) { c.int(); c.num(); c.num(); } // delta-neutral contract
  const genericTicks = c.str();
  const snapshot = c.bool();
  c.bool(); // regulatory snapshot
  c.str(); // mktDataOptions
  c.end();
  return { reqId, contract, genericTicks, snapshot };
}

/** reqContractDetails: version 8 at server 193. */
export function parseReqContractDetails(c: FieldCursor): { reqId: number; contract: RequestContract; includeExpired: boolean } {
  c.int(); // version
  const reqId = c.int();
  const contract = readContract(c);
  const includeExpired = c.bool();
  c.str(); c.str(); c.str(); // secIdType, secId, issuerId
  c.end();
  return { reqId, contract, includeExpired };
}

/** reqSecDefOptParams: no version field. */
export function parseReqSecDefOptParams(c: FieldCursor): { reqId: number; symbol: string; futFopExchange: string; secType: string; conId: number } {
  const out = { reqId: c.int(), symbol: c.str(), futFopExchange: c.str(), secType: c.str(), conId: c.int() };
  c.end();
  return out;
}

/** Messages of the form [id, version, value]: cancelMktData, reqIds, reqMarketDataType. */
export function parseVersionAndInt(c: FieldCursor): number {
  c.int();
  const v = c.int();
  c.end();
  return v;
}

/** START_API: [71, version, clientId, optionalCapabilities]. */
export function parseStartApi(c: FieldCursor): { clientId: number } {
  c.int();
  const clientId = c.int();
  c.str();
  c.end();
  return { clientId };
}
