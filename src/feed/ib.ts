// The IBKR feed: market data from TWS / IB Gateway through the IB session.
//
// prepare() resolves the configured stocks to contracts, and for each a bounded slice of its
// option chain (ib/instruments.ts), so instruments() is known before the engine is sized. start() subscribes every instrument (reqMktData) and maps IB ticks
// to our tick kinds as they arrive, flushing once per socket read. It falls back to delayed data
// (reqMarketDataType 3) on 354, flags delayed rows, keeps IB's model greeks beside ours, and
// resubscribes everything after a reconnect or a 1101.
//
// A market data request TWS refuses (10197: a competing live session holds the data; 200 and
// the like: the contract could not be looked up) is asked again every retryRefusedMs, and the
// session hears about it: competing, or not_ready while any other refusal stands. Both clear
// once every retried instrument has ticked again.

import { EventName } from "@stoqey/ib";
import type { InstrumentSpec } from "../domain/instrument.ts";
import { IB_SENTINELS, QualityFlag, TickKind as K } from "../domain/tick.ts";
import { nowMs } from "../domain/time.ts";
import { IbCode, isNotSubscribed } from "../ib/codes.ts";
import { type IbInstrument, IbInstrumentResolver } from "../ib/instruments.ts";
import { IbRequests } from "../ib/requests.ts";
import type { IbSession } from "../ib/session.ts";
import { createLogger, type Logger } from "../log.ts";
import type { Feed, FeedStats, InstrumentIndex, TickSink } from "./feed.ts";

/** Options of the IB feed. */
export interface IbFeedOptions {
  /** The session to use; started by prepare() if it is not running. */
  session: IbSession;
  /** Stop the session when the feed stops (default false: the app owns a shared session). */
  ownsSession?: boolean;
  /** Underlying stocks. */
  symbols: readonly string[];
  /** Nearest expiries per underlying, 0 for stocks only. */
  optionExpiries: number;
  /** Strikes each side of the at-the-money strike. */
  strikesPerSide: number;
  /** Market data lines the account has (default 100, IBKR's default allowance); more instruments is an error. */
  maxLines?: number;
  /** Currency of the stocks (default USD). */
  currency?: string;
  /** Bound on connecting in prepare(), ms (default 30 000). */
  connectTimeoutMs?: number;
  /** Bound on each contract / chain / snapshot request, ms (default 15 000). */
  requestTimeoutMs?: number;
  /** How often refused market data requests are asked again, ms (default 15 000). */
  retryRefusedMs?: number;
  log?: Logger;
}

/** IB's model values of an option (tickOptionComputation, model tick), as last received. */
export interface IbModelGreeks {
  iv: number; delta: number; gamma: number; vega: number; theta: number; optPrice: number; undPrice: number;
  /** Receive time, epoch ms. */
  tsMs: number;
}

/** Counters of the IB feed, beyond every feed's. */
export interface IbFeedStats extends FeedStats {
  /** Times every subscription was renewed (reconnect or 1101). */
  resubscriptions: number;
  /** Instruments switched to delayed data after 354. */
  delayedFallbacks: number;
  /** Subscriptions refused by TWS for good (no permission even delayed, no contract, …). */
  subscriptionErrors: number;
  /** Last-size ticks without a last price just before them (not trades we can price). */
  unpairedLastSizes: number;
  /** Refused market data requests asked again (10197, 200, …). */
  refusedRetries: number;
}

// IB tick types, live and delayed, by what they mean to us.
const PRICE_KIND: Readonly<Record<number, number>> = { 1: K.BidPrice, 66: K.BidPrice, 2: K.AskPrice, 67: K.AskPrice, 9: K.Close, 75: K.Close };
const SIZE_KIND: Readonly<Record<number, number>> = { 0: K.BidSize, 69: K.BidSize, 3: K.AskSize, 70: K.AskSize, 8: K.Volume, 74: K.Volume };
const LAST = new Set([4, 68]);
const LAST_SIZE = new Set([5, 71]);
const MODEL_OPTION = new Set([13, 83]);
/** Delayed tick types are 66 and up (66 delayed bid … 90 delayed halted). */
const FIRST_DELAYED_TICK = 66;
/** Fields per row of the model greeks table. */
const GREEKS_STRIDE = 8;

/** Market data from IBKR. */
export class IbFeed implements Feed {
  readonly name = "ib";
  readonly stats: IbFeedStats = { ticks: 0, batches: 0, badTicks: 0, resubscriptions: 0, delayedFallbacks: 0, subscriptionErrors: 0, unpairedLastSizes: 0, refusedRetries: 0 };
  readonly session: IbSession;
  private readonly requests: IbRequests;
  private readonly log: Logger;
  private readonly maxLines: number;
  private lines: IbInstrument[] = [];
  private indexOfSymbol = new Map<string, number>();
  private prepared = false;
  private started = false;
  private running = false;
  private sink: TickSink | null = null;
  private rows = new Int32Array(0);
  private pendingLast = new Float64Array(0);
  private delayedRow = new Uint8Array(0);
  private delayedTried = new Uint8Array(0);
  private greeks = new Float64Array(0);
  private readonly byReqId = new Map<number, number>();
  /** Instruments whose market data request TWS refused, waiting for the retry. */
  private readonly refused = new Set<number>();
  /** Instruments asked again and not yet ticking: a flag each, and how many. */
  private awaitingFlow = new Uint8Array(0);
  private awaitingCount = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private delayedMode = false;
  private flushQueued = false;
  private batchTsMs = 0;
  private readonly detach: (() => void)[] = [];
  /** Told the engine row of each option whose model values arrived (the chain streams). */
  private readonly greeksListeners: ((engineRow: number) => void)[] = [];

  constructor(private readonly opts: IbFeedOptions) {
    this.session = opts.session;
    this.log = opts.log ?? createLogger("warn", "feed.ib");
    this.maxLines = opts.maxLines ?? 100;
    this.requests = new IbRequests(this.session, { timeoutMs: opts.requestTimeoutMs ?? 15_000 });
    if (!(Number.isInteger(this.maxLines) && this.maxLines >= 1 && this.maxLines <= 10_000)) throw new Error("ib feed: maxLines must be an integer in [1, 10000]");
    if (opts.symbols.length === 0) throw new Error("ib feed: at least one symbol is needed");
  }

  /** True while subscribed and the session is connected without trouble. */
  get live(): boolean {
    return this.running && this.session.state === "connected";
  }

  /** True once any instrument fell back to delayed data. */
  get delayed(): boolean {
    return this.delayedMode;
  }

  /** Connects (bounded) and resolves stocks and their option slices to contracts; instruments() is valid after it. */
  async prepare(): Promise<void> {
    if (this.prepared) return;
    if (this.session.state === "disconnected") this.session.start();
    await this.session.waitUsable(this.opts.connectTimeoutMs ?? 30_000);
    const resolver = new IbInstrumentResolver(this.session, this.requests, this.log);
    const lines = await resolver.resolve({
      symbols: this.opts.symbols, optionExpiries: this.opts.optionExpiries, strikesPerSide: this.opts.strikesPerSide,
      currency: this.opts.currency ?? "USD", maxLines: this.maxLines,
    });
    // Finding a price to centre a chain on may already have needed delayed data.
    if (resolver.delayed) this.delayedMode = true;
    this.lines = lines;
    this.indexOfSymbol = new Map(lines.map((l, i) => [l.spec.symbol, i]));
    const n = lines.length;
    this.pendingLast = new Float64Array(n).fill(NaN);
    this.delayedRow = new Uint8Array(n);
    this.delayedTried = new Uint8Array(n);
    this.awaitingFlow = new Uint8Array(n);
    this.greeks = new Float64Array(n * GREEKS_STRIDE).fill(NaN);
    this.prepared = true;
    const stocks = lines.filter((l) => l.spec.kind === "stock").length;
    this.log.info("ib instruments resolved", { stocks, options: n - stocks, maxLines: this.maxLines, delayed: this.delayedMode });
  }

  /** The resolved instruments, stocks first; prepare() must have run. */
  instruments(): InstrumentSpec[] {
    if (!this.prepared) throw new Error("ib feed: prepare() must run before instruments()");
    return this.lines.map((l) => ({ ...l.spec }));
  }

  /** IB's model greeks of an option symbol, once received. */
  modelGreeks(symbol: string): IbModelGreeks | undefined {
    const i = this.indexOfSymbol.get(symbol);
    if (i === undefined) return undefined;
    const g = this.greeks.subarray(i * GREEKS_STRIDE, (i + 1) * GREEKS_STRIDE);
    if (Number.isNaN(g[7]!)) return undefined;
    return { iv: g[0]!, delta: g[1]!, gamma: g[2]!, vega: g[3]!, theta: g[4]!, optPrice: g[5]!, undPrice: g[6]!, tsMs: g[7]! };
  }

  /** Calls `listener` with the engine row of each option whose model values arrive; returns the detach. */
  onModelGreeks(listener: (engineRow: number) => void): () => void {
    this.greeksListeners.push(listener);
    return () => {
      const k = this.greeksListeners.indexOf(listener);
      if (k >= 0) this.greeksListeners.splice(k, 1);
    };
  }

  /** Subscribes every instrument; ticks flow into `sink` until stop(). */
  async start(sink: TickSink, indexOf: InstrumentIndex): Promise<void> {
    if (this.started) throw new Error("ib feed: already started");
    if (!this.prepared) await this.prepare();
    this.started = true;
    this.rows = Int32Array.from(this.lines, (l) => {
      const row = indexOf(l.spec.symbol);
      if (row === undefined) throw new Error(`ib feed: instrument ${l.spec.symbol} is not defined in the sink`);
      return row;
    });
    this.sink = sink;
    const s = this.session;
    this.detach.push(
      s.onIb(EventName.tickPrice, ((id: number, type: number, price: number | undefined) => this.onPrice(id, type, price)) as never),
      s.onIb(EventName.tickSize, ((id: number, type: number, size: number | undefined) => this.onSize(id, type, size)) as never),
      s.onIb(EventName.tickOptionComputation, ((id: number, type: number, _attrib: number, iv?: number, delta?: number, optPrice?: number,
        _pvDividend?: number, gamma?: number, vega?: number, theta?: number, undPrice?: number) =>
        this.onGreeks(id, type, [iv, delta, gamma, vega, theta, optPrice, undPrice])) as never),
      s.onIb(EventName.marketDataType, ((id: number, type: number) => this.onDataType(id, type)) as never),
      s.events.on("requestError", (e) => this.onRequestError(e.reqId, e.code, e.message)),
      s.events.on("ready", (e) => { if (e.reconnect) this.subscribeAll("reconnected"); }),
      s.events.on("restored", (e) => { if (e.dataLost) this.subscribeAll("1101: data lost"); }),
    );
    this.running = true;
    this.subscribeAll("start");
  }

  /** Stops ticks at once; cancels the subscriptions (or stops an owned session). */
  async stop(): Promise<void> {
    const wasRunning = this.running;
    this.running = false;
    for (const d of this.detach.splice(0)) d();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.flushQueued) this.flush();
    this.requests.close();
    if (wasRunning && !this.opts.ownsSession && this.session.usable) {
      for (const id of this.byReqId.keys()) void this.session.cancel("cancelMktData", (api) => api.cancelMktData(id)).catch(() => {});
    }
    this.byReqId.clear();
    if (this.opts.ownsSession) await this.session.stop();
  }

  private subscribeAll(why: string): void {
    if (!this.running || !this.session.usable) return;
    if (why !== "start") this.stats.resubscriptions++;
    this.byReqId.clear();
    // A new subscription of everything: whatever was refused is asked again now.
    this.refused.clear();
    this.awaitingFlow.fill(0);
    this.awaitingCount = 0;
    this.session.setNotReady("");
    // A last price whose size never came belongs to the old subscription.
    this.pendingLast.fill(NaN);
    this.log.info("ib subscribing", { instruments: this.lines.length, why, delayed: this.delayedMode });
    // The market data type belongs to the connection: a new one starts live again.
    if (this.delayedMode) this.send("reqMarketDataType 3", (api) => api.reqMarketDataType(3));
    for (let i = 0; i < this.lines.length; i++) this.subscribe(i);
  }

  private subscribe(i: number): void {
    const id = this.session.nextRequestId();
    this.byReqId.set(id, i);
    const contract = this.lines[i]!.contract;
    this.send(`reqMktData ${this.lines[i]!.spec.symbol}`, (api) => api.reqMktData(id, contract, "", false, false), () => this.byReqId.delete(id));
  }

  /** Queues a request; failures other than a lost connection (which resubscribes anyway) are logged and counted. */
  private send(label: string, fn: Parameters<IbSession["request"]>[1], onFail?: () => void): void {
    this.session.request(label, fn).catch((err: Error & { code?: string }) => {
      onFail?.();
      if (err.code === "IB_DISCONNECTED" || err.code === "IB_STOPPED") return;
      this.stats.subscriptionErrors++;
      this.log.error("ib request not sent", { label, err });
    });
  }

  // Ticks

  private write(i: number, kind: number, price: number, size: number): void {
    if (!this.flushQueued) {
      this.flushQueued = true;
      // Ticks of one socket read arrived together: one receive stamp, and one flush once the
      // client has decoded the whole read (it does so synchronously, then this microtask runs).
      this.batchTsMs = nowMs();
      queueMicrotask(() => this.flush());
    }
    this.sink!.write(this.rows[i]!, kind, price, size, this.batchTsMs);
    this.stats.ticks++;
    if (this.awaitingCount > 0 && this.awaitingFlow[i] === 1) this.flowing(i);
  }

  /** A retried instrument ticks again; once all do and none is refused, the session hears it. */
  private flowing(i: number): void {
    this.awaitingFlow[i] = 0;
    if (--this.awaitingCount > 0 || this.refused.size > 0) return;
    this.session.setNotReady("");
    this.session.marketDataFlowing();
  }

  /** TWS refused instrument i's market data: ask again after retryRefusedMs. */
  private refuse(i: number): void {
    this.refused.add(i);
    if (this.retryTimer || !this.running) return;
    this.retryTimer = setTimeout(() => this.retryRefused(), this.opts.retryRefusedMs ?? 15_000);
    (this.retryTimer as { unref?: () => void }).unref?.();
  }

  private retryRefused(): void {
    this.retryTimer = null;
    if (!this.running || !this.session.usable) return;
    for (const i of this.refused) {
      if (this.awaitingFlow[i] === 0) (this.awaitingFlow[i] = 1, this.awaitingCount++);
      this.stats.refusedRetries++;
      this.subscribe(i);
    }
    this.refused.clear();
  }

  private flush(): void {
    if (!this.flushQueued) return;
    this.flushQueued = false;
    this.sink!.flush(nowMs());
    this.stats.batches++;
  }

  private onPrice(id: number, type: number, price: number | undefined): void {
    const i = this.byReqId.get(id);
    if (i === undefined || !this.running) return;
    if (type >= FIRST_DELAYED_TICK) this.setDelayed(i, true);
    // @stoqey/ib turns IB's "unset" 1.79e308 into undefined; pass IB's value on so the engine counts it.
    const p = price ?? IB_SENTINELS[1];
    const kind = PRICE_KIND[type];
    if (kind !== undefined) this.write(i, kind, p, 0);
    else if (LAST.has(type)) this.pendingLast[i] = p;
  }

  private onSize(id: number, type: number, size: number | undefined): void {
    const i = this.byReqId.get(id);
    if (i === undefined || !this.running) return;
    const s = size ?? IB_SENTINELS[1];
    const kind = SIZE_KIND[type];
    if (kind !== undefined) return this.write(i, kind, 0, s);
    if (!LAST_SIZE.has(type)) return;
    // A trade is a last price followed by its size (both from one tickPrice message).
    const last = this.pendingLast[i]!;
    this.pendingLast[i] = NaN;
    if (Number.isNaN(last)) this.stats.unpairedLastSizes++;
    else this.write(i, K.Trade, last, s);
  }

  private onGreeks(id: number, type: number, values: (number | undefined)[]): void {
    const i = this.byReqId.get(id);
    if (i === undefined || !this.running || !MODEL_OPTION.has(type)) return;
    const at = i * GREEKS_STRIDE;
    values.forEach((v, k) => (this.greeks[at + k] = v ?? NaN));
    this.greeks[at + 7] = nowMs();
    for (const l of this.greeksListeners) {
      try {
        l(this.rows[i]!);
      } catch (err) {
        this.log.error("model greeks listener failed", { err });
      }
    }
  }

  private onDataType(id: number, type: number): void {
    const i = this.byReqId.get(id);
    if (i !== undefined && this.running) this.setDelayed(i, type >= 3);
  }

  private setDelayed(i: number, on: boolean): void {
    if ((this.delayedRow[i] === 1) === on) return;
    this.delayedRow[i] = on ? 1 : 0;
    this.sink?.setHostFlag?.(this.rows[i]!, QualityFlag.Delayed, on);
  }

  private onRequestError(id: number, code: number, message: string): void {
    const i = this.byReqId.get(id);
    if (i === undefined || !this.running) return;
    const symbol = this.lines[i]!.spec.symbol;
    if (code === IbCode.DelayedDataShown) return this.setDelayed(i, true);
    if (isNotSubscribed(code) && this.delayedTried[i] === 0) {
      // No live permission: ask for delayed data on this connection and request the instrument again.
      this.delayedTried[i] = 1;
      this.byReqId.delete(id);
      this.stats.delayedFallbacks++;
      if (!this.delayedMode) {
        this.delayedMode = true;
        this.send("reqMarketDataType 3", (api) => api.reqMarketDataType(3));
      }
      this.log.warn("ib live data not subscribed; using delayed data", { symbol, code });
      return this.subscribe(i);
    }
    if (code === IbCode.CantFindTickerId) return;
    this.byReqId.delete(id);
    this.refuse(i);
    // 10197 is the session's competing state; any other refusal leaves the connection not ready.
    if (code === IbCode.CompetingLiveSession) return;
    this.stats.subscriptionErrors++;
    this.log.error("ib market data refused", { symbol, code, message });
    this.session.setNotReady(`${this.refused.size} of ${this.lines.length} market data requests refused; last ${symbol}: ${code} ${message}`);
  }
}
