// The simulator's own bounds and faults, seen from raw sockets and the real client: delayed
// messages keep their order, refused connections, the connection limit, protocol errors, and a
// client that stops reading is throttled (bounded), not buffered without end.

import { afterEach, beforeEach, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { type Contract, EventName, IBApi, SecType } from "@stoqey/ib";
import { createLogger } from "../../src/log.ts";
import { TwsSimulator, type TwsSimulatorOptions } from "../../src/sim/tws/simulator.ts";
import { frame } from "../../src/sim/tws/wire.ts";
import { waitFor } from "../helpers/wait.ts";

let sim: TwsSimulator;
async function startSim(extra: Partial<TwsSimulatorOptions> = {}): Promise<TwsSimulator> {
  sim = new TwsSimulator({ port: 0, symbols: ["AAPL", "TSLA"], optionExpiries: 1, strikesPerSide: 2, tickRatePerS: 2000, log: createLogger("error", "sim", () => {}), ...extra });
  await sim.start();
  return sim;
}
beforeEach(() => startSim());
afterEach(() => sim.stop());

/** A raw TCP client: bytes in, a flag when closed. */
function raw(port: number): Promise<{ socket: Socket; closed: () => boolean; received: () => number }> {
  return new Promise((resolve, reject) => {
    let closed = false, received = 0;
    const socket = connect({ host: "127.0.0.1", port }, () => resolve({ socket, closed: () => closed, received: () => received }));
    socket.on("data", (d: Buffer) => (received += d.length));
    socket.on("close", () => (closed = true));
    socket.once("error", reject);
  });
}

/** The client side of the handshake and START_API, written by hand. */
function hello(socket: Socket, clientId: number): void {
  const offer = Buffer.from("v100..193", "latin1");
  const len = Buffer.alloc(4);
  len.writeUInt32BE(offer.length);
  socket.write(Buffer.concat([Buffer.from("API\0", "latin1"), len, offer]));
  socket.write(frame([71, 2, clientId, ""]));
}

test("delayed messages arrive no sooner than the delay, and in order when the delay is lifted", async () => {
  const ib = new IBApi({ host: "127.0.0.1", port: sim.port, maxReqPerSec: 1000 });
  const order: string[] = [];
  let ready = false;
  ib.on(EventName.nextValidId, () => (ready = true));
  ib.on(EventName.contractDetailsEnd, () => order.push("details"));
  ib.on(EventName.currentTime, () => order.push("time"));
  ib.connect(41);
  await waitFor(() => ready, 5000, "connected");
  sim.delayMessages(300);
  const t0 = performance.now();
  const aapl: Contract = { symbol: "AAPL", secType: SecType.STK, exchange: "SMART", currency: "USD" };
  ib.reqContractDetails(1, aapl);
  await waitFor(() => sim.arrivals().some((a) => a.msgId === 9), 5000, "the request at the simulator");
  sim.delayMessages(0);
  ib.reqCurrentTime();
  await waitFor(() => order.length === 2, 5000, "both replies");
  expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
  // The undelayed reply queued behind the delayed one.
  expect(order).toEqual(["details", "time"]);
  ib.disconnect();
});

test("refused connections: ECONNREFUSED while refusing, accepted again after", async () => {
  const refusing = sim.refuseConnections(200);
  const err = await raw(sim.port).then(() => null, (e: NodeJS.ErrnoException) => e.code);
  expect(err).toBe("ECONNREFUSED");
  await refusing;
  const ok = await raw(sim.port);
  ok.socket.destroy();
  expect(sim.stats.refusals).toBe(1);
});

test("connections beyond maxConnections are closed at once", async () => {
  await sim.stop();
  await startSim({ maxConnections: 2 });
  const a = await raw(sim.port), b = await raw(sim.port), c = await raw(sim.port);
  await waitFor(() => c.closed(), 5000, "the third to be closed");
  expect(a.closed() || b.closed()).toBe(false);
  expect(sim.stats.overLimit).toBe(1);
  for (const x of [a, b]) x.socket.destroy();
});

test("protocol errors close the connection: not TWS's handshake, a request before START_API", async () => {
  const http = await raw(sim.port);
  http.socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await waitFor(() => http.closed(), 5000, "the HTTP client closed");
  const early = await raw(sim.port);
  const offer = Buffer.from("v100..193", "latin1");
  const len = Buffer.alloc(4);
  len.writeUInt32BE(offer.length);
  early.socket.write(Buffer.concat([Buffer.from("API\0", "latin1"), len, offer, frame([49, 1])]));
  await waitFor(() => early.closed(), 5000, "the early request closed");
  expect(sim.stats.protocolErrors).toBe(2);
});

test("a client that stops reading is throttled instead of buffered without end, and stays connected", async () => {
  await sim.stop();
  await startSim({ tickRatePerS: 200_000 });
  const c = await raw(sim.port);
  hello(c.socket, 42);
  await waitFor(() => sim.clientIds.includes(42), 5000, "START_API");
  for (const contract of sim.universe.contracts) {
    c.socket.write(frame([1, 11, 1000 + contract.number, contract.conId, "", "", "", "", "", "", "SMART", "", "", "", "", 0, "", 0, 0, ""]));
  }
  await waitFor(() => sim.marketData.subscriptionCount === sim.universe.contracts.length, 5000, "every subscription");
  c.socket.pause();
  await waitFor(() => sim.marketData.ticksSkipped > 50_000, 20_000, "throttling of the paused client");
  expect(c.closed()).toBe(false);
  expect(sim.stats.slowConsumers).toBe(0);
  c.socket.destroy();
});
