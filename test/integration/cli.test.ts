// Start-up test of the CLI as a user runs it: a real process, real flags, real HTTP.

import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { readLineMatching as readUntil } from "../helpers/process.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");

test("starts on the synthetic market, serves quotes, and stops cleanly on SIGTERM", async () => {
  const proc = Bun.spawn([process.execPath, MAIN, "--port", "0", "--symbols", "AAPL,TSLA", "--tick-rate", "500"], {
    stdout: "pipe", stderr: "pipe",
  });
  try {
    // The start-up output ends with the paper hours notice: exchange hours by default, whether the
    // exchange is open now, and how to demo round the clock. Lines before it are kept as they pass.
    const seen: string[] = [];
    const demo = await readUntil(proc.stdout, (l) => (seen.push(l), l.trim().startsWith("For round-the-clock demo fills")), 20_000);
    expect(demo).toContain("--paper-hours always (or ALLUSE_PAPER_HOURS=always)");
    expect(seen.find((l) => l.startsWith("Paper orders trade in exchange hours")))
      .toMatch(/the (regular session is open now|exchange is closed now: orders are held until \d{4}-\d\d-\d\d \d\d:\d\d America\/New_York)/);
    const line = seen.find((l) => l.includes('"msg":"listening"'))!;
    const { http, ws, port } = JSON.parse(line) as { http: string; ws: string; port: number };
    expect(port).toBeGreaterThan(0);
    expect(ws).toBe(`ws://127.0.0.1:${port}/ws`);
    // Wait for a live quote over the WebSocket (event driven), then check REST agrees it exists.
    const socket = new WebSocket(ws);
    const firstBid = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no AAPL quote with a bid within 10 s")), 10_000);
      socket.onopen = () => socket.send(JSON.stringify({ op: "subscribe", id: 1, symbols: ["AAPL"] }));
      socket.onmessage = (ev) => {
        const frame = JSON.parse(String(ev.data)) as { t: string; s?: string; b?: number | null };
        if (frame.t === "q" && frame.s === "AAPL" && frame.b != null) { clearTimeout(timer); resolve(frame.b); }
      };
    });
    socket.close();
    expect(firstBid).toBeGreaterThan(0);
    const quote = await (await fetch(`${http}/v1/quotes/AAPL`)).json() as { symbol: string; bid: number | null };
    expect(quote.symbol).toBe("AAPL");
    expect(quote.bid).toBeGreaterThan(0);
    expect((await fetch(`${http}/readyz`)).status).toBe(200);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  } finally {
    proc.kill("SIGKILL");
  }
});

test("invalid configuration exits with status 2 and one line per bad field", async () => {
  const proc = Bun.spawn([process.execPath, MAIN, "--port", "70000", "--tick-rate", "0"], { stdout: "pipe", stderr: "pipe" });
  expect(await proc.exited).toBe(2);
  const lines = (await new Response(proc.stderr).text()).trim().split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[0]).toStartWith("config port:");
  expect(lines[1]).toStartWith("config feed.tickRatePerS:");
});

test("--role edge without --nats exits with status 2 and one line", async () => {
  const proc = Bun.spawn([process.execPath, MAIN, "--role", "edge", "--port", "0"], { stdout: "pipe", stderr: "pipe" });
  expect(await proc.exited).toBe(2);
  expect((await new Response(proc.stderr).text()).trim().split("\n")).toEqual(["config nats: is required when role is edge: give the bus with --nats nats://HOST:4222"]);
});

test("--help lists the flags and exits 0", async () => {
  const proc = Bun.spawn([process.execPath, MAIN, "--help"], { stdout: "pipe" });
  expect(await proc.exited).toBe(0);
  const text = await new Response(proc.stdout).text();
  for (const flag of ["--port", "--host", "--symbols", "--feed", "--tick-rate", "--data-dir"]) expect(text).toContain(flag);
});

test("--record writes a tick file inside --data-dir that --feed replay can play back", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "alluse-cli-"));
  try {
    const rec = Bun.spawn([process.execPath, MAIN, "--port", "0", "--symbols", "AAPL", "--option-expiries", "0", "--tick-rate", "2000",
      "--data-dir", dataDir, "--record", "rec/session.altk"], { stdout: "pipe", stderr: "pipe" });
    const line = await readUntil(rec.stdout, (l) => l.includes('"msg":"listening"'), 20_000);
    const { ws } = JSON.parse(line) as { ws: string };
    // Wait until ticks have flowed (a quote update after the snapshot), then stop: the file is flushed on stop.
    const socket = new WebSocket(ws);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no update within 10 s")), 10_000);
      socket.onopen = () => socket.send(JSON.stringify({ op: "subscribe", id: 1, symbols: ["AAPL"] }));
      socket.onmessage = (ev) => {
        const f = JSON.parse(String(ev.data)) as { t: string; snap?: boolean; seq?: number };
        if (f.t === "q" && !f.snap && (f.seq ?? 0) > 5) { clearTimeout(timer); resolve(); }
      };
    });
    socket.close();
    rec.kill("SIGTERM");
    expect(await rec.exited).toBe(0);
    const file = join(dataDir, "rec/session.altk");
    expect(statSync(file).size).toBeGreaterThan(1000);

    const play = Bun.spawn([process.execPath, MAIN, "--port", "0", "--feed", "replay", "--replay-file", file, "--replay-speed", "max"],
      { stdout: "pipe", stderr: "pipe" });
    const playLine = await readUntil(play.stdout, (l) => l.includes('"msg":"listening"'), 20_000);
    const { http } = JSON.parse(playLine) as { http: string };
    const instruments = await (await fetch(`${http}/v1/instruments`)).json() as { instruments: { symbol: string }[] };
    expect(instruments.instruments.map((i) => i.symbol)).toEqual(["AAPL"]);
    play.kill("SIGTERM");
    expect(await play.exited).toBe(0);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("misleading start-up errors are one clear line with status 2: a bad --host, --config on a directory, --max-instruments below the feed's count", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "alluse-cli-errors-"));
  try {
    const cases: [string[], string][] = [
      [["--host", "999.1.1.1"], "config host: 999.1.1.1 is not a valid IPv4 address (four numbers from 0 to 255) (from flag --host)"],
      [["--config", dataDir], `config file ${dataDir}: is a directory, not a file`],
      [["--max-instruments", "1", "--symbols", "AAPL,TSLA", "--option-expiries", "0"],
        "config engine.maxInstruments: 1 is fewer than the 2 instruments the synthetic feed lists; use at least 2"],
    ];
    for (const [flags, line] of cases) {
      const proc = Bun.spawn([process.execPath, MAIN, "--port", "0", "--data-dir", dataDir, ...flags], { stdout: "pipe", stderr: "pipe" });
      expect(await proc.exited).toBe(2);
      expect(await new Response(proc.stderr).text()).toBe(`${line}\n`);
      expect(await new Response(proc.stdout).text()).not.toContain('"level":"error"');
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 60_000);
