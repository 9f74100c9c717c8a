// The wheel's adjusted cost basis per underlying in GET /v1/accounts/{id}/positions, over a real
// Bun.serve, a real SQLite file and the paper broker: a cash-secured put expires, a second one
// is assigned, and the reply's `underlyings` shows the shares' basis less the premium collected,
// per share, worked by hand; a restart rebuilds the same figures from the journal's fills.

import { afterEach, expect, test } from "bun:test";
import { KeyStore } from "../../src/auth/keys.ts";
import { positionsReplySchema } from "../../src/client/protocol-schemas.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { orderRoutes, ORDER_ROUTE_DEFAULTS } from "../../src/server/orders.ts";
import { OPTIONS } from "../helpers/market.ts";
import { MONDAY_10AM, OmsHarness } from "../helpers/oms.ts";
import { waitFor } from "../helpers/wait.ts";

const PUT_1127 = OPTIONS[1]; // TSLA 250 put, 2026-11-27
const PUT_1204 = OPTIONS[2]; // TSLA 247.5 put, 2026-12-04
const ACCOUNTS = { capital: 100_000, list: [{ id: "Gen-Acc", share: 1, mode: "cash" as const, broker: "paper" as const }] };

const open: { h?: OmsHarness; server?: RunningServer } = {};
afterEach(async () => {
  await open.server?.stop();
  await open.h?.dispose();
  open.h = open.server = undefined;
});

/** Serves the order routes of `h`; returns a GET of the positions reply, checked against its schema. */
async function serve(h: OmsHarness) {
  const keys = new KeyStore(h.store.db);
  const admin = keys.create(["admin"], []).secret;
  const server = (open.server = await startServer(h.market.engine, { host: "127.0.0.1", port: 0, rest: { routes: [orderRoutes({ oms: h.oms, keys, maxRows: 50, ...ORDER_ROUTE_DEFAULTS })] } }));
  return async () => {
    const res = await fetch(`${server.url}/v1/accounts/Gen-Acc/positions`, { headers: { authorization: `Bearer ${admin}` } });
    expect(res.status).toBe(200);
    return positionsReplySchema.parse(await res.json());
  };
}

/** Sells one contract at market (the bid) and waits for the fill. */
async function sellOne(h: OmsHarness, symbol: string, id: string): Promise<void> {
  const r = await h.oms.submit({ account: "Gen-Acc", clientOrderId: id, symbol, side: "sell", type: "market", qty: 1 });
  expect(r.ok).toBe(true);
  await waitFor(() => h.oms.positions("Gen-Acc").some((p) => p.symbol === symbol && p.qty === -1), 5000, `${symbol} sold`);
}

/** The close of `isoDate` with TSLA at `tsla`: options expiring that day settle. */
async function closeAt(h: OmsHarness, isoDate: string, tsla: number): Promise<void> {
  h.quote("TSLA", tsla, 100, tsla + 0.02, 100);
  h.clock.now = Date.parse(`${isoDate}T21:00:00Z`);
  h.oms.sessionClosed(h.clock.now);
  await h.store.journal.durable();
}

test("a put expires, a put is assigned: adjusted basis (24,351.03 − 498.97) / 100 = $238.5206 a share, and the same after a restart", async () => {
  const h = (open.h = await OmsHarness.start({ nowMs: MONDAY_10AM, accounts: ACCOUNTS }));
  let get = await serve(h);
  expect((await get()).underlyings).toEqual([]);

  // 1. Monday 11-23: sell the 250 put at its $5.00 bid; each one-contract sale here costs $1.03
  //    ($1.00 minimum commission; SEC fee $500 × 27.8 / 1e6 = $0.0139, rounded up to $0.02;
  //    FINRA TAF $0.00279 up to $0.01): $498.97 in. TSLA closes Friday at $260.01: the put
  //    expires worthless and the $498.97 is collected.
  h.quote("TSLA", 260, 100, 260.02, 100);
  h.quote(PUT_1127, 5, 100, 5.1, 100);
  await sellOne(h, PUT_1127, "p1");
  expect((await get()).underlyings).toEqual([{ underlying: "TSLA", shares: 0, costBasis: 0, premiumCollected: 0, adjustedCostBasis: null }]);
  await closeAt(h, "2026-11-27", 260);
  expect((await get()).underlyings).toEqual([{ underlying: "TSLA", shares: 0, costBasis: 0, premiumCollected: 498.97, adjustedCostBasis: null }]);

  // 2. Monday 11-30: sell the 247.5 put at its $4.00 bid ($400 − $1.03 = $398.97 in; the SEC fee
  //    $0.0111 is again $0.02). TSLA closes Friday 12-04 at $240.01: assigned, 100 shares at
  //    $247.50 less that put's $398.97 = $24,351.03 (the stock position's basis, IBKR's); less
  //    the first put's $498.97 = $23,852.06, $238.5206 a share.
  h.clock.now = Date.parse("2026-11-30T15:00:00Z");
  h.quote("TSLA", 250, 100, 250.02, 100);
  h.quote(PUT_1204, 4, 100, 4.1, 100);
  await sellOne(h, PUT_1204, "p2");
  await closeAt(h, "2026-12-04", 240);
  const reply = await get();
  const wheel = { underlying: "TSLA", shares: 100, costBasis: 24_351.03, premiumCollected: 498.97, adjustedCostBasis: 238.5206 };
  expect(reply.underlyings).toEqual([wheel]);
  expect(reply.positions.map((p) => [p.symbol, p.qty, p.costBasis])).toEqual([["TSLA", 100, 24_351.03]]);

  // A restart replays the journal's fills through the same fold: the same figures.
  await open.server!.stop();
  await h.stop();
  const h2 = await OmsHarness.start({ dir: h.dir, nowMs: h.clock.now + 60_000, accounts: ACCOUNTS });
  open.h = h2;
  get = await serve(h2);
  expect((await get()).underlyings).toEqual([wheel]);
});
