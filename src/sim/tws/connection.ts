// One client connection of the simulator: framing in, buffered and optionally delayed writes out,
// and the per-client API state (client id, market data type, subscriptions). What a request
// means is decided by the simulator; this file moves bytes and keeps them bounded.

import type { Socket } from "node:net";
import { FrameReader, OutBuffer, ProtocolError } from "./wire.ts";

/** A market data subscription of one client. */
export interface Subscription {
  reqId: number;
  /** Instrument number in the simulator's universe. */
  number: number;
  /** Streams delayed tick types (the client is not subscribed to live data for it). */
  delayed: boolean;
}

/** What a connection needs from its simulator. */
export interface ConnectionHost {
  /** The handshake offer arrived ("v100..193"). */
  onHandshake(conn: SimConnection, offer: string): void;
  /** A complete message arrived. */
  onMessage(conn: SimConnection, fields: string[]): void;
  /** The socket closed, for whatever reason. */
  onClosed(conn: SimConnection): void;
  /** Current outbound delay in ms (a fault); 0 writes at once. */
  readonly delayMs: number;
  /** Most bytes a slow client may have queued before it is cut off. */
  readonly maxOutboundBytes: number;
}

/** Where a connection is in the API start-up. */
export type ConnectionPhase = "handshake" | "start" | "ready" | "closed";

/** One client socket. */
export class SimConnection {
  phase: ConnectionPhase = "handshake";
  clientId = -1;
  /** 1 live, 2 frozen, 3 delayed, 4 delayed-frozen (reqMarketDataType). */
  marketDataType = 1;
  readonly subs = new Map<number, Subscription>();
  /** Messages are encoded here and written once per turn of the event loop. */
  readonly out = new OutBuffer();
  /** Why the connection was closed, once it is. */
  closeReason = "";
  private readonly reader = new FrameReader();
  private flushQueued = false;
  private readonly delayed: { dueMs: number; bytes: Buffer }[] = [];
  private delayedBytes = 0;
  private delayTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(readonly id: number, private readonly socket: Socket, private readonly host: ConnectionHost) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("close", () => this.closed());
    socket.on("error", () => this.closed());
  }

  /** True once closed (a method, so the compiler does not narrow the phase across calls). */
  isClosed(): boolean {
    return this.phase === "closed";
  }

  /** Remote address, for logs. */
  get remote(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  private onData(chunk: Buffer): void {
    if (this.phase === "closed") return;
    try {
      const { offer, messages } = this.reader.push(chunk);
      if (offer !== undefined) this.host.onHandshake(this, offer);
      for (const m of messages) {
        // A handler may close the connection; the rest of the chunk is then ignored.
        if (this.isClosed()) return;
        this.host.onMessage(this, m);
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.close(`protocol error: ${err.message}`);
    }
  }

  /** Bytes encoded or queued for this client and not yet taken by the kernel. */
  get backlogBytes(): number {
    return this.out.length + this.delayedBytes + this.socket.writableLength;
  }

  /** Writes raw bytes now (the handshake reply precedes any framing state). */
  writeNow(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Arranges for pending messages to be written at the end of this turn of the event loop. */
  scheduleFlush(): void {
    if (this.flushQueued || this.phase === "closed") return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  /** Writes what is pending, through the delay queue when a delay is set or still draining. */
  flush(): void {
    this.flushQueued = false;
    if (this.phase === "closed" || this.out.length === 0) return;
    const bytes = this.out.take();
    const delayMs = this.host.delayMs;
    // Once anything is delayed, later messages queue behind it so order is kept when the delay changes.
    if (delayMs > 0 || this.delayed.length > 0) {
      this.delayed.push({ dueMs: Date.now() + delayMs, bytes });
      this.delayedBytes += bytes.length;
      this.armDelay();
    } else {
      this.socket.write(bytes);
    }
    if (this.socket.writableLength + this.delayedBytes > this.host.maxOutboundBytes) {
      this.close(`slow consumer: more than ${this.host.maxOutboundBytes} bytes queued`);
    }
  }

  private armDelay(): void {
    if (this.delayTimer !== null || this.delayed.length === 0) return;
    const wait = Math.max(0, this.delayed[0]!.dueMs - Date.now());
    this.delayTimer = setTimeout(() => {
      this.delayTimer = null;
      const now = Date.now();
      while (this.delayed.length > 0 && this.delayed[0]!.dueMs <= now && this.phase !== "closed") {
        const { bytes } = this.delayed.shift()!;
        this.delayedBytes -= bytes.length;
        this.socket.write(bytes);
      }
      this.armDelay();
    }, wait);
  }

  /** Closes the socket (after writing what is pending, unless `abrupt`). */
  close(reason: string, abrupt = false): void {
    if (this.phase === "closed") return;
    this.closeReason = reason;
    if (!abrupt && this.out.length > 0 && this.delayed.length === 0) this.socket.write(this.out.take());
    if (abrupt) {
      this.socket.destroy();
    } else {
      // end() sends what is queued, then FIN; a peer that never closes its side is cut off after 1 s.
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
    }
    this.closed();
  }

  private closed(): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    if (this.delayTimer !== null) clearTimeout(this.delayTimer);
    this.delayTimer = null;
    this.delayed.length = 0;
    this.delayedBytes = 0;
    // The host drops this client's subscriptions from its fan-out lists, then they are forgotten here.
    this.host.onClosed(this);
    this.subs.clear();
  }
}
