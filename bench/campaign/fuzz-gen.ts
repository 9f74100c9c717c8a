// Input generators of the fuzz campaign, all driven by one seeded Rng so a run can be repeated:
// valid requests of every WebSocket op and REST body, and ways of breaking them — random bytes,
// byte flips / inserts / deletes / truncation of an encoded valid frame, wrong types, huge and
// non-finite numbers, deep nesting, long strings, unknown ops and fields, prototype keys.

import { Packr } from "msgpackr";
import type { Rng } from "../../src/domain/random.ts";

/** One generated WebSocket frame: a text frame (JSON side) or a binary frame (MessagePack side). */
export type FuzzFrame = { text: string } | { binary: Bytes };

/** Bytes backed by a plain ArrayBuffer (what WebSocket.send and fetch accept). */
export type Bytes = Uint8Array<ArrayBuffer>;

/** Names the generators use for real things on the fuzzed server. */
export interface FuzzWorld {
  symbols: string[];
  accounts: string[];
  key: string;
}

const packr = new Packr({ useRecords: false });
const encoder = new TextEncoder();

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)]!;
}

function randomBytes(rng: Rng, n: number): Bytes {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

/** A string of `n` characters drawn from ASCII, Latin-1, CJK, emoji halves and controls. */
export function randomString(rng: Rng, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    s += String.fromCharCode(r < 0.6 ? 32 + rng.int(95) : r < 0.75 ? rng.int(32) : r < 0.9 ? 0x80 + rng.int(0x780) : r < 0.97 ? 0x4e00 + rng.int(0x5000) : 0xd800 + rng.int(0x800));
  }
  return s;
}

/** Values of the wrong kind, at the edges of every type. */
export function oddValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(22)) {
    case 0: return null;
    case 1: return rng.next() < 0.5;
    case 2: return 0;
    case 3: return -1;
    case 4: return 1.5;
    case 5: return pick(rng, [1e308, -1e308, 5e-324, 2 ** 53 + 1, 2 ** 64, -(2 ** 63), 0xffff_ffff + 1, 1e21]);
    case 6: return pick(rng, [NaN, Infinity, -Infinity, -0]);
    case 7: return "";
    case 8: return randomString(rng, 1 + rng.int(40));
    case 9: return "x".repeat(rng.int(8_000));
    case 10: return [];
    case 11: return {};
    case 12: return nested(rng, 1 + rng.int(200));
    case 13: return { ["__proto__"]: { polluted: true }, constructor: { prototype: { polluted: true } } };
    case 14: return Array.from({ length: rng.int(2000) }, (_, i) => i);
    case 15: return depth < 3 ? { a: oddValue(rng, depth + 1), [randomString(rng, 5)]: oddValue(rng, depth + 1) } : 7;
    case 16: return depth < 3 ? [oddValue(rng, depth + 1), oddValue(rng, depth + 1)] : "y";
    case 17: return pick(rng, ["AAPL", "MSFT", "Gen-Acc", "O1", "ak_", "NaN", "null", "-1", "1e999", "GTC", "buy", "limit"]);
    case 18: return rng.int(0x7fff_ffff);
    case 19: return -rng.next() * 1e9;
    case 20: return pick(rng, ["toString", "hasOwnProperty", "valueOf", "__proto__", "prototype"]);
    default: return new Date(rng.int(2 ** 40)).toISOString();
  }
}

function nested(rng: Rng, depth: number): unknown {
  let v: unknown = rng.next() < 0.5 ? 1 : "z";
  for (let i = 0; i < depth; i++) v = rng.next() < 0.5 ? [v] : { a: v };
  return v;
}

function order(rng: Rng, w: FuzzWorld): Record<string, unknown> {
  const type = pick(rng, ["market", "limit", "stop", "stop_limit"]);
  const o: Record<string, unknown> = {
    account: pick(rng, w.accounts), clientOrderId: `f${rng.int(1e9)}`, symbol: pick(rng, w.symbols), side: pick(rng, ["buy", "sell"]),
    type, qty: 1 + rng.int(10), tif: pick(rng, ["DAY", "GTC", "IOC", "FOK"]),
  };
  if (type === "limit" || type === "stop_limit") o.limitPrice = 50 + rng.int(40000) / 100;
  if (type === "stop" || type === "stop_limit") o.stopPrice = 50 + rng.int(40000) / 100;
  return o;
}

function orderId(rng: Rng): string {
  return `O${1 + rng.int(2000)}`;
}

/** A valid (or nearly valid) request of a random WebSocket op. */
export function validRequest(rng: Rng, w: FuzzWorld): Record<string, unknown> {
  const id = rng.int(1e6);
  switch (rng.int(14)) {
    case 0: return { op: "subscribe", id, symbols: [pick(rng, w.symbols)] };
    case 1: return { op: "unsubscribe", id, symbols: [pick(rng, w.symbols)], underlyings: [pick(rng, w.symbols)] };
    case 2: return { op: "ping", id };
    case 3: return { op: "auth", id, key: rng.next() < 0.5 ? w.key : `ak_${randomString(rng, 12)}` };
    case 4: case 5: return { op: "submit", id, order: order(rng, w) };
    case 6: return { op: "cancel", id, orderId: orderId(rng) };
    case 7: return { op: "modify", id, orderId: orderId(rng), changes: { qty: 1 + rng.int(20), limitPrice: 50 + rng.int(40000) / 100 } };
    case 8: return { op: "watch", id, accounts: [pick(rng, w.accounts)] };
    case 9: return { op: "unwatch", id, accounts: [pick(rng, w.accounts)] };
    case 10: return { op: "alerts.subscribe", id };
    case 11: return { op: "alerts.ack", id, alertId: 1 + rng.int(100) };
    case 12: return { op: pick(rng, ["session.subscribe", "session.unsubscribe", "alerts.unsubscribe"]), id };
    default: return { op: randomString(rng, rng.int(12)), id };
  }
}

/** Replaces, adds or removes one field somewhere in the object (in place) and returns it. */
export function mutateStructure(rng: Rng, v: Record<string, unknown>): unknown {
  let target: Record<string, unknown> = v;
  // Half the time go one level down into a nested object (order, changes) when there is one.
  const inner = Object.values(v).find((x) => typeof x === "object" && x !== null && !Array.isArray(x)) as Record<string, unknown> | undefined;
  if (inner && rng.next() < 0.5) target = inner;
  const keys = Object.keys(target);
  const r = rng.next();
  if (r < 0.55 && keys.length > 0) target[pick(rng, keys)] = oddValue(rng);
  else if (r < 0.7 && keys.length > 0) delete target[pick(rng, keys)];
  else if (r < 0.85) target[pick(rng, ["extra", "__proto__", "constructor", "symbol", "Op", "", randomString(rng, 6)])] = oddValue(rng);
  else if (r < 0.92) return pick(rng, [[v], null, 42, "op", [], true]);
  else v.op = pick(rng, ["SUBSCRIBE", "sub", "submit ", "", "auth\u0000", "modify", "cancel", randomString(rng, 8)]);
  return v;
}

/** Flips, inserts or deletes a few bytes, or truncates. */
export function mutateBytes(rng: Rng, b: Uint8Array): Bytes {
  let out = Array.from(b);
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const at = rng.int(out.length + 1);
    const r = rng.next();
    if (r < 0.4 && out.length > 0) out[Math.min(at, out.length - 1)] ^= 1 << rng.int(8);
    else if (r < 0.65) out.splice(at, 0, rng.int(256));
    else if (r < 0.9 && out.length > 0) out.splice(at, 1 + rng.int(4));
    else out = out.slice(0, at);
  }
  return Uint8Array.from(out);
}

/** Encodes a value as a frame of the given side; JSON of a non-finite number is written as its literal. */
function encode(value: unknown, json: boolean): FuzzFrame {
  if (!json) return { binary: new Uint8Array(packr.pack(value)) };
  return { text: JSON.stringify(value, (_k, x) => (typeof x === "number" && !Number.isFinite(x) ? `@@${x}@@` : x)).replace(/"@@(NaN|Infinity|-Infinity)@@"/g, "$1") };
}

/** One fuzz frame: the kind is chosen by weight; `json` picks the text or binary side. */
export function fuzzFrame(rng: Rng, w: FuzzWorld): FuzzFrame {
  const json = rng.next() < 0.5;
  const r = rng.next();
  // A text frame must be well-formed UTF-16 to be sent at all (lone surrogates become U+FFFD).
  if (r < 0.08) return json ? { text: randomString(rng, rng.int(200)).toWellFormed() } : { binary: randomBytes(rng, rng.int(200)) };
  if (r < 0.25) return encode(validRequest(rng, w), json);
  if (r < 0.55) return encode(mutateStructure(rng, validRequest(rng, w)), json);
  if (r < 0.8) {
    const f = encode(validRequest(rng, w), json);
    const bytes = mutateBytes(rng, "text" in f ? encoder.encode(f.text) : f.binary);
    // A text frame must stay UTF-8, so the mutated bytes are decoded leniently (U+FFFD for bad sequences).
    return json ? { text: new TextDecoder().decode(bytes) } : { binary: bytes };
  }
  if (r < 0.86) return deepNesting(rng, json);
  if (r < 0.9) {
    // Long strings, sometimes past maxPayloadBytes (64 KiB), which closes the connection with 1009.
    const n = rng.next() < 0.05 ? 70_000 : rng.int(60_000);
    return encode({ op: "subscribe", id: 1, symbols: ["x".repeat(n)] }, json);
  }
  if (r < 0.95) return encode({ ...validRequest(rng, w), id: pick(rng, [NaN, Infinity, -Infinity, -1, 1.5, 2 ** 32, 2 ** 64, 1e308, "1", null]) }, json);
  return encode({ op: randomString(rng, 1 + rng.int(30)), id: rng.int(100), [randomString(rng, 4)]: oddValue(rng) }, json);
}

/** Nesting far deeper than any request (up to 20,000 levels of arrays or maps, as text or bytes), within maxPayloadBytes. */
function deepNesting(rng: Rng, json: boolean): FuzzFrame {
  const depth = pick(rng, [100, 1000, 5000, 20_000]);
  if (json) return { text: rng.next() < 0.5 ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth / 2) + "1" + "}".repeat(depth / 2) };
  // 0x91 is a one-element array, 0x81 0xa1 0x61 a one-key map {"a": …}; the innermost value is nil.
  const unit = rng.next() < 0.5 ? [0x91] : [0x81, 0xa1, 0x61];
  const out = new Uint8Array(depth * unit.length + 1);
  for (let i = 0; i < depth; i++) out.set(unit, i * unit.length);
  out[out.length - 1] = 0xc0;
  return { binary: out };
}

/** Encodes a REST body value as JSON text, keeping non-finite numbers as (invalid) literals. */
export function jsonBody(value: unknown): string {
  return (encode(value, true) as { text: string }).text;
}
