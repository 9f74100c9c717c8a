// The dashboard's keyed session: its own connection to /ws that authenticates with the
// operator's API key (the `auth` op, since a browser cannot set headers on a WebSocket and the
// key must never be put in the URL), plus REST calls with `Authorization: Bearer`. It is kept
// apart from the quotes connection so the market panels work with no key at all, and because
// it needs frames the quote client does not deliver (risk, alerts). After a dropped connection
// it redials with back-off and authenticates again; `onReady` then lets the panels watch their
// accounts and subscribe to alerts afresh, taking the new snapshots as the truth.

import type { AccountView, FillView, NewOrder, OrderView, PositionView, RiskView } from "../../client/protocol.ts";
import type { Alert, TransitionType } from "../../monitor/alert-types.ts";

/** A refused request: the server's code and message (and HTTP status for REST). */
export class ApiError extends Error {
  constructor(readonly code: string, message: string, readonly status?: number) {
    super(message);
    this.name = "ApiError";
  }
}

/** What the session reports to the page. */
export interface SessionHandlers {
  /** Authenticated on a (new) connection: the key's scopes and accounts. */
  ready(scopes: string[], accounts: string[]): void;
  account(a: AccountView): void;
  order(o: OrderView): void;
  fill(f: FillView): void;
  position(p: PositionView): void;
  risk(r: RiskView): void;
  alert(event: TransitionType, a: Alert): void;
  /** Connection state for the header: text, and whether it is healthy. */
  state(text: string, ok: boolean): void;
  /** The key was refused or revoked: the session has stopped for good. */
  refused(message: string): void;
}

interface Pending {
  resolve: (f: Frame) => void;
  reject: (e: ApiError) => void;
  timer: ReturnType<typeof setTimeout>;
}

type Frame = { t: string; id?: number; [k: string]: unknown };

const REQUEST_TIMEOUT_MS = 10_000;
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 5000;
/** Close code of a connection whose key was revoked (docs/protocol.md, close codes). */
const KEY_REVOKED = 4001;

/** One keyed session; see the file comment. */
export class TradingSession {
  private ws: WebSocket | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private retryMs = RETRY_FIRST_MS;
  private stopped = false;
  private lastFrameMs = 0;
  private watchdog: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly wsUrl: string, private readonly key: string, private readonly h: SessionHandlers) {}

  /** Dials the server; `ready` follows each successful authentication. */
  start(): void {
    if (this.stopped) return;
    this.h.state("connecting", false);
    const ws = new WebSocket(`${this.wsUrl}?format=json`);
    this.ws = ws;
    ws.onmessage = (e) => { if (this.ws === ws) this.onFrame(JSON.parse(String(e.data)) as Frame); };
    ws.onclose = (e) => { if (this.ws === ws) this.onClose(e.code); };
  }

  /** Closes for good (the key was forgotten). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.watchdog);
    this.failPending(new ApiError("CLOSED", "session closed"));
    const ws = this.ws;
    this.ws = undefined;
    ws?.close(1000, "key forgotten");
  }

  /** Sends a request over /ws and resolves with the frame that answers its id. */
  call(body: Record<string, unknown>): Promise<Frame> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new ApiError("DISCONNECTED", "not connected; retrying"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ApiError("TIMEOUT", `no reply to ${String(body.op)} within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      ws.send(JSON.stringify({ ...body, id }));
    });
  }

  /** Places an order through the WS `submit` op; a denial comes back as an order with status denied. */
  async submit(order: NewOrder): Promise<OrderView> {
    return (await this.call({ op: "submit", order })).order as OrderView;
  }

  /** Cancels an order through the WS `cancel` op. */
  async cancel(orderId: string): Promise<OrderView> {
    return (await this.call({ op: "cancel", orderId })).order as OrderView;
  }

  /** Starts pushes of accounts, risk included; the server follows with a snapshot. */
  async watch(accounts: string[]): Promise<void> {
    await this.call({ op: "watch", accounts });
  }

  /** Subscribes to the alerts topic; resolves with every active alert, oldest first. */
  async subscribeAlerts(): Promise<Alert[]> {
    return (await this.call({ op: "alerts.subscribe" })).alerts as Alert[];
  }

  /** A REST call with the key as a Bearer token; an error reply becomes an ApiError. */
  async rest<T>(method: string, path: string): Promise<T> {
    const res = await fetch(path, { method, headers: { authorization: `Bearer ${this.key}` } });
    const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
    if (!res.ok) throw new ApiError(body?.error?.code ?? "HTTP", body?.error?.message ?? `HTTP ${res.status}`, res.status);
    return body as T;
  }

  private onFrame(f: Frame): void {
    this.lastFrameMs = performance.now();
    const p = f.id === undefined ? undefined : this.pending.get(f.id);
    if (p) {
      this.pending.delete(f.id!);
      clearTimeout(p.timer);
      if (f.t === "error") p.reject(new ApiError(String(f.code), String(f.message)));
      else p.resolve(f);
    }
    switch (f.t) {
      case "welcome":
        this.retryMs = RETRY_FIRST_MS;
        this.startWatchdog(f.heartbeatMs as number);
        void this.authenticate();
        return;
      // A reply order frame is also the order's newest state: panels keep the highest version.
      case "order": return this.h.order(f.order as OrderView);
      case "fill": return this.h.fill(f.fill as FillView);
      case "position": return this.h.position(f.position as PositionView);
      case "account": return this.h.account(f.account as AccountView);
      case "risk": return this.h.risk(f.risk as RiskView);
      case "alert":
        if (f.event) this.h.alert(f.event as TransitionType, f.alert as Alert);
        return;
      case "error":
        if (!p) this.h.state(`error: ${String(f.message)}`, false);
        return;
    }
  }

  private async authenticate(): Promise<void> {
    try {
      const authed = await this.call({ op: "auth", key: this.key });
      this.h.state("authenticated", true);
      this.h.ready(authed.scopes as string[], authed.accounts as string[]);
    } catch (e) {
      const err = e as ApiError;
      if (err.code === "UNAUTHORIZED") return this.refuse(`the key was refused: ${err.message}`);
      this.h.state(`auth failed: ${err.message}`, false);
    }
  }

  private refuse(message: string): void {
    this.stop();
    this.h.refused(message);
  }

  private onClose(code: number): void {
    this.ws = undefined;
    clearInterval(this.watchdog);
    this.failPending(new ApiError("DISCONNECTED", "connection lost before the reply"));
    if (this.stopped) return;
    if (code === KEY_REVOKED) return this.refuse("the key was revoked");
    this.h.state("reconnecting", false);
    setTimeout(() => this.start(), this.retryMs);
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
  }

  /** Treats three heartbeat intervals of silence as a dead connection, as MarketClient does. */
  private startWatchdog(heartbeatMs: number): void {
    clearInterval(this.watchdog);
    this.lastFrameMs = performance.now();
    this.watchdog = setInterval(() => {
      if (performance.now() - this.lastFrameMs <= 3 * heartbeatMs) return;
      const ws = this.ws;
      if (!ws) return;
      this.ws = undefined;
      ws.close(4000, "heartbeat timeout");
      this.onClose(4000);
    }, heartbeatMs);
  }

  private failPending(err: ApiError): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}
