// The IBKR broker over the TWS simulator, with the real @stoqey/ib client on a real socket: the
// shared Broker contract, then faults (a fill during an outage arrives once after reconnecting,
// rejection, a restart that learns ids from the journal) and the broker's bounds.

import { afterEach, expect, test } from "bun:test";
import { SecType } from "@stoqey/ib";
import type { BrokerEvent, BrokerFill, BrokerOrder } from "../../src/broker/broker.ts";
import { IbBroker } from "../../src/broker/ib.ts";
import { ExecutionJoiner, JOIN_DEFAULTS } from "../../src/broker/ib-fills.ts";
import { contractOf, filterTime, parseExecTime, symbolOf } from "../../src/broker/ib-map.ts";
import { positionDiffs } from "../../src/broker/ib-positions.ts";
import { IbSession } from "../../src/ib/session.ts";
import { toUnits } from "../../src/domain/price.ts";
import { brokerContract } from "./broker.contract.ts";
import { startIbRig, type IbRig } from "../helpers/ib-broker.ts";
import { waitFor } from "../helpers/wait.ts";

const optionOf = (rig: IbRig) => rig.sim.universe.contracts.find((c) => c.secType === "OPT")!.ourSymbol;

brokerContract("ib over the TWS simulator", async () => {
  const rig = await startIbRig();
  return {
    broker: rig.broker, stock: "AAPL", option: optionOf(rig), instrument: rig.instrument,
    quote: async (s, b, bs, a, as) => rig.sim.pinQuote(s, b, bs, a, as),
    trade: async (s, p, n) => rig.sim.pinTrade(s, p, n),
    sessionClosed: async () => rig.sim.closeSession(),
    close: () => rig.stop(),
  };
});

let rig: IbRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

let n = 0;
function recorder(r: IbRig) {
  const events: BrokerEvent[] = [];
  r.broker.onEvent((e) => events.push(e));
  const of = (id: string) => events.filter((e) => (e.kind === "fill" ? e.fill.orderId : e.orderId) === id);
  const fills = (id: string): BrokerFill[] => of(id).flatMap((e) => (e.kind === "fill" ? [e.fill] : []));
  const order = (o: Partial<BrokerOrder> = {}): BrokerOrder => ({
    orderId: `ib${process.pid}-${n++}`, account: "T1", instrument: r.instrument("AAPL"), side: "buy", type: "market", tif: "DAY", qty: 10, ...o,
  });
  return { events, of, fills, order, kinds: (id: string) => of(id).map((e) => e.kind) };
}

test("a fill during an outage arrives exactly once after the reconnect, with its commission", async () => {
  rig = await startIbRig();
  const r = recorder(rig);
  rig.sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  const o = r.order({ type: "limit", limitPriceUnits: toUnits(99.5), tif: "GTC", qty: 25 });
  rig.broker.submit(o);
  await waitFor(() => r.kinds(o.orderId).includes("accepted"), 5000, "accepted");
  const connects = rig.session.stats.connects;
  expect(rig.sim.fillWhileDisconnected()).toBe(1);
  await waitFor(() => rig!.session.stats.connects > connects && r.fills(o.orderId).length > 0, 5000, "reconnect and the fill");
  // Further reconciliations (1102, another reconnect) repeat the execution; it is still applied once.
  rig.sim.loseConnectivity();
  rig.sim.restoreConnectivity(true);
  await waitFor(() => rig!.broker.joinStats.duplicates > 0, 5000, "the execution repeated by a later reconciliation");
  expect(r.fills(o.orderId).map((f) => [f.qty, f.priceUnits, f.commissionMicros])).toEqual([[25, toUnits(99.5), 1_000_000]]);
  expect(rig.broker.pendingExecutions).toBe(0);
});

test("an order the simulator rejects is a rejected event with TWS's reason", async () => {
  rig = await startIbRig();
  const r = recorder(rig);
  rig.sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  rig.sim.rejectNextOrder("insufficient margin");
  const o = r.order();
  rig.broker.submit(o);
  await waitFor(() => r.kinds(o.orderId).includes("rejected"), 5000, "rejected");
  expect(r.of(o.orderId).find((e) => e.kind === "rejected")).toMatchObject({ reason: expect.stringContaining("insufficient margin") });
  expect(r.fills(o.orderId)).toEqual([]);
});

test("a restarted broker learns IB ids from the journal, cancels a resting order, and never reuses an id", async () => {
  rig = await startIbRig();
  const r = recorder(rig);
  rig.sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  const o = r.order({ type: "limit", limitPriceUnits: toUnits(95), tif: "GTC" });
  rig.broker.submit(o);
  await waitFor(() => r.kinds(o.orderId).includes("accepted"), 5000, "accepted");
  const brokerOrderId = (r.of(o.orderId).find((e) => e.kind === "accepted") as { brokerOrderId: string }).brokerOrderId;
  await rig.broker.close();
  await rig.session.stop();
  // The gateway "restarted" and hands out a low nextValidId; the journal knows better.
  rig.sim.setNextOrderId(7, 1);
  const session = new IbSession({ host: "127.0.0.1", port: rig.sim.port, clientId: 7, backoff: { initialMs: 20, maxMs: 100 } });
  const broker = new IbBroker(session, { instrument: rig.instrument });
  await broker.restore([{ ...o, filledQty: 0, triggered: false, brokerOrderId }]);
  const events: BrokerEvent[] = [];
  broker.onEvent((e) => events.push(e));
  session.start();
  await session.waitUsable(5000);
  rig.session = session;
  rig.broker = broker;
  await waitFor(() => broker.stats.reconciliations > 0, 5000, "reconciliation");
  expect(events.filter((e) => e.kind === "canceled")).toEqual([]);
  expect((await broker.openOrders()).map((x) => [x.orderId, x.brokerOrderId])).toEqual([[o.orderId, brokerOrderId]]);
  broker.cancel(o.orderId);
  await waitFor(() => events.some((e) => e.kind === "canceled"), 5000, "canceled");
  const next = r.order({ type: "limit", limitPriceUnits: toUnits(95) });
  broker.submit(next);
  await waitFor(() => events.some((e) => e.kind === "accepted"), 5000, "the new order accepted");
  expect(Number((events.find((e) => e.kind === "accepted") as { brokerOrderId: string }).brokerOrderId)).toBeGreaterThan(Number(brokerOrderId));
});

test("bounds: working orders past maxOrders and requests past maxInFlight are refused", async () => {
  rig = await startIbRig({}, { maxOrders: 2, maxInFlight: 1 });
  const r = recorder(rig);
  rig.sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  const orders = [0, 1, 2].map(() => r.order({ type: "limit", limitPriceUnits: toUnits(90) }));
  for (const o of orders) rig.broker.submit(o);
  expect(r.of(orders[2]!.orderId)).toMatchObject([{ kind: "rejected", reason: expect.stringContaining("2 working orders") }]);
  await waitFor(() => r.kinds(orders[1]!.orderId).includes("accepted") && rig!.broker.stats.reconciliations > 0, 5000, "accepted and reconciled");
  const a = rig.broker.executionsSince(0), b = rig.broker.executionsSince(0);
  await expect(b).rejects.toThrow("1 requests already in flight");
  await a;
  expect(rig.broker.refusedRequests).toBe(1);
});

test("the execution join: report before or after the execution, each execId once, and the bounds", () => {
  const out: [string, number][] = [];
  const j = new ExecutionJoiner<null>({ maxPending: 2, maxKnown: 3 }, (f) => out.push([f.fillId, f.commissionMicros]));
  const fill = (id: string): BrokerFill => ({ orderId: "o", fillId: id, account: "A", symbol: "AAPL", side: "buy", qty: 1, priceUnits: 1, commissionMicros: 99, ts: 0 });
  j.commission("early", 5);
  j.execution(fill("early"), null);
  j.execution(fill("a"), null);
  j.execution(fill("a"), null);
  j.commission("a", 7);
  expect(out).toEqual([["early", 5], ["a", 7]]);
  expect(j.stats.duplicates).toBe(1);
  // Three waiting executions with room for two: the oldest goes out without its commission.
  j.execution(fill("x"), null);
  j.execution(fill("y"), null);
  j.execution(fill("z"), null);
  expect(out.at(-1)).toEqual(["x", 0]);
  expect(j.stats.evictedUnjoined).toBe(1);
  expect(j.pendingCount).toBe(2);
  // Past maxKnown emitted ids, the oldest is forgotten (the order manager still drops it by fillId).
  j.commission("y", 1);
  j.commission("z", 1);
  expect(j.known("o", "early")).toBe(false);
  expect(j.known("o", "z")).toBe(true);
});

const execFill = (orderId: string, execId: string, qty = 1): BrokerFill =>
  ({ orderId, fillId: execId, account: "A", symbol: "AAPL", side: "buy", qty, priceUnits: 1, commissionMicros: 0, ts: 0 });

test("the execution join: the same execution of the same order twice is one fill, however it is repeated", () => {
  const out: string[] = [];
  const j = new ExecutionJoiner<null>(JOIN_DEFAULTS, (f) => out.push(`${f.orderId}/${f.fillId}/${f.commissionMicros}`));
  j.execution(execFill("O1", "0000e0d5.00000001.01.01"), null);
  j.execution(execFill("O1", "0000e0d5.00000001.01.01"), null);
  j.commission("0000e0d5.00000001.01.01", 1_000_000);
  // A reconciliation repeats both halves after the join.
  j.execution(execFill("O1", "0000e0d5.00000001.01.01"), null);
  j.commission("0000e0d5.00000001.01.01", 1_000_000);
  expect(out).toEqual(["O1/0000e0d5.00000001.01.01/1000000"]);
  expect(j.stats.duplicates).toBe(2);
});

test("the execution join: an execId a restarted gateway hands out again is a new fill of the new order, with its own commission", () => {
  const out: string[] = [];
  const j = new ExecutionJoiner<null>(JOIN_DEFAULTS, (f) => out.push(`${f.orderId}/${f.fillId}/${f.commissionMicros}`));
  const id = "0000e0d5.00000001.01.01";
  j.execution(execFill("O1", id), null);
  j.commission(id, 1_000_000);
  // The old report repeated by a reconciliation must not be taken for the new execution's.
  j.commission(id, 1_000_000);
  j.execution(execFill("O2", id), null);
  expect(out).toEqual([`O1/${id}/1000000`]);
  j.commission(id, 2_500_000);
  expect(out).toEqual([`O1/${id}/1000000`, `O2/${id}/2500000`]);
  expect(j.commissionOf("O1", id)).toBeUndefined();
  expect(j.commissionOf("O2", id)).toBe(2_500_000);
  expect(j.stats.duplicates).toBe(0);
});

test("the execution join: a correction (execId revised after its last period) is counted and handed on, never a second fill", () => {
  const out: string[] = [], corrections: string[] = [];
  const j = new ExecutionJoiner<null>(JOIN_DEFAULTS, (f) => out.push(f.fillId), (f, original) => corrections.push(`${original}->${f.fillId}`));
  j.execution(execFill("O1", "0001f4e8.57b2a1c3.01.01"), null);
  j.commission("0001f4e8.57b2a1c3.01.01", 1);
  j.execution(execFill("O1", "0001f4e8.57b2a1c3.01.02"), null);
  j.execution(execFill("O1", "0001f4e8.57b2a1c3.01.02"), null);
  // Another execution of the same order is not a correction.
  j.execution(execFill("O1", "0001f4e8.57b2a1c4.01.01"), null);
  j.commission("0001f4e8.57b2a1c4.01.01", 1);
  expect(out).toEqual(["0001f4e8.57b2a1c3.01.01", "0001f4e8.57b2a1c4.01.01"]);
  expect(corrections).toEqual(["0001f4e8.57b2a1c3.01.01->0001f4e8.57b2a1c3.01.02"]);
  expect(j.stats).toMatchObject({ corrections: 1, duplicates: 1 });
});

test("a gateway restart starts execution ids again: the next order's fill arrives, once, and the order ends filled", async () => {
  rig = await startIbRig();
  const r = recorder(rig);
  rig.sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  const first = r.order();
  rig.broker.submit(first);
  await waitFor(() => r.fills(first.orderId).length === 1, 5000, "the first fill");
  const connects = rig.session.stats.connects;
  await rig.sim.restart(0, true);
  await waitFor(() => rig!.session.stats.connects > connects && rig!.session.usable, 5000, "the reconnect");
  const second = r.order();
  rig.broker.submit(second);
  await waitFor(() => r.fills(second.orderId).length === 1, 5000, "the second fill");
  expect(r.fills(second.orderId)[0]!.fillId).toBe(r.fills(first.orderId)[0]!.fillId);
  // Another reconciliation (1102) repeats both executions: nothing more, and no "canceled by IB".
  const reconciled = rig.broker.stats.reconciliations;
  rig.sim.loseConnectivity();
  rig.sim.restoreConnectivity(true);
  await waitFor(() => rig!.broker.stats.reconciliations > reconciled, 5000, "the reconciliation after 1102");
  expect(r.kinds(second.orderId).filter((k) => k === "fill" || k === "canceled")).toEqual(["fill"]);
  expect(r.fills(second.orderId).map((f) => [f.qty, f.commissionMicros])).toEqual([[10, 1_000_000]]);
  expect(rig.sim.stats.restarts).toBe(1);
});

test("after a gateway restart reuses IB order ids, a repeated execution of an earlier order is not taken for the new order with its id", async () => {
  rig = await startIbRig();
  const r = recorder(rig);
  rig.sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  // IB id 1 rests and is cancelled; IB id 2 fills (the first execution).
  const resting = r.order({ type: "limit", limitPriceUnits: toUnits(90) });
  rig.broker.submit(resting);
  await waitFor(() => r.kinds(resting.orderId).includes("accepted"), 5000, "accepted");
  rig.broker.cancel(resting.orderId);
  await waitFor(() => r.kinds(resting.orderId).includes("canceled"), 5000, "canceled");
  const earlier = r.order();
  rig.broker.submit(earlier);
  await waitFor(() => r.fills(earlier.orderId).length === 1, 5000, "the earlier fill");
  // The server restarts (nothing open to restore) and so does the gateway, forgetting its ids.
  await rig.broker.close();
  await rig.session.stop();
  await rig.sim.restart(0, true);
  const session = new IbSession({ host: "127.0.0.1", port: rig.sim.port, clientId: 7, backoff: { initialMs: 20, maxMs: 100 } });
  const broker = new IbBroker(session, { instrument: rig.instrument });
  rig.session = session;
  rig.broker = broker;
  const next = recorder(rig);
  session.start();
  await session.waitUsable(5000);
  // IB ids 1 and 2 again: the first fills, the second rests.
  const c1 = next.order(), c2 = next.order({ type: "limit", limitPriceUnits: toUnits(90) });
  broker.submit(c1);
  broker.submit(c2);
  await waitFor(() => next.fills(c1.orderId).length === 1 && next.kinds(c2.orderId).includes("accepted"), 5000, "a fill and a resting order");
  expect((next.of(c2.orderId).find((e) => e.kind === "accepted") as { brokerOrderId: string }).brokerOrderId).toBe("2");
  // A reconciliation repeats the earlier order's execution under IB id 2, with its own orderRef.
  const reconciled = broker.stats.reconciliations;
  rig.sim.loseConnectivity();
  rig.sim.restoreConnectivity(true);
  await waitFor(() => broker.stats.reconciliations > reconciled, 5000, "the reconciliation");
  expect(next.fills(c2.orderId)).toEqual([]);
  expect(next.fills(earlier.orderId)).toEqual([]);
});

test("positions and the account summary come from TWS after a fill", async () => {
  rig = await startIbRig();
  const r = recorder(rig);
  rig.sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  const o = r.order({ qty: 200, account: "DU1" });
  rig.broker.submit(o);
  await waitFor(() => r.fills(o.orderId).reduce((s, f) => s + f.qty, 0) === 200, 5000, "the fill");
  const positions = await rig.broker.positions();
  expect(positions.map((p) => [p.account, p.contract.symbol, p.qty, p.avgCost])).toEqual([["DU1", "AAPL", 200, 100.02]]);
  const summary = await rig.broker.accountSummary();
  // $1,000,000 start − 200 × 100.02 − $1.00 commission; the position is marked at the 100.01 mid.
  expect(summary.DU1!.TotalCashValue).toBeCloseTo(1_000_000 - 20_004 - 1, 2);
  expect(summary.DU1!.NetLiquidation).toBeCloseTo(1_000_000 - 20_004 - 1 + 20_002, 2);
  expect(summary.DU1!.MaintMarginReq).toBeCloseTo(0.25 * 20_002, 2);
  expect(summary.DU1!.BuyingPower).toBeGreaterThan(0);
  expect(summary.T1!.TotalCashValue).toBe(1_000_000);
  // Selling 50 at the 100 bid realizes 50 × (100 − 100.02) = −1.00.
  const sell = r.order({ side: "sell", qty: 50, account: "DU1" });
  rig.broker.submit(sell);
  await waitFor(() => r.fills(sell.orderId).length > 0, 5000, "the sale");
  const p = await rig.broker.pnl("DU1");
  expect(p.realized).toBeCloseTo(-1, 6);
  expect(p.unrealized).toBeCloseTo(150 * (100.01 - 100.02), 6);
  // Commissions: $1.00 on the buy; $1.00 + SEC fee on $5,000 ($0.139 → $0.14) + FINRA TAF on 50 shares ($0.0083 → $0.01) on the sale.
  expect(p.daily).toBeCloseTo(p.realized + p.unrealized - 2.15, 6);
});

test("bounds: an answer longer than maxItems and one slower than requestTimeoutMs fail instead of waiting or growing", async () => {
  rig = await startIbRig({}, { maxItems: 1, requestTimeoutMs: 300 });
  const r = recorder(rig);
  rig.sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  const orders = [r.order({ type: "limit", limitPriceUnits: toUnits(90) }), r.order({ type: "limit", limitPriceUnits: toUnits(91) })];
  for (const o of orders) rig.broker.submit(o);
  await waitFor(() => orders.every((o) => r.kinds(o.orderId).includes("accepted")), 5000, "both accepted");
  await expect(rig.broker.openOrders()).rejects.toThrow("more than 1 items");
  rig.sim.delayMessages(1000);
  await expect(rig.broker.executionsSince(0)).rejects.toThrow("no end marker within 300 ms");
  rig.sim.delayMessages(0);
});

test("a cancel sent before TWS acknowledged the order does not overtake it in the pacing queue", async () => {
  rig = await startIbRig();
  const r = recorder(rig);
  rig.sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  const o = r.order({ type: "limit", limitPriceUnits: toUnits(90), tif: "GTC" });
  rig.broker.submit(o);
  rig.broker.cancel(o.orderId);
  await waitFor(() => r.kinds(o.orderId).includes("canceled"), 5000, "canceled");
  expect(r.kinds(o.orderId)).toEqual(["accepted", "canceled"]);
  expect(rig.sim.orders.liveCount).toBe(0);
});

test("IB mapping: option contracts, our symbols back, execution times in UTC and in TWS's zones", () => {
  const opt = { index: 0, symbol: "AAPL-20261127-C-202.5", kind: "option" as const, tickSize: 0.01, multiplier: 100, currency: "USD", underlying: "AAPL", expiry: "20261127", strike: 202.5, right: "C" as const };
  const c = contractOf(opt);
  expect(c).toMatchObject({ symbol: "AAPL", secType: "OPT", lastTradeDateOrContractMonth: "20261127", strike: 202.5, right: "C", multiplier: 100, exchange: "SMART" });
  expect(symbolOf(c)).toBe("AAPL-20261127-C-202.5");
  expect(symbolOf({ symbol: "AAPL", secType: SecType.STK })).toBe("AAPL");
  expect(parseExecTime("20261121-15:00:00")).toBe(Date.UTC(2026, 10, 21, 15));
  expect(parseExecTime("20261121 15:00:00 UTC")).toBe(Date.UTC(2026, 10, 21, 15));
  // New York is UTC−5 in November and UTC−4 in July.
  expect(parseExecTime("20261121 10:00:00 US/Eastern")).toBe(Date.UTC(2026, 10, 21, 15));
  expect(parseExecTime("20260715 10:00:00 America/New_York")).toBe(Date.UTC(2026, 6, 15, 14));
  expect(parseExecTime("20261121 10:00:00 Nowhere/Zone")).toBe(Date.UTC(2026, 10, 21, 10));
  expect(parseExecTime("garbage")).toBeUndefined();
  expect(filterTime(Date.UTC(2026, 10, 21, 15, 4, 5, 900))).toBe("20261121-15:04:05");
});

test("a stop IB holds (PreSubmitted) and then submits is reported triggered, once, before its fill", async () => {
  rig = await startIbRig();
  const r = recorder(rig);
  rig.sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  const o = r.order({ type: "stop", stopPriceUnits: toUnits(101), tif: "GTC" });
  rig.broker.submit(o);
  await waitFor(() => r.kinds(o.orderId).includes("accepted"), 5000, "accepted");
  rig.sim.pinQuote("AAPL", 101, 1000, 101.02, 1000);
  rig.sim.pinTrade("AAPL", 101.01, 100);
  await waitFor(() => r.fills(o.orderId).length > 0, 5000, "the stop's fill");
  expect(r.kinds(o.orderId).filter((k) => k !== "fill")).toEqual(["accepted", "triggered"]);
  expect(r.kinds(o.orderId).indexOf("triggered")).toBeLessThan(r.kinds(o.orderId).indexOf("fill"));
});

test("position differences: IB accounts, our accounts mapped onto them (summed), the default account, options", () => {
  const stock = { symbol: "AAPL", secType: SecType.STK };
  const call = { symbol: "AAPL", secType: SecType.OPT, lastTradeDateOrContractMonth: "20261127", strike: 202.5, right: "C" as never };
  const ib = [
    { account: "DU1", contract: stock, qty: 300, avgCost: 100 },
    { account: "DU1", contract: call, qty: -2, avgCost: 500 },
  ];
  const ours = [
    { account: "Gen-Acc", symbol: "AAPL", qty: 100 }, { account: "Rev-Acc", symbol: "AAPL", qty: 200 },
    { account: "Gen-Acc", symbol: "AAPL-20261127-C-202.5", qty: -1 }, { account: "Gen-Acc", symbol: "MSFT", qty: 5 },
  ];
  const mapped = positionDiffs(ib, ours, (a) => ({ "Gen-Acc": "DU1", "Rev-Acc": "DU1" })[a] ?? "");
  expect(mapped).toEqual([
    { ibAccount: "DU1", symbol: "AAPL-20261127-C-202.5", ibQty: -2, ourQty: -1 },
    { ibAccount: "DU1", symbol: "MSFT", ibQty: 0, ourQty: 5 },
  ]);
  // "" is the login's default account: the one account IBKR reports.
  expect(positionDiffs(ib, ours, () => "")).toEqual(mapped);
  expect(positionDiffs([...ib, { account: "DU2", contract: stock, qty: 1, avgCost: 1 }], ours, () => "")).toHaveLength(3);
});

test("after a reconciliation, IBKR's positions are compared with ours and differences kept", async () => {
  let ours = [{ account: "DU1", symbol: "AAPL", qty: 0 }];
  rig = await startIbRig({}, { ourPositions: () => ours });
  const r = recorder(rig);
  rig.sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
  const o = r.order({ qty: 30, account: "DU1" });
  rig.broker.submit(o);
  await waitFor(() => r.fills(o.orderId).length > 0, 5000, "the fill");
  let done = rig.broker.stats.reconciliations;
  rig.sim.loseConnectivity();
  rig.sim.restoreConnectivity(true);
  await waitFor(() => rig!.broker.stats.reconciliations > done, 5000, "a reconciliation");
  expect(rig.broker.lastPositionDiffs).toEqual([{ ibAccount: "DU1", symbol: "AAPL", ibQty: 30, ourQty: 0 }]);
  ours = [{ account: "DU1", symbol: "AAPL", qty: 30 }];
  done = rig.broker.stats.reconciliations;
  rig.sim.loseConnectivity();
  rig.sim.restoreConnectivity(true);
  await waitFor(() => rig!.broker.stats.reconciliations > done, 5000, "another reconciliation");
  expect(rig.broker.lastPositionDiffs).toEqual([]);
});
