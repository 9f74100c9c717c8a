// RestClient: typed calls of the order, account, key and performance routes of the REST API
// (docs/protocol.md, "Orders and accounts"). Every error reply becomes a ClientError with the
// server's code, message, field and HTTP status; a network failure is CONNECT_FAILED and a
// request past its bound is TIMEOUT.
//
// Idempotency: placeOrder() always sends a clientOrderId (generated when absent). When the
// request fails without an answer (network, timeout) or the journal asks to retry later, it
// sends the same order again: a repeated id returns the original order, never a second one.

import { ClientError, type ClientErrorCode } from "./client.ts";
import type {
  AccountPerformance, AccountView, CalcResult, CalcRow, CandidatesReply, Chain, ChainExpiries, ChainFilter, ChainIv, FillView, OrderChanges, OrderPreview, OrderView, Page,
  PositionView, RestErrorBody,
} from "./protocol.ts";
import { newClientOrderId, type OrderInput } from "./trading.ts";

/** Options of a RestClient. */
export interface RestClientOptions {
  /** API key sent as Authorization: Bearer. */
  key?: string;
  /** Bound on one request. */
  requestTimeoutMs?: number;
  /** Times placeOrder() re-sends the same order after a failure without an answer; default 3. */
  placeRetries?: number;
  /** First pause before a re-send, doubled each time. */
  retryDelayMs?: number;
}

/** Filters of listOrders(). */
export interface OrderQuery {
  account?: string;
  status?: OrderView["status"];
  /** true: working orders only; false: finished ones only. */
  open?: boolean;
  symbol?: string;
  offset?: number;
  /** 1 … the server's maxRestRows. */
  limit?: number;
}

/** An order with its journaled events (getOrder with events). */
export interface OrderWithEvents extends OrderView {
  events: { seq: number; ts: number; kind: string; status: OrderView["status"]; detail: Record<string, unknown> | null }[];
}

/** An API key as the admin routes show it (never its secret). */
export interface KeyInfo {
  id: string;
  scopes: ("read" | "trade" | "admin")[];
  /** Accounts a trade key may act on; ["*"] for all. */
  accounts: string[];
  label: string;
  createdTs: number;
  revokedTs: number | null;
}

/** Codes worth sending the same order again for: the outcome is unknown, or the server asked to retry. */
const RETRYABLE = new Set<ClientErrorCode>(["CONNECT_FAILED", "TIMEOUT", "JOURNAL_FULL"]);

/** A client of the REST API; see the file comment. */
export class RestClient {
  private readonly base: string;

  constructor(baseUrl: string, private readonly opts: RestClientOptions = {}) {
    this.base = baseUrl.replace(/\/+$/, "");
  }

  /** Places an order; `created` is false when the clientOrderId had been used (the original is returned). */
  async placeOrder(input: OrderInput): Promise<{ order: OrderView; created: boolean }> {
    const body = { ...input, clientOrderId: input.clientOrderId ?? newClientOrderId() };
    const retries = this.opts.placeRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      try {
        const { status, json } = await this.send<OrderView>("POST", "/v1/orders", body);
        return { order: json, created: status === 201 };
      } catch (e) {
        if (!(e instanceof ClientError) || !RETRYABLE.has(e.code) || attempt >= retries) throw e;
        await new Promise((r) => setTimeout(r, (this.opts.retryDelayMs ?? 50) * 2 ** attempt));
      }
    }
  }

  /** Previews an order: what a placeOrder() of it would meet (validation, risk checks, the account after the fill); nothing is placed. */
  async previewOrder(input: OrderInput): Promise<OrderPreview> {
    const body = { ...input, clientOrderId: input.clientOrderId ?? newClientOrderId() };
    return (await this.send<OrderPreview>("POST", "/v1/orders/preview", body)).json;
  }

  /** The expiries (YYYY-MM-DD) of the options on an underlying, and its spot. */
  async chainExpiries(underlying: string): Promise<ChainExpiries> {
    return (await this.send<ChainExpiries>("GET", `/v1/chains/${encodeURIComponent(underlying)}`)).json;
  }

  /** One option chain (expiry YYYY-MM-DD) with live IV and greeks, optionally one right and an |delta| band. */
  async chain(underlying: string, expiry: string, filter: ChainFilter = {}): Promise<Chain & ChainIv> {
    return (await this.send<Chain & ChainIv>("GET", `/v1/chains/${encodeURIComponent(underlying)}/${encodeURIComponent(expiry)}${query(filter)}`)).json;
  }

  /** The account's preset legs in its delta band for an expiry (YYYY-MM-DD; the next one when absent), sized and previewed; nothing is placed. */
  async candidates(account: string, underlying: string, expiry?: string): Promise<CandidatesReply> {
    return (await this.send<CandidatesReply>("GET", `/v1/strategy/candidates${query({ account, underlying, expiry })}`)).json;
  }

  /** Prices rows at a vol, or solves their implied vol from a price (at most 1,024 rows). */
  async calcGreeks(rows: CalcRow[]): Promise<CalcResult[]> {
    return (await this.send<{ rows: CalcResult[] }>("POST", "/v1/greeks/calc", { rows })).json.rows;
  }

  /** Changes quantity or prices of a working order. */
  async modifyOrder(id: string, changes: OrderChanges): Promise<OrderView> {
    return (await this.send<OrderView>("PATCH", `/v1/orders/${encodeURIComponent(id)}`, changes)).json;
  }

  /** Asks to cancel an order. */
  async cancelOrder(id: string): Promise<OrderView> {
    return (await this.send<OrderView>("DELETE", `/v1/orders/${encodeURIComponent(id)}`)).json;
  }

  /** One order. */
  async getOrder(id: string): Promise<OrderView> {
    return (await this.send<OrderView>("GET", `/v1/orders/${encodeURIComponent(id)}`)).json;
  }

  /** One order with its journaled events. */
  async getOrderEvents(id: string): Promise<OrderWithEvents> {
    return (await this.send<OrderWithEvents>("GET", `/v1/orders/${encodeURIComponent(id)}?events=true`)).json;
  }

  /** One page of orders, newest first. */
  async listOrders(q: OrderQuery = {}): Promise<Page & { orders: OrderView[] }> {
    return (await this.send<Page & { orders: OrderView[] }>("GET", `/v1/orders${query(q)}`)).json;
  }

  /** The accounts the key may see. */
  async accounts(): Promise<AccountView[]> {
    return (await this.send<{ accounts: AccountView[] }>("GET", "/v1/accounts")).json.accounts;
  }

  /** One account valued now. */
  async account(id: string): Promise<AccountView> {
    return (await this.send<AccountView>("GET", `/v1/accounts/${encodeURIComponent(id)}`)).json;
  }

  /** An account's non-flat positions. */
  async positions(account: string): Promise<PositionView[]> {
    return (await this.send<{ positions: PositionView[] }>("GET", `/v1/accounts/${encodeURIComponent(account)}/positions`)).json.positions;
  }

  /** One page of an account's fills, newest first. */
  async fills(account: string, page: { offset?: number; limit?: number } = {}): Promise<Page & { fills: FillView[] }> {
    return (await this.send<Page & { fills: FillView[] }>("GET", `/v1/accounts/${encodeURIComponent(account)}/fills${query(page)}`)).json;
  }

  /** An account's trading performance: equity curve, daily P&L, ratios, drawdown, trades, slippage, fill latency. */
  async performance(account: string): Promise<AccountPerformance> {
    return (await this.send<AccountPerformance>("GET", `/v1/analytics/accounts/${encodeURIComponent(account)}/performance`)).json;
  }

  /** One page of API keys, revoked ones included (admin key). */
  async listKeys(page: { offset?: number; limit?: number } = {}): Promise<Page & { keys: KeyInfo[] }> {
    return (await this.send<Page & { keys: KeyInfo[] }>("GET", `/v1/admin/keys${query(page)}`)).json;
  }

  /** Creates an API key (admin key); `secret` is the full key, shown this once. */
  async createKey(spec: { scopes: KeyInfo["scopes"]; accounts?: string[]; label?: string }): Promise<{ key: KeyInfo; secret: string }> {
    return (await this.send<{ key: KeyInfo; secret: string }>("POST", "/v1/admin/keys", spec)).json;
  }

  /** Revokes an API key (admin key); its REST calls get 401 and its WebSocket sessions are closed with 4001. */
  async revokeKey(id: string): Promise<KeyInfo> {
    return (await this.send<{ key: KeyInfo }>("DELETE", `/v1/admin/keys/${encodeURIComponent(id)}`)).json.key;
  }

  /** Sends one request; resolves with the status and decoded body of a 2xx reply, else throws a ClientError. */
  async send<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
    const headers: Record<string, string> = {};
    if (this.opts.key !== undefined) headers.authorization = `Bearer ${this.opts.key}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const timeoutMs = this.opts.requestTimeoutMs ?? 10_000;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const timedOut = (e as Error).name === "TimeoutError";
      throw new ClientError(timedOut ? "TIMEOUT" : "CONNECT_FAILED", timedOut ? `no reply to ${method} ${path} within ${timeoutMs} ms` : `${method} ${path}: ${(e as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ClientError("HTTP", `${method} ${path}: HTTP ${res.status} with a body that is not JSON`, undefined, undefined, res.status);
    }
    if (!res.ok) {
      const err = (json as Partial<RestErrorBody>).error;
      if (!err) throw new ClientError("HTTP", `${method} ${path}: HTTP ${res.status}`, undefined, undefined, res.status);
      throw new ClientError(err.code, err.message, err.field, undefined, res.status);
    }
    return { status: res.status, json: json as T };
  }
}

/** A query string of the defined values, "" when there are none. */
function query(q: object): string {
  const parts = Object.entries(q as Record<string, string | number | boolean | undefined>).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}
