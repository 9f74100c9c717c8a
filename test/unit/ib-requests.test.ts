// Request/response over the IB session against the simulator (cache, TWS errors, timeouts, a
// connection lost under a request, the pending bound) and the pure option-chain choices.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { SecType } from "@stoqey/ib";
import { newYorkYmd, pickExpiries, pickStrikes, referencePrice } from "../../src/ib/chain.ts";
import { IbRequestError, IbRequests } from "../../src/ib/requests.ts";
import { IbSession } from "../../src/ib/session.ts";
import { createLogger } from "../../src/log.ts";
import { IN } from "../../src/sim/tws/messages.ts";
import { TwsSimulator } from "../../src/sim/tws/simulator.ts";
import { waitFor } from "../helpers/wait.ts";

const quiet = createLogger("error", "test", () => {});
let sim: TwsSimulator;
let session: IbSession;
beforeAll(async () => {
  sim = new TwsSimulator({ port: 0, symbols: ["AAPL"], optionExpiries: 1, strikesPerSide: 1, tickRatePerS: 100, log: quiet });
  await sim.start();
  session = new IbSession({ host: "127.0.0.1", port: sim.port, clientId: 31, backoff: { initialMs: 20, maxMs: 100 }, log: quiet });
  session.start();
  await session.waitUsable(5000);
});
afterAll(async () => {
  await session.stop();
  await sim.stop();
});

const AAPL = { symbol: "AAPL", secType: SecType.STK, exchange: "SMART", currency: "USD" };
const code = (p: Promise<unknown>) => p.then(() => null, (e: IbRequestError) => e.code);

test("contract details are cached: the second ask does not reach TWS", async () => {
  const r = new IbRequests(session);
  const count = () => sim.arrivals().filter((a) => a.msgId === IN.REQ_CONTRACT_DATA).length;
  const before = count();
  const a = await r.contractDetails(AAPL);
  const b = await r.contractDetails({ ...AAPL });
  expect(a).toHaveLength(1);
  expect(b).toBe(a);
  expect(count()).toBe(before + 1);
  r.close();
});

test("TWS's error for the request id rejects with its code; chains and snapshots come back whole", async () => {
  const r = new IbRequests(session);
  expect(await code(r.contractDetails({ ...AAPL, symbol: "NOPE" }))).toBe(200);
  const [smart] = await r.optionChains("AAPL", "STK", sim.universe.contracts[0]!.conId);
  expect(smart).toMatchObject({ exchange: "SMART", tradingClass: "AAPL", multiplier: 100 });
  expect(smart!.strikes).toHaveLength(3);
  const snap = await r.snapshot({ conId: sim.universe.contracts[0]!.conId, exchange: "SMART" });
  expect(snap.bid).toBeGreaterThan(0);
  expect(snap.ask).toBeGreaterThan(snap.bid!);
  expect(snap.delayed).toBe(false);
  r.close();
});

test("a request without a reply within its bound fails with IB_TIMEOUT", async () => {
  const r = new IbRequests(session, { timeoutMs: 100 });
  sim.delayMessages(1000);
  try {
    expect(await code(r.contractDetails({ ...AAPL, exchange: "ARCA" }))).toBe("IB_TIMEOUT");
    expect(r.inFlight).toBe(0);
  } finally {
    sim.delayMessages(0);
    r.close();
  }
});

test("more pending requests than the bound fail at once with IB_TOO_MANY", async () => {
  const r = new IbRequests(session, { maxPending: 2, timeoutMs: 5000 });
  const p1 = r.snapshot({ conId: sim.universe.contracts[1]!.conId, exchange: "SMART" });
  const p2 = r.snapshot({ conId: sim.universe.contracts[2]!.conId, exchange: "SMART" });
  expect(await code(r.snapshot({ conId: sim.universe.contracts[3]!.conId, exchange: "SMART" }))).toBe("IB_TOO_MANY");
  await Promise.all([p1, p2]);
  r.close();
});

test("a connection lost under a request rejects it with IB_DISCONNECTED", async () => {
  const r = new IbRequests(session, { timeoutMs: 10_000 });
  sim.delayMessages(2000);
  const sent = session.pacing.stats.sent;
  const pending = code(r.contractDetails({ ...AAPL, primaryExch: "NASDAQ" }));
  try {
    await waitFor(() => session.pacing.stats.sent > sent, 5000, "the request to leave the pacing queue");
    sim.dropConnections();
    expect(await pending).toBe("IB_DISCONNECTED");
  } finally {
    sim.delayMessages(0);
    r.close();
  }
  await session.waitUsable(5000);
});

test("the chain slice: nearest expiries from today, strikes centred on the price", () => {
  expect(pickExpiries(["20261204", "20261127", "20261120", "bad", "20261127"], "20261121", 2)).toEqual(["20261127", "20261204"]);
  expect(pickExpiries(["20261127"], "20261127", 3)).toEqual(["20261127"]);
  expect(pickStrikes([100, 102.5, 105, 107.5, 110, 112.5], 106, 1)).toEqual([102.5, 105, 107.5]);
  expect(pickStrikes([100, 102.5, 105], 99, 2)).toEqual([100, 102.5, 105]);
  expect(pickStrikes([], 100, 2)).toEqual([]);
  expect(referencePrice({ bid: 10, ask: 10.2, delayed: false })).toBeCloseTo(10.1, 12);
  expect(referencePrice({ bid: 10, last: 9.9, delayed: false })).toBe(9.9);
  expect(referencePrice({ close: 9.5, delayed: true })).toBe(9.5);
  expect(referencePrice({ delayed: false })).toBeUndefined();
  // 03:00 UTC on 21 Nov is still 20 Nov in New York.
  expect(newYorkYmd(Date.UTC(2026, 10, 21, 3))).toBe("20261120");
});
