// The baseline of bench/ws-baseline.ts: a bare Bun.serve WebSocket pub/sub server with none of
// the app (no engine, no feed, no validation, no conflation, no limits). It speaks just enough
// of the protocol for the e2e load clients: a welcome frame, `subscribe` answered by an ack and
// one topic per symbol, and, every millisecond at most, one quote frame per symbol published to
// its topic, in the layout the app's JSON encoder writes, stamped (`ts`, `its`) when built.
// What it measures is the ceiling Bun's embedded µWebSockets and these clients allow here.
//
// usage: bun bench/bare-pubsub-fixture.ts --symbols A,B,C   (prints {"msg":"listening","ws":…,"http":…})

import type { ServerWebSocket } from "bun";
import { nowMs } from "../src/domain/time.ts";

const at = process.argv.indexOf("--symbols");
const symbols = at > 0 ? process.argv[at + 1]!.split(",") : ["AAPL"];
const seq = new Map(symbols.map((s) => [s, 0]));

const server = Bun.serve<undefined>({
  hostname: "127.0.0.1", port: 0,
  fetch(req, srv) {
    const path = new URL(req.url).pathname;
    if (path === "/ws" && srv.upgrade(req, { data: undefined })) return undefined;
    // bench/e2e.ts reads the instrument count from the app's list.
    if (path === "/v1/instruments") return Response.json({ total: symbols.length });
    return new Response("not found", { status: 404 });
  },
  websocket: {
    open(ws: ServerWebSocket<undefined>) {
      ws.send(JSON.stringify({ t: "welcome", v: 1, format: "json", heartbeatMs: 2000, ts: Date.now(), limits: {} }));
    },
    message(ws, message) {
      const req = JSON.parse(String(message)) as { op?: string; id?: number; symbols?: string[] };
      if (req.op !== "subscribe") return;
      const subs = (req.symbols ?? []).filter((s) => seq.has(s));
      for (const s of subs) ws.subscribe(s);
      ws.send(JSON.stringify({ t: "ack", id: req.id, op: "subscribe", symbols: subs }));
    },
    maxPayloadLength: 64 * 1024, backpressureLimit: 1 << 20, closeOnBackpressureLimit: true, publishToSelf: false,
  },
});

// The app's feed wakes at most once a millisecond counted from the start of a wake-up; so does this.
function wake(): void {
  const started = performance.now();
  for (const s of symbols) {
    const n = seq.get(s)! + 1;
    seq.set(s, n);
    const t = nowMs();
    server.publish(s, `{"t":"q","s":"${s}","seq":${n},"b":100.01,"bs":300,"a":100.02,"as":200,"l":100.02,"ls":100,"v":123400,` +
      `"vw":100.0123,"o":99.5,"h":100.5,"lo":99.4,"pc":99.8,"vol":0.24,"ts":${t},"its":${t},"f":0}`);
  }
  setTimeout(wake, Math.max(0, 1 - (performance.now() - started)));
}
wake();
console.log(JSON.stringify({ msg: "listening", ws: `ws://127.0.0.1:${server.port}/ws`, http: `http://127.0.0.1:${server.port}` }));
