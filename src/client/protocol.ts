// The wire protocol of /ws, as types and constants. It is the one definition both sides use:
// the server encodes these frames and the client decodes them. It lives with the client because
// the client is what users (and later the browser dashboard) import, and it must not pull in
// server code. docs/protocol.md is the prose version; keep the two in step.
// This file holds the connection-level frames, error and close codes and the unions of every
// frame and request; the rest is split by topic and re-exported at the end, so importers only
// ever name protocol.ts: market data (protocol-market.ts), order entry, accounts and risk
// (protocol-trading.ts), alerts and the broker session (protocol-topics.ts), options
// (options-protocol.ts).

import type { ChainFrame, ChainsFrame, ChainSubscribeRequest, PreviewFrame } from "./options-protocol.ts";
import type { QuoteFrame, SubscribeRequest, UnsubscribeRequest } from "./protocol-market.ts";
import type { AccountFrame, AuthedFrame, FillFrame, OrderFrame, OrderRequest, PositionFrame, RiskFrame, WatchingFrame } from "./protocol-trading.ts";
import type { AlertFrame, AlertsFrame, SessionFrame } from "./protocol-topics.ts";

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

/** Any frame the server sends. */
export type ServerFrame = WelcomeFrame | AckFrame | QuoteFrame | PongFrame | HeartbeatFrame | ErrorFrame
  | AuthedFrame | WatchingFrame | OrderFrame | FillFrame | PositionFrame | AccountFrame | RiskFrame | AlertsFrame | AlertFrame | SessionFrame
  | PreviewFrame | ChainFrame | ChainsFrame;

/** Round-trip check; answered with a pong carrying the same id. */
export interface PingRequest {
  op: "ping";
  id?: number;
}

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

/** GET /v1/analytics/accounts/{account}/performance. */
export type { AccountPerformance } from "../analytics/account-performance.ts";
/** The options workflow: chains, the calculator and order preview (docs/protocol.md). */
export type * from "./options-protocol.ts";
/** Quotes: the quote frame, subscriptions, toQuote(), quality flags (protocol-market.ts). */
export * from "./protocol-market.ts";
/** Order entry, accounts and risk (protocol-trading.ts). */
export * from "./protocol-trading.ts";
/** The alerts and broker-session topics (protocol-topics.ts). */
export * from "./protocol-topics.ts";
