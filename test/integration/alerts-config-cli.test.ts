// Bad alert rule overrides through the real CLI process: each stops the start with exit 2 and
// one line on stderr naming the key, before the data directory (and its database) is created.

import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { within } from "../helpers/wait.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");
const dir = mkdtempSync(join(tmpdir(), "alluse-alerts-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the server with `alerts` in its config file; returns its exit status, stderr lines and whether the data directory appeared. */
async function start(name: string, alerts: unknown): Promise<{ code: number; lines: string[]; dataDirMade: boolean }> {
  const file = join(dir, `${name}.json`);
  const dataDir = join(dir, `${name}-data`);
  writeFileSync(file, JSON.stringify({ port: 0, dataDir, alerts }));
  const proc = Bun.spawn([process.execPath, MAIN, "--config", file], { stdout: "pipe", stderr: "pipe" });
  try {
    const code = await within(proc.exited, 20_000, `${name}: the process to exit`);
    const lines = (await new Response(proc.stderr).text()).trim().split("\n");
    return { code, lines, dataDirMade: existsSync(dataDir) };
  } finally {
    proc.kill("SIGKILL");
  }
}

test("a misspelt rule name exits 2 with one line naming it and listing the valid names", async () => {
  const r = await start("misspelt", { rules: { "feed.quote_stal": { warning: 10_000 } } });
  expect(r).toMatchObject({ code: 2, dataDirMade: false });
  expect(r.lines).toHaveLength(1);
  expect(r.lines[0]).toStartWith("config alerts.rules.feed.quote_stal: unknown alert rule; valid rules: ");
  for (const valid of ["feed.quote_stale", "latency.tick_to_publish", "risk.daily_loss", "alerts.webhook_drops"]) expect(r.lines[0]).toContain(valid);
});

test("critical below warning (with the other threshold the rule's default) exits 2 with one line, before the database is opened", async () => {
  const r = await start("inverted", { rules: { "latency.tick_to_publish": { warning: 60 } } });
  expect(r).toMatchObject({ code: 2, dataDirMade: false });
  expect(r.lines).toEqual([
    expect.stringMatching(/^config alerts\.rules\.latency\.tick_to_publish: critical \(50\) must be at or above warning \(60\): higher is worse for this rule/),
  ]);
});

test("a negative threshold exits 2 with one line", async () => {
  const r = await start("negative", { rules: { "feed.quote_stale": { warning: -5 } } });
  expect(r).toMatchObject({ code: 2, dataDirMade: false });
  expect(r.lines).toEqual([expect.stringMatching(/^config alerts\.rules\.feed\.quote_stale\.warning: must be at least 0/)]);
});
