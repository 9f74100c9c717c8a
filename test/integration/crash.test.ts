// The crash test: the real server process, flooded with orders over REST, killed with SIGKILL
// at a random point (seeded), restarted on the same data directory — several times. After each
// restart every order the client saw acknowledged must exist in a state at least as far along
// as the acknowledgment, no fill may be duplicated or missing (each order's fills add up to its
// filled quantity), and positions and cash must equal the sum of the fills.

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../src/domain/random.ts";
import { isTerminal, type OrderStatus } from "../../src/domain/order.ts";
import type { FillView, OrderView, PositionView } from "../../src/client/protocol.ts";
import { createKeyCli, startServerProcess, type ServerProcess } from "../helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "alluse-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Round-the-clock paper hours: the test is about fills surviving kill -9, so orders must fill at whatever hour it runs.
const ARGS = ["--port", "0", "--data-dir", dir, "--symbols", "AAPL,MSFT", "--option-expiries", "0", "--tick-rate", "4000", "--log-level", "error",
  "--paper-hours", "always"];

type Server = ServerProcess;
const startServer = () => startServerProcess(ARGS);
const createKey = () => createKeyCli(dir, "trade");

/** Floods orders with `inFlight` concurrent requests; SIGKILLs the server after `killAfter` acknowledgments. */
async function flood(s: Server, key: string, rng: Rng, killAfter: number, run: number): Promise<Map<string, OrderView>> {
  const acked = new Map<string, OrderView>();
  const resting: string[] = [];
  let sent = 0, killed = false;
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const one = async (): Promise<void> => {
    while (!killed) {
      const i = sent++;
      const roll = rng.next();
      let res: Response;
      try {
        if (roll < 0.15 && resting.length > 0) {
          res = await fetch(`${s.url}/v1/orders/${resting.pop()}`, { method: "DELETE", headers });
        } else {
          const limit = roll < 0.45;
          const body = {
            account: "Gen-Acc", clientOrderId: `run${run}-${i}`, symbol: rng.next() < 0.5 ? "AAPL" : "MSFT", side: rng.next() < 0.55 ? "buy" : "sell",
            type: limit ? "limit" : "market", qty: 1 + rng.int(20), tif: limit ? "GTC" : "DAY", ...(limit ? { limitPrice: 1 } : {}),
          };
          if (limit && body.side === "sell") body.limitPrice = 100_000;
          res = await fetch(`${s.url}/v1/orders`, { method: "POST", headers, body: JSON.stringify(body) });
        }
      } catch {
        return; // the server is gone: this request was never acknowledged
      }
      if (res.status !== 200 && res.status !== 201) continue;
      const o = (await res.json().catch(() => undefined)) as OrderView | undefined;
      if (!o) return;
      acked.set(o.id, o);
      if (o.type === "limit" && o.status === "accepted") resting.push(o.id);
      if (acked.size >= killAfter && !killed) {
        killed = true;
        s.proc.kill("SIGKILL");
      }
    }
  };
  await Promise.all(Array.from({ length: 24 }, one));
  await s.proc.exited;
  return acked;
}

async function getAll<T>(url: string, key: string, field: string): Promise<T[]> {
  const out: T[] = [];
  for (let offset: number | null = 0; offset !== null;) {
    const r = await fetch(`${url}${url.includes("?") ? "&" : "?"}limit=1000&offset=${offset}`, { headers: { authorization: `Bearer ${key}` } });
    const page = (await r.json()) as Record<string, unknown> & { next: number | null };
    out.push(...(page[field] as T[]));
    offset = page.next;
  }
  return out;
}

interface Snapshot {
  orders: Map<string, OrderView>;
  fills: FillView[];
  positions: PositionView[];
  account: { cash: number; deposits: number };
}

/** Fills, positions and the account read while the orders did not change (equal before and after). */
async function stableSnapshot(url: string, key: string): Promise<Snapshot> {
  const get = async (path: string) => (await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } })).json();
  const read = async () => JSON.stringify(await getAll<OrderView>(`${url}/v1/orders?account=Gen-Acc`, key, "orders"));
  for (let attempt = 0; attempt < 50; attempt++) {
    const before = await read();
    const fills = await getAll<FillView>(`${url}/v1/accounts/Gen-Acc/fills`, key, "fills");
    const positions = ((await get("/v1/accounts/Gen-Acc/positions")) as { positions: PositionView[] }).positions;
    const account = (await get("/v1/accounts/Gen-Acc")) as Snapshot["account"];
    if (before === (await read())) return { orders: new Map((JSON.parse(before) as OrderView[]).map((o) => [o.id, o])), fills, positions, account };
  }
  throw new Error("orders kept changing for 50 snapshots");
}

const RANK: Partial<Record<OrderStatus, number>> = { submitted: 1, accepted: 2, pending_cancel: 3, pending_replace: 3, partially_filled: 3 };

test("kill -9 during an order flood, three times: every acknowledged order, fill and position survives", async () => {
  const key = createKey();
  const rng = new Rng(20261121);
  const everAcked = new Map<string, OrderView>();
  for (let run = 1; run <= 3; run++) {
    const s = await startServer();
    const killAfter = 150 + rng.int(350);
    const acked = await flood(s, key, rng, killAfter, run);
    expect(acked.size).toBeGreaterThanOrEqual(killAfter);
    for (const [id, o] of acked) everAcked.set(id, o);

    const after = await startServer();
    try {
      // The restarted server keeps filling restored orders for a moment: take a snapshot in which
      // the orders did not change while the fills were read.
      const { orders, fills, positions, account } = await stableSnapshot(after.url, key);
      for (const [id, a] of everAcked) {
        const o = orders.get(id);
        expect(o, `acknowledged order ${id} is missing after restart ${run}`).toBeDefined();
        expect(o!.version).toBeGreaterThanOrEqual(a.version);
        expect(o!.filledQty).toBeGreaterThanOrEqual(a.filledQty);
        if (isTerminal(a.status)) expect(o!.status).toBe(a.status);
        else if (!isTerminal(o!.status)) expect(RANK[o!.status] ?? 0).toBeGreaterThanOrEqual(RANK[a.status] ?? 0);
      }
      expect(new Set(fills.map((f) => f.fillId)).size).toBe(fills.length);
      const byOrder = new Map<string, number>();
      for (const f of fills) byOrder.set(f.orderId!, (byOrder.get(f.orderId!) ?? 0) + f.qty);
      for (const o of orders.values()) expect(byOrder.get(o.id) ?? 0).toBe(o.filledQty);

      const net = new Map<string, number>();
      let cash = 0;
      for (const f of fills) {
        const sign = f.side === "buy" ? 1 : -1;
        net.set(f.symbol, (net.get(f.symbol) ?? 0) + sign * f.qty);
        cash -= sign * f.price * f.qty * f.multiplier + f.commission;
      }
      const held = Object.fromEntries(positions.map((p) => [p.symbol, p.qty]));
      for (const [symbol, qty] of net) expect(held[symbol] ?? 0).toBe(qty);
      expect(account.cash).toBeCloseTo(account.deposits + cash, 4);
    } finally {
      after.proc.kill("SIGTERM");
      await after.proc.exited;
    }
  }
}, 120_000);
