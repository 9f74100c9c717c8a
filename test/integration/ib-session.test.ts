// The IB session over real sockets against the TWS simulator: the state machine, reconnects,
// the codes of DESIGN.md (1100/1101/1102/2103/2104/2110/326/502), order id high-water mark,
// and requests that are either sent or rejected with a code.

import { afterEach, beforeEach, expect, test } from "bun:test";
import { createServer } from "node:net";
import { PacingError } from "../../src/ib/pacing.ts";
import { IbSession, type IbSessionOptions, type SessionEvents, type SessionState } from "../../src/ib/session.ts";
import { IN } from "../../src/sim/tws/messages.ts";
import { TwsSimulator } from "../../src/sim/tws/simulator.ts";
import { createLogger } from "../../src/log.ts";
import { waitFor } from "../helpers/wait.ts";

let sim: TwsSimulator;
const sessions: IbSession[] = [];
beforeEach(async () => {
  sim = new TwsSimulator({ port: 0, symbols: ["AAPL"], optionExpiries: 0, tickRatePerS: 200 });
  await sim.start();
});
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.stop();
  await sim.stop();
});

const FAST = { initialMs: 20, maxMs: 200, jitter: 0.5 };
/** Connection failures are expected here; their warnings would only be noise. */
const quiet = createLogger("error", "ib", () => {});

/** A session to the simulator that records its states and events. */
function session(clientId = 7, extra: Partial<IbSessionOptions> = {}) {
  const s = new IbSession({ host: "127.0.0.1", port: sim.port, clientId, backoff: FAST, log: quiet, ...extra });
  sessions.push(s);
  const states: SessionState[] = [];
  const ready: SessionEvents["ready"][] = [];
  const restored: boolean[] = [];
  s.events.on("state", (e) => states.push(e.to));
  s.events.on("ready", (e) => ready.push(e));
  s.events.on("restored", (e) => restored.push(e.dataLost));
  return { s, states, ready, restored };
}

test("connects: connecting → connected, one ready event, requests flow", async () => {
  const { s, states, ready } = session();
  s.start();
  await s.waitUsable(5000);
  expect(states).toEqual(["connecting", "connected"]);
  expect(ready).toEqual([{ reconnect: false, clientId: 7 }]);
  let time = 0;
  s.onIb("currentTime" as never, ((t: number) => (time = t)) as never);
  await s.request("reqCurrentTime", (api) => api.reqCurrentTime());
  await waitFor(() => time > 0, 5000, "currentTime");
  expect(sim.clientIds).toEqual([7]);
});

test("a dropped socket reconnects with back-off and says so with ready{reconnect:true}", async () => {
  const { s, states, ready } = session();
  s.start();
  await s.waitUsable(5000);
  sim.dropConnections();
  await waitFor(() => ready.length === 2, 5000, "the second ready");
  expect(ready[1]).toEqual({ reconnect: true, clientId: 7 });
  expect(states).toEqual(["connecting", "connected", "reconnecting", "connected"]);
  expect(s.stats.socketLosses).toBe(1);
});

test("while connections are refused it keeps retrying, then connects", async () => {
  const { s, ready } = session();
  s.start();
  await s.waitUsable(5000);
  const refusing = sim.refuseConnections(400);
  sim.dropConnections();
  await refusing;
  await waitFor(() => ready.length === 2, 5000, "reconnect after refusals");
  // Several attempts failed during the 400 ms (back-off 20..200 ms), and the error said why.
  expect(s.stats.attempts).toBeGreaterThanOrEqual(3);
  expect(s.state).toBe("connected");
});

test("1100 degrades, 1101 restores with data lost, 1102 with data kept", async () => {
  const { s, states, restored } = session();
  s.start();
  await s.waitUsable(5000);
  sim.loseConnectivity();
  await waitFor(() => s.state === "degraded", 5000, "degraded on 1100");
  expect(s.usable).toBe(true); // the socket stays up through 1100
  sim.restoreConnectivity(false);
  await waitFor(() => restored.length === 1, 5000, "1101");
  sim.loseConnectivity();
  await waitFor(() => s.state === "degraded", 5000, "degraded again");
  sim.restoreConnectivity(true);
  await waitFor(() => restored.length === 2, 5000, "1102");
  expect(restored).toEqual([true, false]);
  expect(states).toEqual(["connecting", "connected", "degraded", "connected", "degraded", "connected"]);
});

test("a farm down (2103) or TWS-server link broken (2110) degrades until the farm is OK (2104)", async () => {
  const { s } = session();
  const farms: string[] = [];
  s.events.on("farm", (f) => farms.push(`${f.kind}:${f.name}:${f.ok}`));
  s.start();
  await s.waitUsable(5000);
  sim.farmDown("market");
  await waitFor(() => s.state === "degraded", 5000, "degraded on 2103");
  sim.farmUp("market");
  await waitFor(() => s.state === "connected", 5000, "connected on 2104");
  sim.serverConnectivityBroken();
  await waitFor(() => s.state === "degraded", 5000, "degraded on 2110");
  sim.farmUp("market");
  await waitFor(() => s.state === "connected", 5000, "connected after 2110 and a farm OK");
  expect(farms).toContain("market:usfarm:false");
  expect(farms).toContain("hmds:ushmds:true");
});

test("326 with recovery retry: the same client id is tried again until it is free", async () => {
  sim.holdClientId(7, 2);
  const { s } = session(7, { clientIdInUse: "retry" });
  s.start();
  await s.waitUsable(5000);
  expect(s.clientId).toBe(7);
  expect(s.stats.clientIdRefusals).toBe(2);
});

test("326 with recovery increment: the next client id is used", async () => {
  const first = session(8);
  first.s.start();
  await first.s.waitUsable(5000);
  const { s } = session(8, { clientIdInUse: "increment" });
  s.start();
  await s.waitUsable(5000);
  expect(s.clientId).toBe(9);
  expect(sim.clientIds.sort()).toEqual([8, 9]);
});

test("326 with recovery fail: the session gives up with a fatal event and stays disconnected", async () => {
  sim.holdClientId(10, 1);
  const { s } = session(10, { clientIdInUse: "fail" });
  const fatal: string[] = [];
  s.events.on("fatal", (f) => fatal.push(f.message));
  s.start();
  const err = await s.waitUsable(5000).then(() => null, (e: Error) => e);
  expect(err?.message).toContain("client id 10 is in use");
  expect(fatal).toHaveLength(1);
  expect(s.state).toBe("disconnected");
});

test("502: nothing listening → retries, and waitUsable names the failure", async () => {
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
  const s = new IbSession({ host: "127.0.0.1", port, clientId: 1, backoff: FAST, log: quiet });
  sessions.push(s);
  s.start();
  const err = await s.waitUsable(300).then(() => null, (e: Error) => e);
  expect(err?.message).toContain("502");
  expect(s.state).toBe("reconnecting");
  expect(s.stats.attempts).toBeGreaterThanOrEqual(2);
});

test("order ids: max(our high-water mark, nextValidId), even when nextValidId goes backwards", async () => {
  sim.setNextOrderId(7, 100);
  const { s, ready } = session();
  s.start();
  await s.waitUsable(5000);
  expect([s.nextOrderId(), s.nextOrderId(), s.nextOrderId()]).toEqual([100, 101, 102]);
  // A gateway restart forgets: it now says 5. Ids 100..102 must never be reused.
  sim.setNextOrderId(7, 5);
  sim.dropConnections();
  await waitFor(() => ready.length === 2, 5000, "reconnect");
  expect(s.nextOrderId()).toBe(103);
  s.observeOrderId(500);
  expect(s.nextOrderId()).toBe(501);
});

test("requests are refused while disconnected, and those waiting when the socket drops are rejected, never sent later", async () => {
  const { s, ready } = session();
  const early = await s.request("reqCurrentTime", (api) => api.reqCurrentTime()).then(() => null, (e: PacingError) => e.code);
  expect(early).toBe("IB_DISCONNECTED");
  s.start();
  await s.waitUsable(5000);
  const outcomes = Array.from({ length: 200 }, () => s.request("reqCurrentTime", (api) => api.reqCurrentTime()).then(() => "sent", (e: PacingError) => e.code));
  await waitFor(() => s.pacing.stats.sent >= 5, 5000, "a few sends");
  sim.dropConnections();
  const results = await Promise.all(outcomes);
  const sent = results.filter((r) => r === "sent").length;
  expect(sent).toBeGreaterThanOrEqual(5);
  expect(results.filter((r) => r === "IB_DISCONNECTED").length).toBe(200 - sent);
  await waitFor(() => ready.length === 2, 5000, "reconnect");
  // One request on the new connection; a stale one leaking onto it would show as a second arrival.
  await s.request("reqCurrentTime", (api) => api.reqCurrentTime());
  const newConn = () => sim.arrivals().filter((a) => a.msgId === IN.REQ_CURRENT_TIME && a.connId === 2);
  await waitFor(() => newConn().length >= 1, 5000, "the request on the new connection");
  await s.request("reqIds", (api) => api.reqIds(1));
  await waitFor(() => sim.arrivals().some((a) => a.msgId === IN.REQ_IDS), 5000, "a later marker request");
  expect(newConn()).toHaveLength(1);
});

test("a burst of 500 requests reaches the simulator at most 45 per second, cancels first, none lost", async () => {
  const { s } = session();
  s.start();
  await s.waitUsable(5000);
  sim.clearArrivals();
  const all: Promise<void>[] = [];
  for (let i = 0; i < 500; i++) {
    all.push(s.request(`reqCurrentTime ${i}`, (api) => api.reqCurrentTime()));
    if (i === 100) all.push(s.cancel("cancelMktData", (api) => api.cancelMktData(42)));
  }
  await Promise.all(all);
  await waitFor(() => sim.arrivals().length === 501, 15_000, "all 501 messages at the simulator");
  const arrivals = sim.arrivals();
  const times = arrivals.map((a) => a.tMs);
  // IBKR's rule (50 in any second) holds strictly at the receiver; our 45 holds allowing up to
  // 50 ms of delivery jitter (sends are 22 ms apart; on a loaded 2-core machine a reader stalled
  // for a GC or a busy neighbour stamps a few messages late, which shrinks one gap).
  expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(50);
  expect(maxInWindow(times, 950)).toBeLessThanOrEqual(45);
  // Counts per window: 501 messages at 45 per second take at least 11 windows.
  expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(10_000);
  // The cancel was queued behind 101 requests, of which only the first had left.
  const cancelAt = arrivals.findIndex((a) => a.msgId === IN.CANCEL_MKT_DATA);
  expect(cancelAt).toBeLessThanOrEqual(2);
}, 30_000);

/** Largest number of arrivals inside any half-open window of `windowMs`. */
function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}
