// One request whose answer is a run of events closed by an end marker (reqOpenOrders →
// openOrder… openOrderEnd, reqExecutions → execDetails… execDetailsEnd, reqPositions, …).
// Each run is settled exactly once: by its end marker, a timeout, too many items, or the
// connection going away under it (nothing answered on a dead connection arrives on the next).

import type { IBApi } from "@stoqey/ib";
import { IbRequestError } from "./requests.ts";
import type { IbSession } from "./session.ts";

/** How to run one collecting request. */
export interface CollectSpec<T> {
  label: string;
  /** Sends the request (through the session's pacing queue). */
  send: (api: IBApi) => void;
  /** Registers listeners that call push(item) and end(); returns a function removing them. */
  listen: (push: (item: T) => void, end: () => void) => () => void;
  timeoutMs: number;
  /** Most items accepted; one more fails the request (IB_TOO_MANY) rather than growing without bound. */
  maxItems: number;
}

/** Runs a collecting request on the session; resolves with the items in arrival order. */
export function collect<T>(session: IbSession, spec: CollectSpec<T>): Promise<T[]> {
  return new Promise<T[]>((resolve, reject) => {
    const items: T[] = [];
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unlisten();
      offState();
      if (err) reject(err);
      else resolve(items);
    };
    const unlisten = spec.listen((item) => {
      if (settled) return;
      if (items.length >= spec.maxItems) return done(new IbRequestError("IB_TOO_MANY", `${spec.label}: more than ${spec.maxItems} items`));
      items.push(item);
    }, () => done());
    const offState = session.events.on("state", (s) => {
      if (s.to !== "connected" && s.to !== "degraded") done(new IbRequestError("IB_DISCONNECTED", `${spec.label}: connection lost (${s.reason})`));
    });
    const timer = setTimeout(() => done(new IbRequestError("IB_TIMEOUT", `${spec.label}: no end marker within ${spec.timeoutMs} ms`)), spec.timeoutMs);
    session.request(spec.label, spec.send).catch((err: Error) => done(err));
  });
}
