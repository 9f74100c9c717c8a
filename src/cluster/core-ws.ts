// The core's side of edge clients' WebSocket ops (RPC_WS): each edge client that sends an op gets
// a stand-in connection here, and the op runs on the core's own extensions (order entry,
// alerts, session, chains) exactly as for a client of the core. Everything those extensions
// send to it — the op's answer, then the pushes of what it watches — is published on the
// client's own subject (connSubject) for the edge to relay. So auth, entitlement (which
// accounts it may watch) and every reply are decided by the core alone, and the edge never
// holds a key beyond relaying the auth message.
//
// Bounded: at most maxConnections stand-ins (more are refused EDGE_BUSY); an edge that stops
// asking for instruments (its liveness probe, once a second) for EDGE_GONE_MS loses its stand-ins.

import { headers as natsHeaders, type Msg, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.ts";
import { codecFor } from "../server/codec.ts";
import type { Hub, Socket } from "../server/hub.ts";
import type { WsExtension } from "../server/orders-ws.ts";
import { connSubject, RPC_WS, WS_CLOSED, WS_HEADER, type WsOpReply } from "./wire.ts";

/** An edge unseen this long is taken as gone, and its clients' stand-ins dropped. */
export const EDGE_GONE_MS = 30_000;
/** Default bound on stand-in connections. */
export const MAX_REMOTE_CONNECTIONS = 10_000;

/** The core's hub and extensions, as RunningServer exposes them. */
export interface CoreWsTarget {
  readonly hub: Hub;
  readonly extensions: readonly WsExtension[];
}

/** Stand-ins for edge clients; see the file comment. */
export class CoreWs {
  private readonly conns = new Map<string, { edge: string; ws: Socket }>();
  private readonly edgesSeen = new Map<string, number>();
  /** Ops run and refused, for tests and metrics. */
  readonly stats = { ops: 0, refused: 0 };

  constructor(private readonly target: CoreWsTarget, private readonly log: Logger, private readonly maxConnections = MAX_REMOTE_CONNECTIONS) {}

  /** Stand-ins held now. */
  get connections(): number {
    return this.conns.size;
  }

  /** Subscribes the op and close subjects on the connection. */
  serve(nc: NatsConnection): void {
    nc.subscribe(RPC_WS, { callback: (err, msg) => { if (!err) this.op(nc, msg); } });
    nc.subscribe(WS_CLOSED, { callback: (err, msg) => {
      if (err) return;
      this.drop(this.keyOf(msg));
      if (msg.reply) msg.respond(new Uint8Array(0));
    } });
  }

  /** An edge asked for instruments: it is alive. */
  seen(edge: string, nowMs = Date.now()): void {
    this.edgesSeen.set(edge, nowMs);
  }

  /** Drops the stand-ins of edges unseen for EDGE_GONE_MS (called once a second). */
  sweep(nowMs = Date.now()): void {
    for (const [edge, at] of this.edgesSeen) {
      if (nowMs - at < EDGE_GONE_MS) continue;
      this.edgesSeen.delete(edge);
      let dropped = 0;
      for (const [key, c] of this.conns) if (c.edge === edge) { this.drop(key); dropped++; }
      if (dropped > 0) this.log.warn("an edge stopped asking; dropped its clients' sessions", { edge, connections: dropped });
    }
  }

  private keyOf(msg: Msg): string | undefined {
    const edge = msg.headers?.get(WS_HEADER.edge), conn = msg.headers?.get(WS_HEADER.conn);
    return edge && conn && /^\d{1,10}$/.test(conn) ? `${edge}.${conn}` : undefined;
  }

  private op(nc: NatsConnection, msg: Msg): void {
    const reply = (r: WsOpReply): void => void msg.respond(JSON.stringify(r));
    const key = this.keyOf(msg);
    let value: unknown;
    try {
      value = msg.json();
    } catch {
      value = undefined;
    }
    const ext = key === undefined ? undefined : this.target.extensions.find((x) => x.handles(value));
    if (!key || !ext) {
      this.stats.refused++;
      return reply({ error: { code: "BAD_REQUEST", message: "the edge forwarded an op the core does not serve" } });
    }
    let c = this.conns.get(key);
    if (!c) {
      if (this.conns.size >= this.maxConnections) {
        this.stats.refused++;
        return reply({ error: { code: "EDGE_BUSY", message: `the core serves ${this.maxConnections} edge clients' sessions already; retry later` } });
      }
      const edge = msg.headers!.get(WS_HEADER.edge);
      c = { edge, ws: this.standIn(nc, edge, Number(msg.headers!.get(WS_HEADER.conn)), key) };
      this.conns.set(key, c);
      this.edgesSeen.set(edge, this.edgesSeen.get(edge) ?? Date.now());
    }
    this.stats.ops++;
    ext.handle(c.ws, value);
    reply({ ok: true });
  }

  /**
   * A connection object the extensions and the hub can use like a real socket: what they send
   * is published for the edge, a close is published as one. It is never slow (the edge's own
   * hub applies the slow-consumer policy to the real client).
   */
  private standIn(nc: NatsConnection, edge: string, conn: number, key: string): Socket {
    const subject = connSubject(edge, conn);
    const data = this.target.hub.newConnData(codecFor("json"));
    const ws = {
      data, readyState: 1,
      send: (e: string | Uint8Array) => {
        nc.publish(subject, e);
        return e.length || 1;
      },
      getBufferedAmount: () => 0,
      close: (code?: number, reason?: string) => {
        const h = natsHeaders();
        h.set(WS_HEADER.close, String(code ?? 1000));
        h.set(WS_HEADER.reason, reason ?? "");
        nc.publish(subject, new Uint8Array(0), { headers: h });
        this.drop(key);
      },
    };
    return ws as unknown as Socket;
  }

  private drop(key: string | undefined): void {
    const c = key === undefined ? undefined : this.conns.get(key);
    if (!c) return;
    this.conns.delete(key!);
    c.ws.data.closed = true;
    for (const x of this.target.extensions) {
      try {
        x.closed(c.ws);
      } catch (err) {
        this.log.error("an extension failed to forget an edge client", { err });
      }
    }
  }

  /** Drops every stand-in (the core stops). */
  stop(): void {
    for (const key of [...this.conns.keys()]) this.drop(key);
  }
}
