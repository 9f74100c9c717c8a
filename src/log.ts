// Structured logs on pino: one JSON object per line with a level name, an ISO time, the
// component and the message. Secrets are redacted by key wherever they appear in the first
// three levels of the fields (authorization headers, API keys, passwords, tokens, cookies), so a
// careless caller still cannot leak one; callers should log identifiers, never credentials.

import pino, { type DestinationStream, type Logger as Pino } from "pino";

/** Log levels in increasing severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** A structured logger bound to a component name. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

/** Field names whose values are never written, matched case-sensitively as spelled here. */
export const SECRET_KEYS = [
  "authorization", "Authorization", "cookie", "Cookie", "set-cookie", "x-api-key", "X-Api-Key",
  "apiKey", "api_key", "adminKey", "admin_key", "key", "password", "passwd", "secret", "token", "accessToken", "refreshToken",
] as const;

/** What replaces a redacted value. */
export const REDACTED = "[redacted]";

/** Redaction paths: each secret key at the top level and up to two objects deep. */
function redactPaths(): string[] {
  const out: string[] = [];
  for (const k of SECRET_KEYS) {
    const p = /^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`;
    const dot = p.startsWith("[") ? p : `.${p}`;
    out.push(p, `*${dot}`, `*.*${dot}`);
  }
  return out;
}

/** Errors in the first level are written as name, message and stack, not as {}; pino's own serializer handles `err`. */
function serializeErrors(fields: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const k in fields) {
    const v = fields[k];
    if (v instanceof Error && k !== "err") (out ??= { ...fields })[k] = { name: v.name, message: v.message, stack: v.stack };
  }
  return out ?? fields;
}

function wrap(p: Pino, root: Pino, component: string): Logger {
  return {
    debug: (m, f) => (f ? p.debug(serializeErrors(f), m) : p.debug(m)),
    info: (m, f) => (f ? p.info(serializeErrors(f), m) : p.info(m)),
    warn: (m, f) => (f ? p.warn(serializeErrors(f), m) : p.warn(m)),
    error: (m, f) => (f ? p.error(serializeErrors(f), m) : p.error(m)),
    // Children hang off the root, so the component key is written once, not once per level.
    child: (name) => {
      const full = `${component}.${name}`;
      return wrap(root.child({ component: full }), root, full);
    },
  };
}

/**
 * Creates a logger writing JSON lines through `write` (stdout by default, synchronously so the
 * last line before an exit is not lost) at or above `level`.
 */
export function createLogger(level: LogLevel = "info", component = "app", write?: (line: string) => void): Logger {
  const dest: DestinationStream = write ? { write } : pino.destination({ dest: 1, sync: true });
  const root = pino({
    level,
    base: null,
    messageKey: "msg",
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: redactPaths(), censor: REDACTED },
  }, dest);
  return wrap(root.child({ component }), root, component);
}
