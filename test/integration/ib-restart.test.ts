// Issue 10 end to end. Defect 5: the session topic's first subscriber sees the farms. Defect 3: --feed ib --broker ib over the TWS simulator. An order fills,
// the server stops, TWS restarts and starts its execution ids again, the server starts again on
// the same journal, and the next order's fill, whose execId repeats the first one's, is
// recorded, not refused by the journal's unique fill id (which used to fail it for good).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type App, startApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { TwsSimulator } from "../../src/sim/tws/simulator.ts";
import { waitFor } from "../helpers/wait.ts";

const dataDir = mkdtempSync(join(tmpdir(), "alluse-ib-restart-"));
let sim: TwsSimulator;
let app: App | undefined;
beforeAll(async () => {
  sim = new TwsSimulator({ port: 0, symbols: ["AAPL"], optionExpiries: 1, strikesPerSide: 1, tickRatePerS: 200, log: createLogger("error", "sim", () => {}) });
  await sim.start();
  sim.pinQuote("AAPL", 100, 1000, 100.02, 1000);
});
afterAll(async () => {
  await app?.stop();
  await sim?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function startServer(): Promise<{ app: App; key: string }> {
  const config = await loadConfig(["--port", "0", "--feed", "ib", "--broker", "ib", "--ib-port", String(sim.port), "--ib-client-id", "12", "--symbols", "AAPL",
    "--option-expiries", "1", "--strikes-per-side", "1", "--data-dir", dataDir, "--log-level", "error"], {});
  const a = await startApp(config, createLogger("error", "app", () => {}));
  return { app: a, key: a.trading.keys.create(["trade"], ["*"]).secret };
}

async function buy(a: App, key: string, clientOrderId: string): Promise<string> {
  await waitFor(() => a.engine.quote(a.engine.instrument("AAPL")!.index).ask === 100.02, 10_000, "the pinned quote");
  const statuses = new Map<string, string>();
  a.trading.oms.onUpdate((u) => u.type === "order" && statuses.set(u.order.id, u.order.status));
  const res = await fetch(`${a.server.url}/v1/orders`, {
    method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ account: "Gen-Acc", clientOrderId, symbol: "AAPL", side: "buy", type: "market", qty: 10 }),
  });
  expect(res.status).toBe(201);
  const id = ((await res.json()) as { id: string }).id;
  await waitFor(() => statuses.get(id) === "filled" || a.trading.store.journal.failed !== undefined, 10_000, `order ${clientOrderId} to fill`);
  return id;
}

test("the session topic shows the farms TWS reported at the first connection, before any reconnect", async () => {
  const s = await startServer();
  app = s.app;
  const ws = new WebSocket(app.server.wsUrl);
  const frames: any[] = [];
  ws.onmessage = (ev) => frames.push(JSON.parse(String(ev.data)));
  await new Promise((r) => (ws.onopen = r));
  ws.send(JSON.stringify({ op: "session.subscribe", id: 1 }));
  await waitFor(() => frames.some((f) => f.id === 1), 5000, "the subscribe reply");
  const reply = frames.find((f) => f.id === 1);
  expect(reply.connection).toMatchObject({ name: "ib", state: "connected", reason: expect.stringContaining("nextValidId") });
  expect(reply.farms.map((f: any) => `${f.kind}:${f.name}:${f.ok}`).sort()).toEqual(["hmds:ushmds:true", "market:usfarm:true", "secdef:secdefnj:true"]);
  ws.close();
  await app.stop();
  app = undefined;
});

test("after a TWS restart that starts execution ids again and a server restart, the next fill is recorded and the journal keeps working", async () => {
  let s = await startServer();
  app = s.app;
  const first = await buy(app, s.key, "restart-1");
  await app.stop();
  app = undefined;
  await sim.restart(0, true);
  s = await startServer();
  app = s.app;
  const second = await buy(app, s.key, "restart-2");
  expect(app.trading.store.journal.failed).toBeUndefined();
  expect(await app.trading.oms.order(second)).toMatchObject({ status: "filled", filledQty: 10 });
  const fills = app.trading.store.fills({ account: "Gen-Acc" }, 10, 0).items;
  expect(fills.map((f) => f.orderId).sort()).toEqual([first, second].sort());
  // The execId repeated; the second is stored apart, and counted.
  expect(fills.find((f) => f.orderId === second)!.fillId).toBe(`${fills.find((f) => f.orderId === first)!.fillId}#${second}`);
  expect(app.trading.oms.stats.reusedFillIds).toBe(1);
});
