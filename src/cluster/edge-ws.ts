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
/** Bound on closes waiting for the core's confirmation. */
const MAX_PENDING_CLOSES = 10_000;
/** Close requests started per flush (the rest go at the next). */
const CLOSES_PER_FLUSH = 100;
const CLOSE_TIMEOUT_MS = 2000;

/** Forwards the core's ops and relays their frames; see the file comment. */
export class EdgeWs implements WsExtension {
  /** The ops it claims (all forwarded). */
  readonly ops = FORWARDED_OPS;
  /** Connections that sent an op: the core may hold a session for them. */
  private readonly sessions = new Map<number, Socket>();
  /** Closed connections the core has not confirmed dropping yet, and those being told now. */
  private readonly closing = new Set<number>();
  private readonly sending = new Set<number>();
  /** Frames relayed and frames for connections gone meanwhile. */
  readonly stats = { relayed: 0, orphaned: 0 };

  /** `bus` is the connection even while it reconnects: a close published then is sent when it is back, so no session leaks at the core. */
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

  /** The connection closed: the core drops its stand-in (told until it confirms, see flushCloses). */
  closed(ws: Socket): void {
    if (!this.sessions.delete(ws.data.id)) return;
    if (this.closing.size >= MAX_PENDING_CLOSES) {
      // The core has been away for very long; it drops this edge's sessions itself if the edge stays away.
      const oldest = this.closing.values().next().value!;
      this.closing.delete(oldest);
      this.log.warn("too many closes wait for the core; forgot the oldest", { conn: oldest });
    }
    this.closing.add(ws.data.id);
    this.flushCloses();
  }

  /**
   * Tells the core about closed connections by request/reply, keeping each until the core
   * confirms: a plain publish is lost when the core is not subscribed at that moment (the bus or
   * the core coming back), and the stand-in would then live on. Called on each close and once a second.
   */
  flushCloses(): void {
    const nc = this.bus();
    if (!nc || nc.isClosed()) return;
    let started = 0;
    for (const conn of this.closing) {
      if (this.sending.has(conn)) continue;
      if (++started > CLOSES_PER_FLUSH) break;
      this.sending.add(conn);
      const h = natsHeaders();
      h.set(WS_HEADER.edge, this.edgeId);
      h.set(WS_HEADER.conn, String(conn));
      nc.request(WS_CLOSED, new Uint8Array(0), { headers: h, timeout: CLOSE_TIMEOUT_MS })
        .then(() => this.closing.delete(conn), () => undefined)
        .finally(() => this.sending.delete(conn));
    }
  }

  /** Closes not yet confirmed by the core. */
  get pendingCloses(): number {
    return this.closing.size;
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

  /** Nothing to stop: the NATS link is the edge's. */
  stop(): void {}
}
