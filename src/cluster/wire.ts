// What travels on NATS between the core and its edges: the subjects, the quote message (the
// MessagePack quote frame clients get, docs/decisions.md "Quotes on NATS") and the
// request/reply bodies (JSON: small, rare, and readable with `nats req` when debugging).

import { Unpackr } from "msgpackr";
import type { Instrument } from "../domain/instrument.ts";
import type { Quote } from "../domain/quote.ts";
import type { QuoteFrame } from "../client/protocol.ts";

/** Prefix of the per-symbol quote subjects. */
export const QUOTE_PREFIX = "alluse.q.";
/** Request/reply: a page of the core's instrument table. */
export const RPC_INSTRUMENTS = "alluse.rpc.instruments";
/** Request/reply: the current quotes of a list of symbols. */
export const RPC_SNAPSHOT = "alluse.rpc.snapshot";
/** Instruments per instruments reply page: ~150 bytes each keeps a page far below NATS's 1 MB max_payload. */
export const INSTRUMENT_PAGE = 2000;
/** Symbols per snapshot request: ~300 bytes a quote keeps a reply far below max_payload. */
export const SNAPSHOT_BATCH = 500;

/**
 * The subject of a symbol's quotes. A dot separates NATS subject tokens and symbols may hold
 * one (BRK.B, option strikes), so it becomes "_" (never in a symbol): one token per symbol,
 * and `alluse.q.*` matches every quote.
 */
export function quoteSubject(symbol: string): string {
  return QUOTE_PREFIX + symbol.replaceAll(".", "_");
}

/** Body of an instruments request. */
export interface InstrumentsRequest {
  offset: number;
  /** The asking edge's id: the core keeps that edge's clients' sessions while it keeps asking. */
  edge?: string;
}

/** Body of an instruments reply: one page of the table, with the core's HTTP URL for edges to name. */
export interface InstrumentsReply {
  instruments: Instrument[];
  total: number;
  next: number | null;
  coreUrl: string;
  /** Changes when the core restarts: an edge then knows the core forgot its clients' sessions. */
  bootId?: string;
}

/** Body of a snapshot request. */
export interface SnapshotRequest {
  symbols: string[];
}

/** Body of a snapshot reply: the quotes of the known symbols, in request order; unknown ones are left out. */
export interface SnapshotReply {
  quotes: Quote[];
}

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** Reads a quote message (a MessagePack quote frame) back into a quote; undefined when it is not one. */
export function decodeQuoteMessage(data: Uint8Array): Quote | undefined {
  let f: QuoteFrame;
  try {
    f = unpackr.unpack(data) as QuoteFrame;
  } catch {
    return undefined;
  }
  if (f === null || typeof f !== "object" || f.t !== "q" || typeof f.s !== "string" || typeof f.seq !== "number") return undefined;
  return {
    symbol: f.s, seq: f.seq, bid: f.b, bidSize: f.bs, ask: f.a, askSize: f.as, last: f.l, lastSize: f.ls, volume: f.v,
    vwap: f.vw, open: f.o, high: f.h, low: f.lo, prevClose: f.pc, volatility: f.vol, exchangeTs: f.ts, ingestTs: f.its, flags: f.f,
  };
}

/**
 * Request/reply: one REST request an edge forwards to the core. The payload is the raw request
 * body and the rest travels in NATS headers (HTTP_HEADER): no re-encoding, binary-safe, and the
 * body's bytes count once against the bus's max_payload.
 */
export const RPC_HTTP = "alluse.rpc.http";
/** NATS header names of a forwarded request and its reply. */
export const HTTP_HEADER = {
  /** Request: the HTTP method. */
  method: "Alluse-Method",
  /** Request: path and query string, e.g. /v1/orders?limit=10. */
  path: "Alluse-Path",
  /** Request: the client's IP as the edge saw it (the core's loopback rules apply to it, not to the edge). */
  clientIp: "Alluse-Client-Ip",
  /** Reply: the HTTP status. */
  status: "Alluse-Status",
} as const;
/** HTTP headers forwarded each way (everything else is the edge's or the core's own business). */
export const FORWARDED_REQUEST_HEADERS = ["authorization", "content-type", "x-request-id", "idempotency-key", "accept"] as const;
/** HTTP reply headers relayed from the core to the client (x-request-id is the edge's own, set by its request middleware). */
export const FORWARDED_REPLY_HEADERS = ["content-type", "retry-after", "location", "cache-control"] as const;
/** Largest request body an edge forwards: the largest any core route accepts (POST /v1/chains/calc); each route's own limit is the core's to enforce. */
export const FORWARD_MAX_BODY_BYTES = 512 * 1024;

/**
 * Request/reply: one WebSocket op (auth, watch, submit, alerts.*, session.*, chain.*) of an edge
 * client, as JSON, with the edge and connection ids in NATS headers (WS_HEADER). The core runs
 * it on its stand-in for that connection; the reply is only `{"ok":true}` or `{"error":…}` (the
 * op's own answer frames travel on the connection's subject, like its pushes).
 */
export const RPC_WS = "alluse.rpc.ws";
/** Request/reply: an edge client that sent ops closed; the core drops its stand-in (headers WS_HEADER) and confirms with an empty reply. */
export const WS_CLOSED = "alluse.ws.closed";
/** Prefix of the per-connection subjects `alluse.conn.<edge>.<conn>`: every frame for that client (JSON). */
export const CONN_PREFIX = "alluse.conn.";
/** NATS header names of the WebSocket forwarding. */
export const WS_HEADER = {
  edge: "Alluse-Edge",
  conn: "Alluse-Conn",
  /** On a connection subject: close the client with this code (and Alluse-Reason) instead of sending a frame. */
  close: "Alluse-Close",
  reason: "Alluse-Reason",
} as const;

/** The subject of one edge client's frames. */
export function connSubject(edge: string, conn: number): string {
  return `${CONN_PREFIX}${edge}.${conn}`;
}

/** Reply to an RPC_WS request. */
export type WsOpReply = { ok: true } | { error: { code: "EDGE_BUSY" | "BAD_REQUEST"; message: string } };
