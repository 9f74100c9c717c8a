// Expiry and assignment reach the account stream and the journal (issue 13): at the close of
// the expiry date, an in-the-money short put is assigned (the put closed at zero, 100 shares a
// contract bought at the strike) and an out-of-the-money short call expires; a client watching
// the account over the real /ws gets each as a fill frame with its kind, then the positions and
// the account's cash; the fills table holds the same rows with their kinds, and a restart
// replays them into the same positions and cash.

import { afterEach, expect, test } from "bun:test";
import { KeyStore } from "../../src/auth/keys.ts";
import type { AccountFrame, FillFrame, PositionFrame, ServerFrame } from "../../src/client/protocol.ts";
import { OrdersWs } from "../../src/server/orders-ws.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { OPTIONS } from "../helpers/market.ts";
import { OmsHarness } from "../helpers/oms.ts";
import { TestSocket } from "../helpers/test-socket.ts";
import { waitFor } from "../helpers/wait.ts";

const PUT = OPTIONS[1]; // TSLA 250 put, 2026-11-27
const CALL = OPTIONS[0]; // TSLA 250 call, 2026-11-27

const open: { h?: OmsHarness; server?: RunningServer; extra?: OmsHarness } = {};
afterEach(async () => {
  await open.server?.stop();
  await open.h?.stop();
  await open.extra?.dispose();
  open.h = open.server = open.extra = undefined;
});

test("an assignment and an expiry are fill frames with their kind on the account stream, fills in the journal, and survive a restart", async () => {
  const h = (open.h = await OmsHarness.start({ nowMs: Date.parse("2026-11-27T15:00:00Z") }));
  const keys = new KeyStore(h.store.db);
  const key = keys.create(["trade"], ["Gen-Acc"]).secret;
  const server = (open.server = await startServer(h.market.engine, {
    host: "127.0.0.1", port: 0, ws: [(hub) => new OrdersWs(hub, h.oms, keys, { keyRatePerS: 1000, keyBurst: 2000 })],
  }));
  h.quote(PUT, 5, 100, 5.1, 100);
  h.quote(CALL, 4, 100, 4.1, 100);
  h.quote("TSLA", 250, 100, 250.02, 100);
  for (const [symbol, qty] of [[PUT, 2], [CALL, 1]] as const) {
    const r = await h.oms.submit({ account: "Gen-Acc", clientOrderId: `x-${symbol}`, symbol, side: "sell", type: "market", qty });
    expect(r.ok).toBe(true);
  }
  await waitFor(() => h.oms.positions("Gen-Acc").length === 2, 5000, "both sales to fill");
  const cashBefore = h.oms.account("Gen-Acc")!.cash;

  await using ws = await TestSocket.open(server.wsUrl);
  ws.send({ op: "auth", id: 1, key });
  await ws.next((f) => "id" in f && f.id === 1);
  ws.send({ op: "watch", id: 2, accounts: ["Gen-Acc"] });
  await ws.next((f) => f.t === "watching");

  // The close of the expiry date with TSLA at 240: the 250 put is $10 in the money, the 250 call out of it.
  h.quote("TSLA", 240, 100, 240.02, 100);
  h.clock.now = Date.parse("2026-11-27T21:00:00Z");
  h.oms.sessionClosed(h.clock.now);

  const fills: FillFrame["fill"][] = [];
  const positions = new Map<string, number>();
  let account: AccountFrame | undefined;
  const take = (f: ServerFrame) => {
    if (f.t === "fill") fills.push(f.fill);
    if (f.t === "position") positions.set((f as PositionFrame).position.symbol, (f as PositionFrame).position.qty);
    if (f.t === "account") account = f as AccountFrame;
    return fills.length === 3 && positions.size === 3 && account !== undefined && account.account.cash !== cashBefore;
  };
  await ws.next(take);
  const shape = (f: FillFrame["fill"]) => [f.kind, f.symbol, f.side, f.qty, f.price];
  expect(fills.map(shape).sort()).toEqual([
    ["assignment", "TSLA", "buy", 200, 250],
    ["assignment", PUT, "buy", 2, 0],
    ["expiry", CALL, "buy", 1, 0],
  ].sort());
  expect(Object.fromEntries(positions)).toEqual({ [PUT]: 0, [CALL]: 0, TSLA: 200 });
  expect(account!.account.cash).toBeCloseTo(cashBefore - 250 * 200, 6);

  // The journal: the same three rows, with their kinds.
  await h.store.journal.durable();
  const rows = h.store.db.query("SELECT kind, symbol, side, qty, price_units FROM fills WHERE kind IN ('assignment', 'expiry') ORDER BY seq").all() as any[];
  expect(rows.map((r) => [r.kind, r.symbol, r.side, r.qty, r.price_units / 1e8]).sort()).toEqual(fills.map(shape).sort());

  // A restart replays them: the same positions and cash, and settling again adds nothing.
  const cashAfter = h.oms.account("Gen-Acc")!.cash;
  await open.server!.stop();
  open.server = undefined;
  await h.stop();
  open.h = undefined;
  const h2 = (open.extra = await OmsHarness.start({ dir: h.dir, nowMs: h.clock.now + 60_000 }));
  h2.quote("TSLA", 240, 100, 240.02, 100);
  h2.oms.settleExpired(h2.clock.now);
  await h2.store.journal.durable();
  expect(Object.fromEntries(h2.oms.positions("Gen-Acc").map((p) => [p.symbol, p.qty]))).toEqual({ TSLA: 200 });
  expect(h2.oms.account("Gen-Acc")!.cash).toBeCloseTo(cashAfter, 6);
  expect((h2.store.db.query("SELECT count(*) AS n FROM fills WHERE kind IN ('assignment', 'expiry')").get() as { n: number }).n).toBe(3);
});
