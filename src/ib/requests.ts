// Request/response over the IB session: contract details (cached), option chain parameters and
// market data snapshots. Each request has its own id, collects its replies until the end
// marker, and settles exactly once: with the replies, with TWS's error for its id, with a
// timeout, or with IB_DISCONNECTED when the connection drops under it.

import { type Contract, type ContractDetails, EventName, type IBApi } from "@stoqey/ib";
import { isWarning } from "./codes.ts";
import type { IbSession } from "./session.ts";

/** A request that failed: TWS's code and message, or ours (timeout, disconnected, limit). */
export class IbRequestError extends Error {
  constructor(readonly code: number | "IB_TIMEOUT" | "IB_DISCONNECTED" | "IB_TOO_MANY", message: string) {
    super(message);
    this.name = "IbRequestError";
  }
}

/** One exchange's option chain parameters (securityDefinitionOptionParameter). */
export interface OptionChainParams {
  exchange: string;
  underConId: number;
  tradingClass: string;
  multiplier: number;
  expirations: string[];
  strikes: number[];
}

/** The prices a snapshot returned; absent when TWS sent none. */
export interface SnapshotPrices {
  bid?: number;
  ask?: number;
  last?: number;
  close?: number;
  /** True when TWS sent delayed tick types. */
  delayed: boolean;
}

/** Options of the request helper. */
export interface IbRequestsOptions {
  /** Time a request may take, from being queued to its end marker (default 15 000 ms; snapshots take up to 11 s at IB). */
  timeoutMs?: number;
  /** Most requests waiting for replies at once (default 256); more fail with IB_TOO_MANY. */
  maxPending?: number;
  /** Most cached contract detail answers (default 4096). */
  cacheEntries?: number;
}

interface Pending {
  label: string;
  onEvent: (event: string, args: unknown[]) => void;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Tick types that carry a snapshot price, live and delayed. */
const PRICE_TICKS: Readonly<Record<number, keyof Omit<SnapshotPrices, "delayed">>> = { 1: "bid", 2: "ask", 4: "last", 9: "close", 66: "bid", 67: "ask", 68: "last", 75: "close" };

/** Request/response helper bound to one session. */
export class IbRequests {
  private readonly pending = new Map<number, Pending>();
  private readonly cache = new Map<string, ContractDetails[]>();
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly cacheEntries: number;
  private readonly detach: (() => void)[] = [];

  constructor(private readonly session: IbSession, opts: IbRequestsOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.maxPending = opts.maxPending ?? 256;
    this.cacheEntries = opts.cacheEntries ?? 4096;
    const route = (event: EventName) => this.detach.push(session.onIb(event, ((reqId: number, ...rest: unknown[]) => {
      this.pending.get(reqId)?.onEvent(event, rest);
    }) as never));
    for (const e of [EventName.contractDetails, EventName.contractDetailsEnd, EventName.securityDefinitionOptionParameter,
      EventName.securityDefinitionOptionParameterEnd, EventName.tickPrice, EventName.tickSnapshotEnd]) route(e);
    this.detach.push(session.events.on("requestError", (e) => {
      const p = this.pending.get(e.reqId);
      if (p && !isWarning(e.code)) this.settle(e.reqId, new IbRequestError(e.code, `${p.label}: ${e.code} ${e.message}`));
    }));
    this.detach.push(session.events.on("state", () => {
      if (session.usable) return;
      for (const [id, p] of [...this.pending]) this.settle(id, new IbRequestError("IB_DISCONNECTED", `${p.label}: connection lost`));
    }));
  }

  /** Requests waiting for replies. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Stops listening and fails whatever is pending. */
  close(): void {
    for (const d of this.detach.splice(0)) d();
    for (const [id, p] of [...this.pending]) this.settle(id, new IbRequestError("IB_DISCONNECTED", `${p.label}: closed`));
  }

  /** Contract details of every contract matching `contract` (cached; TWS's 200 for none). */
  async contractDetails(contract: Contract): Promise<ContractDetails[]> {
    const key = JSON.stringify(contract);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const out: ContractDetails[] = [];
    await this.run(`reqContractDetails ${contract.symbol ?? contract.conId} ${contract.secType ?? ""}`, (id, api) => api.reqContractDetails(id, contract),
      (event, args, done) => {
        if (event === EventName.contractDetails) out.push(args[0] as ContractDetails);
        else if (event === EventName.contractDetailsEnd) done();
      });
    if (this.cache.size >= this.cacheEntries) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, out);
    return out;
  }

  /** Option chain parameters of an underlying, one entry per exchange. */
  async optionChains(symbol: string, secType: string, underConId: number): Promise<OptionChainParams[]> {
    const out: OptionChainParams[] = [];
    await this.run(`reqSecDefOptParams ${symbol}`, (id, api) => api.reqSecDefOptParams(id, symbol, "", secType as never, underConId),
      (event, args, done) => {
        if (event === EventName.securityDefinitionOptionParameter) {
          const [exchange, conId, tradingClass, multiplier, expirations, strikes] = args as [string, number, string, number, string[], number[]];
          out.push({ exchange, underConId: conId, tradingClass, multiplier, expirations, strikes });
        } else if (event === EventName.securityDefinitionOptionParameterEnd) done();
      });
    return out;
  }

  /** A one-off market data snapshot (reqMktData with snapshot=true) until tickSnapshotEnd. */
  async snapshot(contract: Contract): Promise<SnapshotPrices> {
    const out: SnapshotPrices = { delayed: false };
    await this.run(`snapshot ${contract.symbol ?? contract.conId}`, (id, api) => api.reqMktData(id, contract, "", true, false),
      (event, args, done) => {
        if (event === EventName.tickPrice) {
          const [type, price] = args as [number, number | undefined];
          const field = PRICE_TICKS[type];
          if (field && price !== undefined && price > 0) out[field] = price;
          if (type >= 66) out.delayed = true;
        } else if (event === EventName.tickSnapshotEnd) done();
      });
    return out;
  }

  private run(label: string, send: (id: number, api: IBApi) => void,
    onEvent: (event: string, args: unknown[], done: () => void) => void): Promise<void> {
    if (this.pending.size >= this.maxPending) {
      return Promise.reject(new IbRequestError("IB_TOO_MANY", `${label}: ${this.maxPending} requests already waiting for replies`));
    }
    const id = this.session.nextRequestId();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, new IbRequestError("IB_TIMEOUT", `${label}: no reply within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.pending.set(id, { label, resolve, reject, timer, onEvent: (event, args) => onEvent(event, args, () => this.settle(id)) });
      this.session.request(label, (api) => send(id, api)).catch((err: Error & { code?: string }) =>
        this.settle(id, new IbRequestError(err.code === "IB_QUEUE_FULL" ? "IB_TOO_MANY" : "IB_DISCONNECTED", `${label}: ${err.message}`)));
    });
  }

  private settle(id: number, err?: Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve();
  }
}
