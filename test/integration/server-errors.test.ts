// Errors that used to mislead: a listen failure names the real cause (port in use, address not
// of this machine); a client that drops mid-body is a client abort (info, status 499), not a 500;
// /readyz answering 503 is logged once per change, not at error level per probe; handler
// failures go through the app logger.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { observeRequests } from "../../src/server/metrics-http.ts";
import { ListenError, startServer } from "../../src/server/server.ts";
import { TestMarket } from "../helpers/market.ts";
import { parseExposition, sampleValue } from "../helpers/prom-parse.ts";
import { waitFor } from "../helpers/wait.ts";

async function listenFailure(host: string, port: number): Promise<ListenError> {
  const market = await TestMarket.create();
  try {
    const s = await startServer(market.engine, { host, port });
    await s.stop();
  } catch (err) {
    return err as ListenError;
  }
  throw new Error(`listened on ${host}:${port}`);
}

describe("listen failures", () => {
  test("a port in use is named as such, with the port", async () => {
    const market = await TestMarket.create();
    const first = await startServer(market.engine, { host: "127.0.0.1", port: 0 });
    try {
      const err = await listenFailure("127.0.0.1", first.port);
      expect(err).toBeInstanceOf(ListenError);
      expect(err.message).toBe(`cannot listen on 127.0.0.1:${first.port}: port ${first.port} is in use (another alluse-market?); choose another --port`);
    } finally {
      await first.stop();
    }
  });

  test("an address that is not this machine's is named as such, not as a port in use", async () => {
    // TEST-NET-3 (RFC 5737): never assigned to a host, so never one of this machine's addresses.
    const err = await listenFailure("203.0.113.7", 18_787);
    expect(err).toBeInstanceOf(ListenError);
    expect(err.message).toStartWith("cannot listen on 203.0.113.7:18787: 203.0.113.7 is not an address of this machine");
  });
});

test("a failing REST handler is logged through the app logger with its error", async () => {
  const market = await TestMarket.create();
  const lines: string[] = [];
  const server = await startServer(market.engine, {
    host: "127.0.0.1", port: 0, log: createLogger("info", "test", (l) => lines.push(l)),
    rest: { routes: [(app) => app.get("/v1/boom", () => { throw new Error("boom"); })] },
  });
  try {
    expect((await fetch(`${server.url}/v1/boom`)).status).toBe(500);
    const failed = lines.map((l) => JSON.parse(l) as Record<string, any>).filter((r) => r.msg === "rest handler failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: "error", path: "/v1/boom", err: { message: "boom" } });
  } finally {
    await server.stop();
  }
});

test("with a request logger in front, a failing handler is one error line: the request's, with its id and error", async () => {
  const market = await TestMarket.create();
  const lines: string[] = [];
  const log = createLogger("info", "test", (l) => lines.push(l));
  const server = await startServer(market.engine, {
    host: "127.0.0.1", port: 0, log,
    rest: { middleware: [observeRequests({ log })], routes: [(app) => app.get("/v1/boom", () => { throw new Error("boom"); })] },
  });
  try {
    expect((await fetch(`${server.url}/v1/boom`, { headers: { "x-request-id": "r-1" } })).status).toBe(500);
    const errors = lines.map((l) => JSON.parse(l) as Record<string, any>).filter((r) => r.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ msg: "request failed", requestId: "r-1", err: { message: "boom" } });
  } finally {
    await server.stop();
  }
});

describe("the whole app", () => {
  const lines: string[] = [];
  let app: App;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "alluse-server-errors-"));
    const log = createLogger("info", "test", (l) => lines.push(l));
    app = await startApp(await loadConfig(["--port", "0", "--data-dir", dir, "--symbols", "AAPL", "--option-expiries", "0", "--durability", "none"], {}), log);
  });
  afterAll(async () => {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, any>);
  const requests = async () => parseExposition(await (await fetch(`${app.server.url}/metrics`)).text());

  test("a client that drops in mid-body is logged at info as a client abort and counted as 499, never as a 5xx", async () => {
    const { secret } = app.trading.keys.create(["trade"], ["*"], "abort test");
    const socket = await Bun.connect({ hostname: "127.0.0.1", port: app.server.port, socket: { data() {} } });
    socket.write(`POST /v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${secret}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"account":`);
    // Headers and part of the body go first, then the end of the stream: the handler is reading the body when it ends.
    socket.end();
    await waitFor(() => records().some((r) => r.msg === "client closed the request"), 10_000, "the abort to be logged");
    expect(records().find((r) => r.msg === "client closed the request")).toMatchObject({ level: "info", method: "POST", path: "/v1/orders" });
    const m = await requests();
    expect(sampleValue(m, "alluse_http_requests_total", { route: "/v1/orders", method: "POST", status: "499" })).toBe(1);
    expect(sampleValue(m, "alluse_http_requests_total", { route: "/v1/orders", method: "POST", status: "500" })).toBeUndefined();
    expect(records().filter((r) => r.level === "error")).toEqual([]);
  });

  test("/readyz 503s are logged once when readiness changes, at warn, never as failed requests", async () => {
    await app.feed.stop();
    for (let i = 0; i < 3; i++) expect((await fetch(`${app.server.url}/readyz`)).status).toBe(503);
    const notReady = records().filter((r) => r.msg === "not ready");
    expect(notReady).toHaveLength(1);
    expect(notReady[0]).toMatchObject({ level: "warn", reasons: ["feed: synthetic is not live"] });
    expect(records().filter((r) => r.msg === "request failed" || r.level === "error")).toEqual([]);
  });
});
