// The AsyncAPI 3 document of /ws, generated from the zod schemas the server validates requests
// with (messages.ts, orders-ws.ts, alerts-ws.ts, session-ws.ts, chains-ws.ts) and the frame
// mirrors beside the protocol types (src/client/protocol-schemas.ts). Every request is a "send"
// operation with its reply frames; every pushed frame is a "receive" operation. The two
// encodings are two channels on the same address: JSON text frames (?format=json, the default)
// and MessagePack binary frames (?format=msgpack), with the same message shapes.

import { z } from "zod";
import { PROTOCOL_VERSION } from "../client/protocol.ts";
import { SERVER_FRAME_SCHEMAS } from "../client/protocol-schemas.ts";
import { modifySchema, newOrderSchema } from "../oms/validate.ts";
import { alertRequestSchema } from "./alerts-ws.ts";
import { chainRequestSchema } from "./chains-ws.ts";
import { marketRequestSchema } from "./messages.ts";
import { orderRequestSchema } from "./orders-ws.ts";
import { sessionRequestSchema } from "./session-ws.ts";

type Json = Record<string, unknown>;
type FrameName = keyof typeof SERVER_FRAME_SCHEMAS;

/** One request op: its schema, what it does, and the frames that answer it. */
interface OpDoc {
  op: string;
  schema: z.ZodType;
  summary: string;
  replies: FrameName[];
}

/** The literal `op` of a request variant. */
function opOf(variant: z.ZodObject): string {
  return (variant.shape.op as z.ZodLiteral<string>).value;
}

/** Every request op, from the server's own schemas (submit/preview/modify bodies are the REST ones the order manager applies). */
function requestOps(): OpDoc[] {
  const summaries: Record<string, [string, FrameName[]]> = {
    subscribe: ["Subscribe to symbols and/or underlyings: an ack, then a snapshot quote of each", ["ack", "q", "error"]],
    unsubscribe: ["Unsubscribe", ["ack", "error"]],
    ping: ["Round trip", ["pong", "error"]],
    auth: ["Authenticate the connection with an API key", ["authed", "error"]],
    submit: ["Place an order", ["order", "error"]],
    preview: ["Check an order as a submit would, placing nothing", ["preview", "error"]],
    cancel: ["Cancel an order", ["order", "error"]],
    modify: ["Modify an order", ["order", "error"]],
    watch: ["Receive an account's orders, fills, positions, account and risk", ["watching", "account", "risk", "error"]],
    unwatch: ["Stop watching accounts", ["watching", "error"]],
    "alerts.subscribe": ["Receive alert transitions; the reply lists the active alerts", ["alerts", "error"]],
    "alerts.unsubscribe": ["Stop receiving alerts", ["alerts", "error"]],
    "alerts.ack": ["Acknowledge an alert (admin key)", ["alert", "error"]],
    "session.subscribe": ["Receive the broker session's state and farm changes", ["session", "error"]],
    "session.unsubscribe": ["Stop receiving the broker session", ["session", "error"]],
    "chain.subscribe": ["Stream one option chain: its snapshot, then changed rows", ["chain", "error"]],
    "chain.unsubscribe": ["Stop streaming a chain", ["chains", "error"]],
  };
  const variants: z.ZodType[] = [
    ...marketRequestSchema.options,
    ...orderRequestSchema.options.map((v) => {
      const op = opOf(v);
      return op === "submit" || op === "preview" ? v.extend({ order: newOrderSchema }) : op === "modify" ? v.extend({ changes: modifySchema }) : v;
    }),
    ...alertRequestSchema.options,
    ...sessionRequestSchema.shape.op.options.map((op) => sessionRequestSchema.extend({ op: z.literal(op) })),
    ...chainRequestSchema.shape.op.options.map((op) => chainRequestSchema.extend({ op: z.literal(op) })),
  ];
  return variants.map((schema) => {
    const op = opOf(schema as z.ZodObject);
    const [summary, replies] = summaries[op] ?? [op, ["error"] as FrameName[]];
    return { op, schema, summary, replies };
  });
}

/** Frames the server sends unasked, and why. */
const PUSHES: [FrameName, string][] = [
  ["welcome", "First frame on every connection: protocol version, format, heartbeat, limits"],
  ["q", "A subscribed instrument's full state, whenever a batch changed it (conflated for slow clients)"],
  ["hb", "Heartbeat, every heartbeatMs"],
  ["error", "A frame that could not be decoded or was refused (BAD_JSON, BAD_MSGPACK, RATE_LIMITED…)"],
  ["order", "An order of a watched account changed"],
  ["fill", "A fill on a watched account (once durable)"],
  ["position", "A position of a watched account after a fill"],
  ["account", "A watched account's cash, P&L and buying power"],
  ["risk", "A watched account's risk, at most once per risk.publishMs"],
  ["alert", "An alert transition, to alerts subscribers"],
  ["session", "A broker session state or farm change, to session subscribers"],
  ["chain", "Changed rows of a streamed option chain"],
];

/** Converts zod schemas to AsyncAPI (JSON Schema draft 7) schemas, named ones into components.schemas. */
class Schemas {
  readonly components: Record<string, Json> = {};
  convert(schema: z.ZodType, io: "input" | "output"): Json {
    const out = z.toJSONSchema(schema, { target: "draft-7", unrepresentable: "any", io }) as Json;
    delete out.$schema;
    const defs = (out.definitions ?? out.$defs) as Record<string, Json> | undefined;
    delete out.definitions;
    delete out.$defs;
    for (const [id, def] of Object.entries(defs ?? {})) this.components[id] = refs(def) as Json;
    return refs(out) as Json;
  }
}

function refs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(refs);
  if (v === null || typeof v !== "object") return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) {
    out[k] = k === "$ref" && typeof x === "string" ? x.replace(/^#\/(definitions|\$defs)\//, "#/components/schemas/") : refs(x);
  }
  return out;
}

/** A component-safe name: op "alerts.ack" → "alerts_ack". */
const key = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "_");

const ENCODINGS = [
  { channel: "ws", format: "json", contentType: "application/json", suffix: "", note: "JSON text frames (the default; ?format=json)" },
  { channel: "wsMsgpack", format: "msgpack", contentType: "application/msgpack", suffix: "_msgpack", note: "MessagePack binary frames (?format=msgpack): the same messages, MessagePack-encoded" },
] as const;

/** Builds the AsyncAPI 3.0 document of /ws. Pure: the same schemas give the same document. */
export function buildAsyncApi(): Json {
  const schemas = new Schemas();
  const ops = requestOps();
  const frameSchemas = Object.fromEntries(Object.entries(SERVER_FRAME_SCHEMAS).map(([t, s]) => [t, schemas.convert(s, "output")])) as Record<FrameName, Json>;
  const messages: Record<string, Json> = {};
  const channels: Record<string, Json> = {};
  const operations: Record<string, Json> = {};
  for (const enc of ENCODINGS) {
    const chMessages: Record<string, Json> = {};
    const chRef = { $ref: `#/channels/${enc.channel}` };
    const msgRef = (name: string) => ({ $ref: `#/channels/${enc.channel}/messages/${name}` });
    for (const o of ops) {
      const name = `${key(o.op)}${enc.suffix}`;
      messages[name] = { name: o.op, title: `${o.op} request`, summary: o.summary, contentType: enc.contentType, payload: schemas.convert(o.schema, "input") };
      chMessages[name] = { $ref: `#/components/messages/${name}` };
    }
    for (const t of Object.keys(SERVER_FRAME_SCHEMAS) as FrameName[]) {
      const name = `frame_${key(t)}${enc.suffix}`;
      messages[name] = { name: t, title: `${t} frame`, contentType: enc.contentType, payload: frameSchemas[t] };
      chMessages[name] = { $ref: `#/components/messages/${name}` };
    }
    channels[enc.channel] = {
      address: "/ws", title: `/ws, ${enc.format}`, description: enc.note, messages: chMessages, servers: [{ $ref: "#/servers/local" }],
      bindings: { ws: { bindingVersion: "0.1.0", method: "GET", query: { type: "object", properties: { format: { type: "string", const: enc.format } } } } },
    };
    for (const o of ops) {
      operations[`${key(o.op)}${enc.suffix}`] = {
        action: "receive", channel: chRef, title: o.op, summary: o.summary, messages: [msgRef(`${key(o.op)}${enc.suffix}`)],
        reply: { channel: chRef, messages: o.replies.map((t) => msgRef(`frame_${key(t)}${enc.suffix}`)) },
      };
    }
    for (const [t, summary] of PUSHES) {
      operations[`push_${key(t)}${enc.suffix}`] = { action: "send", channel: chRef, title: `${t} push`, summary, messages: [msgRef(`frame_${key(t)}${enc.suffix}`)] };
    }
  }
  return {
    asyncapi: "3.0.0",
    info: {
      title: "alluse-market /ws", version: String(PROTOCOL_VERSION),
      description: "The WebSocket API: market data, order entry, account and risk pushes, alerts, the broker session and live option chains. "
        + "Operations are from the server's view: it receives requests (answered by the reply frames, matched by `id`) and sends pushes. "
        + "Generated from the server's zod schemas by scripts/gen-api-docs.ts; never edit by hand. Prose: docs/protocol.md.",
    },
    defaultContentType: "application/json",
    servers: {
      local: { host: "127.0.0.1:8080", protocol: "ws", description: "The server's --host and --port; a key is sent as Authorization: Bearer on the upgrade or with the auth op" },
    },
    channels,
    operations,
    components: {
      messages,
      schemas: Object.fromEntries(Object.entries(schemas.components).sort(([a], [b]) => a.localeCompare(b))),
    },
  };
}
