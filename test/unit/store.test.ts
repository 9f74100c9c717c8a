// The store on a real SQLite file in a temp dir: migrations, WAL and durability pragmas, group
// commit, the bounded queue, failure, and reading everything back after a reopen.

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Fill, Order } from "../../src/domain/order.ts";
import { migrate, openDatabase, schemaVersion } from "../../src/store/db.ts";
import { EAGER_BATCH_RECORDS, JournalFailedError, JournalFullError } from "../../src/store/journal.ts";
import { MIGRATIONS } from "../../src/store/schema.ts";
import { ROWS_PER_INSERT } from "../../src/store/write.ts";
import { Store } from "../../src/store/store.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "alluse-store-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const order = (n: number, o: Partial<Order> = {}): Order => ({
  id: `O${n}`, account: "Gen-Acc", clientOrderId: `c${n}`, symbol: "AAPL", side: "buy", type: "limit", tif: "DAY", qty: 100,
  limitPriceUnits: 100_00000000, multiplier: 1, status: "submitted", filledQty: 0, avgFillPriceUnits: 0, triggered: false,
  createdTs: 1000 + n, updatedTs: 1000 + n, version: 1, ...o,
});
const fill = (id: string, o: Partial<Fill> = {}): Fill => ({
  seq: 0, fillId: id, orderId: "O1", account: "Gen-Acc", symbol: "AAPL", side: "buy", qty: 10, priceUnits: 100_00000000,
  multiplier: 1, commissionMicros: 1_000_000, ts: 2000, kind: "trade", ...o,
});

describe("database", () => {
  test("a new file is migrated to the latest version, in WAL mode, with the durability's sync level", () => {
    for (const [durability, level] of [["full", 2], ["normal", 1], ["none", 0]] as const) {
      const db = openDatabase(join(dir, `d-${durability}.db`), durability);
      expect(schemaVersion(db)).toBe(MIGRATIONS.length);
      expect((db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
      expect((db.query("PRAGMA synchronous").get() as { synchronous: number }).synchronous).toBe(level);
      db.close();
    }
  });

  test("reopening runs no migration twice; a newer schema than the program's is refused", () => {
    const path = join(dir, "m.db");
    openDatabase(path, "normal").close();
    const db = openDatabase(path, "normal");
    expect((db.query("SELECT COUNT(*) AS n FROM schema_migrations").get() as { n: number }).n).toBe(MIGRATIONS.length);
    db.exec(`INSERT INTO schema_migrations VALUES (${MIGRATIONS.length + 1}, 'future', 0)`);
    db.close();
    expect(() => openDatabase(path, "normal")).toThrow(/newer than this program/);
  });

  test("a later migration applies on top of an existing database", () => {
    const db = new Database(":memory:");
    migrate(db);
    migrate(db, [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: "extra", sql: "CREATE TABLE extra (x INTEGER)" }]);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length + 1);
    expect(() => migrate(db, [{ ...MIGRATIONS[0]!, version: 3 }])).toThrow(/newer|expected 1/);
  });
  test("migration 3 keeps the orders written under version 2", async () => {
    const path = join(dir, "v2.db");
    const db = new Database(path, { create: true, strict: true });
    migrate(db, MIGRATIONS.slice(0, 2));
    db.exec(`INSERT INTO orders VALUES ('O7', 7, 'Gen-Acc', 'c7', 'AAPL', 'buy', 'limit', 'GTC', 5, 9000000000, NULL, 1, 'accepted', 1, 0, 0, 0,
      'paper-O7', NULL, 1, 2, 2)`);
    db.close();
    const store = await Store.open({ path, durability: "normal", maxPending: 10 });
    expect(store.order("O7")).toMatchObject({ id: "O7", clientOrderId: "c7", status: "accepted", limitPriceUnits: 9_000_000_000, brokerOrderId: "paper-O7" });
    expect(store.openOrders().map((o) => o.id)).toEqual(["O7"]);
    expect(store.order("X7")).toBeUndefined();
    await store.close();
  });

  test("migration 6 keeps the events written under version 5, and later ones follow them", async () => {
    const path = join(dir, "v5.db");
    const db = new Database(path, { create: true, strict: true });
    migrate(db, MIGRATIONS.slice(0, 5));
    db.exec(`INSERT INTO order_events VALUES (3, 'O7', 10, 'submitted', 'submitted', NULL), (4, 'O7', 11, 'fill', 'filled', '{"fillId":"F1","qty":5}'),
      (5, 'O8', 12, 'submitted', 'submitted', NULL)`);
    db.close();
    const store = await Store.open({ path, durability: "normal", maxPending: 10 });
    expect(store.events("O7")).toEqual([
      { seq: 3, ts: 10, kind: "submitted", status: "submitted", detail: null },
      { seq: 4, ts: 11, kind: "fill", status: "filled", detail: { fillId: "F1", qty: 5 } },
    ]);
    expect(store.journal.appendedSeq).toBe(5);
    store.journal.append({ t: "order", order: order(7, { status: "canceled" }), kind: "canceled", ts: 13 });
    await store.journal.durable();
    expect(store.events("O7").map((e) => [e.seq, e.kind])).toEqual([[3, "submitted"], [4, "fill"], [6, "canceled"]]);
    expect(store.events("X7")).toEqual([]);
    // The view keeps the one-row-per-event shape for ad-hoc queries.
    expect(store.db.query("SELECT seq, order_id, kind, detail FROM order_events ORDER BY seq").all()).toEqual([
      { seq: 3, order_id: "O7", kind: "submitted", detail: null }, { seq: 4, order_id: "O7", kind: "fill", detail: '{"fillId":"F1","qty":5}' },
      { seq: 5, order_id: "O8", kind: "submitted", detail: null }, { seq: 6, order_id: "O7", kind: "canceled", detail: null },
    ]);
    await store.close();
  });
});

describe("journal", () => {
  test("everything appended in one turn is one commit; durable() resolves after it", async () => {
    const store = await Store.open({ path: join(dir, "j.db"), durability: "full", maxPending: 1000 });
    const seqs: number[] = [];
    for (let i = 1; i <= 200; i++) seqs.push(store.journal.append({ t: "order", order: order(i), kind: "submitted", ts: 1 }));
    expect(store.journal.committedSeq).toBe(0);
    await store.journal.durable(seqs.at(-1));
    expect(store.journal.stats).toMatchObject({ commits: 1, records: 200, largestBatch: 200 });
    expect(store.openOrders().length).toBe(200);
    await store.close();
  });

  test("several events of one order keep every event and the last state", async () => {
    const store = await Store.open({ path: join(dir, "e.db"), durability: "normal", maxPending: 100 });
    const j = store.journal;
    j.append({ t: "order", order: order(1), kind: "submitted", ts: 1 });
    j.append({ t: "order", order: order(1, { status: "accepted", version: 2, brokerOrderId: "B1" }), kind: "accepted", ts: 2 });
    j.append({ t: "fill", fill: fill("F1") });
    j.append({ t: "order", order: order(1, { status: "partially_filled", filledQty: 10, version: 3, brokerOrderId: "B1" }), kind: "fill", detail: { fillId: "F1" }, ts: 3 });
    await j.durable();
    expect(store.order("O1")).toMatchObject({ status: "partially_filled", filledQty: 10, version: 3, brokerOrderId: "B1" });
    expect(store.events("O1").map((e) => [e.kind, e.status])).toEqual([["submitted", "submitted"], ["accepted", "accepted"], ["fill", "partially_filled"]]);
    expect(store.events("O1")[2]!.detail).toEqual({ fillId: "F1" });
    await store.close();
  });

  test("the queue is bounded: past maxPending append throws and changes nothing", async () => {
    const store = await Store.open({ path: join(dir, "b.db"), durability: "none", maxPending: 3 });
    const j = store.journal;
    for (let i = 1; i <= 3; i++) j.append({ t: "order", order: order(i), kind: "submitted", ts: 1 });
    expect(j.room()).toBe(0);
    expect(() => j.append({ t: "order", order: order(4), kind: "submitted", ts: 1 })).toThrow(JournalFullError);
    expect(j.appendedSeq).toBe(3);
    await j.durable();
    expect(j.room()).toBe(3);
    await store.close();
  });

  test("a failed commit rejects its waiters and fails every later append", async () => {
    const store = await Store.open({ path: join(dir, "f.db"), durability: "none", maxPending: 10 });
    const j = store.journal;
    j.append({ t: "fill", fill: fill("F1") });
    await j.durable();
    // A record larger than the batch buffer can never be written.
    j.append({ t: "cash", entry: { seq: 0, account: "Gen-Acc", amountMicros: 1, ts: 1, memo: "x".repeat(9 << 20) } });
    const err = await j.durable().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(JournalFailedError);
    expect((err as Error).message).toContain("does not fit");
    expect(() => j.append({ t: "fill", fill: fill("F2") })).toThrow(JournalFailedError);
    expect(j.room()).toBe(0);
    await store.close();
  });

  test("a row the database refuses (UNIQUE, NOT NULL) is skipped and reported; the rest of its batch and later ones commit", async () => {
    const store = await Store.open({ path: join(dir, "r.db"), durability: "none", maxPending: 100 });
    const j = store.journal, refused: string[] = [];
    j.onRefused((rows) => refused.push(...rows.map((r) => `${r.table}: ${r.message}`)));
    j.append({ t: "fill", fill: fill("F1") });
    await j.durable();
    j.append({ t: "fill", fill: fill("F1") });
    j.append({ t: "fill", fill: fill("F2") });
    j.append({ t: "fill", fill: fill("F3", { qty: Number.NaN }) });
    j.append({ t: "order", order: order(7), kind: "submitted", ts: 1 });
    await j.durable();
    expect(refused).toEqual(["fills: UNIQUE constraint failed: fills.fill_id", "fills: NOT NULL constraint failed: fills.qty"]);
    expect(j.stats.refusedRows).toBe(2);
    j.append({ t: "fill", fill: fill("F4") });
    await j.durable();
    expect(j.failed).toBeUndefined();
    expect(store.fills({ orderId: "O1" }, 10, 0).items.map((f) => f.fillId).sort()).toEqual(["F1", "F2", "F4"]);
    expect(store.hasFill("F3")).toBe(false);
    await store.close();
    const reopened = await Store.open({ path: join(dir, "r.db"), durability: "none", maxPending: 100 });
    expect(reopened.journal.appendedSeq).toBeGreaterThanOrEqual(6);
    await reopened.close();
  });

  test("a queue larger than the batch buffer goes in parts, every record kept and in order", async () => {
    const store = await Store.open({ path: join(dir, "big.db"), durability: "none", maxPending: 1000 });
    const j = store.journal;
    const memo = "m".repeat(100_000);
    // 120 entries of ~100 KB: more than BATCH_BUFFER_BYTES (8 MiB) in one turn.
    for (let i = 0; i < 120; i++) j.append({ t: "cash", entry: { seq: 0, account: "A", amountMicros: i, ts: 1, memo } });
    await j.durable();
    expect(j.stats.commits).toBeGreaterThan(1);
    expect(store.cash().map((c) => c.amountMicros)).toEqual(Array.from({ length: 120 }, (_, i) => i));
    await store.close();
  });

  test("a long turn sends a batch once it reaches EAGER_BATCH_RECORDS; the rest follows it, in order", async () => {
    const store = await Store.open({ path: join(dir, "eager.db"), durability: "none", maxPending: 10_000 });
    const j = store.journal;
    const n = EAGER_BATCH_RECORDS * 2 + 10;
    for (let i = 1; i <= n; i++) j.append({ t: "order", order: order(i), kind: "submitted", ts: 1 });
    await j.durable();
    expect(j.stats).toMatchObject({ commits: 2, records: n, largestBatch: n - EAGER_BATCH_RECORDS });
    expect(store.openOrders().length).toBe(n);
    expect(store.events(`O${n}`).map((e) => e.seq)).toEqual([n]);
    await store.close();
  });

  test("a batch of many orders and fills, written in multi-row inserts and single rows, reads back whole", async () => {
    const store = await Store.open({ path: join(dir, "multi.db"), durability: "none", maxPending: 10_000 });
    const j = store.journal;
    const n = ROWS_PER_INSERT * 2 + 3;
    for (let i = 1; i <= n; i++) {
      j.append({ t: "order", order: order(i), kind: "submitted", ts: 1 });
      j.append({ t: "fill", fill: fill(`F${i}`, { orderId: `O${i}`, qty: i }) });
      j.append({ t: "order", order: order(i, { status: "filled", filledQty: i, version: 2 }), kind: "fill", detail: { fillId: `F${i}` }, ts: 2 });
    }
    await j.durable();
    expect(j.stats.commits).toBe(1);
    expect(store.fills({}, 1000, 0).items.map((f) => [f.fillId, f.orderId, f.qty]).reverse()).toEqual(Array.from({ length: n }, (_, k) => [`F${k + 1}`, `O${k + 1}`, k + 1]));
    for (const i of [1, ROWS_PER_INSERT, ROWS_PER_INSERT + 1, n]) {
      expect(store.order(`O${i}`)).toMatchObject({ status: "filled", filledQty: i, version: 2 });
      expect(store.events(`O${i}`).map((e) => [e.seq, e.kind, e.detail])).toEqual([[3 * i - 2, "submitted", null], [3 * i, "fill", { fillId: `F${i}` }]]);
    }
    expect(store.openOrders()).toEqual([]);
    await store.close();
  });

  test("onCommit hands over the committed records in order, after they are durable", async () => {
    const store = await Store.open({ path: join(dir, "c.db"), durability: "normal", maxPending: 10 });
    const seen: number[] = [];
    store.journal.onCommit((rs) => { for (const r of rs) seen.push(r.seq); expect(store.journal.committedSeq).toBe(rs.at(-1)!.seq); });
    store.journal.append({ t: "cash", entry: { seq: 0, account: "A", amountMicros: 5, ts: 1, memo: "deposit" } });
    store.journal.append({ t: "fill", fill: fill("F9") });
    await store.journal.durable();
    expect(seen).toEqual([1, 2]);
    await store.close();
  });
});

describe("reopen", () => {
  test("open orders, fills, cash, accounts and sequence numbers come back", async () => {
    const path = join(dir, "r.db");
    const a = await Store.open({ path, durability: "full", maxPending: 100 });
    a.journal.append({ t: "account", id: "Gen-Acc", mode: "cash", ts: 1 });
    a.journal.append({ t: "cash", entry: { seq: 0, account: "Gen-Acc", amountMicros: 40_000_000_000, ts: 1, memo: "initial capital" } });
    a.journal.append({ t: "order", order: order(1, { status: "accepted" }), kind: "accepted", ts: 1 });
    a.journal.append({ t: "order", order: order(2, { status: "filled", filledQty: 100 }), kind: "fill", ts: 2 });
    a.journal.append({ t: "fill", fill: fill("F1", { orderId: "O2", qty: 100, ts: 5000 }) });
    await a.close();

    const b = await Store.open({ path, durability: "full", maxPending: 100 });
    expect(b.openOrders().map((o) => o.id)).toEqual(["O1"]);
    expect(b.order("O2")).toMatchObject({ status: "filled", limitPriceUnits: 100_00000000 });
    expect(b.orderByClientId("Gen-Acc", "c2")?.id).toBe("O2");
    expect([...b.allFills()].map((f) => [f.fillId, f.seq])).toEqual([["F1", 5]]);
    expect(b.cash()).toEqual([{ seq: 2, account: "Gen-Acc", amountMicros: 40_000_000_000, ts: 1, memo: "initial capital" }]);
    expect(b.accounts()).toEqual([{ id: "Gen-Acc", mode: "cash", createdTs: 1 }]);
    expect(b.maxOrderNum()).toBe(2);
    expect(b.lastFillTs()).toBe(5000);
    expect(b.journal.appendedSeq).toBe(5);
    expect(b.orders({ account: "Gen-Acc", open: false }, 10, 0)).toMatchObject({ total: 1 });
    expect(b.fills({ orderId: "O2" }, 10, 0).items.map((f) => f.fillId)).toEqual(["F1"]);
    await b.close();
  });
});
