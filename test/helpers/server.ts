// Starts the real server on a free port over a test market, disposable with `await using`.

import { startServer, type Readiness, type RunningServer, type ServerLimits } from "../../src/server/server.ts";
import type { TestMarket } from "./market.ts";

/** A running test server that stops itself when disposed. */
export type TestServer = RunningServer & AsyncDisposable;

/** Starts a server on 127.0.0.1 and an OS-chosen port (or `port`). */
export async function serveMarket(market: TestMarket, limits: Partial<ServerLimits> = {}, extra: { port?: number; readiness?: () => Readiness } = {}): Promise<TestServer> {
  const srv = await startServer(market.engine, { host: "127.0.0.1", port: extra.port ?? 0, limits, readiness: extra.readiness });
  return Object.assign(srv, { [Symbol.asyncDispose]: () => srv.stop() });
}

/** Yields to the event loop so sockets flush; used between bursts of engine batches. */
export function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** A JSON REST call to a test server: status and parsed body; `key` (when given) as the bearer token. */
export async function restCall(baseUrl: string, key: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}
