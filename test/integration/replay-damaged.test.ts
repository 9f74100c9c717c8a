// Damaged tick files through the real server: refused at start (exit 1, the error naming file
// and line in the log), skipped and counted with --replay-strict false, and a file damaged
// while it plays marks the feed failed in /readyz and the log, distinct from a finished replay.

import { afterAll, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { TickKind } from "../../src/domain/tick.ts";
import { createTickWriter, CSV_HEADER } from "../../src/feed/tickfile.ts";
import { createLogger } from "../../src/log.ts";
import { collectLines } from "../helpers/process.ts";
import { waitFor, waitForAsync } from "../helpers/wait.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");
const dir = mkdtempSync(join(tmpdir(), "alluse-replay-damaged-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 10, 20, 15, 0, 0);
const AAPL = { symbol: "AAPL", kind: "stock" as const, tickSize: 0.01, multiplier: 1, currency: "USD" };

/** A CSV of good AAPL quotes followed by `tail` (possibly damaged). */
function csv(name: string, tail: string, rows = 3): string {
  const path = join(dir, name);
  let text = `# instrument ${JSON.stringify(AAPL)}\n${CSV_HEADER}\n`;
  for (let i = 0; i < rows; i++) text += `${T0 + i},AAPL,${i % 2 ? "ask" : "bid"},${(i % 2 ? 201 : 200) + i / 100},100\n`;
  writeFileSync(path, text + tail);
  return path;
}

function altk(name: string): { path: string; bytes: Buffer; data: number } {
  const path = join(dir, name);
  const w = createTickWriter(path, [AAPL]);
  for (let i = 0; i < 4; i++) w.write(0, TickKind.Bid, 200 + i, 100, T0 + i);
  w.close();
  const bytes = readFileSync(path);
  return { path, bytes, data: (16 + bytes.readUInt32LE(12) + 7) & ~7 };
}

/** Runs the server on a replay file; returns its exit status and every stdout/stderr line. */
async function run(file: string, extra: string[] = []): Promise<{ code: number; out: string[]; err: string }> {
  const proc = Bun.spawn([process.execPath, MAIN, "--port", "0", "--data-dir", join(dir, "data"), "--feed", "replay", "--replay-file", file,
    "--replay-speed", "max", ...extra], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const out = collectLines(proc.stdout);
  const code = await proc.exited;
  return { code, out, err: await new Response(proc.stderr).text() };
}

function startupError(out: string[]): string {
  const line = out.find((l) => l.includes('"msg":"start-up failed"'));
  expect(line).toBeDefined();
  const parsed = JSON.parse(line!) as { level: string; err: { message: string } };
  expect(parsed.level).toBe("error");
  return parsed.err.message;
}

test("a CSV whose last row is damaged is refused at start: exit 1, the log names file, line and reason", async () => {
  for (const [tail, reason] of [["1795186800003,AAPL,trade,abc,100\n", "a number field is empty or not a number"],
    ["1795186800003,AAPL,tra", "expected 5 fields, found 3"], ["1795186800003,MSFT,trade,1,1\n", "symbol MSFT is not declared"]]) {
    const file = csv("last-row.csv", tail!);
    const { code, out } = await run(file);
    expect(code).toBe(1);
    expect(startupError(out)).toBe(`${file}:6: ${reason}`);
    expect(out.some((l) => l.includes('"msg":"listening"'))).toBe(false);
  }
}, 60_000);

test("an .altk with scrambled records, or a bad magic, is refused at start with a binary file's error", async () => {
  const scrambled = altk("scrambled.altk");
  for (let at = scrambled.data + 24; at < scrambled.bytes.length; at += 32) scrambled.bytes.writeUInt32LE(0xdeadbeef - at, at);
  writeFileSync(scrambled.path, scrambled.bytes);
  let r = await run(scrambled.path);
  expect(r.code).toBe(1);
  expect(startupError(r.out)).toMatch(new RegExp(`^${scrambled.path}: record 1 at offset \\d+ names instrument \\d+; the table has 1$`));

  const magic = altk("magic.altk");
  magic.bytes[0] = 0x42;
  writeFileSync(magic.path, magic.bytes);
  r = await run(magic.path);
  expect(r.code).toBe(1);
  expect(startupError(r.out)).toBe(`${magic.path}: not a binary tick file (bad magic)`);
}, 60_000);

test("--replay-strict false plays the good rows, logs the skipped ones, and /readyz says the replay finished", async () => {
  const file = csv("lenient.csv", "1795186800003,AAPL,trade,abc,100\n");
  const proc = Bun.spawn([process.execPath, MAIN, "--port", "0", "--data-dir", join(dir, "data"), "--feed", "replay", "--replay-file", file,
    "--replay-speed", "max", "--replay-strict", "false", "--stale-sweep-ms", "50"], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const out = collectLines(proc.stdout);
  try {
    await waitFor(() => out.some((l) => l.includes('"msg":"listening"')), 20_000, "the server to listen");
    const { http } = JSON.parse(out.find((l) => l.includes('"msg":"listening"'))!) as { http: string };
    await waitFor(() => out.some((l) => l.includes("replay skipped damaged rows")), 10_000, "the skipped rows to be logged");
    const warn = JSON.parse(out.find((l) => l.includes("replay skipped damaged rows"))!) as { level: string; skipped: number; first: string };
    expect(warn).toMatchObject({ level: "warn", skipped: 1, first: `${file}:6: a number field is empty or not a number` });
    const ready = await (await fetch(`${http}/readyz`)).json() as { ready: boolean; reasons: string[] };
    expect(ready).toEqual({ ready: false, reasons: ["feed: replay finished"] });
    expect((await (await fetch(`${http}/v1/quotes/AAPL`)).json() as { bid: number }).bid).toBe(200.02);
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}, 60_000);

test("a file damaged while it plays: /readyz and the log say the replay failed at that file and line", async () => {
  // A looping replay reads the file again on every pass, so a row appended after the start
  // check is reached on a later pass whenever the append lands.
  const file = csv("grows.csv", "");
  const lines: string[] = [];
  const log = createLogger("info", "test", (l) => lines.push(l));
  const app = await startApp(await loadConfig(["--port", "0", "--data-dir", join(dir, "data"), "--feed", "replay", "--replay-file", file,
    "--replay-speed", "max", "--replay-loop", "--stale-sweep-ms", "50"], {}), log);
  try {
    expect((await fetch(`${app.server.url}/readyz`)).status).toBe(200);
    appendFileSync(file, "1795186800003,AAPL,bid,oops,100\n");
    const reason = `${file}:6: a number field is empty or not a number`;
    await waitForAsync(async () => {
      const r = await (await fetch(`${app.server.url}/readyz`)).json() as { reasons: string[] };
      return r.reasons.includes(`feed: replay failed: ${reason}`);
    }, 20_000, "/readyz to report the failure");
    await waitFor(() => lines.some((l) => l.includes('"msg":"feed failed"')), 5000, "the failure to be logged");
    const logged = JSON.parse(lines.find((l) => l.includes('"msg":"feed failed"'))!) as { level: string; reason: string };
    expect(logged).toMatchObject({ level: "error", reason });
  } finally {
    await app.stop();
  }
}, 60_000);
