// docs/protocol.md says what the server does (issue 15): the answer to an unknown op names every
// op the server takes (read from the registered extensions), the doc lists every op and error
// code, the documented edges (empty subscribe, watching an account the key may not trade, the
// upgrade header's key on a loopback connection) hold, and the Python quick start quoted in the
// doc is docs/examples/quotes.py verbatim and prints quotes from a real server.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type App, startApp } from "../../src/app.ts";
import { WS_ERROR_CODES, type ServerFrame } from "../../src/client/protocol.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { TestSocket } from "../helpers/test-socket.ts";
import { waitFor, within } from "../helpers/wait.ts";

const ROOT = join(import.meta.dir, "../..");
const DOC = await Bun.file(join(ROOT, "docs/protocol.md")).text();
const EXAMPLE = join(ROOT, "docs/examples/quotes.py");

/** Every op of the app's /ws: market data, order entry, alerts, the broker session, option chains. */
const ALL_OPS = ["subscribe", "unsubscribe", "ping", "auth", "submit", "preview", "cancel", "modify", "watch", "unwatch",
  "alerts.subscribe", "alerts.unsubscribe", "alerts.ack", "session.subscribe", "session.unsubscribe", "chain.subscribe", "chain.unsubscribe"];

const dataDir = mkdtempSync(join(tmpdir(), "alluse-protocol-"));
let app: App;
let genKey: string;
beforeAll(async () => {
  const config = await loadConfig(["--port", "0", "--data-dir", dataDir, "--paper-hours", "always", "--log-level", "error"], {});
  app = await startApp(config, createLogger("error", "app", () => {}));
  genKey = app.trading.keys.create(["trade"], ["Gen-Acc"]).secret;
});
afterAll(async () => {
  await app?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

type ErrorFrame = Extract<ServerFrame, { t: "error" }>;

describe("unknown op", () => {
  test("is answered with every op the server takes, and each of those is one it takes", async () => {
    await using ws = await TestSocket.open(app.server.wsUrl);
    ws.send({ op: "nope", id: 1 });
    const e = await ws.reply<ErrorFrame>(1);
    expect(e).toMatchObject({ code: "BAD_REQUEST", field: "op" });
    expect(e.message).toStartWith('unknown op "nope"; the ops are ');
    const listed = e.message.slice(e.message.indexOf("the ops are ") + 12).split(", ");
    expect(listed.toSorted()).toEqual(ALL_OPS.toSorted());
    ws.send({ id: 2 });
    expect((await ws.reply<ErrorFrame>(2)).message).toStartWith("no op; the ops are subscribe, unsubscribe, ping, ");
    ws.send({ op: 7, id: 3 });
    expect((await ws.reply<ErrorFrame>(3)).message).toStartWith("op must be a string, not number; the ops are ");
    // Each listed op is claimed: sent bare, none is called unknown (they fail for their own reasons).
    for (const [i, op] of listed.entries()) ws.send({ op, id: 100 + i });
    const answered = () => listed.filter((_, i) => ws.frames.some((f) => "id" in f && f.id === 100 + i));
    await waitFor(() => answered().length === listed.length, 5000, "an answer to each op").catch(() => expect(answered()).toEqual(listed));
    expect(ws.frames.filter((f) => f.t === "error" && /\bops are\b/.test(f.message))).toHaveLength(3);
  });

  test("protocol.md names every op and every WebSocket error code", () => {
    expect(ALL_OPS.filter((op) => !DOC.includes(`\`${op}\``))).toEqual([]);
    expect(WS_ERROR_CODES.filter((code) => !DOC.includes(`\`${code}\``))).toEqual([]);
  });
});

describe("documented edges", () => {
  test("an empty subscribe names field symbols, with or without an empty underlyings", async () => {
    await using ws = await TestSocket.open(app.server.wsUrl);
    ws.send({ op: "subscribe", id: 1, symbols: [] });
    expect(await ws.reply(1)).toMatchObject({ code: "BAD_REQUEST", field: "symbols", message: "give at least one symbol or underlying" });
    ws.send({ op: "subscribe", id: 2, underlyings: [] });
    expect(await ws.reply(2)).toMatchObject({ code: "BAD_REQUEST", field: "symbols" });
  });

  test("watching an account the key may not trade is UNKNOWN_ACCOUNT at that account; submitting for it FORBIDDEN", async () => {
    await using ws = await TestSocket.open(app.server.wsUrl);
    ws.send({ op: "auth", id: 1, key: genKey });
    await ws.next((f) => f.t === "authed");
    ws.send({ op: "watch", id: 2, accounts: ["Gen-Acc", "Rev-Acc"] });
    expect(await ws.next((f) => f.t === "error" && f.id === 2)).toMatchObject({ code: "UNKNOWN_ACCOUNT", field: "accounts[1]" });
    // Submitting: an account that exists but is not the key's is FORBIDDEN, one that does not exist UNKNOWN_ACCOUNT.
    const order = { clientOrderId: "p-1", symbol: "AAPL", side: "buy", type: "market", qty: 1 };
    ws.send({ op: "submit", id: 3, order: { ...order, account: "Rev-Acc" } });
    expect(await ws.next((f) => f.t === "error" && f.id === 3)).toMatchObject({ code: "FORBIDDEN", field: "order.account" });
    ws.send({ op: "submit", id: 4, order: { ...order, account: "Nope-Acc" } });
    expect(await ws.next((f) => f.t === "error" && f.id === 4)).toMatchObject({ code: "UNKNOWN_ACCOUNT", field: "order.account" });
  });

  test("on loopback (the default mode) a key in the upgrade header is not checked, and never authorises order ops", async () => {
    for (const key of ["ak_bogus_notakey", genKey]) {
      const frames: ServerFrame[] = [];
      const ws = new WebSocket(app.server.wsUrl, { headers: { authorization: `Bearer ${key}` } } as unknown as string[]);
      ws.onmessage = (m) => frames.push(JSON.parse(String(m.data)));
      await waitFor(() => frames.some((f) => f.t === "welcome"), 5000, "welcome");
      ws.send(JSON.stringify({ op: "subscribe", id: 1, symbols: ["AAPL"] }));
      ws.send(JSON.stringify({ op: "watch", id: 2, accounts: ["Gen-Acc"] }));
      await waitFor(() => frames.some((f) => f.t === "ack" && f.id === 1) && frames.some((f) => f.t === "error" && f.id === 2), 5000, "both answers");
      expect(frames.find((f) => f.t === "error" && f.id === 2)).toMatchObject({ code: "UNAUTHORIZED" });
      ws.close();
    }
  });
});

/** A python3 that imports websockets and msgpack (scripts/ensure-python-client.sh), or null. */
function python(): string | null {
  for (const py of [Bun.which("python3"), "/usr/bin/python3"]) {
    if (py && Bun.spawnSync([py, "-c", "import websockets, msgpack"], { stderr: "ignore" }).exitCode === 0) return py;
  }
  if (process.env.CI) throw new Error("python3 with websockets and msgpack is required under CI (scripts/ensure-python-client.sh)");
  return null;
}

describe("Python quick start", () => {
  test("protocol.md quotes docs/examples/quotes.py verbatim", async () => {
    const block = /## Python quick start[\s\S]*?```python\n([\s\S]*?)```/.exec(DOC);
    expect(block).not.toBeNull();
    expect(block![1]).toBe(await Bun.file(EXAMPLE).text());
  });

  test("it subscribes and prints quotes from the real server", async () => {
    const py = python();
    if (py === null) return;
    const p = Bun.spawn([py, EXAMPLE, app.server.wsUrl, "AAPL", "MSFT"], { env: { ...process.env, QUOTES: "4" }, stdout: "pipe", stderr: "pipe" });
    const code = await within(p.exited, 20_000, "the Python client to print 4 quotes").finally(() => p.kill());
    const out = await new Response(p.stdout).text();
    expect(await new Response(p.stderr).text()).toBe("");
    expect(code).toBe(0);
    const lines = out.trim().split("\n");
    expect(lines[0]).toBe("connected: protocol v1, heartbeat 2000 ms");
    expect(lines[1]).toBe("subscribed: AAPL, MSFT");
    expect(lines.slice(2)).toHaveLength(4);
    // A quote before the first trade (or a one-sided book) prints None where the server sends null.
    for (const l of lines.slice(2)) expect(l).toMatch(/^(AAPL|MSFT) +seq \d+ +bid ([\d.]+|None) +ask ([\d.]+|None) +last ([\d.]+|None)$/);
  });

  test("a refusal is printed and exits non-zero", async () => {
    const py = python();
    if (py === null) return;
    const p = Bun.spawn([py, EXAMPLE, app.server.wsUrl, "NOPE"], { stdout: "pipe", stderr: "pipe" });
    expect(await within(p.exited, 20_000, "the Python client to exit")).toBe(1);
    expect(await new Response(p.stderr).text()).toBe('refused: UNKNOWN_SYMBOL no instrument matches "NOPE" (field symbols[0])\n');
  });
});
