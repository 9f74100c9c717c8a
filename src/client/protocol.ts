// The wire protocol of /ws, as types and constants. It is the one definition both sides use:
// the server encodes these frames and the client decodes them. It lives with the client because
// the client is what users (and later the browser dashboard) import, and it must not pull in
// server code. docs/protocol.md is the prose version; keep the two in step.

import type { Quote } from "../domain/quote.ts";
import type { FillView, OrderView, UnderlyingBasisView } from "../oms/views.ts";
import type { AccountView, PositionView } from "../oms/valuation.ts";
import type { ChainFrame, ChainsFrame, ChainSubscribeRequest, PreviewFrame, PreviewRequest } from "./options-protocol.ts";

/** Protocol version carried in the welcome frame; bumped on any incompatible change. */
export const PROTOCOL_VERSION = 1;

/** Frame encodings: JSON text frames or MessagePack binary frames, chosen at connect. */
export type WireFormat = "json" | "msgpack";

/** Every wire format, in the order the server keeps per-format counters. */
export const WIRE_FORMATS: readonly WireFormat[] = ["json", "msgpack"];

/** Limits the server announces in its welcome frame. */
export interface AnnouncedLimits {
  /** Most symbols one connection may hold at once. */
  maxSubscriptions: number;
  /** Largest inbound frame; a larger one closes the connection with 1009. */
  maxPayloadBytes: number;
  /** Sustained inbound messages per second per connection. */
  inboundRatePerS: number;
  /** Inbound messages that may arrive at once before the rate applies. */
  inboundBurst: number;
  /** Unsent bytes above which a connection is switched to conflated delivery. */
  slowClientBytes: number;
  /** How long a connection may stay slow before it is closed with 4008. */
  slowClientTimeoutMs: number;
}

/** First frame on every connection. */
export interface WelcomeFrame {
  t: "welcome";
  v: number;
  format: WireFormat;
  /** Interval of heartbeat frames. */
  heartbeatMs: number;
  /** Server time at connect, epoch ms. */
  ts: number;
  limits: AnnouncedLimits;
}

/** Reply to a subscribe or unsubscribe that was applied. */
export interface AckFrame {
  t: "ack";
  id?: number;
  op: "subscribe" | "unsubscribe";
  /** The request resolved to these symbols (underlyings expanded), in instrument order. */
  symbols: string[];
}

/**
 * Full state of one instrument, sent whenever a batch changed it. Prices are decimals and
 * null when absent; sizes and volume are shares (or contracts); times are epoch ms.
 */
export interface QuoteFrame {
  t: "q";
  /** Symbol. */
  s: string;
  /** Row sequence number: +1 per batch that changed the row; a jump means conflated states. */
  seq: number;
  /** Bid price. */
  b: number | null;
  /** Bid size. */
  bs: number;
  /** Ask price. */
  a: number | null;
  /** Ask size. */
  as: number;
  /** Last trade price. */
  l: number | null;
  /** Last trade size. */
  ls: number;
  /** Session volume. */
  v: number;
  /** Session VWAP. */
  vw: number | null;
  /** Session open. */
  o: number | null;
  /** Session high. */
  h: number | null;
  /** Session low. */
  lo: number | null;
  /** Previous close. */
  pc: number | null;
  /** Annualised realised volatility of the mid, as a fraction (0.24 = 24%). */
  vol: number | null;
  /** Exchange time of the last accepted tick, epoch ms. */
  ts: number;
  /** Server time of the batch that produced this state, epoch ms (sub-ms fraction). */
  its: number;
  /** Quality flag bits; see QualityFlag. */
  f: number;
  /** Present and true only on the snapshot sent right after a subscribe. */
  snap?: true;
}

/** Reply to a ping. */
export interface PongFrame {
  t: "pong";
  id?: number;
  /** Server time, epoch ms. */
  ts: number;
}

/** Liveness frame sent to every connection every heartbeatMs. */
export interface HeartbeatFrame {
  t: "hb";
  /** Server time, epoch ms. */
  ts: number;
}

/** Error codes of error frames. */
export const WS_ERROR_CODES = [
  "BAD_JSON", "BAD_MSGPACK", "BAD_REQUEST", "UNKNOWN_SYMBOL", "TOO_MANY_SUBSCRIPTIONS", "RATE_LIMITED",
  // Order entry and account topics (docs/protocol.md, "Orders over WebSocket"): the REST codes.
  "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "UNKNOWN_ACCOUNT", "UNKNOWN_INSTRUMENT", "BAD_QUANTITY", "PRICE_OFF_TICK",
  "OPTION_EXPIRED", "DUPLICATE_CLIENT_ORDER_ID", "ORDER_NOT_CANCELABLE", "ORDER_NOT_MODIFIABLE", "TOO_MANY_OPEN_ORDERS",
  "RISK_DENIED", "JOURNAL_FULL", "JOURNAL_FAILED",
  // Alerts (docs/protocol.md, "Alerts").
  "ALERT_RESOLVED",
  // Live option chains (docs/protocol.md, "Live option chains").
  "TOO_MANY_ROWS",
  // An edge (role edge) asked for what only the core serves (docs/protocol.md, "Edges").
  "NOT_ON_EDGE",
  // An edge could not forward an op to the core (docs/protocol.md, "Edges").
  "CORE_UNAVAILABLE", "CORE_TIMEOUT", "EDGE_BUSY",
] as const;
/** An error frame's code. */
export type WsErrorCode = (typeof WS_ERROR_CODES)[number];

/** A request was refused; nothing it asked for was applied. */
export interface ErrorFrame {
  t: "error";
  code: WsErrorCode;
  message: string;
  /** Path of the offending field, e.g. "symbols[1]"; absent when the whole frame is at fault. */
  field?: string;
  /** The request's id, when it could be read. */
  id?: number;
}

/** Reply to an auth request: what the key may do. */
export interface AuthedFrame {
  t: "authed";
  id?: number;
  scopes: string[];
  /** Accounts the key may trade ("*" for all). */
  accounts: string[];
}

/** Reply to watch / unwatch: the accounts now watched by this connection. */
export interface WatchingFrame {
  t: "watching";
  id?: number;
  accounts: string[];
}

/** An order's state: the reply to submit / cancel / modify (with `id`), or a push on a watched account. */
export interface OrderFrame {
  t: "order";
  id?: number;
  order: OrderView;
}

/** A fill on a watched account (pushed once it is durable). */
export interface FillFrame {
  t: "fill";
  fill: FillView;
}

/** A position after a fill on a watched account. */
export interface PositionFrame {
  t: "position";
  position: PositionView;
}

/** An account's cash, P&L and buying power: on watch, and after fills (at most once per commit). */
export interface AccountFrame {
  t: "account";
  account: AccountView;
}

/** One position's risk. */
export interface PositionRiskView {
  symbol: string;
  qty: number;
  workingBuy: number;
  workingSell: number;
  mark: number | null;
  marketValue: number;
  unrealizedPnl: number;
  /** Per unit: delta (1 for stocks), gamma, then vega and theta below; iv is null for stocks. */
  delta: number | null;
  gamma: number | null;
  /** Per unit: dollars per 1.00 of volatility, and per year (0 for stocks). */
  vega: number | null;
  theta: number | null;
  iv: number | null;
  dollarDelta: number;
  /**
   * "ok", "no_mark" (no quote now: the last mark of this run used), "no_greeks" (no implied vol:
   * previous or default vol used), "stale" (no live mark since the server started: the last stored
   * mark used) or "not_valued" (no mark at all: mark null, counted at cost so it adds no P&L).
   */
  status: "ok" | "no_mark" | "no_greeks" | "stale" | "not_valued";
}

/** One account's published risk: money in dollars, utilisation as value / limit. */
export interface RiskView {
  account: string;
  ts: number;
  state: "active" | "reducing" | "halted";
  stateReason: string;
  equity: number;
  cash: number;
  marketValue: number;
  grossExposure: number;
  netExposure: number;
  dollarDelta: number;
  dollarGamma: number;
  vega: number;
  theta: number;
  unrealizedPnl: number;
  /** Equity minus the session-open equity (0 while that is not known yet). */
  dailyPnl: number;
  /** Equity at the session open and the day's peak: null until taken from a marked book. */
  sessionOpenEquity: number | null;
  peakEquity: number | null;
  /**
   * "marked" (every held instrument has a live mark), "waiting_for_marks" (not yet, after a start:
   * the loss policy is held) or "stale" (the wait is over: the instruments in `unmarked` are valued
   * at their last stored mark and the policy acts on that).
   */
  valuation: "marked" | "waiting_for_marks" | "stale";
  /** Held instruments without a live mark since the server started. */
  unmarked: string[];
  var95: number;
  var99: number;
  stress: { down10: number; down20: number; down40: number; up10: number; vol50: number };
  concentration: { largestUnderlying: string | null; shareOfEquity: number; hhi: number };
  buyingPower: { required: number; available: number };
  openOrders: number;
  unpriced: number;
  score: number;
  utilisation: Record<"gross" | "net" | "delta" | "concentration" | "dailyLoss" | "var" | "buyingPower" | "openOrders" | "max", number>;
  /** The effective limits (docs/protocol.md, "Risk"): fractions of capital, counts, rates, the delta band. */
  limits: Record<string, number | { lo: number; hi: number; mode: "off" | "warn" | "deny" }>;
  positions: PositionRiskView[];
}

/** A watched account's risk, at most once per risk.publishMs (default 100 ms). */
export interface RiskFrame {
  t: "risk";
  risk: RiskView;
}

/** One alert (docs/protocol.md, "Alerts"). Times are epoch ms. */
export interface AlertView {
  /** Unique for ever; a resolved alert that fires again gets a new id. */
  id: number;
  rule: string;
  /** What it is about within the rule (a symbol, an account, "" for a single-series rule). */
  key: string;
  state: "open" | "acknowledged" | "resolved";
  severity: "warning" | "critical";
  value: number | null;
  threshold: number | null;
  message: string;
  raisedTs: number;
  updatedTs: number;
  ackedTs: number | null;
  /** Id of the API key that acknowledged it. */
  ackedBy: string | null;
  resolvedTs: number | null;
}

/** Reply to alerts.subscribe / alerts.unsubscribe: the active alerts when subscribing. */
export interface AlertsFrame {
  t: "alerts";
  id?: number;
  subscribed: boolean;
  alerts: AlertView[];
}

/** A transition pushed to subscribers (with `event`), or the reply to alerts.ack (with `id`). */
export interface AlertFrame {
  t: "alert";
  id?: number;
  event?: "raised" | "escalated" | "deescalated" | "acknowledged" | "resolved";
  ts?: number;
  alert: AlertView;
}

/** One IBKR data farm as TWS last reported it (2103/2104 market, 2105/2106 historical, 2157/2158 security definitions). */
export interface SessionFarm {
  kind: "market" | "hmds" | "secdef";
  name: string;
  ok: boolean;
}

/**
 * The broker session topic (docs/protocol.md, "Broker session"): the reply to session.subscribe /
 * session.unsubscribe (with `subscribed`), or a pushed change (with `event`).
 */
export type SessionFrame =
  | { t: "session"; id?: number; subscribed: boolean; connection: { name: "ib"; state: string; reason: string; since: number } | null; farms: SessionFarm[] }
  | { t: "session"; event: "state"; from: string; to: string; reason: string; ts: number }
  | { t: "session"; event: "farm"; farm: SessionFarm; ts: number };

/** Any frame the server sends. */
export type ServerFrame = WelcomeFrame | AckFrame | QuoteFrame | PongFrame | HeartbeatFrame | ErrorFrame
  | AuthedFrame | WatchingFrame | OrderFrame | FillFrame | PositionFrame | AccountFrame | RiskFrame | AlertsFrame | AlertFrame | SessionFrame
  | PreviewFrame | ChainFrame | ChainsFrame;

/** Subscribe to symbols and/or whole underlyings (the underlying plus every option on it). */
export interface SubscribeRequest {
  op: "subscribe";
  id?: number;
  symbols?: string[];
  underlyings?: string[];
}

/** Unsubscribe; same resolution as subscribe. */
export interface UnsubscribeRequest {
  op: "unsubscribe";
  id?: number;
  symbols?: string[];
  underlyings?: string[];
}

/** Round-trip check; answered with a pong carrying the same id. */
export interface PingRequest {
  op: "ping";
  id?: number;
}

/** Authenticates the connection for order entry (and market data when the server wants a key). */
export interface AuthRequest {
  op: "auth";
  id?: number;
  key: string;
}

/** The body of POST /v1/orders: a new order. */
export interface NewOrder {
  account: string;
  /** 1 … 64 of A-Z a-z 0-9 . _ : - ; unique per account, and the idempotency key of the order. */
  clientOrderId: string;
  symbol: string;
  side: "buy" | "sell";
  type: "market" | "limit" | "stop" | "stop_limit";
  /** Default DAY. */
  tif?: "DAY" | "GTC" | "IOC" | "FOK";
  qty: number;
  limitPrice?: number;
  stopPrice?: number;
  /** IBKR outsideRth: may also work 04:00–09:30 and 16:00–20:00 New York (stock limit and stop-limit orders). Default false. */
  outsideRth?: boolean;
  /** IBKR triggerMethod, stop and stop_limit only; default: last for stocks, double_bid_ask for options. */
  triggerMethod?: "default" | "double_bid_ask" | "last" | "double_last" | "bid_ask" | "last_or_bid_ask" | "mid_point";
}

/** The body of PATCH /v1/orders/:id: at least one change. */
export interface OrderChanges {
  qty?: number;
  limitPrice?: number;
  stopPrice?: number;
}

/** Places an order; answered by an order frame with the same id. */
export interface SubmitRequest {
  op: "submit";
  id?: number;
  order: NewOrder;
}

/** Cancels an order; answered by an order frame. */
export interface CancelRequest {
  op: "cancel";
  id?: number;
  orderId: string;
}

/** Modifies an order; answered by an order frame. */
export interface ModifyRequest {
  op: "modify";
  id?: number;
  orderId: string;
  changes: OrderChanges;
}

/** Starts or stops the pushes of accounts (1 … 64 a request); answered by a watching frame. */
export interface WatchRequest {
  op: "watch" | "unwatch";
  id?: number;
  accounts: string[];
}

/** A request of order entry or account topics. */
export type OrderRequest = AuthRequest | SubmitRequest | PreviewRequest | CancelRequest | ModifyRequest | WatchRequest | TopicRequest;

/** The alerts and broker-session topics (docs/protocol.md, "Alerts" and "Broker session"). */
export type TopicRequest =
  | { op: "alerts.subscribe" | "alerts.unsubscribe" | "session.subscribe" | "session.unsubscribe"; id?: number }
  | { op: "alerts.ack"; id?: number; alertId: number };

/** Any request a client sends. */
export type ClientRequest = SubscribeRequest | UnsubscribeRequest | PingRequest | OrderRequest | ChainSubscribeRequest;

/** Close codes the server uses (besides the standard 1000/1001/1006). */
export const CLOSE_CODES = {
  /** An inbound frame exceeded maxPayloadBytes (sent by the WebSocket layer). */
  messageTooBig: 1009,
  /** The connection limit was reached between the handshake check and open. */
  tryAgainLater: 1013,
  /** The connection stayed slow past slowClientTimeoutMs or exceeded the hard buffer bound. */
  slowConsumer: 4008,
  /** The connection kept sending over its inbound rate after being told. */
  rateLimitAbuse: 4029,
  /** The API key the connection authenticated with was revoked; reconnecting with it is futile. */
  keyRevoked: 4001,
  /** Service restart: the core behind this edge restarted or was out of reach, and with it this connection's auth and watches; reconnect and authenticate again. */
  coreRestarted: 1012,
} as const;

/** Quality flag bits of QuoteFrame.f, and flagNames() to list the set ones. */
export { QualityFlag, flagNames } from "../domain/tick.ts";

/** A quote with descriptive names, as REST returns it and as toQuote() expands a frame. */
export type { Quote } from "../domain/quote.ts";

/** Expands a compact quote frame into descriptive names. */
export function toQuote(f: QuoteFrame): Quote {
  return {
    symbol: f.s, seq: f.seq, bid: f.b, bidSize: f.bs, ask: f.a, askSize: f.as, last: f.l, lastSize: f.ls,
    volume: f.v, vwap: f.vw, open: f.o, high: f.h, low: f.lo, prevClose: f.pc, volatility: f.vol,
    exchangeTs: f.ts, ingestTs: f.its, flags: f.f,
  };
}

/** Error codes of REST error bodies (and of the HTTP reply refusing a WebSocket upgrade). */
export const REST_ERROR_CODES = [
  "NOT_FOUND", "BAD_REQUEST", "TOO_MANY_ROWS", "TOO_MANY_CONNECTIONS", "UPGRADE_REQUIRED", "INTERNAL",
  // Orders, accounts and API keys (docs/protocol.md, "Orders and accounts").
  "BAD_JSON", "PAYLOAD_TOO_LARGE", "UNAUTHORIZED", "FORBIDDEN", "RATE_LIMITED", "UNKNOWN_ACCOUNT", "UNKNOWN_INSTRUMENT", "BAD_QUANTITY",
  "PRICE_OFF_TICK", "OPTION_EXPIRED", "DUPLICATE_CLIENT_ORDER_ID", "ORDER_NOT_CANCELABLE", "ORDER_NOT_MODIFIABLE",
  "TOO_MANY_OPEN_ORDERS", "RISK_DENIED", "JOURNAL_FULL", "JOURNAL_FAILED",
  // Admin key management (docs/protocol.md, "API keys").
  "TOO_MANY_KEYS",
  // Alerts (docs/protocol.md, "Alerts").
  "ALERT_RESOLVED",
  // An edge (role edge) asked for what only the core serves (docs/protocol.md, "Edges").
  "NOT_ON_EDGE",
  // An edge could not forward a request to the core, or the core's reply was too large for the bus (docs/protocol.md, "Edges").
  "CORE_UNAVAILABLE", "CORE_TIMEOUT", "EDGE_BUSY", "REPLY_TOO_LARGE",
] as const;
/** A REST error body's code. */
export type RestErrorCode = (typeof REST_ERROR_CODES)[number];

/** Body of every REST error reply (4xx/5xx). */
export interface RestErrorBody {
  error: { code: RestErrorCode; message: string; field?: string };
}

/** A page of rows from a bounded REST list; `next` is the offset of the next page, null at the end. */
export interface Page {
  total: number;
  offset: number;
  next: number | null;
}

/** Orders, fills, positions and accounts as the order API returns them. */
export type { OrderView, FillView, UnderlyingBasisView } from "../oms/views.ts";
export type { AccountView, PositionView } from "../oms/valuation.ts";

/** GET /v1/accounts/{id}/positions: the non-flat positions, and the wheel's adjusted cost basis of each underlying traded. */
export interface PositionsReply {
  account: string;
  positions: PositionView[];
  underlyings: UnderlyingBasisView[];
}
/** GET /v1/analytics/accounts/{account}/performance. */
export type { AccountPerformance } from "../analytics/account-performance.ts";
/** The options workflow: chains, the calculator and order preview (docs/protocol.md). */
export type * from "./options-protocol.ts";
