// The broker session topic over /ws: the IBKR connection's state (disconnected, connecting,
// connected, degraded, reconnecting, not_ready, competing, reauth; docs/protocol.md) and its
// data farms, pushed on every change. Any connection that may use /ws may subscribe: it says
// whether the data it sees is live, not anything about accounts. Without an IB session
// (synthetic or replay feed with the paper broker) the reply says so with `connection: null`
// and nothing is ever pushed. The reply reads state and farms from the session itself, so what
// TWS reported before this topic existed (the farm notices right after connecting) is there.
//
//   → {"op":"session.subscribe","id":1}
//   ← {"t":"session","id":1,"subscribed":true,"connection":{"name":"ib","state":"connected","reason":"","since":…},"farms":[…]}
//   ← {"t":"session","event":"state","from":"connected","to":"degraded","reason":"1100 …","ts":…}
//   ← {"t":"session","event":"farm","farm":{"kind":"market","name":"usfarm","ok":false},"ts":…}
//   → {"op":"session.unsubscribe","id":2}       ← {"t":"session","id":2,"subscribed":false,…}

import { z } from "zod";
import type { ErrorFrame, SessionFrame } from "../client/protocol.ts";
import type { IbSession } from "../ib/session.ts";
import type { Hub, Socket } from "./hub.ts";
import type { WsExtension } from "./orders-ws.ts";

const OPS = new Set(["session.subscribe", "session.unsubscribe"]);

/** The session topic requests as docs/asyncapi.json shows them; handle() checks the same rules by hand. */
export const sessionRequestSchema = z.strictObject({
  op: z.enum(["session.subscribe", "session.unsubscribe"]), id: z.number().int().min(0).max(0xffff_ffff).optional(),
});

/** The session topic; see the file comment. */
export class SessionWs implements WsExtension {
  private readonly subscribers = new Set<Socket>();
  private readonly detach: (() => void)[] = [];

  constructor(private readonly hub: Hub, private readonly session: IbSession | undefined) {
    if (!session) return;
    this.detach.push(session.events.on("state", (e) => {
      this.push({ t: "session", event: "state", from: e.from, to: e.to, reason: e.reason, ts: e.atMs });
    }));
    this.detach.push(session.events.on("farm", (f) => {
      this.push({ t: "session", event: "farm", farm: { kind: f.kind, name: f.name, ok: f.ok }, ts: Date.now() });
    }));
  }

  /** The session ops. */
  readonly ops: readonly string[] = [...OPS];

  /** Claims the session ops. */
  handles(value: unknown): boolean {
    return typeof value === "object" && value !== null && OPS.has((value as { op?: unknown }).op as string);
  }

  /** Subscribes or unsubscribes; answers with the current state. */
  handle(ws: Socket, value: unknown): void {
    const v = value as { op: string; id?: unknown };
    const id = v.id;
    if (id !== undefined && !(Number.isInteger(id) && (id as number) >= 0 && (id as number) <= 0xffff_ffff)) {
      const err: ErrorFrame = { t: "error", code: "BAD_REQUEST", message: "id must be an integer from 0 to 4294967295", field: "id" };
      this.hub.send(ws, err);
      return;
    }
    const extra = Object.keys(v).find((k) => k !== "op" && k !== "id");
    if (extra !== undefined) {
      const err: ErrorFrame = { t: "error", code: "BAD_REQUEST", message: `unknown field ${extra}`, field: extra, ...(id === undefined ? {} : { id: id as number }) };
      this.hub.send(ws, err);
      return;
    }
    const on = v.op === "session.subscribe";
    if (on) this.subscribers.add(ws);
    else this.subscribers.delete(ws);
    const s = this.session;
    this.hub.send(ws, {
      t: "session", ...(id === undefined ? {} : { id: id as number }), subscribed: on,
      connection: s ? { name: "ib", state: s.state, reason: s.stateReason, since: s.stateSinceMs } : null,
      farms: s ? s.farms().map((f) => ({ kind: f.kind, name: f.name, ok: f.ok })) : [],
    });
  }

  /** Forgets a closed connection. */
  closed(ws: Socket): void {
    this.subscribers.delete(ws);
  }

  /** Stops listening to the session. */
  stop(): void {
    for (const off of this.detach) off();
    this.subscribers.clear();
  }

  private push(frame: SessionFrame): void {
    for (const ws of this.subscribers) this.hub.send(ws, frame);
  }
}
