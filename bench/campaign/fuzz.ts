// Fuzz campaign: the real server process gets random and mutated-valid WebSocket frames (JSON
// text and MessagePack binary, on connections of both formats, authenticated or not) and REST
// requests to every mutating route with real keys (bench/campaign/fuzz-gen.ts, fuzz-rest.ts).
// One session in 30 sends hand-made frames that break the WebSocket protocol itself (text that
// is not UTF-8, reserved opcodes, stray continuations, oversized control frames). Each WebSocket
// connection sends a batch of fuzz frames, then a ping whose pong proves the
// batch was handled, so the server is never flooded past what it answers; connections are
// re-dialled after a random number of batches or when the server closes them (1009 for a frame
// past maxPayloadBytes). Inbound and key rate limits are raised for the run so that every frame
// reaches the decoders and validators instead of the rate limiter.
//
// Targets: the process is alive and /healthz answers at the end (crashes=0); no REST reply is
// 5xx and no connection is closed with 1011 (client input never causes a server error); no log
// line at level error (internal=0). Reported: RSS before and after, error frames by code, HTTP
// statuses, close codes.
//
// Rerun: npm run campaign -- fuzz --frames 1000000 [--requests N] [--seed N] [--connections 8]
// Test version: --short (12,000 frames, 1,200 requests).
// Memory: --memory adds anonymous resident memory (/proc/PID/smaps_rollup), JavaScript heap in use
// (/metrics) and finished orders, before and after; --settle S waits S idle seconds after the run
// and reports the RSS again, which tells allocator pages the process keeps from memory still held.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Unpackr } from "msgpackr";
import { Rng } from "../../src/domain/random.ts";
import { RawWs } from "../../test/helpers/raw-ws.ts";
import { waitFor } from "../../test/helpers/wait.ts";
import { fuzzFrame, type FuzzWorld } from "./fuzz-gen.ts";
import { restRequest, type FuzzKeys } from "./fuzz-rest.ts";
import { createKey, figureLine, intOption, killAll, load1, parseOptions, rssMb, startServer, type ServerProc } from "./proc.ts";

const MAX_FRAMES = 20_000_000;
/** Fuzz frames sent before each ping that proves they were handled. */
const BATCH = 32;
/** Longest wait for a pong or a connection; past it the connection is counted as stalled and dropped. */
const STALL_MS = 20_000;
/** First ping id of the campaign's own pings: above every id the generators produce. */
const PING_ID_BASE = 4_000_000_000;
const REST_LANES = 4;
/** Seconds between progress lines of a full run. */
const PROGRESS_S = 30;
/** The campaign stops sending after this long, whatever --frames says. */
const MAX_MINUTES = 45;

/** Counters of one run. */
interface Tally {
  frames: number;
  requests: number;
  received: number;
  errorCodes: Map<string, number>;
  closeCodes: Map<number | string, number>;
  http: Map<number, number>;
  /** REST error codes (the `error.code` of 4xx bodies). */
  restCodes: Map<string, number>;
  http5xx: string[];
  stalls: number;
  connections: number;
  /** Sessions of hand-made frames that break the WebSocket protocol itself. */
  rawSessions: number;
}

function bump<K>(m: Map<K, number>, k: K): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function list<K>(m: Map<K, number>): string {
  return [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}:${v}`).join(",") || "none";
}

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** One connection's life: dial, maybe authenticate, send batches of fuzz frames each followed by a ping. */
async function wsSession(s: ServerProc, rng: Rng, w: FuzzWorld, keys: FuzzKeys, t: Tally, budget: () => boolean): Promise<void> {
  const format = rng.next() < 0.5 ? "json" : "msgpack";
  const ws = new WebSocket(`${s.wsUrl}?format=${format}`);
  ws.binaryType = "arraybuffer";
  t.connections++;
  let waiting: { id: number; done: PromiseWithResolvers<boolean> } | undefined;
  const closed = Promise.withResolvers<void>();
  const opened = Promise.withResolvers<boolean>();
  ws.onopen = () => opened.resolve(true);
  ws.onclose = (ev) => {
    bump(t.closeCodes, ev.code);
    opened.resolve(false);
    waiting?.done.resolve(false);
    closed.resolve();
  };
  ws.onmessage = (ev) => {
    t.received++;
    let f: { t?: string; id?: number; code?: string };
    try {
      f = typeof ev.data === "string" ? JSON.parse(ev.data) : unpackr.unpack(new Uint8Array(ev.data as ArrayBuffer));
    } catch {
      bump(t.errorCodes, "UNDECODABLE_SERVER_FRAME");
      return;
    }
    if (f.t === "error") bump(t.errorCodes, f.code ?? "NO_CODE");
    if (waiting && (f.t === "pong" || f.t === "authed" || f.t === "error") && f.id === waiting.id) waiting.done.resolve(true);
  };
  const answered = async (id: number): Promise<boolean> => {
    waiting = { id, done: Promise.withResolvers<boolean>() };
    const timer = setTimeout(() => waiting?.done.resolve(false), STALL_MS);
    const ok = await waiting.done.promise;
    clearTimeout(timer);
    waiting = undefined;
    return ok;
  };
  const timer = setTimeout(() => opened.resolve(false), STALL_MS);
  const ok = await opened.promise;
  clearTimeout(timer);
  if (!ok) return;
  let pingId = PING_ID_BASE;
  if (rng.next() < 0.8) {
    ws.send(JSON.stringify({ op: "auth", id: pingId, key: rng.next() < 0.25 ? keys.admin : keys.trade }));
    if (!(await answered(pingId++))) return void (t.stalls++, ws.close());
  }
  for (let batches = 1 + rng.int(60); batches > 0 && budget(); batches--) {
    for (let i = 0; i < BATCH && ws.readyState === WebSocket.OPEN && budget(); i++) {
      const f = fuzzFrame(rng, w);
      ws.send("text" in f ? f.text : f.binary);
      t.frames++;
    }
    if (ws.readyState !== WebSocket.OPEN) break;
    ws.send(JSON.stringify({ op: "ping", id: pingId }));
    if (!(await answered(pingId++))) {
      if (ws.readyState === WebSocket.OPEN) t.stalls++;
      break;
    }
  }
  ws.close(1000);
  await Promise.race([closed.promise, Bun.sleep(STALL_MS)]); // bounded wait for the close handshake
}

/** Every RAW_EVERY-th session of a lane breaks the WebSocket protocol itself rather than the requests in it. */
const RAW_EVERY = 30;

/**
 * A session of hand-made frames the protocol forbids: a text frame that is not UTF-8, a reserved
 * opcode, a continuation with nothing to continue, a control frame over 125 bytes. The server
 * should close the connection (its close code is counted with a "raw" prefix) and carry on.
 */
async function rawSession(s: ServerProc, rng: Rng, t: Tally): Promise<void> {
  t.connections++;
  t.rawSessions++;
  let ws: RawWs;
  try {
    ws = await RawWs.connect(`${s.wsUrl}?format=${rng.next() < 0.5 ? "json" : "msgpack"}`, STALL_MS);
  } catch {
    return void t.stalls++;
  }
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => rng.int(256)));
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const r = rng.next();
    if (r < 0.4) ws.sendFrame(0x1, Buffer.concat([Buffer.from('{"op":"ping","id":1,"x":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), bytes(rng.int(20))]));
    else if (r < 0.6) ws.sendFrame([0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf][rng.int(10)]!, bytes(rng.int(50)));
    else if (r < 0.8) ws.sendFrame(0x0, bytes(1 + rng.int(50)));
    else ws.sendFrame(0x9, bytes(126 + rng.int(200)));
    t.frames++;
  }
  try {
    await waitFor(() => ws.ended || ws.closeCode !== undefined, STALL_MS, "the server to close a broken connection");
    bump(t.closeCodes, `raw${ws.closeCode ?? "-"}`);
  } catch {
    t.stalls++;
  }
  ws.destroy();
}

async function restLane(s: ServerProc, rng: Rng, w: FuzzWorld, keys: FuzzKeys, t: Tally, budget: () => boolean): Promise<void> {
  while (budget()) {
    const r = restRequest(rng, w, keys);
    t.requests++;
    const res = await fetch(`${s.url}${r.path}`, { method: r.method, headers: r.headers, body: r.body });
    bump(t.http, res.status);
    const text = await res.text();
    if (res.status >= 400) {
      try {
        bump(t.restCodes, (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? "NO_CODE");
      } catch {
        bump(t.restCodes, "NOT_JSON");
      }
    }
    if (res.status >= 500 && t.http5xx.length < 20) t.http5xx.push(`${r.method} ${r.path.slice(0, 80)} → ${res.status} ${text.slice(0, 200)}`);
  }
}

async function healthy(s: ServerProc): Promise<boolean> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return false;
  try {
    const r = await fetch(`${s.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
    return r.ok && ((await r.json()) as { status?: string }).status === "ok";
  } catch {
    return false;
  }
}

/** What the server's memory is made of at one moment (--memory). */
interface MemoryFigures {
  /** Anonymous resident memory (heap, allocator arenas, JIT code, stacks) from /proc/PID/smaps_rollup. */
  anonMb: number;
  /** JavaScript heap in use, GC-managed cells plus the buffers they own (process_heap_used_bytes). */
  heapMb: number;
  /** Finished orders the order manager has seen (kept in memory up to recentOrders). */
  ordersFinished: number;
}

/** Reads MemoryFigures from /proc and the server's /metrics; NaN for what could not be read. */
async function memoryFigures(s: ServerProc): Promise<MemoryFigures> {
  let anonMb = NaN;
  try {
    const m = /^Anonymous:\s+(\d+) kB/m.exec(readFileSync(`/proc/${s.proc.pid}/smaps_rollup`, "utf8"));
    if (m) anonMb = Number(m[1]) / 1024;
  } catch {
    // No smaps_rollup (not Linux, or the process is gone): left NaN.
  }
  let heapMb = NaN, ordersFinished = NaN;
  try {
    const text = await (await fetch(`${s.url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    const heap = /^process_heap_used_bytes (\S+)$/m.exec(text);
    if (heap) heapMb = Number(heap[1]) / 2 ** 20;
    ordersFinished = [...text.matchAll(/^alluse_orders_finished_total\{[^}]*\} (\S+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
  } catch {
    // The server did not answer: left NaN (the health check reports it).
  }
  return { anonMb, heapMb, ordersFinished };
}

/** Runs the campaign; returns 0 when the server survived every input without an internal error. */
export async function run(args: string[]): Promise<number> {
  const opts = parseOptions(args);
  const short = opts.has("short");
  // --memory: also report anonymous memory and heap in use before and after, and the orders finished.
  const memory = opts.has("memory");
  // --settle S: wait S idle seconds after the run and report the RSS again (what the allocator gave back).
  const settleS = opts.has("settle") ? intOption(opts, "settle", 30, 600) : 0;
  const frames = intOption(opts, "frames", short ? 12_000 : 1_000_000, MAX_FRAMES);
  const requests = intOption(opts, "requests", Math.max(1, Math.round(frames / 10)), MAX_FRAMES);
  const connections = intOption(opts, "connections", 8, 256);
  const seed = intOption(opts, "seed", 20261206, 2 ** 31);
  const dir = mkdtempSync(join(tmpdir(), "alluse-campaign-fuzz-"));
  const configFile = join(dir, "campaign.json");
  writeFileSync(configFile, JSON.stringify({ limits: { inboundRatePerS: 1_000_000, inboundBurst: 1_000_000 } }));
  const dataDir = join(dir, "data");
  const t: Tally = { frames: 0, requests: 0, received: 0, errorCodes: new Map(), closeCodes: new Map(), http: new Map(), restCodes: new Map(), http5xx: [], stalls: 0, connections: 0, rawSessions: 0 };
  const started = performance.now();
  let rssBeforeMb = NaN, rssAfterMb = NaN, rssMaxMb = 0, alive = false, internal = 0;
  let failure: string | undefined;
  let memBefore: MemoryFigures | undefined, memAfter: MemoryFigures | undefined, memSettled: MemoryFigures | undefined;
  let rssSettledMb = NaN;
  let s: ServerProc | undefined;
  try {
    const [trade, admin, read] = [createKey(dataDir, "trade"), createKey(dataDir, "admin"), createKey(dataDir, "read")];
    const keys: FuzzKeys = { trade, admin, read, ownIds: new Set([trade, admin, read].map((k) => k.split("_")[1]!)) };
    s = await startServer(dataDir, ["--config", configFile, "--symbols", "AAPL,MSFT,TSLA", "--option-expiries", "1", "--strikes-per-side", "2",
      "--tick-rate", "200", "--log-level", "error", "--key-rate", "1000000"]);
    const server = s;
    const world: FuzzWorld = { symbols: ["AAPL", "MSFT", "TSLA", "NOPE", "BRK/B"], accounts: ["Gen-Acc", "Rev-Acc", "Com-Acc", "Nope-Acc"], key: trade };
    rssBeforeMb = rssMb(server.proc.pid);
    if (memory) memBefore = await memoryFigures(server);
    let tick = 0;
    const sampler = setInterval(() => {
      rssMaxMb = Math.max(rssMaxMb, rssMb(server.proc.pid) || 0);
      // Progress for long runs, on stderr so stdout keeps its one figure line.
      if (!short && ++tick % PROGRESS_S === 0) process.stderr.write(`fuzz: ${t.frames} frames, ${t.requests} requests, ${Math.round(rssMb(server.proc.pid))} MB\n`);
    }, 1000);
    const deadline = started + MAX_MINUTES * 60_000;
    const wsBudget = () => t.frames < frames && performance.now() < deadline && server.proc.exitCode === null;
    const restBudget = () => t.requests < requests && performance.now() < deadline && server.proc.exitCode === null;
    const wsLane = async (lane: number) => {
      const r = new Rng(seed * 1000 + lane);
      for (let n = 0; wsBudget(); n++) await (n % RAW_EVERY === 1 ? rawSession(server, r, t) : wsSession(server, r, world, keys, t, wsBudget));
    };
    try {
      await Promise.all([
        ...Array.from({ length: connections }, (_, i) => wsLane(i)),
        ...Array.from({ length: REST_LANES }, (_, i) => restLane(server, new Rng(seed * 7 + i), world, keys, t, restBudget)),
      ]);
    } finally {
      clearInterval(sampler);
    }
    alive = await healthy(server);
    rssAfterMb = rssMb(server.proc.pid);
    if (memory) memAfter = await memoryFigures(server);
    if (settleS > 0) {
      await Bun.sleep(settleS * 1000); // an idle period is what is measured here, not a wait for a condition
      rssSettledMb = rssMb(server.proc.pid);
      if (memory) memSettled = await memoryFigures(server);
    }
    internal = server.errorLines.length;
  } catch (err) {
    failure = (err as Error).stack ?? String(err);
    if (s) alive = await healthy(s);
  } finally {
    if (s) internal = s.errorLines.length;
    await killAll();
    rmSync(dir, { recursive: true, force: true });
  }
  const http5xx = [...t.http].filter(([k]) => k >= 500).reduce((a, [, v]) => a + v, 0);
  const closes1011 = t.closeCodes.get(1011) ?? 0;
  const ok = !failure && alive && http5xx === 0 && closes1011 === 0 && internal === 0 && t.frames >= frames && t.requests >= requests;
  const elapsedS = (performance.now() - started) / 1000;
  console.log(figureLine("fuzz", {
    frames: t.frames, requests: t.requests, crashes: alive ? 0 : 1, http5xx, closes1011, internal, stalls: t.stalls, rawSessions: t.rawSessions,
    rssBeforeMb: Math.round(rssBeforeMb), rssAfterMb: Math.round(rssAfterMb), rssMaxMb: Math.round(rssMaxMb),
    ...(settleS > 0 ? { settleS, rssSettledMb: Math.round(rssSettledMb) } : {}),
    ...(memSettled ? { anonSettledMb: Math.round(memSettled.anonMb), heapSettledMb: Math.round(memSettled.heapMb) } : {}),
    ...(memBefore && memAfter ? {
      anonBeforeMb: Math.round(memBefore.anonMb), anonAfterMb: Math.round(memAfter.anonMb),
      heapBeforeMb: Math.round(memBefore.heapMb), heapAfterMb: Math.round(memAfter.heapMb), ordersFinished: memAfter.ordersFinished,
    } : {}),
    framesPerS: Math.round(t.frames / elapsedS), connections: t.connections, received: t.received,
    errors: list(t.errorCodes), http: list(t.http), restErrors: list(t.restCodes), closes: list(t.closeCodes), seed, elapsedS: Math.round(elapsedS), load1: load1(), ok,
  }));
  for (const l of t.http5xx) process.stderr.write(`fuzz: ${l}\n`);
  for (const l of s?.errorLines.slice(0, 20) ?? []) process.stderr.write(`fuzz: server: ${l.slice(0, 500)}\n`);
  if (failure) process.stderr.write(`fuzz: failed: ${failure}\n`);
  return ok ? 0 : 1;
}
