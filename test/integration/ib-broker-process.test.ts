// The user's commands, as processes: `npm run sim:tws`, an API key from the keys CLI, then
// `alluse-market --feed ib --broker ib --ib-port N`; an order placed over REST fills at the
// simulator (on its own synthetic quotes), the fill comes back as a push on /ws, and a resting
// order is cancelled through IBKR.

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FillView, OrderView } from "../../src/client/protocol.ts";
import { TradingClient } from "../../src/client/trading.ts";
import { collectLines as lines } from "../helpers/process.ts";
import { waitFor } from "../helpers/wait.ts";

const ROOT = join(import.meta.dir, "../..");
const dataDir = mkdtempSync(join(tmpdir(), "alluse-ib-broker-proc-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

test("`npm run sim:tws` + `alluse-market --feed ib --broker ib`: a REST order fills at the simulator, a resting one is cancelled", async () => {
  const sim = Bun.spawn([process.execPath, join(ROOT, "src/sim/tws/main.ts"), "--port", "0", "--symbols", "AAPL", "--option-expiries", "1", "--strikes-per-side", "1"],
    { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const simOut = lines(sim.stdout);
  let app: ReturnType<typeof Bun.spawn> | undefined;
  let client: TradingClient | undefined;
  try {
    await waitFor(() => simOut.some((l) => l.includes('"msg":"listening"')), 20_000, "the simulator");
    const { port: ibPort } = JSON.parse(simOut.find((l) => l.includes('"msg":"listening"'))!) as { port: number };
    const keyRun = Bun.spawnSync([process.execPath, join(ROOT, "src/main.ts"), "keys", "create", "--scope", "trade", "--data-dir", dataDir], { stdout: "pipe", stderr: "pipe" });
    expect(keyRun.exitCode).toBe(0);
    const key = keyRun.stdout.toString().trim();
    app = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), "--port", "0", "--feed", "ib", "--broker", "ib", "--ib-port", String(ibPort),
      "--ib-client-id", "7", "--symbols", "AAPL", "--option-expiries", "1", "--strikes-per-side", "1", "--data-dir", dataDir], { stdout: "pipe", stderr: "pipe" });
    const appOut = lines(app.stdout as ReadableStream<Uint8Array>);
    await waitFor(() => appOut.some((l) => l.includes('"msg":"listening"')), 30_000, "the server");
    const { http, ws } = JSON.parse(appOut.find((l) => l.includes('"msg":"listening"'))!) as { http: string; ws: string };
    client = await TradingClient.connect(ws, { key });
    const fills: FillView[] = [], orders = new Map<string, OrderView>();
    client.onFill((f) => fills.push(f));
    client.onOrder((o) => orders.set(o.id, o));
    await client.watch(["Gen-Acc"]);
    const post = async (body: Record<string, unknown>) => {
      const res = await fetch(`${http}/v1/orders`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
      expect(res.status).toBe(201);
      return (await res.json()) as OrderView;
    };
    const market = await post({ account: "Gen-Acc", clientOrderId: "proc-1", symbol: "AAPL", side: "buy", type: "market", qty: 10 });
    await waitFor(() => orders.get(market.id)?.status === "filled", 15_000, "the market order to fill at the simulator");
    expect(fills.filter((f) => f.orderId === market.id).reduce((s, f) => s + f.qty, 0)).toBe(10);
    // 5 % under the market: inside the pre-trade price band (10 %), far from any fill.
    const limitPrice = Math.round(fills[0]!.price * 0.95 * 100) / 100;
    const resting = await post({ account: "Gen-Acc", clientOrderId: "proc-2", symbol: "AAPL", side: "buy", type: "limit", limitPrice, tif: "GTC", qty: 5 });
    await waitFor(() => orders.get(resting.id)?.status === "accepted", 10_000, "the resting order accepted by IB");
    const del = await fetch(`${http}/v1/orders/${resting.id}`, { method: "DELETE", headers: { authorization: `Bearer ${key}` } });
    expect(del.status).toBeLessThan(300);
    await waitFor(() => orders.get(resting.id)?.status === "canceled", 10_000, "the cancel confirmed by IB");
    sim.stdin.write("orders\n");
    await waitFor(() => simOut.some((l) => l.includes('"live":0')), 5000, "the simulator to hold no live order");
    app.kill("SIGTERM");
    expect(await app.exited).toBe(0);
  } finally {
    client?.market.close();
    app?.kill("SIGKILL");
    sim.kill("SIGKILL");
  }
}, 90_000);
