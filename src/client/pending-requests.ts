// MarketClient's table of requests in flight (split out of client.ts): ids, the per-request
// timeout, and resolving, rejecting or failing them all. Each entry keeps the selection of a
// subscribe or unsubscribe so the client can record what the server confirmed when the ack arrives.

import type { ClientRequest, ServerFrame } from "./protocol.ts";
import { ClientError, type Selection } from "./client-types.ts";

/** A request waiting for its reply. */
export interface Pending {
  op: ClientRequest["op"];
  resolve: (f: ServerFrame) => void;
  reject: (e: ClientError) => void;
  timer: ReturnType<typeof setTimeout>;
  selection?: Selection;
}

/** Requests in flight by id; each one times out on its own after `timeoutMs`. */
export class PendingRequests {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly timeoutMs: number) {}

  /** Gives `body` the next id, registers it and calls `send` with the body carrying that id. */
  start(body: ClientRequest, selection: Selection | undefined, send: (withId: ClientRequest) => void): Promise<ServerFrame> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ClientError("TIMEOUT", `no reply to ${body.op} ${id} within ${this.timeoutMs} ms`, undefined, id));
      }, this.timeoutMs);
      this.pending.set(id, { op: body.op, resolve, reject, timer, selection });
      send({ ...body, id });
    });
  }

  /** Whether a request with this id is waiting. */
  has(id: number): boolean {
    return this.pending.has(id);
  }

  /** Removes the request with this id (stopping its timer) and returns it, if it is waiting. */
  take(id: number | undefined): Pending | undefined {
    const p = id === undefined ? undefined : this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id!);
    clearTimeout(p.timer);
    return p;
  }

  /** Rejects every waiting request with `err`'s code and message (each with its own id). */
  failAll(err: ClientError): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ClientError(err.code, err.message, undefined, id));
    }
    this.pending.clear();
  }
}
