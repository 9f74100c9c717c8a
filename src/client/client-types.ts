// The market client's public types: options, reconnect policy, errors, counters, selections,
// pushes, and the listener helper. Kept apart from client.ts, which holds the connection logic.

import type {
  AccountFrame, AlertFrame, ChainFrame, FillFrame, OrderFrame, PositionFrame, RestErrorCode, RiskFrame,  SessionFrame, WireFormat, WsErrorCode,
} from "./protocol.ts";

/** Reconnect back-off: delay n is min(maxDelayMs, initialDelayMs × factor^n), minus up to `jitter` of itself. */
export interface ReconnectPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  /** Fraction (0..1) of each delay taken off at random, so clients of a restarted server spread out. */
  jitter: number;
  /** Consecutive failed attempts before giving up (state "closed"); Infinity retries forever. */
  maxAttempts: number;
}

/** Default back-off: 100 ms doubling to 5 s, up to half of each delay as jitter, retry forever. */
export const DEFAULT_RECONNECT: ReconnectPolicy = { initialDelayMs: 100, maxDelayMs: 5000, factor: 2, jitter: 0.5, maxAttempts: Infinity };

/** Options of MarketClient.connect(). */
export interface MarketClientOptions {
  format?: WireFormat;
  /** Back-off overrides, or false to never reconnect. */
  reconnect?: Partial<ReconnectPolicy> | false;
  /** The connection is declared dead after this many heartbeat intervals without any frame. */
  heartbeatMisses?: number;
  /** Bound on waiting for a request's reply. */
  requestTimeoutMs?: number;
  /** API key sent as the first request of every connection (order entry, keyed market data). */
  key?: string;
}

/** Connection state. */
export type ClientState = "connecting" | "open" | "reconnecting" | "closed";

/** Updates a subscriber never saw: the symbol's seq jumped from `previous` to `got`. */
export interface Gap {
  symbol: string;
  previous: number;
  got: number;
  /** States skipped (got − previous − 1). */
  missed: number;
  /** Set when the jump spans a reconnect (or a failover to another edge): `got` is the new connection's snapshot, which already carries the current state. */
  reconnect?: true;
}

/** Codes of client-side failures, besides the server's error codes (WebSocket and REST). */
export type ClientErrorCode = WsErrorCode | RestErrorCode | "DISCONNECTED" | "CLOSED" | "TIMEOUT" | "CONNECT_FAILED" | "HTTP";

/** A failed request or connection, with the server's code and field when it came from an error frame or body. */
export class ClientError extends Error {
  constructor(readonly code: ClientErrorCode, message: string, readonly field?: string, readonly id?: number, readonly status?: number) {
    super(message);
    this.name = "ClientError";
  }
}

/** Client counters. */
export interface ClientStats {
  quotes: number;
  gaps: number;
  missedUpdates: number;
  /** Successful reconnects (welcomes after the first). */
  reconnects: number;
  heartbeats: number;
  /** Server time of the last heartbeat, epoch ms. */
  lastHeartbeatTs: number;
}

/** What to subscribe to: symbols, and underlyings (the underlying plus every option on it). */
export interface Selection {
  symbols?: string[];
  underlyings?: string[];
}

/** A frame pushed on a watched account. */
export type AccountPush = OrderFrame | FillFrame | PositionFrame | AccountFrame | RiskFrame;

/** Any pushed frame that is not a quote: account pushes, alert transitions, broker-session changes, live chain updates. */
export type Push = AccountPush | AlertFrame | SessionFrame | ChainFrame;

/** A callback registered with one of the client's on…() methods. */
export type Listener<T> = (value: T) => void;

/** Listeners of one kind of event: on() adds one and returns its remover, emit() calls each in order. */
export class Emitter<T> {
  private readonly list: Listener<T>[] = [];
  on(cb: Listener<T>): () => void {
    return addListener(this.list, cb);
  }
  emit(value: T): void {
    for (const l of this.list) l(value);
  }
}

/** Adds a listener to a list; returns its remover (the client stays free of server modules, so it keeps its own). */
export function addListener<T>(list: Listener<T>[], cb: Listener<T>): () => void {
  list.push(cb);
  return () => {
    const i = list.indexOf(cb);
    if (i >= 0) list.splice(i, 1);
  };
}
