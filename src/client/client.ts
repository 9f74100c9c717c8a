// MarketClient: a typed client for /ws. Works wherever a standard WebSocket exists (Bun,
// browsers, Node 22+). It resolves requests by their ack, detects sequence gaps per symbol,
// watches heartbeats, and reconnects with bounded exponential back-off and jitter, replaying
// the subscriptions the server had confirmed. Given several URLs (edges of one core) it fails
// over round-robin (redial.ts); the seq is the core's on every edge, so the updates missed while
// away are reported as a gap when the new connection's snapshot arrives. With a key it authenticates first on every
// connection, so order requests (trading.ts builds on call() and onPush()) and keyed market
// data work across reconnects. The requests in flight are kept by pending-requests.ts and the
// frames encoded and decoded by frame-codec.ts.

import {
  CLOSE_CODES, type AckFrame, type AuthedFrame, type ClientRequest, type ErrorFrame,
  type OrderRequest, type QuoteFrame, type ServerFrame, type WelcomeFrame,
  type WireFormat, type ChainFrame, type ChainsFrame,
} from "./protocol.ts";
import {
  ClientError, Emitter, DEFAULT_RECONNECT, type ClientState, type ClientStats, type Gap, type Listener, type MarketClientOptions,
  type Push, type ReconnectPolicy, type Selection,
} from "./client-types.ts";
import { FrameCodec } from "./frame-codec.ts";
import { PendingRequests } from "./pending-requests.ts";
import { Redial } from "./redial.ts";
import { SeqTracker } from "./seq-tracker.ts";

export * from "./client-types.ts";

/** A connection to an alluse-market server; see the file comment. */
export class MarketClient {
  state: ClientState = "connecting";
  welcome: WelcomeFrame | undefined;
  /** The reply to the last auth (scopes and accounts of the key), when a key was given. */
  authed: AuthedFrame | undefined;
  readonly stats: ClientStats = { quotes: 0, gaps: 0, missedUpdates: 0, reconnects: 0, heartbeats: 0, lastHeartbeatTs: 0 };
  readonly format: WireFormat;
  private ws: WebSocket | undefined;
  private readonly redial: Redial;
  private readonly heartbeatMisses: number;
  private readonly key: string | undefined;
  /** The outcome of the current connection's auth: an error when it was refused. */
  private authResult: Promise<ClientError | undefined> | undefined;
  private readonly codec: FrameCodec;
  private readonly pending: PendingRequests;
  private readonly seqs = new SeqTracker();
  /** What the server confirmed, by the names the user gave: replayed after a reconnect. */
  private readonly wantedSymbols = new Set<string>();
  private readonly wantedUnderlyings = new Set<string>();
  private readonly quoteEvents = new Emitter<QuoteFrame>();
  private readonly gapEvents = new Emitter<Gap>();
  private readonly errorEvents = new Emitter<ClientError>();
  private readonly stateEvents = new Emitter<ClientState>();
  private readonly pushEvents = new Emitter<Push>();
  private readonly openEvents = new Emitter<boolean>();
  private openWaiters: { resolve: () => void; reject: (e: ClientError) => void }[] = [];
  /** Welcomes received; more than one means we reconnected. */
  private opens = 0;
  private lastFrameMs = 0;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(urls: string[], opts: MarketClientOptions) {
    this.format = opts.format ?? "json";
    this.codec = new FrameCodec(this.format);
    const policy: ReconnectPolicy | undefined = opts.reconnect === false ? undefined : { ...DEFAULT_RECONNECT, ...opts.reconnect };
    this.redial = new Redial(urls, policy);
    this.heartbeatMisses = opts.heartbeatMisses ?? 3;
    this.pending = new PendingRequests(opts.requestTimeoutMs ?? 10_000);
    this.key = opts.key;
  }

  /**
   * Connects to `url` (a ws:// URL of /ws), or to the first of `urls` that answers (tried in
   * order, round-robin, with the back-off), and resolves once the server's welcome arrived.
   */
  static async connect(url: string | string[], opts: MarketClientOptions = {}): Promise<MarketClient> {
    const c = new MarketClient(Array.isArray(url) ? [...url] : [url], opts);
    const opened = c.whenOpen();
    c.open();
    await opened;
    const refused = await c.authResult;
    if (refused) {
      await c.close();
      throw refused;
    }
    return c;
  }

  /** The URL of the current connection (or the one being dialled). */
  get url(): string {
    return this.redial.url;
  }

  /** Every URL this client may connect to, in failover order. */
  get urls(): readonly string[] {
    return this.redial.urls;
  }

  /** Calls `cb` for every quote frame (snapshots included); returns a function that removes it. */
  onQuote(cb: Listener<QuoteFrame>): () => void {
    return this.quoteEvents.on(cb);
  }

  /** Calls `cb` when a symbol's seq jumps; returns a function that removes it. */
  onGap(cb: Listener<Gap>): () => void {
    return this.gapEvents.on(cb);
  }

  /** Calls `cb` for errors no request is waiting for (failed resubscribe, gave up reconnecting). */
  onError(cb: Listener<ClientError>): () => void {
    return this.errorEvents.on(cb);
  }

  /** Calls `cb` on every state change; returns a function that removes it. */
  onState(cb: Listener<ClientState>): () => void {
    return this.stateEvents.on(cb);
  }

  /** Calls `cb` for frames pushed on watched accounts (order, fill, position, account, risk) and on the alerts and session topics. */
  onPush(cb: Listener<Push>): () => void {
    return this.pushEvents.on(cb);
  }

  /** Calls `cb(reconnected)` on every welcome, after the auth request and before resubscribing. */
  onOpen(cb: Listener<boolean>): () => void {
    return this.openEvents.on(cb);
  }

  /** Sends an order-entry request; resolves with the reply frame carrying its id, rejects with the server's error. */
  async call<F extends ServerFrame = ServerFrame>(body: OrderRequest): Promise<F> {
    return (await this.request(body)) as F;
  }

  /** Subscribes; resolves with the resolved symbols once acked, rejects with the server's error. */
  async subscribe(selection: Selection | string[]): Promise<string[]> {
    const sel = Array.isArray(selection) ? { symbols: selection } : selection;
    const ack = (await this.request({ op: "subscribe", ...sel }, sel)) as AckFrame;
    return ack.symbols;
  }

  /** Unsubscribes; resolves with the symbols no longer subscribed. */
  async unsubscribe(selection: Selection | string[]): Promise<string[]> {
    const sel = Array.isArray(selection) ? { symbols: selection } : selection;
    const ack = (await this.request({ op: "unsubscribe", ...sel }, sel)) as AckFrame;
    return ack.symbols;
  }

  /**
   * Streams one option chain (expiry YYYY-MM-DD): resolves with its snapshot; updates (changed
   * rows) arrive through onPush as chain frames. Not renewed after a reconnect: subscribe again.
   */
  async subscribeChain(underlying: string, expiry: string): Promise<ChainFrame> {
    return (await this.request({ op: "chain.subscribe", underlying, expiry })) as ChainFrame;
  }

  /** Stops streaming a chain; resolves with the chains still streamed. */
  async unsubscribeChain(underlying: string, expiry: string): Promise<ChainsFrame["chains"]> {
    return ((await this.request({ op: "chain.unsubscribe", underlying, expiry })) as ChainsFrame).chains;
  }

  /** Round trip to the server, in ms. */
  async ping(): Promise<number> {
    const t0 = performance.now();
    await this.request({ op: "ping" });
    return performance.now() - t0;
  }

  /** Closes for good: no reconnect; pending requests reject with CLOSED. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.setState("closed");
    this.stopTimers();
    this.pending.failAll(new ClientError("CLOSED", "client closed"));
    this.failOpenWaiters(new ClientError("CLOSED", "client closed"));
    const ws = this.ws;
    this.ws = undefined;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((r) => ws.addEventListener("close", () => r(), { once: true }));
    ws.close(1000, "client closed");
    await closed;
  }

  /** Lets `await using client = await MarketClient.connect(...)` close it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async request(body: ClientRequest, selection?: Selection): Promise<ServerFrame> {
    await this.whenOpen();
    return await this.pending.start(body, selection, (withId) => this.sendRaw(withId));
  }

  private sendRaw(body: ClientRequest): void {
    this.ws!.send(this.codec.encode(body));
  }

  private whenOpen(): Promise<void> {
    if (this.state === "open") return Promise.resolve();
    if (this.state === "closed") return Promise.reject(new ClientError("CLOSED", "client closed"));
    return new Promise((resolve, reject) => this.openWaiters.push({ resolve, reject }));
  }

  private open(): void {
    const sep = this.url.includes("?") ? "&" : "?";
    const ws = new WebSocket(`${this.url}${sep}format=${this.format}`);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onmessage = (e) => {
      if (this.ws === ws) this.onFrame(e.data);
    };
    ws.onclose = (e) => {
      if (this.ws === ws) this.onDisconnect(e.code);
    };
  }

  private onFrame(data: unknown): void {
    this.lastFrameMs = performance.now();
    const f = this.codec.decode(data);
    switch (f.t) {
      case "q":
        return this.onQuoteFrame(f);
      case "hb":
        this.stats.heartbeats++;
        this.stats.lastHeartbeatTs = f.ts;
        return;
      case "welcome":
        return this.onWelcome(f);
      case "ack":
      case "pong":
      case "authed":
      case "watching":
        return this.settle(f.id, f);
      case "order":
        // An order frame with the id of a request in flight is its reply; any other is a push.
        if (f.id !== undefined && this.pending.has(f.id)) return this.settle(f.id, f);
        return this.pushEvents.emit(f);
      case "fill":
      case "position":
      case "account":
      case "risk":
        return this.pushEvents.emit(f);
      case "alerts":
      case "preview":
      case "chains":
        return this.settle(f.id, f);
      case "chain":
        // The snapshot answers chain.subscribe; later frames are updates.
        if (f.id !== undefined && this.pending.has(f.id)) return this.settle(f.id, f);
        return this.pushEvents.emit(f);
      case "alert":
      case "session":
        // With the id of a request in flight it is the reply (ack, subscribe); otherwise a push.
        if ("id" in f && f.id !== undefined && this.pending.has(f.id)) return this.settle(f.id, f);
        return this.pushEvents.emit(f);
      case "error":
        return this.onErrorFrame(f);
    }
  }

  private onQuoteFrame(f: QuoteFrame): void {
    this.stats.quotes++;
    const gap = this.seqs.check(f);
    if (gap) this.emitGap(gap);
    this.quoteEvents.emit(f);
  }

  private onWelcome(f: WelcomeFrame): void {
    this.welcome = f;
    const reconnected = this.opens++ > 0;
    if (reconnected) this.stats.reconnects++;
    this.redial.opened();
    // Kept to compare with the snapshots the resubscribe brings (seq continuity across servers).
    this.seqs.reconnected();
    this.setState("open");
    this.startWatchdog(f.heartbeatMs);
    // Sent before anything else on this connection, so every later request is authenticated.
    if (this.key !== undefined) this.authResult = this.authenticate(this.key);
    this.openEvents.emit(reconnected);
    if (reconnected && (this.wantedSymbols.size > 0 || this.wantedUnderlyings.size > 0)) void this.resubscribe();
    const waiters = this.openWaiters;
    this.openWaiters = [];
    for (const w of waiters) w.resolve();
  }

  private async authenticate(key: string): Promise<ClientError | undefined> {
    try {
      this.authed = (await this.request({ op: "auth", key })) as AuthedFrame;
      return undefined;
    } catch (e) {
      this.errorEvents.emit(e as ClientError);
      return e as ClientError;
    }
  }

  /** Replays confirmed subscriptions; a name the new server does not know is dropped and reported. */
  private async resubscribe(): Promise<void> {
    for (let tries = this.wantedSymbols.size + this.wantedUnderlyings.size; tries > 0; tries--) {
      const symbols = [...this.wantedSymbols];
      const underlyings = [...this.wantedUnderlyings];
      if (symbols.length + underlyings.length === 0) return;
      try {
        await this.request({ op: "subscribe", symbols, underlyings });
        return;
      } catch (e) {
        const err = e as ClientError;
        this.errorEvents.emit(new ClientError(err.code, `resubscribe failed: ${err.message}`, err.field, err.id));
        const m = /^(symbols|underlyings)\[(\d+)\]$/.exec(err.field ?? "");
        if (err.code !== "UNKNOWN_SYMBOL" || !m) return;
        if (m[1] === "symbols") {
          this.wantedSymbols.delete(symbols[Number(m[2])]!);
          this.seqs.forget(symbols[Number(m[2])]!);
        }
        else this.wantedUnderlyings.delete(underlyings[Number(m[2])]!);
      }
    }
  }

  private settle(id: number | undefined, f: ServerFrame): void {
    const p = this.pending.take(id);
    if (!p) return;
    if (f.t === "ack" && p.selection) {
      const add = f.op === "subscribe";
      for (const s of p.selection.symbols ?? []) add ? this.wantedSymbols.add(s) : this.wantedSymbols.delete(s);
      for (const u of p.selection.underlyings ?? []) add ? this.wantedUnderlyings.add(u) : this.wantedUnderlyings.delete(u);
      if (!add) for (const s of f.symbols) { this.wantedSymbols.delete(s); this.seqs.forget(s); }
    }
    p.resolve(f);
  }

  private onErrorFrame(f: ErrorFrame): void {
    const err = new ClientError(f.code, f.message, f.field, f.id);
    const p = this.pending.take(f.id);
    if (!p) return this.errorEvents.emit(err);
    p.reject(err);
  }

  private onDisconnect(closeCode?: number): void {
    this.ws = undefined;
    this.stopTimers();
    this.pending.failAll(new ClientError("DISCONNECTED", "connection lost before the reply"));
    if (this.state === "closed") return;
    if (closeCode === CLOSE_CODES.keyRevoked) {
      // The server would refuse the same key again: stop rather than redial forever.
      const err = new ClientError("UNAUTHORIZED", "the API key was revoked", "key");
      this.setState("closed");
      this.failOpenWaiters(err);
      this.errorEvents.emit(err);
      return;
    }
    const redial = this.redial;
    if (!redial.canRetry) {
      const where = redial.urls.length === 1 ? redial.url : `every one of ${redial.urls.join(", ")}`;
      const err = new ClientError("CONNECT_FAILED", `connection to ${where} lost${redial.attempts > 0 ? ` after ${redial.attempts} attempts` : ""}`);
      this.setState("closed");
      this.failOpenWaiters(err);
      this.errorEvents.emit(err);
      return;
    }
    const delayMs = redial.next();
    this.setState("reconnecting");
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.state !== "closed") this.open();
    }, delayMs);
  }

  /** Declares the connection dead when no frame (heartbeats included) arrives for heartbeatMisses intervals. */
  private startWatchdog(heartbeatMs: number): void {
    clearInterval(this.watchdog);
    this.lastFrameMs = performance.now();
    const deadAfterMs = heartbeatMs * this.heartbeatMisses;
    this.watchdog = setInterval(() => {
      if (performance.now() - this.lastFrameMs <= deadAfterMs) return;
      const ws = this.ws;
      if (!ws) return;
      // Stop listening to the dead socket now rather than wait for a close handshake that may never come.
      this.ws = undefined;
      ws.close(4000, "heartbeat timeout");
      this.onDisconnect();
    }, heartbeatMs);
  }

  private stopTimers(): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private failOpenWaiters(err: ClientError): void {
    const waiters = this.openWaiters;
    this.openWaiters = [];
    for (const w of waiters) w.reject(err);
  }

  private emitGap(gap: Gap): void {
    this.stats.gaps++;
    this.stats.missedUpdates += gap.missed;
    this.gapEvents.emit(gap);
  }

  private setState(s: ClientState): void {
    if (this.state === s) return;
    this.state = s;
    this.stateEvents.emit(s);
  }
}
