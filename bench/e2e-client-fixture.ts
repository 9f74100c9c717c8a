// One load-generating client process for bench/e2e.ts: opens N WebSocket connections, each
// subscribing to the same S symbols, counts every quote frame, checks per-symbol sequence
// continuity, and samples tick-to-client latency (receipt time minus the engine's ingest stamp
// `its`, and minus the exchange stamp `ts`). Prints one JSON line with its totals at the end.
//
// Like any load generator it does the least work per message it can, so that it measures the
// server rather than itself: quote frames are not fully decoded; `s`, `seq`, `ts` and `its`
// are read by scanning (JSON text) or by locating their keys (MessagePack). Every other frame
// is decoded in full.
//
// usage: bun bench/e2e-client-fixture.ts <wsUrl> <connections> <symbols,comma,separated> <seconds> <json|msgpack> <samplesFile>
// The latency samples (ingest-to-client, then exchange-to-client, f64 ms each) go to <samplesFile>
// so the driver can merge every process's samples into exact overall percentiles.

import { Unpackr } from "msgpackr";
import { nowMs } from "../src/domain/time.ts";

const [wsUrl, connArg, symArg, secondsArg, format = "json", samplesFile] = process.argv.slice(2);
const connections = Number(connArg);
const symbols = symArg!.split(",");
const seconds = Number(secondsArg);
const MAX_SAMPLES = 400_000;

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const ingestLatency = new Float64Array(MAX_SAMPLES);
const exchangeLatency = new Float64Array(MAX_SAMPLES);
let samples = 0;
let seen = 0;
let messages = 0;
let bytes = 0;
let gaps = 0;
let missed = 0;
let measuring = false;
let opened = 0;

interface QuoteLike { t: string; s: string; seq: number; ts: number; its: number; snap?: boolean }

const scratch: QuoteLike = { t: "q", s: "", seq: 0, ts: 0, its: 0, snap: false };

/** Reads the number that follows `key` in JSON text (keys are unique within a quote frame). */
function jsonNumber(text: string, key: string): number {
  const at = text.indexOf(key);
  if (at < 0) return NaN;
  let end = at + key.length;
  while (end < text.length && text.charCodeAt(end) !== 44 && text.charCodeAt(end) !== 125) end++;
  return Number(text.slice(at + key.length, end));
}

/** The quote fields the load client needs from a JSON quote frame, or undefined for other frames. */
function scanJson(text: string): QuoteLike | undefined {
  if (!text.startsWith('{"t":"q"')) return undefined;
  const s0 = text.indexOf('"s":"') + 5;
  scratch.s = text.slice(s0, text.indexOf('"', s0));
  scratch.seq = jsonNumber(text, '"seq":');
  scratch.ts = jsonNumber(text, '"ts":');
  scratch.its = jsonNumber(text, '"its":');
  scratch.snap = text.endsWith('"snap":true}');
  return scratch;
}

const decoder = new TextDecoder();

/** Index just past the MessagePack fixstr key `key` (ASCII) in `b`, or -1. */
function keyEnd(b: Uint8Array, key: string, from: number): number {
  const head = 0xa0 | key.length;
  outer: for (let i = from; i < b.length - key.length; i++) {
    if (b[i] !== head) continue;
    for (let k = 0; k < key.length; k++) if (b[i + 1 + k] !== key.charCodeAt(k)) continue outer;
    return i + 1 + key.length;
  }
  return -1;
}

/** Reads a MessagePack number (positive fixint, uint8/16/32, float64) at `i`. */
function mpNumber(b: Uint8Array, v: DataView, i: number): number {
  const t = b[i]!;
  if (t < 0x80) return t;
  if (t === 0xcc) return b[i + 1]!;
  if (t === 0xcd) return v.getUint16(i + 1);
  if (t === 0xce) return v.getUint32(i + 1);
  if (t === 0xcb) return v.getFloat64(i + 1);
  return NaN;
}

/** The quote fields from a MessagePack quote frame, or undefined for other frames. */
function scanMsgpack(b: Uint8Array): QuoteLike | undefined {
  // A quote frame starts with a map16 header, key "t" and the fixstr "q".
  if (b[0] !== 0xde || b[3] !== 0xa1 || b[4] !== 0x74 || b[5] !== 0xa1 || b[6] !== 0x71) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const sAt = 9; // after key "s"
  const len = b[sAt]! & 0x1f;
  scratch.s = decoder.decode(b.subarray(sAt + 1, sAt + 1 + len));
  const seqAt = keyEnd(b, "seq", sAt + 1 + len);
  scratch.seq = mpNumber(b, v, seqAt);
  const tsAt = keyEnd(b, "ts", seqAt);
  scratch.ts = mpNumber(b, v, tsAt);
  scratch.its = mpNumber(b, v, keyEnd(b, "its", tsAt));
  scratch.snap = b[b.length - 1] === 0xc3;
  return scratch;
}

function onFrame(frame: QuoteLike, lastSeq: Map<string, number>, size: number): void {
  if (frame.t !== "q") return;
  const now = nowMs();
  const prev = lastSeq.get(frame.s);
  if (prev !== undefined && !frame.snap && frame.seq !== prev + 1) {
    gaps++;
    missed += frame.seq - prev - 1;
  }
  lastSeq.set(frame.s, frame.seq);
  if (!measuring || frame.snap) return;
  messages++;
  bytes += size;
  // Reservoir sampling keeps the latency sample unbiased over the whole run within a fixed bound.
  seen++;
  const slot = samples < MAX_SAMPLES ? samples++ : Math.floor(Math.random() * seen);
  if (slot < MAX_SAMPLES) {
    ingestLatency[slot] = now - frame.its;
    exchangeLatency[slot] = now - frame.ts;
  }
}

const sockets: WebSocket[] = [];
const allSubscribed = Promise.withResolvers<void>();
for (let c = 0; c < connections; c++) {
  const ws = new WebSocket(`${wsUrl}?format=${format}`);
  ws.binaryType = "arraybuffer";
  const lastSeq = new Map<string, number>();
  ws.onopen = () => ws.send(JSON.stringify({ op: "subscribe", id: 1, symbols }));
  ws.onmessage = (ev) => {
    if (typeof ev.data === "string") {
      const quote = scanJson(ev.data);
      if (quote) return onFrame(quote, lastSeq, ev.data.length);
      const frame = JSON.parse(ev.data) as { t: string };
      if (frame.t === "ack" && ++opened === connections) allSubscribed.resolve();
      if (frame.t === "error") allSubscribed.reject(new Error(ev.data));
    } else {
      const buf = new Uint8Array(ev.data as ArrayBuffer);
      const quote = scanMsgpack(buf);
      if (quote) return onFrame(quote, lastSeq, buf.byteLength);
      const frame = unpackr.unpack(buf) as { t: string };
      if (frame.t === "ack" && ++opened === connections) allSubscribed.resolve();
      if (frame.t === "error") allSubscribed.reject(new Error(JSON.stringify(frame)));
    }
  };
  ws.onerror = () => allSubscribed.reject(new Error("websocket error"));
  sockets.push(ws);
}

const timeout = setTimeout(() => allSubscribed.reject(new Error("subscriptions not acknowledged within 30 s")), 30_000);
await allSubscribed.promise;
clearTimeout(timeout);
const started = nowMs();
const cpuStart = process.cpuUsage();
measuring = true;
await Bun.sleep(seconds * 1000); // the measurement window itself, not a wait for a condition
measuring = false;
const elapsedS = (nowMs() - started) / 1000;
const cpu = process.cpuUsage(cpuStart);
const cpuPercent = ((cpu.user + cpu.system) / 1e6 / elapsedS) * 100;
for (const ws of sockets) ws.close();

if (samplesFile) {
  const out = new Float64Array(samples * 2);
  out.set(ingestLatency.subarray(0, samples), 0);
  out.set(exchangeLatency.subarray(0, samples), samples);
  await Bun.write(samplesFile, out);
}
console.log(JSON.stringify({ connections, messages, bytes, elapsedS, gaps, missed, samples, cpuPercent }));
process.exit(0);
