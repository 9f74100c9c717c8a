// The WebSocket fan-out: connection registry, per-format topics, batch publishing, heartbeats,
// and slow-client handling (conflation, then disconnect). Bun's publish() silently skips a
// subscriber over its backpressure limit, so slowness is detected here from buffered amounts
// and a slow client is moved off the topics onto latest-wins catch-up sends.

import type { Server, ServerWebSocket } from "bun";
import { CLOSE_CODES, PROTOCOL_VERSION, type ServerFrame, type WireFormat } from "../client/protocol.ts";
import type { QuoteSource } from "./quote-source.ts";
import { CODECS, encodedBytes, type Codec, type Encoded } from "./codec.ts";
import { AbuseMeter, ABUSE_BURSTS, TokenBucket, type ServerLimits } from "./limits.ts";

/** Per-connection state, carried as the Bun socket's data. */
export interface ConnData {
  id: number;
  codec: Codec;
  /** Engine rows this connection holds, whether delivered fast or conflated. */
  symbols: Set<number>;
  /** True while in conflated delivery: off the topics, changes collected in `pending`. */
  slow: boolean;
  slowSinceMs: number;
  /** Rows changed since the connection went slow, sent (latest state) on catch-up; ⊆ symbols. */
  pending: Set<number>;
  bucket: TokenBucket;
  abuse: AbuseMeter;
  closed: boolean;
  /** Market data needs a key from this client and none was given yet: no subscribe until an auth message. */
  needsKey?: boolean;
}

/** A server-side socket of this server. */
export type Socket = ServerWebSocket<ConnData>;

/** Plain counters, read by stats() and later by the metrics endpoint. */
export interface ServerStats {
  /** Open connections. */
  connections: number;
  /** Connections accepted since start. */
  connectionsTotal: number;
  /** Upgrades refused (503) or closed at open (1013) by maxConnections. */
  connectionsRejected: number;
  /** (connection, symbol) pairs held now. */
  subscriptions: number;
  /** Connections in conflated delivery now. */
  slowClients: number;
  /** Times a connection entered conflated delivery. */
  slowEntries: number;
  /** Frames handed to the socket layer, by format (a publish counts once per subscriber). */
  messagesOut: Record<WireFormat, number>;
  /** Payload bytes of those frames, by format. */
  bytesOut: Record<WireFormat, number>;
  /** Quote frames encoded, by format (at most one per changed row per format, plus replies). */
  encodes: Record<WireFormat, number>;
  /** Engine batches seen. */
  batches: number;
  /** Quote states a slow connection never saw because a newer state replaced them. */
  conflations: number;
  /** Connections closed with 4008. */
  slowDisconnects: number;
  /** Inbound messages refused by the rate limit. */
  rateLimited: number;
  /** Connections closed with 4029. */
  rateDisconnects: number;
  /** Error frames sent. */
  errorFrames: number;
}

function perFormat(): Record<WireFormat, number> {
  return { json: 0, msgpack: 0 };
}

/**
 * How often buffered amounts are checked. Past slowClientBytes a client gains at most one
 * sweep of traffic before it is moved to conflation, and the slow timeout is enforced to
 * within a quarter of itself.
 */
function sweepIntervalMs(limits: ServerLimits): number {
  return Math.max(5, Math.min(25, limits.slowClientTimeoutMs / 4));
}

/** Fan-out state of one server; see the file comment. */
export class Hub {
  readonly stats: ServerStats = {
    connections: 0, connectionsTotal: 0, connectionsRejected: 0, subscriptions: 0, slowClients: 0, slowEntries: 0,
    messagesOut: perFormat(), bytesOut: perFormat(), encodes: perFormat(), batches: 0, conflations: 0,
    slowDisconnects: 0, rateLimited: 0, rateDisconnects: 0, errorFrames: 0,
  };
  private server: Server<ConnData> | undefined;
  private readonly conns = new Set<Socket>();
  private readonly slow = new Set<Socket>();
  private readonly connsByFormat = [0, 0];
  /** Per format, per engine row: connections subscribed to the row's topic (fast delivery). */
  private readonly fastCount: Uint32Array[];
  private readonly topics: string[][] = [[], []];
  /** Per format, per row: the last encoded quote frame and the row seq it encodes. */
  private readonly cache: (Encoded | undefined)[][] = [[], []];
  private readonly cacheSeq: Float64Array[];
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private nextId = 1;

  constructor(private readonly engine: QuoteSource, readonly limits: ServerLimits) {
    const rows = engine.options.maxInstruments;
    this.fastCount = CODECS.map(() => new Uint32Array(rows));
    this.cacheSeq = CODECS.map(() => new Float64Array(rows).fill(-1));
  }

  /** Binds the Bun server (for publish) and starts the heartbeat and sweep timers. */
  attach(server: Server<ConnData>): void {
    this.server = server;
    this.timers.push(setInterval(() => this.heartbeat(), this.limits.heartbeatMs));
    this.timers.push(setInterval(() => this.sweep(), sweepIntervalMs(this.limits)));
  }

  /** Stops the timers; the server closes the sockets. */
  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }

  /** True when another connection would exceed maxConnections. */
  full(): boolean {
    return this.conns.size >= this.limits.maxConnections;
  }

  /** State for a socket about to be upgraded. */
  newConnData(codec: Codec): ConnData {
    const now = performance.now();
    const l = this.limits;
    return {
      id: this.nextId++, codec, symbols: new Set(), slow: false, slowSinceMs: 0, pending: new Set(),
      bucket: new TokenBucket(l.inboundRatePerS, l.inboundBurst, now),
      abuse: new AbuseMeter(l.inboundRatePerS, ABUSE_BURSTS * l.inboundBurst, now),
      closed: false,
    };
  }

  /** Registers an opened socket and greets it. */
  open(ws: Socket): void {
    if (this.full()) {
      // Several upgrades can pass the handshake check before any opens; the bound still holds.
      this.stats.connectionsRejected++;
      ws.data.closed = true;
      ws.close(CLOSE_CODES.tryAgainLater, "too many connections");
      return;
    }
    const d = ws.data;
    this.conns.add(ws);
    this.connsByFormat[d.codec.slot]!++;
    this.stats.connections = this.conns.size;
    this.stats.connectionsTotal++;
    ws.subscribe(d.codec.topicPrefix + "hb");
    const l = this.limits;
    this.send(ws, {
      t: "welcome", v: PROTOCOL_VERSION, format: d.codec.format, heartbeatMs: l.heartbeatMs, ts: Date.now(),
      limits: {
        maxSubscriptions: l.maxSubscriptionsPerClient, maxPayloadBytes: l.maxPayloadBytes, inboundRatePerS: l.inboundRatePerS,
        inboundBurst: l.inboundBurst, slowClientBytes: l.slowClientBytes, slowClientTimeoutMs: l.slowClientTimeoutMs,
      },
    });
  }

  /** Forgets a closed socket; safe to call more than once. */
  closed(ws: Socket): void {
    const d = ws.data;
    if (!this.conns.delete(ws)) return;
    d.closed = true;
    this.connsByFormat[d.codec.slot]!--;
    if (this.slow.delete(ws)) this.stats.slowClients = this.slow.size;
    else for (const row of d.symbols) this.fastCount[d.codec.slot]![row]!--;
    this.stats.subscriptions -= d.symbols.size;
    d.symbols.clear();
    d.pending.clear();
    this.stats.connections = this.conns.size;
  }

  /** Adds rows to a connection; returns the rows it did not already hold. */
  subscribe(ws: Socket, rows: readonly number[]): number[] {
    const d = ws.data;
    const added: number[] = [];
    for (const row of rows) {
      if (d.symbols.has(row)) continue;
      d.symbols.add(row);
      added.push(row);
      if (!d.slow) this.join(ws, row);
    }
    this.stats.subscriptions += added.length;
    return added;
  }

  /** Removes rows from a connection; rows it does not hold are ignored. */
  unsubscribe(ws: Socket, rows: readonly number[]): void {
    const d = ws.data;
    for (const row of rows) {
      if (!d.symbols.delete(row)) continue;
      d.pending.delete(row);
      this.stats.subscriptions--;
      if (!d.slow) this.leave(ws, row);
    }
  }

  private join(ws: Socket, row: number): void {
    const c = ws.data.codec;
    ws.subscribe(this.topic(c, row));
    this.fastCount[c.slot]![row]!++;
  }

  private leave(ws: Socket, row: number): void {
    const c = ws.data.codec;
    ws.unsubscribe(this.topic(c, row));
    this.fastCount[c.slot]![row]!--;
  }

  private topic(c: Codec, row: number): string {
    return (this.topics[c.slot]![row] ??= `${c.topicPrefix}q.${this.engine.instruments[row]!.symbol}`);
  }

  /** The row's current quote in a format, encoded at most once per row change. */
  private encodedRow(c: Codec, row: number): Encoded {
    const seq = this.engine.field(row, this.engine.layout.Q_SEQ);
    const cached = this.cache[c.slot]![row];
    if (cached !== undefined && this.cacheSeq[c.slot]![row] === seq) return cached;
    const e = c.encodeQuote(this.engine.quote(row), false);
    this.stats.encodes[c.format]++;
    this.cache[c.slot]![row] = e;
    this.cacheSeq[c.slot]![row] = seq;
    return e;
  }

  /** Engine batch listener: publishes every changed row once per format that has subscribers. */
  readonly onBatch = (changed: Uint32Array): void => {
    const server = this.server;
    if (!server) return;
    this.stats.batches++;
    for (let i = 0; i < changed.length; i++) {
      const row = changed[i]!;
      for (const c of CODECS) {
        const n = this.fastCount[c.slot]![row]!;
        if (n === 0) continue;
        const e = this.encodedRow(c, row);
        server.publish(this.topic(c, row), e, false);
        this.stats.messagesOut[c.format] += n;
        this.stats.bytesOut[c.format] += n * encodedBytes(e);
      }
      if (this.slow.size > 0) this.markPending(row);
    }
  };

  private markPending(row: number): void {
    for (const ws of this.slow) {
      const d = ws.data;
      if (!d.symbols.has(row)) continue;
      if (d.pending.has(row)) this.stats.conflations++;
      else d.pending.add(row);
    }
  }

  /** Sends the row's snapshot (the quote frame marked snap) to one connection. */
  sendSnapshot(ws: Socket, row: number): boolean {
    const c = ws.data.codec;
    this.stats.encodes[c.format]++;
    return this.sendEncoded(ws, c.encodeQuote(this.engine.quote(row), true));
  }

  /** Encodes and sends one frame; false when the socket is gone or was closed as slow. */
  send(ws: Socket, frame: ServerFrame): boolean {
    if (frame.t === "error") this.stats.errorFrames++;
    return this.sendEncoded(ws, ws.data.codec.encode(frame));
  }

  private sendEncoded(ws: Socket, e: Encoded): boolean {
    // A socket the peer already closed reports 0 too; that is not a slow consumer.
    if (ws.data.closed || ws.readyState !== 1) return false;
    // -1 means queued behind earlier data and will be delivered: never resend. 0 means dropped
    // past backpressureLimitBytes, which is the hard bound for a slow consumer.
    const r = ws.send(e, false);
    if (r === 0) {
      this.closeSlow(ws);
      return false;
    }
    this.stats.messagesOut[ws.data.codec.format]++;
    this.stats.bytesOut[ws.data.codec.format] += encodedBytes(e);
    return true;
  }

  /** Closes a connection that kept sending over its rate after being told. */
  closeForAbuse(ws: Socket): void {
    if (ws.data.closed) return;
    this.stats.rateDisconnects++;
    ws.close(CLOSE_CODES.rateLimitAbuse, "rate limit exceeded");
    this.closed(ws);
  }

  private closeSlow(ws: Socket): void {
    if (ws.data.closed) return;
    this.stats.slowDisconnects++;
    ws.close(CLOSE_CODES.slowConsumer, "slow consumer");
    this.closed(ws);
  }

  private heartbeat(): void {
    const server = this.server;
    if (!server) return;
    const ts = Date.now();
    for (const c of CODECS) {
      const n = this.connsByFormat[c.slot]!;
      if (n === 0) continue;
      const e = c.encode({ t: "hb", ts });
      server.publish(c.topicPrefix + "hb", e, false);
      this.stats.messagesOut[c.format] += n;
      this.stats.bytesOut[c.format] += n * encodedBytes(e);
    }
  }

  /** Checks every connection's unsent bytes: enter or leave conflation, or close. */
  sweep(nowMs: number = performance.now()): void {
    const l = this.limits;
    for (const ws of this.conns) {
      const d = ws.data;
      const buffered = ws.getBufferedAmount();
      if (buffered >= l.backpressureLimitBytes) this.closeSlow(ws);
      else if (!d.slow) {
        if (buffered > l.slowClientBytes && d.symbols.size > 0) this.enterSlow(ws, nowMs);
      } else if (nowMs - d.slowSinceMs > l.slowClientTimeoutMs) this.closeSlow(ws);
      else if (buffered < l.slowClientBytes) this.catchUp(ws);
    }
  }

  private enterSlow(ws: Socket, nowMs: number): void {
    const d = ws.data;
    d.slow = true;
    d.slowSinceMs = nowMs;
    for (const row of d.symbols) this.leave(ws, row);
    this.slow.add(ws);
    this.stats.slowClients = this.slow.size;
    this.stats.slowEntries++;
  }

  /** Socket drain: a slow connection gets the latest state of what changed, then rejoins the topics. */
  drain(ws: Socket): void {
    if (ws.data.slow && !ws.data.closed) this.catchUp(ws);
  }

  private catchUp(ws: Socket): void {
    const d = ws.data;
    const threshold = this.limits.slowClientBytes;
    for (const row of d.pending) {
      if (ws.getBufferedAmount() >= threshold) return;
      d.pending.delete(row);
      if (!this.sendEncoded(ws, this.encodedRow(d.codec, row))) return;
    }
    if (ws.getBufferedAmount() >= threshold) return;
    // Nothing pending and the buffer is low: rejoin. This runs to completion before the next
    // batch, so every later change reaches the connection through the topics.
    d.slow = false;
    this.slow.delete(ws);
    this.stats.slowClients = this.slow.size;
    for (const row of d.symbols) this.join(ws, row);
  }

  /** Engine rows at least one connection holds, fast or conflated (the quote staleness alert watches these). */
  subscribedRows(): number[] {
    const out: number[] = [];
    for (let row = 0; row < this.engine.instruments.length; row++) {
      if (this.fastCount.some((counts) => counts[row]! > 0)) out.push(row);
    }
    if (this.slow.size === 0) return out;
    const seen = new Set(out);
    for (const ws of this.slow) for (const row of ws.data.symbols) if (!seen.has(row)) (seen.add(row), out.push(row));
    return out;
  }

  /** A copy of the counters. */
  snapshotStats(): ServerStats {
    return structuredClone(this.stats);
  }
}
