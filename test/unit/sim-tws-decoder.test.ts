// Every message the TWS simulator can send goes through the real @stoqey/ib client over a real
// socket; the test fails on any decoding complaint (505: unprocessed data, underrun, unknown
// message) and checks that the client decoded as many messages of each kind as were sent.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { BarSizeSetting, type Contract, EventName, IBApi, type Order, OrderAction, OrderType, SecType } from "@stoqey/ib";
import { CODES, OUT, OUT_IDS } from "../../src/sim/tws/messages.ts";
import { TwsSimulator } from "../../src/sim/tws/simulator.ts";
import { STOCK_CONID_BASE } from "../../src/sim/tws/universe.ts";
import { waitFor } from "../helpers/wait.ts";

let sim: TwsSimulator;
let port: number;
beforeAll(async () => {
  sim = new TwsSimulator({ port: 0, symbols: ["AAPL", "TSLA"], optionExpiries: 1, strikesPerSide: 1, tickRatePerS: 4000, notSubscribed: ["TSLA"], greeksIntervalMs: 20 });
  port = await sim.start();
});
afterAll(() => sim.stop());

/** A client that records everything the decoder produced. */
function recordingClient(clientId: number) {
  const ib = new IBApi({ host: "127.0.0.1", port, maxReqPerSec: 1000 });
  const decodeErrors: string[] = [];
  const received = new Map<number, number>();
  const events = new Map<string, number>();
  const codes = new Set<number>();
  ib.on(EventName.received, (tokens: string[]) => {
    const id = Number(tokens[0]);
    received.set(id, (received.get(id) ?? 0) + 1);
  });
  ib.on(EventName.all, (name: string) => events.set(name, (events.get(name) ?? 0) + 1));
  ib.on(EventName.error, (err: Error, code: number) => {
    codes.add(code);
    if (code === 505 || /unprocessed data|Underrun|No parser/i.test(err.message)) decodeErrors.push(`${code}: ${err.message}`);
  });
  ib.on(EventName.info, (_msg: string, code: number) => codes.add(code));
  let ready = false;
  ib.once(EventName.nextValidId, () => (ready = true));
  ib.connect(clientId);
  return { ib, decodeErrors, received, events, codes, isReady: () => ready };
}

test("every simulator message decodes cleanly in @stoqey/ib, field for field", async () => {
  const c = recordingClient(11);
  await waitFor(c.isReady, 5000, "nextValidId");
  const aapl: Contract = { conId: STOCK_CONID_BASE, exchange: "SMART" };
  const tsla: Contract = { symbol: "TSLA", secType: SecType.STK, exchange: "SMART", currency: "USD" };
  const details: unknown[] = [];
  c.ib.on(EventName.contractDetails, (_id: number, d: unknown) => details.push(d));
  c.ib.reqContractDetails(1, { symbol: "AAPL", secType: SecType.STK, exchange: "SMART", currency: "USD" });
  c.ib.reqContractDetails(2, { symbol: "AAPL", secType: SecType.OPT, exchange: "SMART", currency: "USD" });
  c.ib.reqContractDetails(3, { symbol: "NOPE", secType: SecType.STK, exchange: "SMART", currency: "USD" }); // 200
  c.ib.reqSecDefOptParams(4, "AAPL", "", SecType.STK, STOCK_CONID_BASE);
  c.ib.reqCurrentTime();
  c.ib.reqMktData(5, aapl, "", false, false);
  c.ib.reqMktData(5, aapl, "", false, false); // 322 duplicate ticker id
  c.ib.reqMktData(6, aapl, "", true, false); // snapshot → tickSnapshotEnd
  c.ib.reqMktData(7, tsla, "", false, false); // 354 not subscribed
  c.ib.cancelMktData(99); // 300
  await waitFor(() => c.codes.has(354), 5000, "354");
  c.ib.reqMarketDataType(3);
  c.ib.reqMktData(8, tsla, "", false, false); // 10167 + delayed ticks
  await waitFor(() => details.length >= 7, 5000, "contract details");
  const option = (details[2] as { contract: Contract }).contract;
  c.ib.reqMktData(9, { conId: option.conId, exchange: "SMART" }, "", false, false); // tickOptionComputation
  await waitFor(() => (c.events.get(EventName.tickOptionComputation) ?? 0) >= 3, 5000, "model greeks");

  // Historical bars (daily and 1-minute, two date formats), a pacing refusal (162: identical
  // request at once) and a cancel of nothing (366).
  c.ib.reqHistoricalData(30, aapl, "", "1 W", BarSizeSetting.DAYS_ONE, "TRADES", 1, 1, false);
  c.ib.reqHistoricalData(31, aapl, "", "1800 S", BarSizeSetting.MINUTES_ONE, "MIDPOINT", 0, 2, false);
  c.ib.reqHistoricalData(32, aapl, "", "1 W", BarSizeSetting.DAYS_ONE, "TRADES", 1, 1, false);
  c.ib.cancelHistoricalData(33);
  await waitFor(() => c.codes.has(162) && c.codes.has(366), 5000, "162 and 366");

  // Orders: fills (execDetails, orderStatus, commissionReport), a resting order listed, modified
  // and cancelled, refusals (103 reused id, 201 rejected, 10147 unknown), then the reports.
  sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  const order = (o: Partial<Order>): Order => ({ action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 10, tif: "DAY", account: "DU1234567", transmit: true, ...o });
  const stk: Contract = { symbol: "AAPL", secType: SecType.STK, exchange: "SMART", currency: "USD" };
  c.ib.reqAccountSummary(20, "All", "NetLiquidation,BuyingPower");
  c.ib.placeOrder(1, stk, order({ orderRef: "o1" }));
  c.ib.placeOrder(2, stk, order({ orderType: OrderType.LMT, lmtPrice: 95, tif: "GTC", orderRef: "o2" }));
  c.ib.placeOrder(2, stk, order({ orderType: OrderType.LMT, lmtPrice: 95, tif: "GTC", totalQuantity: 20, orderRef: "o2" }));
  c.ib.reqOpenOrders();
  c.ib.reqAllOpenOrders();
  c.ib.reqAutoOpenOrders(true);
  c.ib.cancelOrder(2);
  c.ib.cancelOrder(99);
  c.ib.placeOrder(1, stk, order({}));
  await waitFor(() => c.codes.has(103) && c.codes.has(10147), 5000, "103 and 10147");
  sim.rejectNextOrder("test rejection");
  c.ib.placeOrder(3, stk, order({}));
  c.ib.reqExecutions(21, {});
  c.ib.reqPositions();
  c.ib.cancelPositions();
  c.ib.cancelAccountSummary(20);
  c.ib.reqPnL(22, "DU1234567", "");
  c.ib.cancelPnL(22);
  await waitFor(() => c.codes.has(201) && (c.events.get(EventName.positionEnd) ?? 0) > 0, 5000, "201 and positions");

  // Connection-wide status messages, each a fault the simulator can inject.
  sim.farmDown("market"); sim.farmUp("market"); sim.farmDown("hmds"); sim.farmUp("hmds");
  sim.farmDown("secdef"); sim.farmUp("secdef"); sim.serverConnectivityBroken();
  sim.loseConnectivity(); sim.restoreConnectivity(true); sim.loseConnectivity(); sim.restoreConnectivity(false);
  // 10197: a competing live session takes the market data (each subscription, then each new request).
  sim.competingSession(true);
  c.ib.reqMktData(40, aapl, "", false, false);
  await waitFor(() => c.codes.has(10197), 5000, "10197");
  sim.competingSession(false);
  // 326: a second client with the same id is refused and closed.
  const dup = recordingClient(11);
  await waitFor(() => dup.codes.has(326), 5000, "326");

  const statusCodes = [1100, 1101, 1102, 2103, 2104, 2105, 2106, 2110, 2157, 2158];
  await waitFor(() => statusCodes.every((code) => c.codes.has(code)), 5000, "every status code");
  for (const code of Object.keys(CODES).map(Number)) expect([...c.codes, ...dup.codes]).toContain(code);

  // Every kind of message the simulator sends was received, as many as were sent.
  const sent = sim.sentById();
  const total = (id: number) => (c.received.get(id) ?? 0) + (dup.received.get(id) ?? 0);
  await waitFor(() => OUT_IDS.every((id) => total(id) === (sent.get(id) ?? -1)), 5000, "client counts to match the simulator's");
  for (const id of OUT_IDS) expect(sent.get(id)).toBeGreaterThan(0);
  expect([...sent.keys()].every((id) => OUT_IDS.includes(id))).toBe(true);
  expect(c.decodeErrors).toEqual([]);
  expect(dup.decodeErrors).toEqual([]);

  // Messages with one event each decoded into exactly that many events.
  const ev = (name: EventName) => (c.events.get(name) ?? 0) + (dup.events.get(name) ?? 0);
  expect(ev(EventName.tickPrice)).toBe(sent.get(OUT.TICK_PRICE)!);
  expect(ev(EventName.tickOptionComputation)).toBe(sent.get(OUT.TICK_OPTION_COMPUTATION)!);
  expect(ev(EventName.contractDetails)).toBe(sent.get(OUT.CONTRACT_DATA)!);
  expect(ev(EventName.securityDefinitionOptionParameter)).toBe(sent.get(OUT.SECDEF_OPT_PARAMS)!);
  expect(ev(EventName.marketDataType)).toBe(sent.get(OUT.MARKET_DATA_TYPE)!);
  expect(ev(EventName.tickReqParams)).toBe(sent.get(OUT.TICK_REQ_PARAMS)!);
  expect(ev(EventName.error) + ev(EventName.info)).toBe(sent.get(OUT.ERR_MSG)!);
  expect(ev(EventName.tickSize)).toBeGreaterThanOrEqual(sent.get(OUT.TICK_SIZE)!);
  // One event per bar, and one end marker per message.
  expect(ev(EventName.historicalData)).toBe(sim.historical.stats.bars + sent.get(OUT.HISTORICAL_DATA)!);
  for (const [name, id] of [[EventName.openOrder, OUT.OPEN_ORDER], [EventName.orderStatus, OUT.ORDER_STATUS], [EventName.execDetails, OUT.EXECUTION_DATA],
    [EventName.commissionReport, OUT.COMMISSION_REPORT], [EventName.position, OUT.POSITION], [EventName.accountSummary, OUT.ACCOUNT_SUMMARY],
    [EventName.openOrderEnd, OUT.OPEN_ORDER_END], [EventName.execDetailsEnd, OUT.EXECUTION_DATA_END], [EventName.pnl, OUT.PNL]] as const) {
    expect(ev(name)).toBe(sent.get(id)!);
  }
  expect(sim.stats.protocolErrors).toBe(0);
  expect(sim.stats.unhandled).toBe(0);
  c.ib.disconnect();
  dup.ib.disconnect();
});

test("decoded values match what the simulator meant", async () => {
  const c = recordingClient(12);
  await waitFor(c.isReady, 5000, "nextValidId");
  const got: Record<string, unknown[]> = {};
  for (const name of [EventName.contractDetails, EventName.securityDefinitionOptionParameter, EventName.tickOptionComputation, EventName.currentTime]) {
    (c.ib as unknown as { on(n: string, f: (...a: unknown[]) => void): void }).on(name, (...args) => (got[name] ??= args));
  }
  c.ib.reqContractDetails(1, { symbol: "AAPL", secType: SecType.STK, exchange: "SMART", currency: "USD" });
  c.ib.reqSecDefOptParams(2, "AAPL", "", SecType.STK, STOCK_CONID_BASE);
  c.ib.reqCurrentTime();
  const opt = sim.universe.contracts.find((x) => x.secType === "OPT" && x.symbol === "AAPL")!;
  c.ib.reqMktData(3, { conId: opt.conId, exchange: "SMART" }, "", false, false);
  await waitFor(() => Object.keys(got).length === 4, 5000, "four kinds of replies");
  const [reqId, d] = got[EventName.contractDetails] as [number, { contract: Contract; minTick: number; longName: string; stockType: string }];
  expect(reqId).toBe(1);
  expect(d.contract).toMatchObject({ conId: STOCK_CONID_BASE, symbol: "AAPL", secType: "STK", currency: "USD", primaryExch: "NASDAQ" });
  expect(d.minTick).toBe(0.01);
  expect(d.stockType).toBe("COMMON");
  const [, exchange, underConId, tradingClass, multiplier, expirations, strikes] = got[EventName.securityDefinitionOptionParameter]!;
  expect({ exchange, underConId, tradingClass, multiplier }).toEqual({ exchange: "SMART", underConId: STOCK_CONID_BASE, tradingClass: "AAPL", multiplier: 100 });
  expect(expirations).toEqual([opt.expiry]);
  expect((strikes as number[]).length).toBe(3);
  const [tickerId, tickType, , iv, delta, optPrice, , gamma, vega, theta, undPrice] = got[EventName.tickOptionComputation] as number[];
  expect({ tickerId, tickType }).toEqual({ tickerId: 3, tickType: 13 });
  expect(iv).toBeCloseTo(sim.universe.market.volOf(opt.ourSymbol), 12);
  expect(Math.abs(delta!)).toBeLessThan(1);
  expect(optPrice).toBeGreaterThan(0);
  expect(gamma).toBeGreaterThan(0);
  expect(vega).toBeGreaterThan(0);
  expect(theta).toBeLessThan(0);
  expect(undPrice).toBeGreaterThan(0);
  const [epochS] = got[EventName.currentTime] as [number];
  expect(Math.abs(epochS - Date.now() / 1000)).toBeLessThan(5);
  expect(c.decodeErrors).toEqual([]);
  c.ib.disconnect();
});

test("order, execution, position and account messages decode to what the simulator meant", async () => {
  const c = recordingClient(13);
  await waitFor(c.isReady, 5000, "nextValidId");
  const got: Record<string, unknown[][]> = {};
  for (const name of [EventName.openOrder, EventName.orderStatus, EventName.execDetails, EventName.commissionReport, EventName.position, EventName.accountSummary]) {
    (c.ib as unknown as { on(n: string, f: (...a: unknown[]) => void): void }).on(name, (...args) => (got[name] ??= []).push(args));
  }
  sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  const stk: Contract = { symbol: "AAPL", secType: SecType.STK, exchange: "SMART", currency: "USD" };
  c.ib.placeOrder(50, stk, { action: OrderAction.BUY, orderType: OrderType.LMT, lmtPrice: 100.05, totalQuantity: 300, tif: "DAY", account: "DU1234567", orderRef: "ours-1", transmit: true });
  await waitFor(() => (got[EventName.commissionReport]?.length ?? 0) >= 1, 5000, "the fill's commission");
  const [orderId, contract, order, state] = got[EventName.openOrder]![0] as [number, Contract, Order, { status: string }];
  expect(orderId).toBe(50);
  expect(contract).toMatchObject({ conId: STOCK_CONID_BASE, symbol: "AAPL", secType: "STK", currency: "USD" });
  expect(order).toMatchObject({ action: "BUY", totalQuantity: 300, orderType: "LMT", lmtPrice: 100.05, tif: "DAY", account: "DU1234567", orderRef: "ours-1", clientId: 13 });
  expect(state.status).toBe("Submitted");
  const [reqId, , exec] = got[EventName.execDetails]![0] as [number, Contract, { execId: string; orderId: number; shares: number; price: number; side: string; orderRef: string; acctNumber: string }];
  expect(reqId).toBe(-1);
  expect(exec).toMatchObject({ orderId: 50, shares: 300, price: 100.02, side: "BOT", orderRef: "ours-1", acctNumber: "DU1234567" });
  const [report] = got[EventName.commissionReport]![0] as [{ execId: string; commission: number; currency: string; realizedPNL?: number }];
  // IBKR Pro fixed: 300 shares × $0.005 = $1.50, the same schedule as the paper broker.
  expect(report).toMatchObject({ execId: exec.execId, commission: 1.5, currency: "USD" });
  expect(report.realizedPNL).toBeUndefined();
  const filled = got[EventName.orderStatus]!.find((a) => a[1] === "Filled")!;
  expect(filled.slice(0, 6)).toEqual([50, "Filled", 300, 0, 100.02, filled[5]]);
  c.ib.reqPositions();
  c.ib.reqAccountSummary(7, "All", "NetLiquidation,TotalCashValue,BuyingPower,MaintMarginReq");
  await waitFor(() => (got[EventName.accountSummary]?.length ?? 0) >= 4 && (got[EventName.position]?.length ?? 0) >= 1, 5000, "positions and summary");
  const pos = got[EventName.position]!.find((a) => (a[1] as Contract).symbol === "AAPL")!;
  expect(pos[0]).toBe("DU1234567");
  expect(pos[2]).toBeGreaterThanOrEqual(300);
  const summary = Object.fromEntries(got[EventName.accountSummary]!.map((a) => [a[2], Number(a[3])]));
  expect(summary.TotalCashValue).toBeLessThan(1_000_000);
  expect(summary.NetLiquidation).toBeGreaterThan(summary.TotalCashValue!);
  expect(summary.MaintMarginReq).toBeGreaterThan(0);
  expect(summary.BuyingPower).toBeGreaterThan(0);
  expect(c.decodeErrors).toEqual([]);
  c.ib.disconnect();
});

test("historical bars decode to what the simulator meant, daily and 1-minute", async () => {
  const c = recordingClient(14);
  await waitFor(c.isReady, 5000, "nextValidId");
  const rows = new Map<number, unknown[][]>();
  c.ib.on(EventName.historicalData, (...args: unknown[]) => {
    const list = rows.get(args[0] as number) ?? [];
    list.push(args.slice(1));
    rows.set(args[0] as number, list);
  });
  sim.pinTrade("AAPL", 101.5, 100);
  const aapl: Contract = { conId: STOCK_CONID_BASE, exchange: "SMART" };
  const daily = { endDateTime: "20261120-21:00:00", barSize: "1 day", duration: "1 M", useRTH: true, whatToShow: "TRADES", formatDate: 1 };
  const minute = { endDateTime: "20261120-16:00:00", barSize: "1 min", duration: "3600 S", useRTH: false, whatToShow: "MIDPOINT", formatDate: 2 };
  c.ib.reqHistoricalData(40, aapl, daily.endDateTime, daily.duration, BarSizeSetting.DAYS_ONE, "TRADES", 1, 1, false);
  c.ib.reqHistoricalData(41, aapl, minute.endDateTime, minute.duration, BarSizeSetting.MINUTES_ONE, "MIDPOINT", 0, 2, false);
  await waitFor(() => [40, 41].every((id) => rows.get(id)?.some((r) => String(r[0]).startsWith("finished"))), 5000, "both runs");
  const contract = sim.universe.byId(STOCK_CONID_BASE)!;
  for (const [id, q] of [[40, daily], [41, minute]] as const) {
    const want = sim.historical.bars(sim, contract, q);
    if (typeof want === "string") throw new Error(want);
    const got = rows.get(id)!;
    expect(got.at(-1)![0]).toBe(q === daily ? "finished-20261021-21:00:00-20261120-21:00:00" : "finished-20261120-15:00:00-20261120-16:00:00");
    // [time, open, high, low, close, volume, count, WAP]
    expect(got.slice(0, -1)).toEqual(want.map((b) => [b.time, b.open, b.high, b.low, b.close, b.volume, b.count, b.wap]));
    expect(want.at(-1)!.close).toBe(101.5);
  }
  expect(rows.get(40)!.length - 1).toBe(23); // the weekdays from 21 October to 20 November
  expect(rows.get(40)![0]![0]).toBe("20261021");
  expect(rows.get(41)!.length - 1).toBe(60); // 15:00 to 15:59
  expect(rows.get(41)![0]![0]).toBe(String(Date.UTC(2026, 10, 20, 15, 0) / 1000));
  expect(c.decodeErrors).toEqual([]);
  sim.unpin("AAPL");
  c.ib.disconnect();
});
