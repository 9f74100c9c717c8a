// What each REST route declares about itself for the OpenAPI document (src/server/openapi.ts):
// method, path, who may call it, the zod schemas of its parameters, body and replies, and the
// error codes it can answer with. Route modules export a list of these next to their handlers;
// nothing here runs on the request path — the document is built once, on the first
// GET /openapi.json (or by scripts/gen-api-docs.ts).

import type { z } from "zod";
import type { RestErrorCode } from "../client/protocol.ts";

/**
 * Who may call a route. "public": nobody needs a key; "market": market data (a read key unless
 * the client is on loopback or marketData = "open", src/auth/market-gate.ts); "any": any valid
 * key; "read" / "trade" / "admin": a key holding that scope (admin holds every scope).
 */
export type RouteAuth = "public" | "market" | "any" | "read" | "trade" | "admin";

/** One successful reply of a route. */
export interface RouteReply {
  description: string;
  /** The JSON body; absent for a body that is not JSON (give contentType). */
  schema?: z.ZodType;
  /** Defaults to application/json. */
  contentType?: string;
}

/** A REST route as the OpenAPI document shows it. */
export interface RouteDoc {
  method: "get" | "post" | "patch" | "delete";
  /** Hono's pattern, e.g. /v1/orders/:id. */
  path: string;
  summary: string;
  /** Groups routes in API explorers. */
  tag: string;
  auth: RouteAuth;
  /** Path parameters; each is a string when absent. */
  params?: z.ZodObject;
  /** Query parameters (every value arrives as a string; the schema says what is accepted). */
  query?: z.ZodObject;
  /** The JSON request body. */
  body?: z.ZodType;
  /** Successful replies by status. */
  replies: Record<number, RouteReply>;
  /** Error codes by status, besides those of `auth` (added by the builder) and 500 INTERNAL. */
  errors?: Record<number, readonly RestErrorCode[]>;
  description?: string;
}

/** The 400 of a route with a JSON body: unparsable, too large, or failing its schema. */
export const BODY_ERRORS: Record<number, readonly RestErrorCode[]> = { 400: ["BAD_JSON", "BAD_REQUEST"], 413: ["PAYLOAD_TOO_LARGE"] };
