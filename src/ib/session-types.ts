// The IB session's public contract: its states, events, options and the request id base. Split
// from session.ts (the state machine itself) so the types can be read, and imported, without it;
// session.ts re-exports them, so callers keep importing from there.

import type { Logger } from "../log.ts";
import type { BackoffOptions } from "./backoff.ts";
import type { FarmStatus } from "./codes.ts";
import type { PacingOptions } from "./pacing.ts";

/** Where the session is. */
export type SessionState = "disconnected" | "connecting" | "connected" | "degraded" | "reconnecting" | "not_ready" | "competing" | "reauth";
/** Every state, in order (metrics label values). */
export const SESSION_STATES: readonly SessionState[] = ["disconnected", "connecting", "connected", "degraded", "reconnecting", "not_ready", "competing", "reauth"];

/** What to do when TWS answers 326 (client id in use). */
export type ClientIdRecovery = "retry" | "increment" | "fail";

/** Events of the session, by name. */
export interface SessionEvents extends Record<string, unknown> {
  /** Every state change. */
  state: { from: SessionState; to: SessionState; reason: string; atMs: number };
  /** An API connection is usable (nextValidId arrived); everything must be (re)requested on it. */
  ready: { reconnect: boolean; clientId: number };
  /** 1101 (dataLost: resubscribe) or 1102 (data kept; reconcile orders and fills). */
  restored: { dataLost: boolean };
  farm: FarmStatus;
  /** An error about one request or order id. */
  requestError: { reqId: number; code: number; message: string };
  /** The session gave up (326 with recovery "fail", or client ids exhausted); it stays disconnected. */
  fatal: { code: number; message: string };
}

/** Options of a session. */
export interface IbSessionOptions {
  host: string;
  port: number;
  /** Fixed client id: orders placed under it can be cancelled by the next run. */
  clientId: number;
  /** Recovery on 326 (default "retry": a stale session holding the id usually goes away). */
  clientIdInUse?: ClientIdRecovery;
  /** Highest offset added to clientId under "increment" before giving up (default 8). */
  maxClientIdOffset?: number;
  backoff?: BackoffOptions;
  /** An attempt without nextValidId after this long is abandoned and retried (default 10 000 ms). */
  connectTimeoutMs?: number;
  /** 1100 without 1101 / 1102 for this long reads as a login waiting for re-authentication (default 120 000 ms). */
  reauthAfterMs?: number;
  pacing?: PacingOptions;
  log?: Logger;
  /** Source of jitter (default Math.random). */
  random?: () => number;
}

/**
 * Request ids start far above order ids, because TWS reports errors for both as one "id":
 * an error for 1000000007 is then never mistaken for order 7.
 */
export const REQUEST_ID_BASE = 1_000_000_000;
