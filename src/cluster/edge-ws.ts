// The edge's WebSocket forwarding: a client's trading, alert, session and chain ops go to the
// core by request/reply (RPC_WS) under this edge's id and the connection's id; the core runs them
// on a stand-in for the connection (core-ws.ts) and publishes every frame for it — answers and
// pushes — on the connection's subject, which this edge relays to the client through its hub
// (its codec, its slow-consumer policy). The auth message passes through once; the edge keeps
// no key. One wildcard subscription carries every client's frames.

import { headers as natsHeaders, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { CLOSE_CODES, type ServerFrame } from "../client/protocol.ts";
import type { Logger } from "../log.ts";
import type { Hub, Socket } from "../server/hub.ts";
import type { WsExtension } from "../server/orders-ws.ts";
import type { Forwarder } from "./edge-forward.ts";
import { CONN_PREFIX, RPC_WS, WS_CLOSED, WS_HEADER, type WsOpReply } from "./wire.ts";

/** WebSocket ops served by the core and forwarded to it. */
export const FORWARDED_OPS = ["auth", "submit", "preview", "cancel", "modify", "watch", "unwatch", "alerts.subscribe", "alerts.unsubscribe",
  "alerts.ack", "session.subscribe", "session.unsubscribe", "chain.subscribe", "chain.unsubscribe"] as const;
const OPS = new Set<string>(FORWARDED_OPS);

/** Forwards the core's ops and relays their frames; see the file comment. */
export class EdgeWs implements WsExtension {
  readonly ops = FORWARDED_OPS;
  /** Connections that sent an op: the core may hold a session for them. */
  private readonly sessions = new Map<number, Socket>();
  /** Frames relayed and frames for connections gone meanwhile. */
  readonly stats = { relayed: 0, orphaned: 0 };

  constructor(private readonly hub: Hub, private readonly forwarder: Forwarder, private readonly bus: () => NatsConnection | undefined,
    readonly edgeId: string, private readonly log: Logger) {}

  /** Subscribes this edge's connection subjects (once, on the first connection: NATS restores it after a reconnect). */
  attach(nc: NatsConnection): void {
    nc.subscribe(`${CONN_PREFIX}${this.edgeId}.*`, { callback: (err, msg) => { if (!err) this.relay(msg); } });
  }

  /** True for an op the core serves. */
  handles(v: unknown): boolean {
    return typeof v === "object" && v !== null && OPS.has((v as { op?: unknown }).op as string);
  }

  /** Sends the op to the core; a failure to reach it is answered here with the op's id. */
  handle(ws: Socket, v: unknown): void {
    this.sessions.set(ws.data.id, ws);
    const id = (v as { id?: unknown }).id;
    const fail = (code: "CORE_UNAVAILABLE" | "CORE_TIMEOUT" | "EDGE_BUSY" | "BAD_REQUEST", message: string) => {
      if (!ws.data.closed) this.hub.send(ws, { t: "error", ...(typeof id === "number" ? { id } : {}), code, message } as ServerFrame);
    };
    const h = natsHeaders();
    h.set(WS_HEADER.edge, this.edgeId);
    h.set(WS_HEADER.conn, String(ws.data.id));
    void this.forwarder.request(RPC_WS, JSON.stringify(v), h).then((r) => {
      if (!r.ok) return fail(r.code, r.message);
      let reply: WsOpReply;
      try {
        reply = JSON.parse(new TextDecoder().decode(r.data)) as WsOpReply;
      } catch {
        return fail("CORE_UNAVAILABLE", "the core's answer was unreadable");
      }
      if ("error" in reply) fail(reply.error.code, reply.error.message);
    }, (err: unknown) => {
      this.log.error("forwarding a WebSocket op failed", { err });
      fail("CORE_UNAVAILABLE", "cannot reach the core");
    });
  }

  private relay(msg: Msg): void {
    const conn = Number(msg.subject.slice(msg.subject.lastIndexOf(".") + 1));
    const ws = this.sessions.get(conn);
    if (!ws || ws.data.closed) {
      this.stats.orphaned++;
      return;
    }
    const close = msg.headers?.get(WS_HEADER.close);
    if (close) {
      ws.close(Number(close), msg.headers?.get(WS_HEADER.reason) ?? "");
      return;
    }
    let frame: ServerFrame;
    try {
      frame = msg.json() as ServerFrame;
    } catch {
      this.log.warn("dropped an unreadable frame from the core", { subject: msg.subject });
      return;
    }
    this.stats.relayed++;
    this.hub.send(ws, frame);
  }

  /** The connection closed: the core drops its stand-in. */
  closed(ws: Socket): void {
    if (!this.sessions.delete(ws.data.id)) return;
    const nc = this.bus();
    if (!nc) return;
    const h = natsHeaders();
    h.set(WS_HEADER.edge, this.edgeId);
    h.set(WS_HEADER.conn, String(ws.data.id));
    nc.publish(WS_CLOSED, new Uint8Array(0), { headers: h });
  }

  /**
   * The core lost its sessions (it restarted, or dropped this edge after a long absence): every
   * connection that had one is closed with 1012 so its client reconnects and authenticates again,
   * rather than silently stop receiving its pushes.
   */
  resetSessions(reason: string): void {
    if (this.sessions.size === 0) return;
    this.log.warn("the core lost this edge's sessions; closing their connections", { connections: this.sessions.size, reason });
    for (const ws of [...this.sessions.values()]) ws.close(CLOSE_CODES.coreRestarted, "the core restarted; reconnect and authenticate again");
    this.sessions.clear();
  }

  /** Connections with a session at the core now. */
  get count(): number {
    return this.sessions.size;
  }

  stop(): void {}
}
