// The feed in a worker as the app runs it: `--feed-thread worker` on the real CLI serves live
// quotes and stops cleanly, and the configuration refuses the combinations a worker cannot run.

import { expect, test } from "bun:test";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { readLineMatching } from "../helpers/process.ts";
import { within } from "../helpers/wait.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");

test("--feed-thread worker serves live quotes, reports the feed live and stops cleanly on SIGTERM", async () => {
  const proc = Bun.spawn([process.execPath, MAIN, "--port", "0", "--symbols", "AAPL,TSLA", "--tick-rate", "2000", "--feed-thread", "worker"], {
    stdout: "pipe", stderr: "pipe",
  });
  try {
    const { http, ws } = JSON.parse(await readLineMatching(proc.stdout, (l) => l.includes('"msg":"listening"'), 20_000)) as { http: string; ws: string };
    const socket = new WebSocket(ws);
    // Two successive AAPL states: ticks keep flowing from the worker, not just a snapshot.
    const seqs = await within(new Promise<number[]>((resolve) => {
      const seen: number[] = [];
      socket.onopen = () => socket.send(JSON.stringify({ op: "subscribe", id: 1, symbols: ["AAPL"] }));
      socket.onmessage = (ev) => {
        const frame = JSON.parse(String(ev.data)) as { t: string; s?: string; seq?: number };
        if (frame.t === "q" && frame.s === "AAPL") seen.push(frame.seq!);
        if (seen.length === 2) resolve(seen);
      };
    }), 10_000, "two AAPL quotes");
    socket.close();
    expect(seqs[1]!).toBeGreaterThan(seqs[0]!);
    expect((await fetch(`${http}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${http}/metrics`)).text();
    expect(metrics).toContain('alluse_feed_live{feed="synthetic"} 1');
    proc.kill("SIGTERM");
    expect(await within(proc.exited, 15_000, "exit after SIGTERM")).toBe(0);
  } finally {
    proc.kill("SIGKILL");
  }
});

test("the configuration refuses a worker for the IBKR feed and for replays that keep recorded times", async () => {
  expect((await loadConfig(["--feed-thread", "worker"], {})).feed.thread).toBe("worker");
  expect((await loadConfig([], {})).feed.thread).toBe("main");
  await expect(loadConfig(["--feed", "ib", "--feed-thread", "worker"], {})).rejects.toThrow("feed.thread");
  await expect(loadConfig(["--feed", "replay", "--replay-file", "x.altk", "--replay-keep-time", "true", "--feed-thread", "worker"], {})).rejects.toThrow("feed.thread");
});
