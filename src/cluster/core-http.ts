// The core's answer to REST requests its edges forward (RPC_HTTP): each is rebuilt as a Request
// and run through the core's own hono app, so a client of an edge gets exactly the core's reply —
// API keys, scopes, rate limits, validation and errors are all the core's. A reply too large
// for the bus becomes a 502 the client can act on (ask a smaller page) instead of a timeout.

import { headers as natsHeaders, type Msg, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.ts";
import { errorResponse } from "../server/rest.ts";
import { FORWARDED_REPLY_HEADERS, FORWARDED_REQUEST_HEADERS, HTTP_HEADER, RPC_HTTP } from "./wire.ts";

/** Runs one request through the core's REST routes (RunningServer.fetch). */
export type CoreFetch = (req: Request, clientIp: string | undefined) => Response | Promise<Response>;

/** Room left in a message for the reply's headers. */
const HEADER_ROOM = 4096;

/** Counters of forwarded requests. */
export interface CoreHttpStats {
  forwarded: number;
  refused: number;
}

/** Subscribes RPC_HTTP on the connection and answers every forwarded request. */
export function serveForwardedHttp(nc: NatsConnection, fetch: CoreFetch, stats: CoreHttpStats, log: Logger): void {
  nc.subscribe(RPC_HTTP, { callback: (err, msg) => { if (!err) void answer(nc, msg, fetch, stats, log); } });
}

async function answer(nc: NatsConnection, msg: Msg, fetch: CoreFetch, stats: CoreHttpStats, log: Logger): Promise<void> {
  stats.forwarded++;
  let res: Response;
  try {
    res = await fetch(toRequest(msg), msg.headers?.get(HTTP_HEADER.clientIp) || undefined);
  } catch (err) {
    stats.refused++;
    log.warn("refused a forwarded request", { reason: (err as Error).message });
    res = errorResponse(400, "BAD_REQUEST", `the edge forwarded a request the core cannot read: ${(err as Error).message}`);
  }
  let body = new Uint8Array(await res.arrayBuffer());
  const max = nc.info?.max_payload ?? 1024 * 1024;
  if (body.length + HEADER_ROOM > max) {
    log.warn("a forwarded request's reply exceeds the bus's max_payload", { bytes: body.length, max });
    res = errorResponse(502, "REPLY_TOO_LARGE", `the reply (${body.length} bytes) exceeds what the bus carries (${max - HEADER_ROOM}); ask for a smaller page (limit) or use the core directly`);
    body = new Uint8Array(await res.arrayBuffer());
  }
  const h = natsHeaders();
  h.set(HTTP_HEADER.status, String(res.status));
  for (const name of FORWARDED_REPLY_HEADERS) {
    const v = res.headers.get(name);
    if (v !== null) h.set(name, v);
  }
  msg.respond(body, { headers: h });
}

/** The forwarded request as a Request; throws on a missing or bad method or path. */
function toRequest(msg: Msg): Request {
  const method = msg.headers?.get(HTTP_HEADER.method) ?? "";
  const path = msg.headers?.get(HTTP_HEADER.path) ?? "";
  if (!/^[A-Z]{3,7}$/.test(method)) throw new Error(`bad method ${JSON.stringify(method)}`);
  if (!path.startsWith("/v1/")) throw new Error(`bad path ${JSON.stringify(path)}: only /v1/ routes are forwarded`);
  const headers = new Headers();
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const v = msg.headers?.get(name);
    if (v) headers.set(name, v);
  }
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(`http://core${path}`, { method, headers, ...(hasBody ? { body: msg.data as Uint8Array<ArrayBuffer> } : {}) });
}
