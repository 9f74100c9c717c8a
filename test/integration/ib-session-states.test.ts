// Issue 10, defect 5: the IB session states an operator most often loses hours to, each produced
// by the TWS simulator over a real socket with the real @stoqey/ib client: 10197 (a competing
// live session took the market data), a connection that is up but not ready (contract look-ups
// fail), and a login waiting for re-authentication after the weekly restart (1100, then
// nothing). Each is an explicit state, and each clears once TWS works again.

import { afterEach, beforeEach, expect, test } from "bun:test";
import { Engine } from "../../src/engine/engine.ts";
import { IbFeed } from "../../src/feed/ib.ts";
import { IbSession, type SessionState } from "../../src/ib/session.ts";
import { createLogger } from "../../src/log.ts";
import { brokerSessionRule } from "../../src/monitor/alert-rules.ts";
import { TwsSimulator } from "../../src/sim/tws/simulator.ts";
import { waitFor } from "../helpers/wait.ts";

const quiet = createLogger("error", "ib", () => {});
let sim: TwsSimulator;
let session: IbSession;
let feed: IbFeed;
let states: { to: SessionState; reason: string }[];

beforeEach(async () => {
  sim = new TwsSimulator({ port: 0, symbols: ["AAPL", "MSFT"], optionExpiries: 0, tickRatePerS: 400, log: quiet });
  await sim.start();
  session = new IbSession({ host: "127.0.0.1", port: sim.port, clientId: 3, backoff: { initialMs: 20, maxMs: 100 }, reauthAfterMs: 300, log: quiet });
  states = [];
  session.events.on("state", (e) => states.push({ to: e.to, reason: e.reason }));
  feed = new IbFeed({ session, ownsSession: true, symbols: ["AAPL", "MSFT"], optionExpiries: 0, strikesPerSide: 0, retryRefusedMs: 100, log: quiet });
  await feed.prepare();
  const engine = await Engine.create({ maxInstruments: 8 });
  for (const s of feed.instruments()) engine.addInstrument(s);
  await feed.start(engine, (s) => engine.instrument(s)?.index);
  await waitFor(() => feed.live && feed.stats.ticks > 0, 5000, "ticks flowing");
});
afterEach(async () => {
  await feed.stop();
  await sim.stop();
});

const rule = () => brokerSessionRule(session);
const alertKeys = () => [...rule().read(Date.now())].map((r) => r.key);

test("the session reports TWS's farms from the first connection on", () => {
  expect(session.farms().map((f) => `${f.kind}:${f.ok}`).sort()).toEqual(["hmds:true", "market:true", "secdef:true"]);
});

test("10197: a competing live session is the competing state (alerted) until market data flows again", async () => {
  sim.competingSession(true);
  await waitFor(() => session.state === "competing", 5000, "competing");
  expect(states.at(-1)!.reason).toContain("10197 No market data during competing live session");
  expect(alertKeys()).toEqual(["competing"]);
  // The feed keeps asking; nothing flows while the other session holds the data.
  await waitFor(() => feed.stats.refusedRetries >= 4, 5000, "retries");
  expect(session.state).toBe("competing");
  sim.competingSession(false);
  await waitFor(() => session.state === "connected", 5000, "connected again");
  expect(feed.live).toBe(true);
  expect(alertKeys()).toEqual([]);
});

test("contract look-ups failing after a reconnect: up but not_ready (alerted) until they work again", async () => {
  sim.failContracts(true);
  sim.dropConnections();
  await waitFor(() => session.state === "not_ready", 5000, "not_ready");
  expect(states.at(-1)!.reason).toMatch(/2 market data requests refused; last \w+: 200 No security definition/);
  expect(session.usable).toBe(true);
  expect(alertKeys()).toEqual(["not_ready"]);
  const ticks = feed.stats.ticks;
  sim.failContracts(false);
  await waitFor(() => session.state === "connected" && feed.stats.ticks > ticks, 5000, "connected and ticking");
});

test("1100 and then nothing: reauth after reauthAfterMs (alerted); the new login's 1101 brings it back with data", async () => {
  sim.awaitReauthentication();
  await waitFor(() => session.state === "degraded", 5000, "degraded at once");
  await waitFor(() => session.state === "reauth", 5000, "reauth once the wait is long");
  expect(states.at(-1)!.reason).toContain("waiting for re-authentication");
  expect(alertKeys()).toEqual(["reauth"]);
  const resubscriptions = feed.stats.resubscriptions;
  sim.reauthenticated();
  await waitFor(() => session.state === "connected" && feed.stats.resubscriptions > resubscriptions, 5000, "connected and resubscribed");
});
