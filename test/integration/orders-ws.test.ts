// Order entry and account topics over the real /ws (Bun.serve on port 0), JSON and
// MessagePack: authentication first, submit / cancel / modify answered by request id, durable
// pushes of orders, fills, positions and accounts to watchers, errors naming the field.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KeyStore } from "../../src/auth/keys.ts";
import type { AccountFrame, ErrorFrame, FillFrame, OrderFrame, PositionFrame, ServerFrame } from "../../src/client/protocol.ts";
import { OrdersWs } from "../../src/server/orders-ws.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { OmsHarness } from "../helpers/oms.ts";
import { TestSocket } from "../helpers/test-socket.ts";
import { waitFor } from "../helpers/wait.ts";

let h: OmsHarness;
let server: RunningServer;
let trade: string, readOnly: string, genOnly: string;

beforeAll(async () => {
  h = await OmsHarness.start();
  h.quote("AAPL", 100, 1000, 100.02, 1000);
  const keys = new KeyStore(h.store.db);
  trade = keys.create(["trade"], ["*"]).secret;
  readOnly = keys.create(["read"], []).secret;
  genOnly = keys.create(["trade"], ["Gen-Acc"]).secret;
  server = await startServer(h.market.engine, {
    host: "127.0.0.1", port: 0, ws: [(hub) => new OrdersWs(hub, h.oms, keys, { keyRatePerS: 1000, keyBurst: 2000 })],
  });
});
afterAll(async () => {
  await server.stop();
  await h.dispose();
});

let n = 0;
const order = (o: Record<string, unknown> = {}) => ({ account: "Gen-Acc", clientOrderId: `w${++n}`, symbol: "AAPL", side: "buy", type: "market", qty: 10, ...o });
const isReply = (id: number) => (f: ServerFrame) => "id" in f && f.id === id;

describe("authentication", () => {
  test("order ops before auth, with a bad key, or with a read key are refused with the request id", async () => {
    await using ws = await TestSocket.open(server.wsUrl);
    ws.send({ op: "submit", id: 1, order: order() });
    expect(await ws.next<ErrorFrame>(isReply(1))).toMatchObject({ t: "error", code: "UNAUTHORIZED" });
    ws.send({ op: "auth", id: 2, key: "ak_nope" });
    expect(await ws.next<ErrorFrame>(isReply(2))).toMatchObject({ t: "error", code: "UNAUTHORIZED", field: "key" });
    ws.send({ op: "auth", id: 3, key: readOnly });
    expect(await ws.next(isReply(3))).toMatchObject({ t: "authed", scopes: ["read"] });
    ws.send({ op: "submit", id: 4, order: order() });
    expect(await ws.next<ErrorFrame>(isReply(4))).toMatchObject({ t: "error", code: "FORBIDDEN" });
    ws.send({ op: "submit", id: 5, ordr: {} });
    expect(await ws.next<ErrorFrame>(isReply(5))).toMatchObject({ t: "error", code: "BAD_REQUEST", field: "order" });
    // Envelopes the hand-written check for submit passes on to zod keep zod's answer.
    ws.send({ op: "submit", id: 6, order: [order()] });
    expect(await ws.next<ErrorFrame>(isReply(6))).toMatchObject({ t: "error", code: "BAD_REQUEST", field: "order" });
    ws.send({ op: "submit", id: 7, order: null });
    expect(await ws.next<ErrorFrame>(isReply(7))).toMatchObject({ t: "error", code: "BAD_REQUEST", field: "order" });
    ws.send({ op: "submit", id: 1.5, order: order() });
    expect(await ws.next<ErrorFrame>((m) => m.t === "error" && m.field === "id")).toMatchObject({ t: "error", code: "BAD_REQUEST" });
  });

  test("a failed auth drops the earlier key's identity: order ops are refused again and its watches end", async () => {
    await using ws = await TestSocket.open(server.wsUrl);
    await using other = await TestSocket.open(server.wsUrl);
    ws.send({ op: "auth", id: 1, key: trade });
    expect(await ws.next(isReply(1))).toMatchObject({ t: "authed" });
    ws.send({ op: "watch", id: 2, accounts: ["Gen-Acc"] });
    expect(await ws.next(isReply(2))).toMatchObject({ t: "watching", accounts: ["Gen-Acc"] });
    ws.send({ op: "auth", id: 3, key: "ak_nope" });
    const failed = await ws.next<ErrorFrame>(isReply(3));
    expect(failed).toMatchObject({ t: "error", code: "UNAUTHORIZED", field: "key" });
    expect(failed.message).toContain("no longer authenticated");
    ws.send({ op: "submit", id: 4, order: order() });
    expect(await ws.next<ErrorFrame>(isReply(4))).toMatchObject({ t: "error", code: "UNAUTHORIZED" });
    // The watch went with the identity: another client's order on Gen-Acc reaches its own
    // watcher, and not this connection (its pong, sent after, arrives before anything later).
    other.send({ op: "auth", id: 1, key: trade });
    await other.next(isReply(1));
    other.send({ op: "watch", id: 2, accounts: ["Gen-Acc"] });
    await other.next(isReply(2));
    other.send({ op: "submit", id: 3, order: order() });
    const placed = (await other.next<OrderFrame>(isReply(3))).order;
    await waitFor(() => other.frames.some((f) => f.t === "fill" && f.fill.orderId === placed.id), 5000, "the fill pushed to the watcher");
    ws.send({ op: "ping", id: 5 });
    await ws.reply(5);
    expect(ws.frames.some((f) => (f.t === "order" && f.order.id === placed.id) || f.t === "fill")).toBe(false);
    // A malformed auth is a failed auth too.
    ws.send({ op: "auth", id: 6, key: trade });
    await ws.next(isReply(6));
    ws.send({ op: "auth", id: 7, key: "" });
    expect(await ws.next<ErrorFrame>(isReply(7))).toMatchObject({ t: "error", code: "BAD_REQUEST", field: "key" });
    ws.send({ op: "cancel", id: 8, orderId: placed.id });
    expect(await ws.next<ErrorFrame>(isReply(8))).toMatchObject({ t: "error", code: "UNAUTHORIZED" });
  });

  test("re-authenticating with a narrower key keeps only the watches it may see", async () => {
    await using ws = await TestSocket.open(server.wsUrl);
    ws.send({ op: "auth", id: 1, key: trade });
    await ws.next(isReply(1));
    ws.send({ op: "watch", id: 2, accounts: ["Gen-Acc", "Rev-Acc"] });
    expect(await ws.next(isReply(2))).toMatchObject({ t: "watching", accounts: ["Gen-Acc", "Rev-Acc"] });
    ws.send({ op: "auth", id: 3, key: genOnly });
    expect(await ws.next(isReply(3))).toMatchObject({ t: "authed", accounts: ["Gen-Acc"] });
    ws.send({ op: "unwatch", id: 4, accounts: ["Gen-Acc"] });
    expect(await ws.next(isReply(4))).toMatchObject({ t: "watching", accounts: [] });
  });
});

describe("orders", () => {
  test("watch, submit, and see the order, fill, position and account pushed once durable", async () => {
    await using ws = await TestSocket.open(server.wsUrl);
    ws.send({ op: "auth", id: 1, key: trade });
    await ws.next(isReply(1));
    ws.send({ op: "watch", id: 2, accounts: ["Gen-Acc"] });
    expect(await ws.next(isReply(2))).toMatchObject({ t: "watching", accounts: ["Gen-Acc"] });
    expect(await ws.next<AccountFrame>((f) => f.t === "account")).toMatchObject({ account: { id: "Gen-Acc", mode: "cash" } });
    ws.send({ op: "submit", id: 3, order: order({ qty: 25 }) });
    const reply = await ws.next<OrderFrame>(isReply(3));
    expect(reply.order).toMatchObject({ status: "filled", filledQty: 25, avgFillPrice: 100.02 });
    const pushed = ws.frames.filter((f) => f.t !== "q" && f.t !== "hb");
    const fill = pushed.find((f): f is FillFrame => f.t === "fill" && f.fill.orderId === reply.order.id);
    expect(fill?.fill).toMatchObject({ qty: 25, price: 100.02, commission: 1, kind: "trade" });
    expect(pushed.filter((f): f is OrderFrame => f.t === "order" && f.order.id === reply.order.id && !("id" in f)).map((f) => f.order.status))
      .toEqual(["submitted", "accepted", "filled"]);
    expect(pushed.find((f): f is PositionFrame => f.t === "position")?.position).toMatchObject({ symbol: "AAPL", account: "Gen-Acc" });
    const accounts = pushed.filter((f): f is AccountFrame => f.t === "account");
    expect(accounts.length).toBeGreaterThanOrEqual(2);
    expect(accounts.at(-1)!.account.positions).toBe(1);
  });

  test("cancel and modify by request id; errors name the field inside the request", async () => {
    await using ws = await TestSocket.open(server.wsUrl, "msgpack");
    ws.send({ op: "auth", id: 1, key: trade });
    await ws.next(isReply(1));
    ws.send({ op: "submit", id: 2, order: order({ type: "limit", limitPrice: 95, tif: "GTC" }) });
    const placed = (await ws.next<OrderFrame>(isReply(2))).order;
    expect(placed.status).toBe("accepted");
    ws.send({ op: "modify", id: 3, orderId: placed.id, changes: { qty: 30, limitPrice: 95.5 } });
    expect((await ws.next<OrderFrame>(isReply(3))).order).toMatchObject({ qty: 30, limitPrice: 95.5, status: "accepted" });
    ws.send({ op: "modify", id: 4, orderId: placed.id, changes: { limitPrice: 95.555 } });
    expect(await ws.next<ErrorFrame>(isReply(4))).toMatchObject({ code: "PRICE_OFF_TICK", field: "changes.limitPrice" });
    ws.send({ op: "cancel", id: 5, orderId: placed.id });
    expect((await ws.next<OrderFrame>(isReply(5))).order.status).toBe("canceled");
    ws.send({ op: "cancel", id: 6, orderId: placed.id });
    expect(await ws.next<ErrorFrame>(isReply(6))).toMatchObject({ code: "ORDER_NOT_CANCELABLE", field: "orderId" });
    // The order is the request's orderId; its id is the request id.
    ws.send({ op: "cancel", id: 61, orderId: "O999999" });
    expect(await ws.next<ErrorFrame>(isReply(61))).toMatchObject({ code: "NOT_FOUND", field: "orderId" });
    ws.send({ op: "modify", id: 62, orderId: "O999999", changes: { qty: 5 } });
    expect(await ws.next<ErrorFrame>(isReply(62))).toMatchObject({ code: "NOT_FOUND", field: "orderId" });
    ws.send({ op: "modify", id: 63, orderId: placed.id, changes: { qty: 5 } });
    expect(await ws.next<ErrorFrame>(isReply(63))).toMatchObject({ code: "ORDER_NOT_MODIFIABLE", field: "orderId" });
    ws.send({ op: "submit", id: 7, order: order({ qty: -1 }) });
    expect(await ws.next<ErrorFrame>(isReply(7))).toMatchObject({ code: "BAD_QUANTITY", field: "order.qty" });
    ws.send({ op: "submit", id: 8, order: order({ type: "limit", limitPrice: 1e-320 }) });
    expect(await ws.next<ErrorFrame>(isReply(8))).toMatchObject({ code: "PRICE_OFF_TICK", field: "order.limitPrice" });
    expect(ws.wrongKind).toBe(0);
  });

  test("a key limited to one account cannot watch or trade another", async () => {
    await using ws = await TestSocket.open(server.wsUrl);
    ws.send({ op: "auth", id: 1, key: genOnly });
    expect(await ws.next(isReply(1))).toMatchObject({ t: "authed", accounts: ["Gen-Acc"] });
    ws.send({ op: "watch", id: 2, accounts: ["Gen-Acc", "Rev-Acc"] });
    expect(await ws.next<ErrorFrame>(isReply(2))).toMatchObject({ code: "UNKNOWN_ACCOUNT", field: "accounts[1]" });
    ws.send({ op: "submit", id: 3, order: order({ account: "Rev-Acc" }) });
    expect(await ws.next<ErrorFrame>(isReply(3))).toMatchObject({ code: "FORBIDDEN", field: "order.account" });
  });

  test("quotes and orders share one connection", async () => {
    await using ws = await TestSocket.open(server.wsUrl);
    ws.send({ op: "subscribe", id: 1, symbols: ["AAPL"] });
    expect(await ws.next(isReply(1))).toMatchObject({ t: "ack", symbols: ["AAPL"] });
    ws.send({ op: "auth", id: 2, key: trade });
    await ws.next(isReply(2));
    h.quote("AAPL", 100.01, 1000, 100.03, 1000);
    await ws.next((f) => f.t === "q" && f.s === "AAPL" && f.b === 100.01);
  });
});
