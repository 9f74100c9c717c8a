// Historical data: the pacer's three IBKR rules, its bounds and deadlines on a virtual clock,
// then requestHistoricalBars end to end (real @stoqey/ib client, the TWS simulator over a real
// socket) with the simulator enforcing the same rules: bars match the simulator's, the 61st
// request in ten minutes waits for the window, TWS's errors fail a request with its message,
// and the simulator refuses an unpaced burst with 162 but never our paced traffic.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Contract, EventName, IBApi, SecType } from "@stoqey/ib";
import { type HistoricalQuery, parseBarTime, requestHistoricalBars } from "../../src/ib/historical.ts";
import { type HistoricalKey, HistoricalPacer, type HistoricalTicket } from "../../src/ib/historical-pacer.ts";
import { IbRequestError } from "../../src/ib/requests.ts";
import { IbSession } from "../../src/ib/session.ts";
import { createLogger } from "../../src/log.ts";
import { IN } from "../../src/sim/tws/messages.ts";
import { TwsSimulator } from "../../src/sim/tws/simulator.ts";
import { STOCK_CONID_BASE } from "../../src/sim/tws/universe.ts";
import { waitFor } from "../helpers/wait.ts";
import { VirtualClock } from "../helpers/virtual-clock.ts";

const key = (over: Partial<HistoricalKey> = {}): HistoricalKey =>
  ({ contract: "100000@SMART", whatToShow: "TRADES", endDateTime: "", duration: "1 D", barSize: "1 min", useRTH: true, ...over });
const code = (p: Promise<unknown>) => p.then(() => null, (e: IbRequestError) => e.code);

/** Acquires and marks the request sent at once. */
async function sendNow(p: HistoricalPacer, k: HistoricalKey): Promise<HistoricalTicket> {
  const t = await p.acquire(k, 3_600_000);
  t.sent();
  return t;
}

/** Starts an acquire and reports when it is granted. */
function pending(p: HistoricalPacer, k: HistoricalKey, maxWaitMs = 3_600_000) {
  const state = { granted: false, error: null as IbRequestError | null, ticket: null as HistoricalTicket | null };
  p.acquire(k, maxWaitMs).then((t) => { state.granted = true; state.ticket = t; t.sent(); }, (e: IbRequestError) => (state.error = e));
  return state;
}
const tick = () => new Promise((r) => setTimeout(r, 0));

describe("pacer rules on a virtual clock", () => {
  test("the 61st request in a rolling 10 minutes waits until the oldest leaves the window (plus the margin)", async () => {
    const clock = new VirtualClock();
    const p = new HistoricalPacer({ clock });
    for (let i = 0; i < 60; i++) {
      await sendNow(p, key({ contract: `c${i}@SMART` }));
      clock.advance(clock.t + 1_000);
    }
    const w = pending(p, key({ contract: "c60@SMART" }));
    await tick();
    expect(w.granted).toBe(false);
    expect(p.depth).toBe(1);
    clock.advance(600_000 + 100 - 1);
    await tick();
    expect(w.granted).toBe(false);
    clock.advance(600_100);
    await tick();
    expect(w.granted).toBe(true);
    // The second-oldest leaves a second later: the 62nd waits for exactly that.
    const x = pending(p, key({ contract: "c61@SMART" }));
    clock.advance(601_099);
    await tick();
    expect(x.granted).toBe(false);
    clock.advance(601_100);
    await tick();
    expect(x.granted).toBe(true);
  });

  test("an identical request within 15 s waits; a different one goes meanwhile", async () => {
    const clock = new VirtualClock();
    const p = new HistoricalPacer({ clock });
    await sendNow(p, key());
    clock.advance(1_000);
    const again = pending(p, key());
    const other = pending(p, key({ duration: "2 D" }));
    await tick();
    expect(again.granted).toBe(false);
    expect(other.granted).toBe(true);
    clock.advance(15_099);
    await tick();
    expect(again.granted).toBe(false);
    clock.advance(15_100);
    await tick();
    expect(again.granted).toBe(true);
  });

  test("7 requests for one contract, exchange and tick type within 2 s: the 7th waits; another tick type does not", async () => {
    const clock = new VirtualClock();
    const p = new HistoricalPacer({ clock });
    const six = Array.from({ length: 6 }, (_, i) => pending(p, key({ duration: `${i + 1} D` })));
    const seventh = pending(p, key({ duration: "7 D" }));
    const midpoint = pending(p, key({ duration: "7 D", whatToShow: "MIDPOINT" }));
    const otherExchange = pending(p, key({ contract: "100000@ISLAND", duration: "7 D" }));
    await waitFor(() => six.every((s) => s.granted), 1000, "the first six");
    await tick();
    expect(seventh.granted).toBe(false);
    expect(midpoint.granted).toBe(true);
    expect(otherExchange.granted).toBe(true);
    clock.advance(2_099);
    await tick();
    expect(seventh.granted).toBe(false);
    clock.advance(2_100);
    await tick();
    expect(seventh.granted).toBe(true);
  });

  test("a granted request counts before it is sent; a released one frees its place", async () => {
    const clock = new VirtualClock();
    const p = new HistoricalPacer({ clock });
    const held = await p.acquire(key(), 1000);
    const again = pending(p, key());
    await tick();
    expect(again.granted).toBe(false);
    held.release();
    await tick();
    expect(again.granted).toBe(true);
  });

  test("the wait queue is bounded (clear error past it) and each waiting request has a deadline", async () => {
    const clock = new VirtualClock();
    const p = new HistoricalPacer({ clock, capacity: 2 });
    await sendNow(p, key());
    const a = pending(p, key(), 5_000);
    const b = pending(p, key(), 60_000);
    const refused = await p.acquire(key(), 60_000).then(() => null, (e: IbRequestError) => e);
    expect(refused).toBeInstanceOf(IbRequestError);
    expect(refused!.code).toBe("IB_TOO_MANY");
    expect(refused!.message).toContain("2 requests already wait");
    expect(p.stats.refusedFull).toBe(1);
    clock.advance(5_000);
    await tick();
    expect(a.error?.code).toBe("IB_TIMEOUT");
    expect(a.error?.message).toContain("after 5000 ms");
    expect(p.depth).toBe(1);
    clock.advance(15_100);
    await tick();
    expect(b.granted).toBe(true);
    expect(p.stats).toMatchObject({ expired: 1, refusedFull: 1, maxDepth: 2 });
  });

  test("bar times: epoch seconds, dates, and date-times with a zone", () => {
    expect(parseBarTime("1763650800")).toBe(1763650800_000);
    expect(parseBarTime("20261120")).toBe(Date.UTC(2026, 10, 20));
    expect(parseBarTime("20261120 15:30:00 US/Eastern")).toBe(Date.UTC(2026, 10, 20, 15, 30));
    expect(parseBarTime("garbage")).toBeNaN();
  });
});

describe("requestHistoricalBars against the TWS simulator", () => {
  const quiet = createLogger("error", "test", () => {});
  const BASE_MS = Date.UTC(2026, 10, 20, 21);
  const clock = new VirtualClock();
  let sim: TwsSimulator;
  let session: IbSession;
  let pacer: HistoricalPacer;
  beforeAll(async () => {
    // The simulator's historical clock is the pacer's, so ten minutes pass at once for both.
    sim = new TwsSimulator({ port: 0, symbols: ["AAPL", "TSLA"], optionExpiries: 1, strikesPerSide: 1, tickRatePerS: 100, log: quiet, historicalClock: () => BASE_MS + clock.now() });
    await sim.start();
    session = new IbSession({ host: "127.0.0.1", port: sim.port, clientId: 41, backoff: { initialMs: 20, maxMs: 100 }, log: quiet });
    session.start();
    await session.waitUsable(5000);
    pacer = new HistoricalPacer({ clock });
  });
  afterAll(async () => {
    await session.stop();
    await sim.stop();
  });

  const AAPL: Contract = { symbol: "AAPL", secType: SecType.STK, exchange: "SMART", currency: "USD" };
  const q = (over: Partial<HistoricalQuery> = {}): HistoricalQuery => ({ endDateTime: "20261120-21:00:00", duration: "1 M", barSize: "1 day", whatToShow: "TRADES", useRTH: true, ...over });

  test("daily and 1-minute bars arrive and match the simulator's, ending at the current price", async () => {
    sim.pinTrade("AAPL", 250.25, 100);
    const daily = await requestHistoricalBars(session, AAPL, q(), { pacer });
    const contract = sim.universe.byId(STOCK_CONID_BASE)!;
    const want = sim.historical.bars(sim, contract, { ...q(), useRTH: true, formatDate: 2 });
    if (typeof want === "string") throw new Error(want);
    expect(daily).toEqual(want.map((b) => ({ ...b, time: parseBarTime(b.time) })));
    expect(daily.at(-1)).toMatchObject({ time: Date.UTC(2026, 10, 20), close: 250.25 });
    for (const b of daily) {
      expect(b.high).toBeGreaterThanOrEqual(Math.max(b.open, b.close));
      expect(b.low).toBeLessThanOrEqual(Math.min(b.open, b.close));
      expect(b.volume).toBeGreaterThan(0);
      expect(b.wap).toBeGreaterThanOrEqual(b.low);
      expect(b.count).toBeGreaterThan(0);
    }
    clock.advance(clock.t + 2_100);
    const minute = await requestHistoricalBars(session, AAPL, q({ duration: "1 D", barSize: "1 min", whatToShow: "MIDPOINT" }), { pacer });
    expect(minute).toHaveLength(390); // 14:30 to 21:00 UTC, regular hours only
    expect(minute[0]!.time).toBe(Date.UTC(2026, 10, 20, 14, 30));
    expect(minute.at(-1)!).toMatchObject({ time: Date.UTC(2026, 10, 20, 20, 59), close: 250.25, volume: -1, wap: -1, count: -1 });
    sim.unpin("AAPL");
  });

  test("TWS's errors fail the request with its code and message; the bar bound fails with IB_TOO_MANY", async () => {
    clock.advance(clock.t + 20_000);
    const bad = await requestHistoricalBars(session, AAPL, q({ barSize: "7 fortnights" }), { pacer }).then(() => null, (e: IbRequestError) => e);
    expect(bad?.code).toBe(162);
    expect(bad?.message).toContain("Invalid bar size: 7 fortnights");
    expect(await code(requestHistoricalBars(session, { ...AAPL, symbol: "NOPE" }, q(), { pacer }))).toBe(200);
    const cancels = () => sim.arrivals().filter((a) => a.msgId === IN.CANCEL_HISTORICAL_DATA).length;
    const before = cancels();
    const many = await requestHistoricalBars(session, AAPL, q({ duration: "2 D", barSize: "1 min" }), { pacer, maxBars: 100 }).then(() => null, (e: IbRequestError) => e);
    expect(many?.code).toBe("IB_TOO_MANY");
    expect(many?.message).toContain("more than 100 items");
    // A run abandoned before its end is cancelled at TWS.
    await waitFor(() => cancels() === before + 1, 5000, "cancelHistoricalData");
  });

  test("the 61st request in ten minutes waits for the window, end to end, and the simulator never refuses our traffic", async () => {
    // The earlier tests' requests leave the window first: TWS and the pacer both count per connection.
    clock.advance(clock.t + 601_000);
    const start = clock.t;
    const arrivals = () => sim.arrivals().filter((a) => a.msgId === IN.REQ_HISTORICAL_DATA).length;
    for (let i = 0; i < 60; i++) {
      const bars = await requestHistoricalBars(session, AAPL, q({ duration: `${i + 1} D` }), { pacer });
      expect(bars.length).toBeGreaterThan(0);
      clock.advance(clock.t + 400); // six per 2.4 s: inside the same-contract rule
    }
    const before = arrivals();
    const last = requestHistoricalBars(session, AAPL, q({ duration: "61 D" }), { pacer });
    expect(pacer.depth).toBe(1);
    clock.advance(start + 600_099);
    await tick();
    expect(pacer.depth).toBe(1);
    expect(arrivals()).toBe(before);
    clock.advance(start + 600_100);
    expect((await last).length).toBeGreaterThan(0);
    expect(arrivals()).toBe(before + 1);
    expect(sim.historical.stats.pacingViolations).toBe(0);
  });

  test("an unpaced raw burst is refused with 162 by the simulator", async () => {
    const ib = new IBApi({ host: "127.0.0.1", port: sim.port, maxReqPerSec: 1000 });
    const errors: { id: number; code: number; message: string }[] = [];
    ib.on(EventName.error, (err: Error, code: number, id: number) => errors.push({ id, code, message: err.message }));
    let ready = false;
    ib.once(EventName.nextValidId, () => (ready = true));
    ib.connect(42);
    await waitFor(() => ready, 5000, "raw client ready");
    for (let i = 0; i < 8; i++) ib.reqHistoricalData(100 + i, { conId: STOCK_CONID_BASE, exchange: "SMART" }, "20261120-21:00:00", `${i + 1} D`, "1 day" as never, "TRADES", 1, 2, false);
    await waitFor(() => errors.some((e) => e.code === 162), 5000, "162");
    // Six per contract in 2 s pass; the seventh and eighth are pacing violations.
    const refused = errors.filter((e) => e.code === 162);
    expect(refused.map((e) => e.id)).toEqual([106, 107]);
    expect(refused[0]!.message).toContain("pacing violation");
    ib.disconnect();
  });
});

describe("paced traffic at real speed against the simulator's rules", () => {
  test("a mixed burst of 24 requests all succeed, with no 162, under shrunken windows", async () => {
    const quiet = createLogger("error", "test", () => {});
    // Windows short enough to pass in a few seconds. The pacer stamps a request when it is
    // written, the simulator when it processes it: on a loaded machine a stall of the process
    // between the two (over 100 ms, the pacer's margin) made an earlier request look later than
    // it was and the simulator answered 162 (one full-suite run in six here). The simulator's
    // windows are therefore shorter than the pacer's by 800 ms or more, so only pacing that is
    // wrong by more than any stall fails here; the pacer's exact spacing is checked on the
    // virtual clock above.
    const limits = { maxRequests: 8, windowMs: 1_500, identicalMs: 1_000, sameContractMax: 3, sameContractMs: 900 };
    const simLimits = { ...limits, windowMs: 400, identicalMs: 100, sameContractMs: 100 };
    const sim = new TwsSimulator({ port: 0, symbols: ["AAPL", "TSLA"], optionExpiries: 1, strikesPerSide: 1, tickRatePerS: 100, log: quiet, historicalLimits: simLimits });
    await sim.start();
    const session = new IbSession({ host: "127.0.0.1", port: sim.port, clientId: 43, backoff: { initialMs: 20, maxMs: 100 }, log: quiet });
    session.start();
    try {
      await session.waitUsable(5000);
      const pacer = new HistoricalPacer({ limits, marginMs: 100 });
      const symbols = ["AAPL", "TSLA"];
      const jobs = Array.from({ length: 24 }, (_, i) => requestHistoricalBars(session,
        { symbol: symbols[i % 2], secType: SecType.STK, exchange: "SMART", currency: "USD" },
        // Every fourth repeats an earlier request exactly, so the identical rule is exercised too.
        { endDateTime: "20261120-21:00:00", duration: `${i % 4 === 3 ? 1 : (i % 6) + 1} D`, barSize: "1 day", whatToShow: i % 5 === 0 ? "MIDPOINT" : "TRADES", useRTH: true },
        { pacer }));
      const results = await Promise.all(jobs);
      expect(results.every((bars) => bars.length > 0)).toBe(true);
      expect(sim.historical.stats.pacingViolations).toBe(0);
      expect(sim.historical.stats.answered).toBe(24);
      expect(pacer.stats.waited).toBeGreaterThan(0);
    } finally {
      await session.stop();
      await sim.stop();
    }
  }, 30_000);
});
