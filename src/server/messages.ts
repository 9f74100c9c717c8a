// Validation of client requests with zod. A request that fails is answered with an error frame
// naming the first offending field; nothing it asked for is applied.

import { z } from "zod";
import type { ClientRequest } from "../client/protocol.ts";

/** Longest symbol or underlying accepted (SYMBOL_PATTERN allows 32 characters). */
const MAX_SYMBOL_CHARS = 32;

/** Request ids are unsigned 32-bit so they stay plain integers in every MessagePack decoder. */
const id = z.number().int().min(0).max(0xffff_ffff).optional();
const symbolList = z.array(z.string().min(1).max(MAX_SYMBOL_CHARS));

const subscription = {
  id,
  symbols: symbolList.optional(),
  underlyings: symbolList.optional(),
};

/** The market-data requests (subscribe, unsubscribe, ping); also what docs/asyncapi.json shows. */
export const marketRequestSchema = z.discriminatedUnion("op", [
  z.strictObject({ op: z.literal("subscribe"), ...subscription }),
  z.strictObject({ op: z.literal("unsubscribe"), ...subscription }),
  z.strictObject({ op: z.literal("ping"), id }),
]);

/** The market-data ops, read from the request schema. */
export const MARKET_OPS: readonly string[] = marketRequestSchema.options.map((o) => o.shape.op.value);

/** A validation failure: what was wrong, where, and the request id if one could be read. */
export interface RequestError {
  message: string;
  field?: string;
  id?: number;
}

/** Formats a zod path like ["symbols", 1] as "symbols[1]". */
export function fieldPath(path: readonly PropertyKey[]): string | undefined {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? String(p) : `.${String(p)}`;
  return out === "" ? undefined : out;
}

/** Validates a decoded frame as a client request. */
export function parseRequest(value: unknown): { ok: true; request: ClientRequest } | { ok: false; error: RequestError } {
  const r = marketRequestSchema.safeParse(value);
  if (r.success) {
    const req = r.data;
    if (req.op !== "ping" && (req.symbols?.length ?? 0) + (req.underlyings?.length ?? 0) === 0) {
      return { ok: false, error: { message: "give at least one symbol or underlying", field: "symbols", id: req.id } };
    }
    return { ok: true, request: req };
  }
  const issue = r.error.issues[0]!;
  // An unknown key is reported at the key itself, which is where a typo like "symbol" is.
  const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]!] : issue.path;
  const error: RequestError = { message: issue.message, field: fieldPath(path) };
  const rawId = (value as { id?: unknown } | null)?.id;
  if (typeof rawId === "number" && id.safeParse(rawId).success) error.id = rawId;
  return { ok: false, error };
}
