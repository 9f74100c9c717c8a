// The edge's REST forwarder: every /v1 route the edge does not serve itself (orders, accounts,
// risk, alerts, keys, analytics, strategy, preview, history, broker, bars, greeks, chains) goes
// to the core over NATS request/reply (RPC_HTTP) and the core's reply is relayed as it is. The
// edge checks nothing about the client (the core holds the keys); it only bounds what it carries:
// the body size, the wait for the core, and how many forwards are in flight at once.

import { errors, headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import type { Context, Hono } from "hono";
import type { ClientEnv } from "../auth/market-gate.ts";
import { errorResponse, markExpectedFailure } from "../server/rest.ts";
import { FORWARD_MAX_BODY_BYTES, FORWARDED_REPLY_HEADERS, FORWARDED_REQUEST_HEADERS, HTTP_HEADER, RPC_HTTP } from "./wire.ts";

/** Bounds of forwarding. */
export interface ForwardOptions {
  /** How long a forwarded request waits for the core before 504 CORE_TIMEOUT. */
  timeoutMs: number;
  /** Forwards in flight at once on this edge (REST and WebSocket ops together); more get 503 EDGE_BUSY. */
  maxInFlight: number;
  /** Largest request body forwarded; larger gets 413 PAYLOAD_TOO_LARGE. */
  maxBodyBytes: number;
}

/** Defaults: a core answers in milliseconds, so 5 s means it is gone or stuck. */
export const FORWARD_DEFAULTS: ForwardOptions = { timeoutMs: 5000, maxInFlight: 256, maxBodyBytes: FORWARD_MAX_BODY_BYTES };

/** Counters of forwarding (the edge's /metrics). */
export interface ForwardStats {
  forwarded: number;
  inFlight: number;
  timeouts: number;
  unavailable: number;
  busy: number;
}

/** Why a forward failed, as the client's status and code. */
export interface ForwardFailure {
  status: 503 | 504;
  code: "CORE_UNAVAILABLE" | "CORE_TIMEOUT" | "EDGE_BUSY";
  message: string;
}

/** The connection to the core and the in-flight bound, shared by REST and WebSocket forwarding. */
export class Forwarder {
  readonly stats: ForwardStats = { forwarded: 0, inFlight: 0, timeouts: 0, unavailable: 0, busy: 0 };

  constructor(private readonly bus: () => NatsConnection | undefined, readonly options: ForwardOptions) {}

  /**
   * Sends one request to the core and returns its reply, or why there is none: the bus down or
   * no core listening (CORE_UNAVAILABLE, at once), no answer in time (CORE_TIMEOUT), too many in
   * flight (EDGE_BUSY).
   */
  async request(subject: string, data: Uint8Array | string, headers?: ReturnType<typeof natsHeaders>):
    Promise<{ ok: true; data: Uint8Array; headers: ReturnType<typeof natsHeaders> | undefined } | ({ ok: false } & ForwardFailure)> {
    const nc = this.bus();
    if (!nc || nc.isClosed()) return this.fail(503, "CORE_UNAVAILABLE", "this edge is not connected to the bus; retry shortly (see /readyz)");
    if (this.stats.inFlight >= this.options.maxInFlight) {
      this.stats.busy++;
      return { ok: false, status: 503, code: "EDGE_BUSY", message: `this edge has ${this.options.maxInFlight} requests to the core in flight; retry shortly` };
    }
    this.stats.inFlight++;
    try {
      const msg = await nc.request(subject, data, { timeout: this.options.timeoutMs, ...(headers ? { headers } : {}) });
      this.stats.forwarded++;
      return { ok: true, data: msg.data, headers: msg.headers };
    } catch (err) {
      if (err instanceof errors.RequestError && err.isNoResponders()) return this.fail(503, "CORE_UNAVAILABLE", "no core is answering on the bus; retry shortly (see /readyz)");
      if (err instanceof errors.TimeoutError || (err as Error).cause instanceof errors.TimeoutError) {
        this.stats.timeouts++;
        return { ok: false, status: 504, code: "CORE_TIMEOUT", message: `the core did not answer within ${this.options.timeoutMs} ms; the request may or may not have been applied (check before retrying an order)` };
      }
      return this.fail(503, "CORE_UNAVAILABLE", `cannot reach the core: ${(err as Error).message}`);
    } finally {
      this.stats.inFlight--;
    }
  }

  private fail(status: 503, code: "CORE_UNAVAILABLE", message: string): { ok: false } & ForwardFailure {
    this.stats.unavailable++;
    return { ok: false, status, code, message };
  }
}

/** The request body, or undefined when it exceeds max bytes (read no further than that). */
async function boundedBody(req: Request, max: number): Promise<Uint8Array | undefined> {
  const declared = Number(req.headers.get("content-length"));
  if (declared > max) return undefined;
  if (!req.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Every /v1 route not registered before it: forwarded to the core (see the file comment). */
export function forwardRoutes(forwarder: Forwarder): (app: Hono) => void {
  return (app) => {
    app.all("/v1/*", async (c: Context) => {
      const req = c.req.raw;
      const body = req.method === "GET" || req.method === "HEAD" ? new Uint8Array(0) : await boundedBody(req, forwarder.options.maxBodyBytes);
      if (body === undefined) return errorResponse(413, "PAYLOAD_TOO_LARGE", `bodies are limited to ${forwarder.options.maxBodyBytes} bytes`);
      const url = new URL(req.url);
      const h = natsHeaders();
      h.set(HTTP_HEADER.method, req.method);
      h.set(HTTP_HEADER.path, url.pathname + url.search);
      const ip = (c.env as ClientEnv | undefined)?.clientIp;
      if (ip) h.set(HTTP_HEADER.clientIp, ip);
      for (const name of FORWARDED_REQUEST_HEADERS) {
        const v = req.headers.get(name);
        if (v !== null) h.set(name, v);
      }
      const reply = await forwarder.request(RPC_HTTP, body, h);
      if (!reply.ok) {
        // No bus or no core is what /readyz reports (logged once per change), not a failure per request.
        if (reply.code === "CORE_UNAVAILABLE") markExpectedFailure(req);
        const res = errorResponse(reply.status, reply.code, reply.message);
        if (reply.code !== "CORE_TIMEOUT") res.headers.set("retry-after", "1");
        return res;
      }
      const status = Number(reply.headers?.get(HTTP_HEADER.status));
      const out = new Headers();
      for (const name of FORWARDED_REPLY_HEADERS) {
        const v = reply.headers?.get(name);
        if (v) out.set(name, v);
      }
      // HEAD and 204/304 replies carry no body.
      const empty = req.method === "HEAD" || status === 204 || status === 304;
      return new Response(empty ? null : (reply.data as Uint8Array<ArrayBuffer>), { status: status >= 200 && status <= 599 ? status : 502, headers: out });
    });
  };
}
