// Market data of the simulator: a TickSink that the SyntheticMarket writes into, which keeps the
// last state of every instrument and turns each tick into tickPrice / tickSize /
// tickOptionComputation messages for every client subscribed to it.
//
// @stoqey/ib drops the bid size carried inside a bid tickPrice (its decoder tests the size tick
// type, BID_SIZE = 0, for truth), so every live bid is followed by an explicit tickSize type 0,
// as TWS itself sends size ticks. Ask and last sizes arrive through tickPrice.

import type { Quote } from "../../domain/quote.ts";
import { QualityFlag, TickKind as K } from "../../domain/tick.ts";
import type { TickSink } from "../../feed/feed.ts";
import type { SimConnection, Subscription } from "./connection.ts";
import { marketDataType, MarketDataType, TICK, tickOptionComputation, tickPrice, tickReqParams, tickSize, tickSnapshotEnd } from "./messages.ts";
import type { SimContract, Universe } from "./universe.ts";
import type { OutBuffer } from "./wire.ts";

interface Subscriber {
  conn: SimConnection;
  sub: Subscription;
}

/** Fan-out of the simulated market to subscribed clients. */
export class SimMarketData implements TickSink {
  /** Ticks the market produced, subscribed or not. */
  ticks = 0;
  /** Ticks sent to clients (a tick to two clients counts twice). */
  ticksDelivered = 0;
  /** Ticks not sent to a client because it had more than highWaterBytes unread (TWS throttles slow readers too). */
  ticksSkipped = 0;
  private readonly subscribers: Subscriber[][];
  private readonly bid: Float64Array; private readonly bidSize: Float64Array;
  private readonly ask: Float64Array; private readonly askSize: Float64Array;
  private readonly last: Float64Array; private readonly lastSize: Float64Array;
  private readonly volume: Float64Array; private readonly close: Float64Array;
  private readonly greeksAtMs: Float64Array;
  private readonly muted: Uint8Array;
  /** Per instrument: changes so far (a quote's seq) and the time of the last one. */
  private readonly seqs: Float64Array; private readonly changedMs: Float64Array;
  private changeListener: ((number: number) => void) | null = null;
  private flushListener: (() => void) | null = null;

  /**
   * `streaming(conn)` says whether a client receives ticks now (false while connectivity is lost
   * or the market data farm is down); `greeksIntervalMs` bounds model updates per option;
   * a client with more than `highWaterBytes` unread gets no ticks until it catches up.
   */
  constructor(private readonly universe: Universe, private readonly streaming: (conn: SimConnection) => boolean,
    private readonly greeksIntervalMs = 250, private readonly highWaterBytes = 4 * 1024 * 1024) {
    const n = universe.contracts.length;
    this.subscribers = Array.from({ length: n }, () => []);
    this.bid = new Float64Array(n); this.bidSize = new Float64Array(n); this.ask = new Float64Array(n);
    this.askSize = new Float64Array(n); this.last = new Float64Array(n); this.lastSize = new Float64Array(n);
    this.volume = new Float64Array(n); this.close = new Float64Array(n); this.greeksAtMs = new Float64Array(n);
    this.muted = new Uint8Array(n);
    this.seqs = new Float64Array(n); this.changedMs = new Float64Array(n);
  }

  /** Registers the one observer of state changes (the order book): told of each changed instrument, then of each batch's end. */
  watch(onChange: (number: number) => void, onFlush: () => void): void {
    this.changeListener = onChange;
    this.flushListener = onFlush;
  }

  /** The current state of one instrument as a Quote (what the order book fills against). */
  quote(number: number): Quote {
    const bid = this.bid[number]!, ask = this.ask[number]!, last = this.last[number]!;
    const flags = (bid > 0 ? 0 : QualityFlag.NoBid) | (ask > 0 ? 0 : QualityFlag.NoAsk);
    return {
      symbol: this.universe.contracts[number]!.ourSymbol, seq: this.seqs[number]!, bid: bid > 0 ? bid : null, bidSize: this.bidSize[number]!,
      ask: ask > 0 ? ask : null, askSize: this.askSize[number]!, last: last > 0 ? last : null, lastSize: this.lastSize[number]!,
      volume: this.volume[number]!, vwap: null, open: null, high: null, low: null, prevClose: this.close[number]! > 0 ? this.close[number]! : null,
      volatility: null, exchangeTs: this.changedMs[number]!, ingestTs: this.changedMs[number]!, flags,
    };
  }

  /** Holds an instrument at a quote of the caller's choosing (the market's own ticks for it stop) and sends it. */
  pinQuote(number: number, bid: number, bidSize: number, ask: number, askSize: number, tsMs: number): void {
    this.mute(number);
    this.inject(number, K.Bid, bid, bidSize, tsMs);
    this.inject(number, K.Ask, ask, askSize, tsMs);
    this.flush();
  }

  /** Prints a trade of the caller's choosing (and holds the instrument like pinQuote). */
  pinTrade(number: number, price: number, size: number, tsMs: number): void {
    this.mute(number);
    this.inject(number, K.Trade, price, size, tsMs);
    this.flush();
  }

  /** Subscriptions over all clients. */
  get subscriptionCount(): number {
    let n = 0;
    for (const s of this.subscribers) n += s.length;
    return n;
  }

  /** Starts streaming one instrument to a client, after the current image (as TWS does on subscribe). */
  subscribe(conn: SimConnection, sub: Subscription, nowMs: number): void {
    conn.subs.set(sub.reqId, sub);
    this.subscribers[sub.number]!.push({ conn, sub });
    this.image(conn, sub, nowMs, false);
  }

  /** Sends the current image and tickSnapshotEnd, without subscribing. */
  snapshot(conn: SimConnection, sub: Subscription, nowMs: number): void {
    this.image(conn, sub, nowMs, true);
    tickSnapshotEnd(conn.out, sub.reqId);
    conn.scheduleFlush();
  }

  /** Stops one subscription; false when the client has no such request id. */
  unsubscribe(conn: SimConnection, reqId: number): boolean {
    const sub = conn.subs.get(reqId);
    if (!sub) return false;
    conn.subs.delete(reqId);
    const list = this.subscribers[sub.number]!;
    const i = list.findIndex((s) => s.conn === conn && s.sub.reqId === reqId);
    if (i >= 0) list.splice(i, 1);
    return true;
  }

  /** Forgets every subscription of a client (closed, or TWS lost its data: 1101). */
  dropAll(conn: SimConnection): void {
    for (const reqId of [...conn.subs.keys()]) this.unsubscribe(conn, reqId);
  }

  /** Stops (or resumes) passing the market's ticks for an instrument; inject() still sends. */
  mute(number: number, muted = true): void {
    this.muted[number] = muted ? 1 : 0;
  }

  /** Sends one tick of the caller's choosing to the instrument's subscribers (tests and benchmarks). */
  inject(number: number, kind: number, price: number, size: number, tsMs: number): void {
    const was = this.muted[number]!;
    this.muted[number] = 0;
    this.write(number, kind, price, size, tsMs);
    this.muted[number] = was;
  }

  write(number: number, kind: number, price: number, size: number, tsMs: number): void {
    this.ticks++;
    if (this.muted[number] === 1) return;
    switch (kind) {
      case K.Bid: this.bid[number] = price; this.bidSize[number] = size; break;
      case K.Ask: this.ask[number] = price; this.askSize[number] = size; break;
      case K.Trade: this.last[number] = price; this.lastSize[number] = size; this.volume[number]! += size; break;
      case K.BidSize: this.bidSize[number] = size; break;
      case K.AskSize: this.askSize[number] = size; break;
      case K.BidPrice: this.bid[number] = price; break;
      case K.AskPrice: this.ask[number] = price; break;
      case K.Volume: this.volume[number] = size; break;
      case K.Close: this.close[number] = price; break;
    }
    this.seqs[number]!++;
    this.changedMs[number] = tsMs;
    this.changeListener?.(number);
    const subs = this.subscribers[number]!;
    if (subs.length === 0) return;
    const c = this.universe.contracts[number]!;
    const greeksDue = c.secType === "OPT" && tsMs - this.greeksAtMs[number]! >= this.greeksIntervalMs;
    const g = greeksDue ? this.universe.greeks(c, tsMs) : null;
    if (greeksDue) this.greeksAtMs[number] = tsMs;
    for (const { conn, sub } of subs) {
      if (!this.streaming(conn)) continue;
      if (conn.backlogBytes > this.highWaterBytes) {
        this.ticksSkipped++;
        continue;
      }
      this.encode(conn.out, sub.reqId, sub.delayed, kind, number, price, size);
      if (g) tickOptionComputation(conn.out, sub.reqId, sub.delayed ? TICK.DELAYED_MODEL_OPTION : TICK.MODEL_OPTION, g);
      this.ticksDelivered++;
      conn.scheduleFlush();
    }
  }

  flush(): number {
    // Connections flush themselves at the end of the turn (SimConnection.scheduleFlush); the
    // order book evaluates resting orders once per batch, as the paper broker does per engine batch.
    this.flushListener?.();
    return 0;
  }

  private encode(o: OutBuffer, reqId: number, delayed: boolean, kind: number, n: number, price: number, size: number): void {
    switch (kind) {
      case K.Bid: case K.BidPrice:
        tickPrice(o, reqId, delayed ? TICK.DELAYED_BID : TICK.BID, price, this.bidSize[n]!);
        if (!delayed) tickSize(o, reqId, TICK.BID_SIZE, this.bidSize[n]!);
        break;
      case K.Ask: case K.AskPrice: tickPrice(o, reqId, delayed ? TICK.DELAYED_ASK : TICK.ASK, price, this.askSize[n]!); break;
      case K.Trade:
        tickPrice(o, reqId, delayed ? TICK.DELAYED_LAST : TICK.LAST, price, size);
        tickSize(o, reqId, delayed ? TICK.DELAYED_VOLUME : TICK.VOLUME, this.volume[n]!);
        break;
      case K.BidSize: tickSize(o, reqId, delayed ? TICK.DELAYED_BID_SIZE : TICK.BID_SIZE, size); break;
      case K.AskSize: tickSize(o, reqId, delayed ? TICK.DELAYED_ASK_SIZE : TICK.ASK_SIZE, size); break;
      case K.Volume: tickSize(o, reqId, delayed ? TICK.DELAYED_VOLUME : TICK.VOLUME, size); break;
      case K.Close: tickPrice(o, reqId, delayed ? TICK.DELAYED_CLOSE : TICK.CLOSE, price, 0); break;
    }
  }

  /** The subscribe-time image: parameters, data type, close, quote, last, volume and model values. */
  private image(conn: SimConnection, sub: Subscription, nowMs: number, snapshot: boolean): void {
    const o = conn.out, n = sub.number, c = this.universe.contracts[n]!;
    tickReqParams(o, sub.reqId, c.minTick);
    marketDataType(o, sub.reqId, sub.delayed ? MarketDataType.Delayed : MarketDataType.Live);
    if (this.close[n]! > 0) this.encode(o, sub.reqId, sub.delayed, K.Close, n, this.close[n]!, 0);
    let bid = this.bid[n]!, ask = this.ask[n]!;
    // A snapshot of an instrument that has not ticked yet quotes the model one tick each side.
    if (snapshot && !(bid > 0 && ask > 0)) {
      const mid = modelMid(this.universe, c, nowMs);
      bid = Math.max(c.minTick, Math.round(mid / c.minTick - 1) * c.minTick);
      ask = Math.round(mid / c.minTick + 1) * c.minTick;
      this.bidSize[n] ||= c.secType === "OPT" ? 10 : 100;
      this.askSize[n] ||= c.secType === "OPT" ? 10 : 100;
    }
    if (bid > 0) this.encode(o, sub.reqId, sub.delayed, K.Bid, n, round(bid), 0);
    if (ask > 0) this.encode(o, sub.reqId, sub.delayed, K.Ask, n, round(ask), 0);
    if (this.last[n]! > 0) tickPrice(o, sub.reqId, sub.delayed ? TICK.DELAYED_LAST : TICK.LAST, this.last[n]!, this.lastSize[n]!);
    if (this.volume[n]! > 0) this.encode(o, sub.reqId, sub.delayed, K.Volume, n, 0, this.volume[n]!);
    if (c.secType === "OPT") tickOptionComputation(o, sub.reqId, sub.delayed ? TICK.DELAYED_MODEL_OPTION : TICK.MODEL_OPTION, this.universe.greeks(c, nowMs));
    conn.scheduleFlush();
  }
}

function modelMid(u: Universe, c: SimContract, nowMs: number): number {
  const spot = u.market.underlyingMid(c.symbol);
  return c.secType === "STK" ? spot : u.market.theoreticalValue(c.ourSymbol, spot, nowMs);
}

/** Rounds to cents without binary noise in the printed decimal. */
function round(price: number): number {
  return Math.round(price * 1e8) / 1e8;
}
