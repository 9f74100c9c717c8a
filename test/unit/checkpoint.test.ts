// WAL checkpoints off the journal's commit path (src/store/checkpointer.ts), on a real SQLite
// file with the real writer and checkpointer threads: the WAL stays bounded under a sustained
// load, the writer no longer checkpoints at SQLite's default 1,000 pages, a checkpointer that
// cannot start is logged while the journal keeps committing, and close() leaves no thread behind.

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Order } from "../../src/domain/order.ts";
import type { Logger } from "../../src/log.ts";
import { checkpointerRule } from "../../src/monitor/alert-rules.ts";
import { AlertEngine } from "../../src/monitor/alerts.ts";
import { AlertStore } from "../../src/store/alerts.ts";
import { WAL_BACKSTOP_PAGES } from "../../src/store/db.ts";
import type { Journal } from "../../src/store/journal.ts";
import { Store } from "../../src/store/store.ts";
import { waitFor, within } from "../helpers/wait.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "alluse-ckpt-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const PAGE = 4096;
const order = (n: number): Order => ({
  id: `O${n}`, account: "Gen-Acc", clientOrderId: `c${n}`, symbol: "AAPL", side: "buy", type: "limit", tif: "DAY", qty: 100,
  limitPriceUnits: 100_00000000, multiplier: 1, status: "submitted", filledQty: 0, avgFillPriceUnits: 0, triggered: false,
  createdTs: 1000 + n, updatedTs: 1000 + n, version: 1,
});
const walPages = (path: string) => Math.ceil(statSync(`${path}-wal`).size / PAGE);

/** Commits `orders` orders two per commit (small commits, as at a steady order rate); returns the largest WAL seen, in pages. */
async function load(j: Journal, path: string, orders: number): Promise<number> {
  let largest = 0;
  for (let n = 1; n <= orders; n += 2) {
    j.append({ t: "order", order: order(n), kind: "submitted", ts: 1 });
    j.append({ t: "order", order: order(n + 1), kind: "submitted", ts: 1 });
    await j.durable();
    largest = Math.max(largest, walPages(path));
  }
  return largest;
}

/** A logger that keeps what it is given. */
function recordingLogger(lines: { level: string; msg: string; fields?: Record<string, unknown> }[]): Logger {
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, ...(fields ? { fields } : {}) });
  const log: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), child: () => log };
  return log;
}

describe("checkpointer", () => {
  test("under a sustained load the checkpointer copies more than a backstop's worth of WAL and the WAL never reaches the backstop; everything reads back after reopen", async () => {
    const path = join(dir, "load.db"), orders = 16_000;
    const store = await Store.open({ path, durability: "none", maxPending: 10_000 });
    expect(store.journal.checkpointing).toBe(true);
    const largest = await load(store.journal, path, orders);
    const s = store.journal.stats;
    // The writer checkpoints only at WAL_BACKSTOP_PAGES. Far more frames than that were written
    // (the checkpointer copied them), yet the WAL never got that long: it was started over each
    // time the checkpointer had copied all of it, never by the writer. (Without the checkpointer
    // it grows to the backstop: the next test.)
    expect(s.checkpoints).toBeGreaterThan(0);
    expect(s.checkpointedFrames).toBeGreaterThan(1.5 * WAL_BACKSTOP_PAGES);
    expect(largest).toBeLessThan(WAL_BACKSTOP_PAGES);
    expect(s.checkpointerFailures).toBe(0);
    await store.close();
    expect(store.journal.checkpointing).toBe(false);
    const reopened = await Store.open({ path, durability: "none", maxPending: 10 });
    expect(reopened.openOrders().length).toBe(orders);
    expect(reopened.journal.appendedSeq).toBe(orders);
    await reopened.close();
  });

  test("the writer no longer checkpoints at SQLite's default 1,000 pages, only at its backstop: without the checkpointer the WAL grows to it", async () => {
    const path = join(dir, "grow.db");
    const store = await Store.open({ path, durability: "none", maxPending: 10_000, journal: { checkpoint: false } });
    expect(store.journal.checkpointing).toBe(false);
    // With the default the WAL would be started over at ~1,000 pages and its file stay that size.
    const largest = await load(store.journal, path, 6_000);
    expect(largest).toBeGreaterThan(2_000);
    // 6,000 orders write more frames than the backstop; it holds (plus the commit that passed it).
    expect(largest).toBeGreaterThan(WAL_BACKSTOP_PAGES / 2);
    expect(largest).toBeLessThan(WAL_BACKSTOP_PAGES + 200);
    expect(store.journal.stats.checkpoints).toBe(0);
    await store.close();
  });

  test("a checkpointer that cannot start is logged and counted, and the journal still commits", async () => {
    const path = join(dir, "fail.db"), lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
    const store = await Store.open({
      path, durability: "full", maxPending: 100, journal: { log: recordingLogger(lines), checkpoint: { failForTest: "injected open failure" } },
    });
    expect(store.journal.checkpointing).toBe(false);
    expect(store.journal.stats.checkpointerFailures).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "error", fields: { error: "injected open failure", backstopPages: WAL_BACKSTOP_PAGES } });
    store.journal.append({ t: "order", order: order(1), kind: "submitted", ts: 1 });
    await store.journal.durable();
    expect(store.order("O1")?.status).toBe("submitted");
    // The built-in store.checkpointer rule over this journal raises a warning (and stays open).
    const alerts = new AlertEngine(new AlertStore(store.db), {});
    alerts.addRule(checkpointerRule(() => store.journal.stats.checkpointerFailures));
    alerts.evaluate(1000);
    alerts.evaluate(2000);
    expect(alerts.activeAlerts().map((a) => `${a.rule}/${a.severity}`)).toEqual(["store.checkpointer/warning"]);
    await store.close();
  });

  test("the main thread's connection never checkpoints; the checkpointer and the writer's backstop do", async () => {
    const path = join(dir, "main.db");
    const store = await Store.open({ path, durability: "full", maxPending: 100 });
    expect(store.db.query("PRAGMA wal_autocheckpoint").get()).toEqual({ wal_autocheckpoint: 0 });
    // Writes on the main connection (as alerts and keys do) past SQLite's default of 1,000 pages
    // leave the WAL to the checkpointer thread.
    store.db.exec("CREATE TABLE filler (x BLOB)");
    const put = store.db.prepare("INSERT INTO filler (x) VALUES (zeroblob(4000))");
    for (let i = 0; i < 1500; i++) put.run();
    await waitFor(() => store.journal.stats.checkpoints > 0, 5000, "a checkpoint by the checkpointer thread");
    await store.close();
  });

  test("an in-memory database starts no checkpointer", async () => {
    const store = await Store.open({ path: ":memory:", durability: "none", maxPending: 10 });
    expect(store.journal.checkpointing).toBe(false);
    await store.close();
  });

  test("close() stops the writer and the checkpointer: a process that writes and closes exits by itself", async () => {
    const script = join(dir, "close.ts"), path = join(dir, "close.db");
    writeFileSync(script, `import { Store } from ${JSON.stringify(join(import.meta.dir, "../../src/store/store.ts"))};
const store = await Store.open({ path: ${JSON.stringify(path)}, durability: "full", maxPending: 100 });
if (!store.journal.checkpointing) throw new Error("no checkpointer");
store.journal.append({ t: "account", id: "A", mode: "cash", ts: 1 });
await store.journal.durable();
await store.close();
console.log("closed");
`);
    const proc = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "pipe" });
    const code = await within(proc.exited, 15_000, "the process to exit after close()").finally(() => proc.kill());
    expect(await new Response(proc.stderr).text()).toBe("");
    expect(code).toBe(0);
    expect((await new Response(proc.stdout).text()).trim()).toBe("closed");
  });
});
