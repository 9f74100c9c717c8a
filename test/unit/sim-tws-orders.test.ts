// The simulator's order book through the real @stoqey/ib client: fills from the paper broker's
// model against pinned quotes, modify and cancel, the reject and fill-while-disconnected faults
// (from tests and from the CLI's stdin commands), and the book's bounds (live orders, executions kept).

import { afterEach, expect, test } from "bun:test";
import { type Contract, EventName, type Execution, IBApi, type Order, OrderAction, OrderType, SecType } from "@stoqey/ib";
import { ExchangeCalendar } from "../../src/domain/calendar.ts";
import { runCommand } from "../../src/sim/tws/main.ts";
import { TwsSimulator, type TwsSimulatorOptions } from "../../src/sim/tws/simulator.ts";
import { waitFor } from "../helpers/wait.ts";

let sim: TwsSimulator;
const clients: IBApi[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await sim.stop();
});

async function start(opts: TwsSimulatorOptions = {}): Promise<number> {
  sim = new TwsSimulator({ port: 0, symbols: ["AAPL"], optionExpiries: 1, strikesPerSide: 1, tickRatePerS: 200, ...opts });
  return sim.start();
}

/** A client that records order events. */
async function client(port: number, clientId = 5) {
  const ib = new IBApi({ host: "127.0.0.1", port, maxReqPerSec: 1000 });
  clients.push(ib);
  const status: [number, string, number][] = [], execs: { orderId: number; execId: string; shares: number; price: number }[] = [];
  const errors: [number, number, string][] = [];
  let execEnd = -1, nextId = 0;
  ib.on(EventName.orderStatus, (id: number, s: string, filled: number) => status.push([id, s, filled]));
  ib.on(EventName.execDetails, (_r: number, _c: Contract, e: Execution) => execs.push({ orderId: e.orderId!, execId: e.execId!, shares: e.shares!, price: e.price! }));
  ib.on(EventName.execDetailsEnd, (r: number) => (execEnd = r));
  ib.on(EventName.error, (err: Error, code: number, id: number) => errors.push([id, code, err.message]));
  ib.on(EventName.nextValidId, (id: number) => (nextId = id));
  ib.connect(clientId);
  await waitFor(() => nextId > 0, 5000, "nextValidId");
  return { ib, status, execs, errors, execEnd: () => execEnd, nextId: () => nextId };
}

const AAPL: Contract = { symbol: "AAPL", secType: SecType.STK, exchange: "SMART", currency: "USD" };
const buy = (o: Partial<Order> = {}): Order => ({ action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 10, tif: "DAY", account: "DU1234567", transmit: true, ...o });

test("a resting limit is modified, then fills when the market trades through it; nextValidId moves past used ids", async () => {
  const c = await client(await start());
  sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  c.ib.placeOrder(1, AAPL, buy({ orderType: OrderType.LMT, lmtPrice: 99.9, tif: "GTC" }));
  await waitFor(() => c.status.some(([id, s]) => id === 1 && s === "Submitted"), 5000, "submitted");
  c.ib.placeOrder(1, AAPL, buy({ orderType: OrderType.LMT, lmtPrice: 99.9, tif: "GTC", totalQuantity: 40 }));
  await waitFor(() => c.status.filter(([id]) => id === 1).length >= 2, 5000, "the modification");
  expect(c.execs).toEqual([]);
  sim.pinTrade("AAPL", 99.85, 500);
  await waitFor(() => c.status.some(([id, s, f]) => id === 1 && s === "Filled" && f === 40), 5000, "filled");
  expect(c.execs.map((e) => [e.shares, e.price])).toEqual([[40, 99.9]]);
  expect(sim.nextOrderId(5)).toBe(2);
});

test("reject-next-order answers 201 with the reason; cancel answers Cancelled; an unknown cancel answers 10147", async () => {
  const c = await client(await start());
  sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  sim.rejectNextOrder("margin check failed");
  c.ib.placeOrder(1, AAPL, buy());
  await waitFor(() => c.errors.some(([id, code]) => id === 1 && code === 201), 5000, "201");
  expect(c.errors.find(([, code]) => code === 201)![2]).toContain("margin check failed");
  c.ib.placeOrder(2, AAPL, buy({ orderType: OrderType.LMT, lmtPrice: 90 }));
  await waitFor(() => c.status.some(([id, s]) => id === 2 && s === "Submitted"), 5000, "submitted");
  c.ib.cancelOrder(2);
  c.ib.cancelOrder(77);
  await waitFor(() => c.status.some(([id, s]) => id === 2 && s === "Cancelled") && c.errors.some(([id, code]) => id === 77 && code === 10147), 5000, "cancelled and 10147");
});

test("fill while disconnected: the resting order fills with no client connected, and reqExecutions returns it after reconnect", async () => {
  const port = await start();
  const c = await client(port);
  sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  c.ib.placeOrder(1, AAPL, buy({ orderType: OrderType.LMT, lmtPrice: 99.5, tif: "GTC", totalQuantity: 25 }));
  await waitFor(() => c.status.some(([id, s]) => id === 1 && s === "Submitted"), 5000, "submitted");
  expect(sim.fillWhileDisconnected()).toBe(1);
  expect(sim.orders.stats.fills).toBe(1);
  expect(sim.orders.stats.undelivered).toBeGreaterThan(0);
  const again = await client(port);
  expect(again.nextId()).toBe(2);
  again.ib.reqExecutions(9, { clientId: "5" });
  await waitFor(() => again.execEnd() === 9, 5000, "execDetailsEnd");
  expect(again.execs.map((e) => [e.orderId, e.shares, e.price])).toEqual([[1, 25, 99.5]]);
});

test("bounds: live orders past maxLiveOrders are rejected; executions past maxExecutions drop the oldest", async () => {
  const c = await client(await start({ orders: { maxLiveOrders: 2, maxExecutions: 3 } }));
  sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  for (let id = 1; id <= 3; id++) c.ib.placeOrder(id, AAPL, buy({ orderType: OrderType.LMT, lmtPrice: 90 }));
  await waitFor(() => c.errors.some(([id, code]) => id === 3 && code === 201), 5000, "the third rejected");
  expect(c.errors.find(([id]) => id === 3)![2]).toContain("2 live orders");
  c.ib.cancelOrder(1);
  c.ib.cancelOrder(2);
  await waitFor(() => sim.orders.liveCount === 0, 5000, "both cancelled");
  for (let id = 4; id <= 8; id++) c.ib.placeOrder(id, AAPL, buy({ totalQuantity: 1 }));
  await waitFor(() => c.execs.length === 5, 5000, "five fills");
  const live = c.execs.length;
  c.ib.reqExecutions(10, {});
  await waitFor(() => c.execEnd() === 10, 5000, "execDetailsEnd");
  const listed = c.execs.slice(live).map((e) => e.orderId);
  expect(listed).toEqual([6, 7, 8]);
});

test("the CLI's order commands: reject, filldrop, close, orders", async () => {
  const port = await start();
  const c = await client(port);
  sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  expect(runCommand(sim, "reject no buying power")).toBe("the next order will be rejected");
  c.ib.placeOrder(1, AAPL, buy());
  await waitFor(() => c.errors.some(([id, code]) => id === 1 && code === 201), 5000, "201");
  expect(c.errors.find(([id]) => id === 1)![2]).toContain("no buying power");
  c.ib.placeOrder(2, AAPL, buy({ orderType: OrderType.LMT, lmtPrice: 99, tif: "DAY" }));
  c.ib.placeOrder(3, AAPL, buy({ orderType: OrderType.LMT, lmtPrice: 98, tif: "GTC" }));
  await waitFor(() => sim.orders.liveCount === 2, 5000, "two resting orders");
  expect(runCommand(sim, "close")).toBe("session closed");
  await waitFor(() => c.status.some(([id, s]) => id === 2 && s === "Cancelled"), 5000, "the DAY order expired");
  expect(JSON.parse(runCommand(sim, "orders"))).toMatchObject({ live: 1 });
  expect(runCommand(sim, "filldrop")).toBe("dropped; 1 resting order(s) traded through");
  expect(sim.orders.liveCount).toBe(0);
});

test("a gateway restart starts execution ids and nextValidId again; orders and executions stay", async () => {
  const port = await start();
  const c = await client(port);
  sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  c.ib.placeOrder(c.nextId(), AAPL, buy());
  c.ib.placeOrder(c.nextId() + 1, AAPL, buy({ orderType: OrderType.LMT, lmtPrice: 90, tif: "GTC" }));
  await waitFor(() => c.execs.length === 1 && sim.orders.liveCount === 1, 5000, "a fill and a resting order");
  const first = c.execs[0]!.execId;
  expect(first).toMatch(/^[0-9a-f]{8}\.00000001\.01\.01$/);
  await sim.restart(50, true);
  expect(sim.stats.restarts).toBe(1);
  const again = await client(port);
  expect(again.nextId()).toBe(1);
  expect(sim.orders.liveCount).toBe(1);
  again.ib.placeOrder(1, AAPL, buy());
  await waitFor(() => again.execs.length === 1, 5000, "the fill after the restart");
  expect(again.execs[0]!.execId).toBe(first);
  again.ib.reqExecutions(11, {});
  await waitFor(() => again.execEnd() === 11, 5000, "execDetailsEnd");
  expect(again.execs.filter((e) => e.execId === first)).toHaveLength(3);
});

test("the CLI's restart and session faults: restart, competing, contracts, reauth and login", async () => {
  await start();
  expect(runCommand(sim, "restart 0 ids")).toBe("restarting, down 0 ms");
  await waitFor(() => sim.stats.restarts === 1, 5000, "the restart");
  expect(runCommand(sim, "competing on")).toBe("competing live session (10197)");
  expect(sim.marketDataCompeting()).toBe(true);
  expect(runCommand(sim, "competing off")).toBe("competing session ended");
  expect(runCommand(sim, "contracts fail")).toBe("contract look-ups fail (200)");
  expect(sim.contractsFailing()).toBe(true);
  expect(runCommand(sim, "contracts ok")).toBe("contract look-ups work");
  expect(runCommand(sim, "reauth")).toBe("1100 sent; waiting for re-authentication");
  expect(runCommand(sim, "login")).toBe("1101 sent");
});

test("with a calendar, the simulator arms the next close (DAY orders expire there); without one it never does", async () => {
  await start({ calendar: new ExchangeCalendar() });
  expect(sim.nextCloseMs).toBe(new ExchangeCalendar().nextCloseMs(Date.now()));
  expect(sim.nextCloseMs).toBeGreaterThan(Date.now());
  await sim.stop();
  await start();
  expect(sim.nextCloseMs).toBe(0);
});
