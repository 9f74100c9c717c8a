// Inbound messages of one connection: rate limit, decode, validate, then subscribe, unsubscribe
// or ping. Every refusal is an error frame with a code, a message and the offending field, and
// leaves the connection's subscriptions exactly as they were.

import type { ClientRequest, SubscribeRequest, UnsubscribeRequest, WsErrorCode } from "../client/protocol.ts";
import { decodeInbound } from "./codec.ts";
import type { Hub, Socket } from "./hub.ts";
import { MARKET_OPS, parseRequest } from "./messages.ts";
import type { SymbolIndex } from "./symbols.ts";
import type { WsExtension } from "./orders-ws.ts";

/** Handles one inbound WebSocket message. Never throws for anything a client can send. */
export function handleMessage(hub: Hub, symbols: SymbolIndex, ws: Socket, message: string | Uint8Array,
  extensions: readonly WsExtension[] = []): void {
  const d = ws.data;
  if (d.closed) return;
  const now = performance.now();
  if (!d.bucket.take(now)) {
    hub.stats.rateLimited++;
    if (d.abuse.strike(now)) hub.closeForAbuse(ws);
    else {
      const l = hub.limits;
      sendError(hub, ws, "RATE_LIMITED", `over ${l.inboundRatePerS} messages/s (burst ${l.inboundBurst}); message ignored`);
    }
    return;
  }
  const decoded = decodeInbound(message);
  if (!decoded.ok) return sendError(hub, ws, decoded.code, decoded.message);
  // Ops an extension claims (order entry) bypass the market-data request schema.
  for (const x of extensions) if (x.handles(decoded.value)) return x.handle(ws, decoded.value);
  const parsed = parseRequest(decoded.value);
  if (!parsed.ok) {
    const e = parsed.error;
    // zod's message for the op names only this schema's ops; the extensions' are just as valid.
    const message = e.field === "op" ? unknownOp(decoded.value, extensions) : e.message;
    return sendError(hub, ws, "BAD_REQUEST", message, e.field, e.id);
  }
  dispatch(hub, symbols, ws, parsed.request);
}

/** Names the op received and every op this server takes (market data and every extension's). */
function unknownOp(value: unknown, extensions: readonly WsExtension[]): string {
  const op = (value as { op?: unknown } | null)?.op;
  const all = [...new Set([...MARKET_OPS, ...extensions.flatMap((x) => x.ops)])];
  const got = op === undefined ? "no op" : typeof op === "string" ? `unknown op ${JSON.stringify(op.slice(0, 40))}` : `op must be a string, not ${typeof op}`;
  return `${got}; the ops are ${all.join(", ")}`;
}

function dispatch(hub: Hub, symbols: SymbolIndex, ws: Socket, req: ClientRequest): void {
  switch (req.op) {
    case "ping":
      hub.send(ws, withId({ t: "pong", ts: Date.now() }, req.id));
      return;
    case "subscribe":
      return subscribe(hub, symbols, ws, req);
    case "unsubscribe":
      return unsubscribe(hub, symbols, ws, req);
  }
}

function subscribe(hub: Hub, index: SymbolIndex, ws: Socket, req: SubscribeRequest): void {
  if (ws.data.needsKey) return sendError(hub, ws, "UNAUTHORIZED", 'market data needs an API key from this address: send {"op":"auth","key":…} first', undefined, req.id);
  const resolved = index.resolve(req.symbols, req.underlyings);
  if ("unknown" in resolved) {
    const u = resolved.unknown;
    return sendError(hub, ws, "UNKNOWN_SYMBOL", `no instrument matches ${JSON.stringify(u.name)}`, u.field, req.id);
  }
  const held = ws.data.symbols;
  let fresh = 0;
  for (const row of resolved.rows) if (!held.has(row)) fresh++;
  const max = hub.limits.maxSubscriptionsPerClient;
  if (held.size + fresh > max) {
    const field = req.symbols?.length ? "symbols" : "underlyings";
    const message = `would hold ${held.size + fresh} symbols; the limit is ${max} per connection (holding ${held.size})`;
    return sendError(hub, ws, "TOO_MANY_SUBSCRIPTIONS", message, field, req.id);
  }
  const added = hub.subscribe(ws, resolved.rows);
  if (!hub.send(ws, withId({ t: "ack", op: "subscribe", symbols: names(index, resolved.rows) }, req.id))) return;
  for (const row of added) if (!hub.sendSnapshot(ws, row)) return;
}

function unsubscribe(hub: Hub, index: SymbolIndex, ws: Socket, req: UnsubscribeRequest): void {
  const resolved = index.resolve(req.symbols, req.underlyings);
  if ("unknown" in resolved) {
    const u = resolved.unknown;
    return sendError(hub, ws, "UNKNOWN_SYMBOL", `no instrument matches ${JSON.stringify(u.name)}`, u.field, req.id);
  }
  hub.unsubscribe(ws, resolved.rows);
  hub.send(ws, withId({ t: "ack", op: "unsubscribe", symbols: names(index, resolved.rows) }, req.id));
}

function names(index: SymbolIndex, rows: readonly number[]): string[] {
  return rows.map((r) => index.symbolOf(r));
}

/** Puts the request id right after the frame type, where a human reading frames looks for it. */
function withId<T extends { t: string }>(frame: T, id: number | undefined): T & { id?: number } {
  if (id === undefined) return frame;
  const { t, ...rest } = frame;
  return { t, id, ...rest } as T & { id: number };
}

function sendError(hub: Hub, ws: Socket, code: WsErrorCode, message: string, field?: string, id?: number): void {
  const frame: { t: "error"; code: WsErrorCode; message: string; field?: string } = { t: "error", code, message };
  if (field !== undefined) frame.field = field;
  hub.send(ws, withId(frame, id));
}
