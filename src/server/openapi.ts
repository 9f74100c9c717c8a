// The OpenAPI 3.1 document of the REST API, generated from the routes' own declarations
// (RouteDoc, src/server/openapi-registry.ts) and their zod schemas with zod 4's z.toJSONSchema.
// It is built once — on the first GET /openapi.json, or by scripts/gen-api-docs.ts — and the
// serialized text is reused; no request ever pays for it (docs/decisions.md, "API documents").

import type { Hono } from "hono";
import { z } from "zod";
import { REST_ERROR_CODES, type RestErrorCode } from "../client/protocol.ts";
import { BODY_ERRORS, type RouteAuth, type RouteDoc } from "./openapi-registry.ts";

/** JSON Schema as produced by z.toJSONSchema. */
type JsonSchema = Record<string, unknown>;

/** The bearer-key security scheme's name in the document. */
export const SECURITY_SCHEME = "apiKey";

/** Converts zod schemas, collecting every schema with a meta id into components.schemas. */
class SchemaSet {
  readonly components: Record<string, JsonSchema> = {};

  /** The JSON Schema of `schema`; named sub-schemas become $refs into components. */
  convert(schema: z.ZodType, io: "input" | "output"): JsonSchema {
    const out = z.toJSONSchema(schema, { target: "draft-2020-12", unrepresentable: "any", io }) as JsonSchema;
    delete out.$schema;
    const defs = out.$defs as Record<string, JsonSchema> | undefined;
    delete out.$defs;
    for (const [id, def] of Object.entries(defs ?? {})) this.components[id] = rewriteRefs(def) as JsonSchema;
    return rewriteRefs(out) as JsonSchema;
  }
}

/** Points zod's local #/$defs/X references at #/components/schemas/X. */
function rewriteRefs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rewriteRefs);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    out[k] = k === "$ref" && typeof x === "string" && x.startsWith("#/$defs/") ? `#/components/schemas/${x.slice(8)}` : rewriteRefs(x);
  }
  return out;
}

/** Errors every route of an authentication kind can answer with. */
function authErrors(auth: RouteAuth): Record<number, readonly RestErrorCode[]> {
  switch (auth) {
    case "public": return {};
    case "market": return { 401: ["UNAUTHORIZED"], 403: ["FORBIDDEN"] };
    case "any": return { 401: ["UNAUTHORIZED"], 429: ["RATE_LIMITED"] };
    default: return { 401: ["UNAUTHORIZED"], 403: ["FORBIDDEN"], 429: ["RATE_LIMITED"] };
  }
}

/** The security requirement of an authentication kind. */
function security(auth: RouteAuth): Record<string, string[]>[] {
  switch (auth) {
    case "public": return [];
    // Optional: loopback clients (marketData = "loopback") and everyone (marketData = "open") need no key.
    case "market": return [{}, { [SECURITY_SCHEME]: ["read"] }];
    case "any": return [{ [SECURITY_SCHEME]: [] }];
    default: return [{ [SECURITY_SCHEME]: [auth] }];
  }
}

const AUTH_NOTE: Record<RouteAuth, string> = {
  public: "No key needed.",
  market: "Market data: a key with the read (or trade / admin) scope, except from loopback with marketData = \"loopback\" (the default) or for everyone with marketData = \"open\".",
  any: "Any valid API key.",
  read: "An API key with the read scope (trade and admin keys hold it too).",
  trade: "An API key with the trade scope, for the accounts it names (admin keys: every account).",
  admin: "An API key with the admin scope.",
};

/** Merges error tables, union of codes per status. */
function mergeErrors(...tables: Record<number, readonly RestErrorCode[]>[]): Map<number, RestErrorCode[]> {
  const out = new Map<number, RestErrorCode[]>();
  for (const t of tables) {
    for (const [status, codes] of Object.entries(t)) {
      const list = out.get(Number(status)) ?? [];
      for (const c of codes) if (!list.includes(c)) list.push(c);
      out.set(Number(status), list);
    }
  }
  return out;
}

/** Every error a route can answer with, by status: its own, its authentication's, its body's and 500 INTERNAL. */
export function routeErrors(r: RouteDoc): Map<number, RestErrorCode[]> {
  return mergeErrors(authErrors(r.auth), r.body ? BODY_ERRORS : {}, r.errors ?? {}, { 500: ["INTERNAL"] });
}

/** Hono's /a/:b → OpenAPI's /a/{b}. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

/** What the document says about the server itself. */
export interface ApiInfo {
  title: string;
  version: string;
  description?: string;
}

/** Builds the OpenAPI 3.1 document of `routes`. Pure: the same routes give the same document. */
export function buildOpenApi(routes: readonly RouteDoc[], info: ApiInfo): Record<string, unknown> {
  const set = new SchemaSet();
  const paths: Record<string, Record<string, unknown>> = {};
  const sorted = [...routes].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  for (const r of sorted) {
    const path = openApiPath(r.path);
    const parameters: unknown[] = [];
    for (const name of [...r.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!)) {
      const field = r.params?.shape[name] as z.ZodType | undefined;
      const schema = field ? set.convert(field, "input") : { type: "string" };
      parameters.push({ name, in: "path", required: true, schema, ...(typeof schema.description === "string" ? { description: schema.description } : {}) });
    }
    for (const [name, field] of Object.entries(r.query?.shape ?? {}) as [string, z.ZodType][]) {
      const schema = set.convert(field, "input");
      parameters.push({ name, in: "query", required: !field.safeParse(undefined).success, schema,
        ...(typeof schema.description === "string" ? { description: schema.description } : {}) });
    }
    const responses: Record<string, unknown> = {};
    for (const [status, reply] of Object.entries(r.replies)) {
      responses[status] = {
        description: reply.description,
        ...(reply.schema || reply.contentType
          ? { content: { [reply.contentType ?? "application/json"]: reply.schema ? { schema: set.convert(reply.schema, "output") } : {} } }
          : {}),
      };
    }
    const errors = routeErrors(r);
    for (const status of [...errors.keys()].sort((a, b) => a - b)) {
      const codes = errors.get(status)!;
      const body = z.object({ error: z.object({ code: z.enum(codes as [RestErrorCode, ...RestErrorCode[]]), message: z.string(), field: z.string().optional() }) });
      responses[String(status)] = { description: `Error: ${codes.join(", ")}`, content: { "application/json": { schema: set.convert(body, "output") } } };
    }
    const op: Record<string, unknown> = {
      operationId: operationId(r), summary: r.summary, description: [r.description, AUTH_NOTE[r.auth]].filter(Boolean).join("\n\n"),
      tags: [r.tag], security: security(r.auth), ...(parameters.length ? { parameters } : {}),
      ...(r.body ? { requestBody: { required: true, content: { "application/json": { schema: set.convert(r.body, "input") } } } } : {}),
      responses,
    };
    (paths[path] ??= {})[r.method] = op;
  }
  set.convert(z.object({ error: z.object({ code: z.enum(REST_ERROR_CODES), message: z.string(), field: z.string().optional() }) }).meta({ id: "Error" }), "output");
  return {
    openapi: "3.1.0",
    info: { title: info.title, version: info.version, ...(info.description ? { description: info.description } : {}) },
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(set.components).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: "http", scheme: "bearer",
          description: "An API key (`keys create`, or POST /v1/admin/keys) sent as Authorization: Bearer <key>. Its scopes (read, trade, admin) are listed per operation.",
        },
      },
    },
  };
}

/** A stable operation id: method and path words, e.g. get_v1_orders_id. */
function operationId(r: RouteDoc): string {
  return `${r.method}${r.path.replace(/[^A-Za-z0-9]+/g, "_").replace(/_$/, "")}`;
}

/** GET /openapi.json itself, as a route of the document. */
export const openApiRouteDocs: RouteDoc[] = [{
  method: "get", path: "/openapi.json", tag: "meta", auth: "public", summary: "This document (OpenAPI 3.1)",
  replies: { 200: { description: "The OpenAPI document", schema: z.record(z.string(), z.unknown()) } },
}];

/** Adds GET /openapi.json: the document of `routes()`, built and serialized on the first request only. */
export function openApiRoutes(routes: () => readonly RouteDoc[], info: ApiInfo): (app: Hono) => void {
  let text: string | undefined;
  return (app) => {
    app.get("/openapi.json", () => {
      text ??= JSON.stringify(buildOpenApi(routes(), info), null, 2);
      return new Response(text, { headers: { "content-type": "application/json; charset=utf-8" } });
    });
  };
}
