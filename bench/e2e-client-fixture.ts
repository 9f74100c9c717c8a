// One load-generating client process for bench/e2e.ts: opens N WebSocket connections, each
// subscribing to the same S symbols, counts every quote frame, checks per-symbol sequence
// continuity, and samples tick-to-client latency (receipt time minus the engine's ingest stamp
// `its`, and minus the exchange stamp `ts`). Prints one JSON line with its totals at the end.
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
      const frame = JSON.parse(ev.data) as QuoteLike;
      if ((frame as { t: string }).t === "ack" && ++opened === connections) allSubscribed.resolve();
      onFrame(frame, lastSeq, ev.data.length);
    } else {
      const buf = new Uint8Array(ev.data as ArrayBuffer);
      const frame = unpackr.unpack(buf) as QuoteLike;
      if ((frame as { t: string }).t === "ack" && ++opened === connections) allSubscribed.resolve();
      onFrame(frame, lastSeq, buf.byteLength);
    }
  };
  ws.onerror = () => allSubscribed.reject(new Error("websocket error"));
  sockets.push(ws);
}

const timeout = setTimeout(() => allSubscribed.reject(new Error("subscriptions not acknowledged within 30 s")), 30_000);
await allSubscribed.promise;
clearTimeout(timeout);
const started = nowMs();
measuring = true;
await Bun.sleep(seconds * 1000); // the measurement window itself, not a wait for a condition
measuring = false;
const elapsedS = (nowMs() - started) / 1000;
for (const ws of sockets) ws.close();

if (samplesFile) {
  const out = new Float64Array(samples * 2);
  out.set(ingestLatency.subarray(0, samples), 0);
  out.set(exchangeLatency.subarray(0, samples), samples);
  await Bun.write(samplesFile, out);
}
console.log(JSON.stringify({ connections, messages, bytes, elapsedS, gaps, missed, samples }));
process.exit(0);
