// One IBKR session: the connection to TWS / IB Gateway through @stoqey/ib, shared by the feed
// and (later) the broker. It owns the connection state machine, reconnects with capped,
// jittered exponential back-off, routes every outbound request through the pacing queue, and
// keeps the order id high-water mark.
//
// Back-off: see backoff.ts. 1100 (IB–TWS link lost with the socket up) is not a reason to
// reconnect: the session degrades and waits for 1101 / 1102.
//
// States: disconnected (not started, stopped, or given up) → connecting (first attempt) →
// connected (nextValidId received, nothing wrong) ⇄ degraded (socket up but 1100, 2110 or a
// farm down) → reconnecting (socket lost; waiting out the back-off or trying again) → connected.
// With the socket up there are three more (conditions.ts): reauth (1100 and nothing more for
// reauthAfterMs: a login waiting for re-authentication after the weekly restart), not_ready
// (contracts or subscriptions failed to load, as the feed reports), competing (10197: another
// live session of the same login holds the market data).
// Each API connection uses a fresh IBApi, so nothing queued inside a dead client leaks into the
// next one; listeners registered with onIb() are carried over to every new client. Its states,
// events and options are declared in session-types.ts.

import { EventName, IBApi } from "@stoqey/ib";
import { createLogger, type Logger } from "../log.ts";
import { farmStatus, type FarmStatus, IbCode } from "./codes.ts";
import { backoffDelayMs } from "./backoff.ts";
import { SessionConditions } from "./conditions.ts";
import { Emitter } from "./emitter.ts";
import { PacingError, PacingQueue } from "./pacing.ts";
import { REQUEST_ID_BASE, type IbSessionOptions, type SessionEvents, type SessionState } from "./session-types.ts";

export { BACKOFF_DEFAULTS, type BackoffOptions, backoffDelayMs } from "./backoff.ts";
export { type ClientIdRecovery, type IbSessionOptions, REQUEST_ID_BASE, SESSION_STATES, type SessionEvents, type SessionState } from "./session-types.ts";

/**
 * @stoqey/ib has its own FIFO rate limiter (40/s by default). Ours is the one that paces, and it
 * must be able to put cancels first, so the client's is set high enough never to hold a message.
 */
const CLIENT_LIMITER_PER_S = 1000;

type IbListener = (...args: never[]) => void;
/** IBApi's listener methods without their per-event overloads, for registering listeners generically. */
type UntypedEmitter = { on(event: string, fn: IbListener): unknown; off(event: string, fn: IbListener): unknown };
const untyped = (api: IBApi) => api as unknown as UntypedEmitter;

/** The IBKR session. */
export class IbSession {
  readonly events: Emitter<SessionEvents>;
  readonly pacing: PacingQueue;
  /** Counters for metrics and tests. */
  readonly stats = { connects: 0, socketLosses: 0, attempts: 0, clientIdRefusals: 0, decodeErrors: 0, pacingViolations: 0, stateChanges: 0 };
  /** The last error that explains a failed or lost connection, for readiness and logs. */
  lastError = "";
  private current: SessionState = "disconnected";
  private currentReason = "";
  private currentSinceMs = Date.now();
  private api: IBApi | null = null;
  private open = false;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly listeners: [EventName, IbListener][] = [];
  private readonly cond = new SessionConditions();
  private reauthTimer: ReturnType<typeof setTimeout> | null = null;
  private clientIdRefused = false;
  private clientIdOffset = 0;
  private failures = 0;
  private everReady = false;
  private stopping = true;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  private requestId = REQUEST_ID_BASE;
  private orderIdHwm = 0;
  private serverNextOrderId = 0;

  constructor(readonly options: IbSessionOptions) {
    this.log = options.log ?? createLogger("warn", "ib");
    this.random = options.random ?? Math.random;
    this.pacing = new PacingQueue(options.pacing);
    this.events = new Emitter<SessionEvents>((err, event) => this.log.error("session listener failed", { event, err }));
    if (!Number.isInteger(options.clientId) || options.clientId < 0) throw new Error("ib session: clientId must be a non-negative integer");
  }

  /** Current state. */
  get state(): SessionState {
    return this.current;
  }

  /** Why the session entered its current state (the reason of the last state change). */
  get stateReason(): string {
    return this.currentReason;
  }

  /** When the session entered its current state, epoch ms. */
  get stateSinceMs(): number {
    return this.currentSinceMs;
  }

  /** True when requests can be sent (the socket is up: connected, degraded, not_ready, competing or reauth). */
  get usable(): boolean {
    return this.open;
  }

  /** The client id of the current (or next) attempt. */
  get clientId(): number {
    return this.options.clientId + this.clientIdOffset;
  }

  /** Starts connecting; the session then keeps itself connected until stop(). */
  start(): void {
    if (!this.stopping) return;
    this.stopping = false;
    this.connect();
  }

  /** Disconnects and stays disconnected; waiting requests are rejected with IB_STOPPED. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.clearTimers();
    this.pacing.pause();
    this.pacing.clear("IB_STOPPED", "session stopped");
    const api = this.api;
    this.api = null;
    this.open = false;
    this.cond.reset();
    if (api) {
      api.removeAllListeners();
      api.disconnect();
    }
    this.setState("disconnected", "stopped");
  }

  /** The data farms TWS reported on this connection (empty while not connected). */
  farms(): FarmStatus[] {
    return this.cond.farmList();
  }

  /** The feed reports whether every subscription loaded (reason "" when it did); not_ready while one did not. */
  setNotReady(reason: string): void {
    if (this.cond.notReady === reason) return;
    this.cond.notReady = reason;
    this.recompute(reason || "every subscription loaded");
  }

  /** The feed reports market data flowing again on every subscription a competing session (10197) had taken. */
  marketDataFlowing(): void {
    if (!this.cond.competing) return;
    this.cond.competing = "";
    this.recompute("market data flowing again after 10197");
  }

  /** Resolves once the session is usable; rejects after `timeoutMs` or when it gives up. */
  waitUsable(timeoutMs: number): Promise<void> {
    if (this.open) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        offState();
        offFatal();
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => done(new Error(`no IB connection to ${this.where()} within ${timeoutMs} ms${this.lastError ? `: ${this.lastError}` : ""}`)), timeoutMs);
      const offState = this.events.on("state", () => { if (this.open) done(); });
      const offFatal = this.events.on("fatal", (f) => done(new Error(`IB session gave up: ${f.message}`)));
    });
  }

  /** Queues a request (reqMktData, reqContractDetails, …) for the paced send; rejects at once when not usable. */
  request(label: string, send: (api: IBApi) => void): Promise<void> {
    return this.enqueue("request", label, send);
  }

  /** Queues a cancel, which is sent before any waiting request. */
  cancel(label: string, send: (api: IBApi) => void): Promise<void> {
    return this.enqueue("cancel", label, send);
  }

  private enqueue(lane: "request" | "cancel", label: string, send: (api: IBApi) => void): Promise<void> {
    const api = this.api;
    if (!this.open || !api) return Promise.reject(new PacingError("IB_DISCONNECTED", `${label} not sent: IB session is ${this.current}`));
    return this.pacing.enqueue(lane, label, () => {
      // A request queued on a connection that has since been replaced must not go to the new one.
      if (api !== this.api) throw new Error("connection replaced");
      send(api);
    });
  }

  /** Listens to a @stoqey/ib event on this and every later API connection; returns the remover. */
  onIb(event: EventName, handler: (...args: never[]) => void): () => void {
    const entry: [EventName, IbListener] = [event, handler];
    this.listeners.push(entry);
    if (this.api) untyped(this.api).on(event, handler);
    return () => {
      const i = this.listeners.indexOf(entry);
      if (i >= 0) this.listeners.splice(i, 1);
      if (this.api) untyped(this.api).off(event, handler);
    };
  }

  /** A fresh request id (ticker ids, contract detail requests, …). */
  nextRequestId(): number {
    if (this.requestId >= 2_147_483_646) throw new Error("ib session: request ids exhausted");
    return ++this.requestId;
  }

  /** The next order id: max(our high-water mark, TWS's nextValidId), so ids are never reused after a gateway restart. */
  nextOrderId(): number {
    const id = Math.max(this.orderIdHwm, this.serverNextOrderId);
    if (id <= 0) throw new Error("ib session: no order id yet (nextValidId not received)");
    this.orderIdHwm = id + 1;
    return id;
  }

  /** Raises the high-water mark past an order id known to be used (from the journal or open orders). */
  observeOrderId(orderId: number): void {
    this.orderIdHwm = Math.max(this.orderIdHwm, orderId + 1);
  }

  private where(): string {
    return `${this.options.host}:${this.options.port} as client ${this.clientId}`;
  }

  private setState(to: SessionState, reason: string): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    this.currentReason = reason;
    this.currentSinceMs = Date.now();
    this.stats.stateChanges++;
    this.log.info("ib session state", { from, to, reason });
    this.events.emit("state", { from, to, reason, atMs: this.currentSinceMs });
  }

  private connect(): void {
    this.clearTimers();
    this.stats.attempts++;
    this.clientIdRefused = false;
    const api = new IBApi({ host: this.options.host, port: this.options.port, maxReqPerSec: CLIENT_LIMITER_PER_S });
    this.api = api;
    api.on(EventName.nextValidId, (id: number) => api === this.api && this.onNextValidId(id));
    api.on(EventName.disconnected, () => api === this.api && this.onSocketLost(api, "socket closed"));
    api.on(EventName.error, (err: Error, code: number, reqId: number) => api === this.api && this.onMessage(code, err.message, reqId));
    api.on(EventName.info, (message: string, code: number) => api === this.api && this.onMessage(code, message, -1));
    for (const [event, fn] of this.listeners) untyped(api).on(event, fn);
    this.setState(this.everReady || this.failures > 0 ? "reconnecting" : "connecting", `connecting to ${this.where()}`);
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null;
      this.lastError = `no nextValidId within ${timeoutMs} ms`;
      api.disconnect();
      this.onSocketLost(api, this.lastError);
    }, timeoutMs);
    api.connect(this.clientId);
  }

  private onNextValidId(orderId: number): void {
    this.serverNextOrderId = orderId;
    if (this.open) return; // a reply to reqIds, not a new connection
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    this.open = true;
    this.failures = 0;
    this.stats.connects++;
    const reconnect = this.everReady;
    this.everReady = true;
    this.lastError = "";
    this.pacing.resume();
    this.recompute(`nextValidId ${orderId} on ${this.where()}`);
    this.events.emit("ready", { reconnect, clientId: this.clientId });
  }

  private recompute(reason: string): void {
    if (this.open) this.setState(this.cond.state(Date.now(), this.options.reauthAfterMs ?? 120_000), reason);
  }

  private onSocketLost(api: IBApi, reason: string): void {
    if (api !== this.api) return;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    api.removeAllListeners();
    this.api = null;
    if (this.open) this.stats.socketLosses++;
    this.open = false;
    this.cond.reset();
    this.clearReauthTimer();
    this.pacing.pause();
    this.pacing.clear("IB_DISCONNECTED", `connection lost (${reason})`);
    if (this.stopping) return this.setState("disconnected", reason);
    if (this.clientIdRefused && !this.recoverClientId()) return;
    const delay = backoffDelayMs(this.failures++, this.options.backoff, this.random);
    this.setState("reconnecting", `${this.clientIdRefused ? "client id in use" : this.lastError || reason}; retry in ${Math.round(delay)} ms`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopping) this.connect();
    }, delay);
  }

  /** Applies the configured 326 recovery; false when the session gives up. */
  private recoverClientId(): boolean {
    const mode = this.options.clientIdInUse ?? "retry";
    const maxOffset = this.options.maxClientIdOffset ?? 8;
    if (mode === "increment" && this.clientIdOffset < maxOffset) {
      this.clientIdOffset++;
      return true;
    }
    if (mode === "retry") return true;
    const message = mode === "fail" ? `client id ${this.clientId} is in use` : `client ids ${this.options.clientId}..${this.clientId} are all in use`;
    this.stopping = true;
    this.lastError = message;
    this.setState("disconnected", message);
    this.events.emit("fatal", { code: IbCode.ClientIdInUse, message });
    return false;
  }

  private onMessage(code: number, message: string, reqId: number): void {
    const farm = farmStatus(code, message);
    if (farm) {
      // TWS reports farms as they reconnect; an OK means the TWS–server link works again.
      this.cond.farm(farm);
      this.events.emit("farm", farm);
      return this.recompute(`${code} ${message}`);
    }
    switch (code) {
      case IbCode.ConnectivityLost:
        this.cond.connectivityLost(Date.now());
        this.armReauthTimer();
        return this.recompute("1100 connectivity between IB and TWS lost");
      case IbCode.RestoredDataLost:
      case IbCode.RestoredDataKept:
        this.cond.restored();
        this.clearReauthTimer();
        this.recompute(`${code} connectivity restored`);
        return this.events.emit("restored", { dataLost: code === IbCode.RestoredDataLost });
      case IbCode.ServerConnectivityBroken:
        this.cond.serverConnectivityBroken();
        return this.recompute("2110 TWS-server connectivity broken");
      case IbCode.CompetingLiveSession:
        // Per market data request; the feed hears it too (requestError) and subscribes again later.
        if (!this.cond.competing) this.log.error("ib market data taken by a competing live session (10197): log the other session out", { message });
        this.cond.competing = `10197 ${message}`;
        this.recompute(this.cond.competing);
        break;
      case IbCode.ClientIdInUse:
        this.clientIdRefused = true;
        this.stats.clientIdRefusals++;
        this.lastError = `326 client id ${this.clientId} in use`;
        return this.log.warn("client id in use", { clientId: this.clientId });
      case IbCode.ConnectFail:
        this.lastError = `502 ${message}`;
        return this.log.warn("ib connect failed", { where: this.where(), message });
      case IbCode.NotConnected:
        return this.log.warn("ib send while not connected", { message });
      case IbCode.DecodeError:
        this.stats.decodeErrors++;
        return this.log.error("ib message could not be decoded", { message });
      case IbCode.MaxRateExceeded:
        this.stats.pacingViolations++;
        return this.log.error("ib pacing violation", { message });
    }
    if (reqId >= 0) this.events.emit("requestError", { reqId, code, message });
    else this.log.info("ib message", { code, message });
  }

  /** After 1100, re-reads the state once reauthAfterMs has passed without a restore. */
  private armReauthTimer(): void {
    if (this.reauthTimer) return;
    const afterMs = this.options.reauthAfterMs ?? 120_000;
    this.reauthTimer = setTimeout(() => {
      this.reauthTimer = null;
      this.recompute(`1100 and no 1101/1102 for ${Math.round(afterMs / 1000)} s: the login may be waiting for re-authentication`);
    }, afterMs);
    (this.reauthTimer as { unref?: () => void }).unref?.();
  }

  private clearReauthTimer(): void {
    if (this.reauthTimer) clearTimeout(this.reauthTimer);
    this.reauthTimer = null;
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.retryTimer = this.connectTimer = null;
    this.clearReauthTimer();
  }
}
