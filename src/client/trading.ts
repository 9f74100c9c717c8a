// TradingClient: order entry and account topics over /ws, on top of a MarketClient that
// authenticates every connection with the key. Replies are matched by request id; pushes of
// watched accounts (orders, fills, positions, accounts, risk) and of the alerts and broker-session
// topics go to listeners. After a reconnect the
// MarketClient re-authenticates first, then this client watches its accounts again (which
// sends a fresh snapshot), so a strategy keeps its view without doing anything.
//
// Idempotency: placeOrder() always sends a clientOrderId (one is generated when absent). When
// the connection drops before the reply, the outcome is unknown, so it sends the same order
// again once reconnected: the server answers a repeated id with the original order instead of
// placing a second one.

import { addListener, MarketClient, ClientError, type MarketClientOptions, type Push } from "./client.ts";
import type {
  AccountView, AlertFrame, AlertsFrame, AlertView, FillView, NewOrder, OrderChanges, OrderFrame, OrderPreview, OrderView, PositionView, PreviewFrame, RiskView,
  SessionFrame, WatchingFrame,
} from "./protocol.ts";

/** Options of TradingClient.connect(): those of MarketClient, with the key required. */
export interface TradingClientOptions extends MarketClientOptions {
  key: string;
  /** Times placeOrder() re-sends after a lost connection (same clientOrderId); default 3. */
  placeRetries?: number;
}

/** A new order whose clientOrderId may be left for the client to generate. */
export type OrderInput = Omit<NewOrder, "clientOrderId"> & { clientOrderId?: string };

let counter = 0;

/** A fresh client order id: prefix (1 … 32 of A-Z a-z 0-9 . _ : -), time, a random part and a counter; at most 60 characters. */
export function newClientOrderId(prefix = "c"): string {
  if (!/^[A-Za-z0-9._:-]{1,32}$/.test(prefix)) throw new RangeError(`a client order id prefix is 1 to 32 of A-Z a-z 0-9 . _ : -, got ${JSON.stringify(prefix)}`);
  const rand = Math.floor(Math.random() * 36 ** 6).toString(36);
  return `${prefix}-${Date.now().toString(36)}-${rand}-${(++counter).toString(36)}`;
}

type Listener<T> = (value: T) => void;

/** Order entry over WebSocket; see the file comment. */
export class TradingClient {
  private readonly watched = new Set<string>();
  private readonly listeners = { order: [] as Listener<OrderView>[], fill: [] as Listener<FillView>[],
    position: [] as Listener<PositionView>[], account: [] as Listener<AccountView>[], error: [] as Listener<ClientError>[],
    risk: [] as Listener<RiskView>[], alert: [] as Listener<AlertFrame>[], session: [] as Listener<SessionFrame>[] };
  private alertsOn = false;
  private sessionOn = false;

  private constructor(readonly market: MarketClient, private readonly placeRetries: number) {
    market.onPush((f) => this.dispatch(f));
    market.onOpen((reconnected) => {
      if (!reconnected) return;
      const again = (what: string, p: Promise<unknown>) => p.catch((e: ClientError) => {
        for (const l of this.listeners.error) l(new ClientError(e.code, `${what} after reconnect failed: ${e.message}`, e.field, e.id));
      });
      if (this.watched.size > 0) again("re-watch", this.market.call({ op: "watch", accounts: [...this.watched] }));
      if (this.alertsOn) again("alerts re-subscribe", this.market.call({ op: "alerts.subscribe" }));
      if (this.sessionOn) again("session re-subscribe", this.market.call({ op: "session.subscribe" }));
    });
  }

  /** Connects to `url` (ws://…/ws) and authenticates; rejects with UNAUTHORIZED for a bad key. */
  static async connect(url: string, opts: TradingClientOptions): Promise<TradingClient> {
    const market = await MarketClient.connect(url, opts);
    return new TradingClient(market, opts.placeRetries ?? 3);
  }

  /** Scopes and accounts of the key, as the server announced them. */
  get authed(): { scopes: string[]; accounts: string[] } | undefined {
    return this.market.authed;
  }

  /** Places an order; a repeated clientOrderId returns the original order, never a second one. */
  async placeOrder(input: OrderInput): Promise<OrderView> {
    const order: NewOrder = { ...input, clientOrderId: input.clientOrderId ?? newClientOrderId() };
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.market.call<OrderFrame>({ op: "submit", order })).order;
      } catch (e) {
        if (!(e instanceof ClientError) || e.code !== "DISCONNECTED" || attempt >= this.placeRetries) throw e;
      }
    }
  }

  /** Previews an order over the socket: what placeOrder() would meet; nothing is placed. */
  async previewOrder(input: OrderInput): Promise<OrderPreview> {
    const order: NewOrder = { ...input, clientOrderId: input.clientOrderId ?? newClientOrderId() };
    return (await this.market.call<PreviewFrame>({ op: "preview", order })).preview;
  }

  /** Changes quantity or prices of a working order; resolves with the order after the broker's answer. */
  async modifyOrder(orderId: string, changes: OrderChanges): Promise<OrderView> {
    return (await this.market.call<OrderFrame>({ op: "modify", orderId, changes })).order;
  }

  /** Asks to cancel an order; resolves with the order after the broker's answer. */
  async cancelOrder(orderId: string): Promise<OrderView> {
    return (await this.market.call<OrderFrame>({ op: "cancel", orderId })).order;
  }

  /** Starts pushes for accounts (kept across reconnects); resolves with every account watched now. */
  async watch(accounts: string[]): Promise<string[]> {
    const reply = await this.market.call<WatchingFrame>({ op: "watch", accounts });
    for (const a of accounts) this.watched.add(a);
    return reply.accounts;
  }

  /** Stops pushes for accounts; resolves with the accounts still watched. */
  async unwatch(accounts: string[]): Promise<string[]> {
    const reply = await this.market.call<WatchingFrame>({ op: "unwatch", accounts });
    for (const a of accounts) this.watched.delete(a);
    return reply.accounts;
  }

  /** Order states pushed on watched accounts (keep the highest `version` per order). */
  onOrder(cb: Listener<OrderView>): () => void {
    return addListener(this.listeners.order, cb);
  }

  /** Fills on watched accounts, each once durable. */
  onFill(cb: Listener<FillView>): () => void {
    return addListener(this.listeners.fill, cb);
  }

  /** A position after each fill on a watched account. */
  onPosition(cb: Listener<PositionView>): () => void {
    return addListener(this.listeners.position, cb);
  }

  /** Account values: on watch, and after fills (at most once per account per commit). */
  onAccount(cb: Listener<AccountView>): () => void {
    return addListener(this.listeners.account, cb);
  }

  /** Each watched account's risk, at the server's publish cadence (100 ms). */
  onRisk(cb: Listener<RiskView>): () => void {
    return addListener(this.listeners.risk, cb);
  }

  /** Subscribes to the alerts topic (kept across reconnects); resolves with the alerts active now. */
  async subscribeAlerts(): Promise<AlertView[]> {
    const reply = await this.market.call<AlertsFrame>({ op: "alerts.subscribe" });
    this.alertsOn = true;
    return reply.alerts;
  }

  /** Alert transitions (raised, escalated, deescalated, acknowledged, resolved) once subscribed. */
  onAlert(cb: Listener<AlertFrame>): () => void {
    return addListener(this.listeners.alert, cb);
  }

  /** Acknowledges an alert (admin key); resolves with the alert after it. */
  async ackAlert(alertId: number): Promise<AlertView> {
    return (await this.market.call<AlertFrame>({ op: "alerts.ack", alertId })).alert;
  }

  /** Subscribes to the broker session topic (kept across reconnects); resolves with its state now. */
  async subscribeSession(): Promise<SessionFrame> {
    const reply = await this.market.call<SessionFrame>({ op: "session.subscribe" });
    this.sessionOn = true;
    return reply;
  }

  /** Broker session changes (IB connection state, data farms) once subscribed. */
  onSession(cb: Listener<SessionFrame>): () => void {
    return addListener(this.listeners.session, cb);
  }

  /** Errors no request is waiting for: a refused auth or re-watch after a reconnect, giving up reconnecting. */
  onError(cb: Listener<ClientError>): () => void {
    const offMarket = this.market.onError(cb);
    const offOwn = addListener(this.listeners.error, cb);
    return () => (offMarket(), offOwn());
  }

  /** Closes the connection for good. */
  async close(): Promise<void> {
    await this.market.close();
  }

  /** Lets `await using trader = await TradingClient.connect(...)` close it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private dispatch(f: Push): void {
    switch (f.t) {
      case "risk":
        for (const l of this.listeners.risk) l(f.risk);
        return;
      case "alert":
        for (const l of this.listeners.alert) l(f);
        return;
      case "session":
        for (const l of this.listeners.session) l(f);
        return;
      case "order":
        for (const l of this.listeners.order) l(f.order);
        return;
      case "fill":
        for (const l of this.listeners.fill) l(f.fill);
        return;
      case "position":
        for (const l of this.listeners.position) l(f.position);
        return;
      case "account":
        for (const l of this.listeners.account) l(f.account);
        return;
    }
  }
}
