// --feed ib end to end over real sockets: TWS simulator → @stoqey/ib → IB session and feed →
// engine → WebSocket clients, as processes (the user's two commands) and in process (faults).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type App, startApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { QualityFlag } from "../../src/domain/tick.ts";
import { IbFeed } from "../../src/feed/ib.ts";
import { createLogger } from "../../src/log.ts";
import { TwsSimulator } from "../../src/sim/tws/simulator.ts";
import { collectLines as lines } from "../helpers/process.ts";
import { waitFor } from "../helpers/wait.ts";

const ROOT = join(import.meta.dir, "../..");
// One data directory per server: a data directory belongs to one process (src/store/lock.ts), and
// the in-process app of the later tests holds its own while the process test runs.
const dataDir = mkdtempSync(join(tmpdir(), "alluse-ib-e2e-"));
const processDataDir = mkdtempSync(join(tmpdir(), "alluse-ib-e2e-process-"));
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(processDataDir, { recursive: true, force: true });
});


/** Quote frames for the symbols, gathered from a WebSocket subscription. */
function subscribe(wsUrl: string, symbols: string[]) {
  const quotes: { s: string; seq: number; b: number | null; f: number }[] = [];
  const ws = new WebSocket(wsUrl);
  ws.onopen = () => ws.send(JSON.stringify({ op: "subscribe", id: 1, symbols }));
  ws.onmessage = (ev) => {
    const f = JSON.parse(String(ev.data)) as { t: string; s: string; seq: number; b: number | null; f: number };
    if (f.t === "q") quotes.push(f);
  };
  return { quotes, close: () => ws.close(), lastSeq: (s: string) => quotes.filter((q) => q.s === s).at(-1)?.seq ?? 0 };
}

test("two commands: `npm run sim:tws` and `alluse-market --feed ib` deliver quotes to a WebSocket client, through a dropped socket", async () => {
  const sim = Bun.spawn([process.execPath, join(ROOT, "src/sim/tws/main.ts"), "--port", "0", "--symbols", "AAPL,TSLA", "--option-expiries", "1", "--strikes-per-side", "1"],
    { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const simOut = lines(sim.stdout);
  let app: ReturnType<typeof Bun.spawn> | undefined;
  try {
    await waitFor(() => simOut.some((l) => l.includes('"msg":"listening"')), 20_000, "the simulator");
    const { port: ibPort } = JSON.parse(simOut.find((l) => l.includes('"msg":"listening"'))!) as { port: number };
    app = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), "--port", "0", "--feed", "ib", "--ib-port", String(ibPort), "--ib-client-id", "7",
      "--symbols", "AAPL,TSLA", "--option-expiries", "1", "--strikes-per-side", "1", "--data-dir", processDataDir], { stdout: "pipe", stderr: "pipe" });
    const appOut = lines(app.stdout as ReadableStream<Uint8Array>);
    await waitFor(() => appOut.some((l) => l.includes('"msg":"listening"')), 30_000, "the server");
    const { http, ws } = JSON.parse(appOut.find((l) => l.includes('"msg":"listening"'))!) as { http: string; ws: string };
    const instruments = (await (await fetch(`${http}/v1/instruments`)).json()) as { instruments: { symbol: string }[] };
    // 2 stocks + 2 × 1 expiry × 3 strikes × 2 rights, resolved through IB contract details.
    expect(instruments.instruments).toHaveLength(14);
    const client = subscribe(ws, ["AAPL", "TSLA"]);
    await waitFor(() => client.quotes.some((q) => q.s === "AAPL" && q.b !== null && q.seq > 3), 10_000, "live AAPL quotes");
    expect((await fetch(`${http}/readyz`)).status).toBe(200);
    sim.stdin.write("drop\n");
    await waitFor(() => appOut.some((l) => l.includes('"why":"reconnected"')), 10_000, "the resubscription");
    const seq = client.lastSeq("AAPL");
    await waitFor(() => client.lastSeq("AAPL") > seq + 3, 10_000, "quotes after the reconnect");
    expect((await fetch(`${http}/readyz`)).status).toBe(200);
    client.close();
    app.kill("SIGTERM");
    expect(await app.exited).toBe(0);
  } finally {
    app?.kill("SIGKILL");
    sim.kill("SIGKILL");
  }
}, 60_000);

let sim: TwsSimulator;
let app: App;
beforeAll(async () => {
  sim = new TwsSimulator({ port: 0, symbols: ["AAPL", "TSLA"], optionExpiries: 1, strikesPerSide: 1, tickRatePerS: 4000, notSubscribed: ["TSLA"], log: createLogger("error", "sim", () => {}) });
  await sim.start();
  const config = await loadConfig(["--port", "0", "--feed", "ib", "--ib-port", String(sim.port), "--ib-client-id", "9", "--symbols", "AAPL,TSLA",
    "--option-expiries", "1", "--strikes-per-side", "1", "--data-dir", dataDir, "--log-level", "error"], {});
  app = await startApp(config, createLogger("error", "app", () => {}));
});
afterAll(async () => {
  await app?.stop();
  await sim?.stop();
});

test("readiness follows the IB session: 503 while connectivity is lost, 200 once restored and resubscribed", async () => {
  const ready = async () => (await fetch(`${app.server.url}/readyz`)).status;
  await waitFor(() => app.feed.live, 10_000, "the feed live");
  expect(await ready()).toBe(200);
  sim.loseConnectivity();
  await waitFor(() => !app.feed.live, 5000, "the feed not live on 1100");
  expect(await ready()).toBe(503);
  const body = (await (await fetch(`${app.server.url}/readyz`)).json()) as { reasons: string[] };
  expect(body.reasons.join(" ")).toContain("IB session is degraded");
  sim.restoreConnectivity(false);
  await waitFor(() => app.feed.live && (app.feed as IbFeed).stats.resubscriptions >= 1, 5000, "1101 resubscription");
  expect(await ready()).toBe(200);
  const client = subscribe(app.server.wsUrl, ["AAPL"]);
  await waitFor(() => client.quotes.length >= 5, 10_000, "quotes after 1101");
  client.close();
});

test("/metrics carries the IB session's state, connects and pacing", async () => {
  const text = await (await fetch(`${app.server.url}/metrics`)).text();
  expect(text).toContain('alluse_ib_session_state{state="connected"} 1');
  expect(text).toContain('alluse_ib_session_state{state="reconnecting"} 0');
  expect(text).toMatch(/alluse_ib_connects_total [1-9]/);
  expect(text).toMatch(/alluse_ib_pacing_sent_total [1-9]/);
  expect(text).toMatch(/alluse_ib_feed_resubscriptions_total [1-9]/);
});

test("delayed data reaches clients flagged Delayed; live data is not", async () => {
  const client = subscribe(app.server.wsUrl, ["AAPL", "TSLA"]);
  await waitFor(() => ["AAPL", "TSLA"].every((s) => client.quotes.some((q) => q.s === s && q.b !== null)), 10_000, "both quoted");
  const last = (s: string) => client.quotes.filter((q) => q.s === s).at(-1)!;
  expect(last("TSLA").f & QualityFlag.Delayed).toBe(QualityFlag.Delayed);
  expect(last("AAPL").f & QualityFlag.Delayed).toBe(0);
  client.close();
});

test("the session topic pushes every IB connection state change and farm status to subscribers", async () => {
  await waitFor(() => app.feed.live, 10_000, "the feed live");
  const frames: any[] = [];
  const ws = new WebSocket(app.server.wsUrl);
  ws.onmessage = (ev) => {
    const f = JSON.parse(String(ev.data));
    if (f.t === "session" || f.t === "error" || f.t === "pong") frames.push(f);
  };
  await new Promise((r) => (ws.onopen = r));
  ws.send(JSON.stringify({ op: "session.subscribe", id: 1, extra: true }));
  await waitFor(() => frames.some((f) => f.t === "error" && f.field === "extra"), 5000, "the error for an unknown field");
  ws.send(JSON.stringify({ op: "session.subscribe", id: 2 }));
  await waitFor(() => frames.some((f) => f.id === 2), 5000, "the subscribe reply");
  expect(frames.find((f) => f.id === 2)).toMatchObject({ subscribed: true, connection: { name: "ib", state: "connected" } });
  sim.farmDown("market");
  await waitFor(() => frames.some((f) => f.event === "farm" && f.farm.kind === "market" && !f.farm.ok), 5000, "the farm-down push");
  sim.farmUp("market");
  sim.loseConnectivity();
  await waitFor(() => frames.some((f) => f.event === "state" && f.to === "degraded"), 5000, "the degraded push");
  sim.restoreConnectivity(true);
  await waitFor(() => frames.some((f) => f.event === "state" && f.from === "degraded" && f.to === "connected"), 5000, "the connected push");
  ws.send(JSON.stringify({ op: "session.unsubscribe", id: 3 }));
  await waitFor(() => frames.some((f) => f.id === 3 && f.subscribed === false), 5000, "the unsubscribe reply");
  const count = frames.filter((f) => f.t === "session").length;
  sim.farmDown("hmds");
  sim.farmUp("hmds");
  // A later subscriber sees the farms as they stand; the unsubscribed one got nothing more.
  const probe = new WebSocket(app.server.wsUrl);
  const probeFrames: any[] = [];
  probe.onmessage = (ev) => probeFrames.push(JSON.parse(String(ev.data)));
  await new Promise((r) => (probe.onopen = r));
  probe.send(JSON.stringify({ op: "session.subscribe", id: 9 }));
  await waitFor(() => probeFrames.some((f) => f.id === 9), 5000, "the probe's reply");
  expect(probeFrames.find((f) => f.id === 9).farms.some((f: any) => f.kind === "hmds")).toBe(true);
  // Frames on one socket arrive in order: once the pong is in, any push sent before it is too.
  ws.send(JSON.stringify({ op: "ping", id: 10 }));
  await waitFor(() => frames.some((f) => f.t === "pong"), 5000, "the pong");
  expect(frames.filter((f) => f.t === "session").length).toBe(count);
  ws.close();
  probe.close();
});
