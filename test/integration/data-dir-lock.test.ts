// One data directory, one server: real processes on one --data-dir. The second is refused with
// status 2 and one line naming the directory and the holder's pid, the first keeps taking
// orders, the keys CLI still works beside it, and a holder killed with SIGKILL leaves no lock.

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, schemaVersion } from "../../src/store/db.ts";
import { lockDir } from "../../src/store/lock.ts";
import { MIGRATIONS } from "../../src/store/schema.ts";
import { collectLines } from "../helpers/process.ts";
import { waitFor } from "../helpers/wait.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");
const dir = realpathSync(mkdtempSync(join(tmpdir(), "alluse-lock-")));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ARGS = ["--port", "0", "--data-dir", dir, "--symbols", "AAPL", "--option-expiries", "0", "--tick-rate", "500", "--durability", "none"];

async function start(): Promise<{ proc: Bun.Subprocess<"ignore", "pipe", "pipe">; http: string }> {
  const proc = Bun.spawn([process.execPath, MAIN, ...ARGS], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const out = collectLines(proc.stdout);
  await waitFor(() => out.some((l) => l.includes('"msg":"listening"')), 20_000, "the server to listen");
  const { http } = JSON.parse(out.find((l) => l.includes('"msg":"listening"'))!) as { http: string };
  return { proc, http };
}

function createKey(): string {
  const r = Bun.spawnSync([process.execPath, MAIN, "keys", "create", "--scope", "trade", "--data-dir", dir], { stdout: "pipe", stderr: "pipe" });
  expect(r.exitCode).toBe(0);
  return r.stdout.toString().trim();
}

async function order(http: string, key: string, clientOrderId: string): Promise<number> {
  const res = await fetch(`${http}/v1/orders`, {
    method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ account: "Gen-Acc", clientOrderId, symbol: "AAPL", side: "buy", type: "market", qty: 1 }),
  });
  await res.arrayBuffer();
  return res.status;
}

test("a second server on the data directory exits 2 naming it and the holder; the first is unaffected; SIGKILL leaves no lock", async () => {
  const first = await start();
  let third: Awaited<ReturnType<typeof start>> | undefined;
  try {
    // Keys can be made while the server runs: the CLI does not need the directory's lock.
    const key = createKey();
    expect(await order(first.http, key, "before")).toBe(201);

    const second = Bun.spawn([process.execPath, MAIN, ...ARGS], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    expect(await second.exited).toBe(2);
    const stderr = (await new Response(second.stderr).text()).trim().split("\n");
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toContain(dir);
    expect(stderr[0]).toContain(`pid ${first.proc.pid}`);
    expect(await new Response(second.stdout).text()).not.toContain("listening");

    // The first server still journals orders and is ready.
    expect(await order(first.http, key, "after")).toBe(201);
    expect((await fetch(`${first.http}/readyz`)).status).toBe(200);

    first.proc.kill("SIGKILL");
    await first.proc.exited;
    third = await start();
    expect(await order(third.http, key, "after-kill")).toBe(201);
    third.proc.kill("SIGTERM");
    expect(await third.proc.exited).toBe(0);
  } finally {
    first.proc.kill("SIGKILL");
    third?.proc.kill("SIGKILL");
  }
}, 90_000);

test("the keys CLI never migrates a database a server holds; with no server it migrates while holding the lock", () => {
  const other = realpathSync(mkdtempSync(join(tmpdir(), "alluse-lock-keys-")));
  try {
    // A server of the previous release holds the directory: its database is one migration behind.
    const held = lockDir(other);
    openDatabase(join(other, "alluse.db"), "none", MIGRATIONS.slice(0, -1)).close();
    const list = () => Bun.spawnSync([process.execPath, MAIN, "keys", "list", "--data-dir", other], { stdout: "pipe", stderr: "pipe" });
    let r = list();
    expect(r.exitCode).toBe(2);
    expect(r.stderr.toString()).toBe(`database ${join(other, "alluse.db")} has schema version ${MIGRATIONS.length - 1}; this program expects ${MIGRATIONS.length}, ` +
      `and the server running on it (pid ${process.pid}) owns it: stop that server, or use the alluse-market it runs\n`);
    held.release();
    r = list();
    expect(r.exitCode).toBe(0);
    const db = openDatabase(join(other, "alluse.db"), "none");
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    db.close();
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
}, 30_000);
