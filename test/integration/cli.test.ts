// Start-up test of the CLI as a user runs it: a real process, real flags, real HTTP.

import { expect, test } from "bun:test";
import { join } from "node:path";

const MAIN = join(import.meta.dir, "../../src/main.ts");

/** Reads lines from a stream until one satisfies `match`, within `timeoutMs`. */
async function readUntil(stream: ReadableStream<Uint8Array>, match: (line: string) => boolean, timeoutMs: number): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const timer = new Promise<null>((resolve) => setTimeout(() => resolve(null), deadline - Date.now()));
      const chunk = await Promise.race([reader.read(), timer]);
      if (chunk === null || chunk.done) break;
      buffered += decoder.decode(chunk.value, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      const hit = lines.find(match);
      if (hit !== undefined) return hit;
    }
  } finally {
    reader.releaseLock();
  }
  throw new Error(`no matching line within ${timeoutMs} ms`);
}

test("starts on the synthetic market, serves quotes, and stops cleanly on SIGTERM", async () => {
  const proc = Bun.spawn([process.execPath, MAIN, "--port", "0", "--symbols", "AAPL,TSLA", "--tick-rate", "500"], {
    stdout: "pipe", stderr: "pipe",
  });
  try {
    const line = await readUntil(proc.stdout, (l) => l.includes('"msg":"listening"'), 20_000);
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

test("--help lists the flags and exits 0", async () => {
  const proc = Bun.spawn([process.execPath, MAIN, "--help"], { stdout: "pipe" });
  expect(await proc.exited).toBe(0);
  const text = await new Response(proc.stdout).text();
  for (const flag of ["--port", "--host", "--symbols", "--feed", "--tick-rate", "--data-dir"]) expect(text).toContain(flag);
});
