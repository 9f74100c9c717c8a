// Order entry, account and risk part of the wire protocol (split out of protocol.ts, which
// re-exports it): the auth/submit/cancel/modify/watch requests, the order, fill, position, account
// and risk frames, and the REST bodies of orders and positions. Client-side code: no server imports.

import type { FillView, OrderView, UnderlyingBasisView } from "../oms/views.ts";
import type { AccountView, PositionView } from "../oms/valuation.ts";
import type { PreviewRequest } from "./options-protocol.ts";
import type { TopicRequest } from "./protocol-topics.ts";

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

/** Orders, fills, positions and accounts as the order API returns them. */
export type { OrderView, FillView, UnderlyingBasisView } from "../oms/views.ts";
export type { AccountView, PositionView } from "../oms/valuation.ts";

/** GET /v1/accounts/{id}/positions: the non-flat positions, and the wheel's adjusted cost basis of each underlying traded. */
export interface PositionsReply {
  account: string;
  positions: PositionView[];
  underlyings: UnderlyingBasisView[];
}
