// Benchmark: what the generated OpenAPI document costs a request. The document is built once
// (first GET /openapi.json) from route declarations; no request runs anything for it. Compared,
// in-process through app.fetch (no sockets) on GET /v1/quotes/AAPL:
//   plain     the REST app as before this change (no /openapi.json route)
//   registry  the same app with GET /openapi.json registered and already built (this design)
//   validated the same app where the quote route also runs a zod validator on its path
//             parameter, as @hono/zod-openapi's app.openapi() routes do for every declared
//             request part (its zValidator middleware), the per-request cost that design adds
//   composed  the validated variant's shape with a middleware that checks nothing (its control)
// Rounds alternate the variants (a shared 2-core machine moves timings by ±20 % between
// seconds); the median per-request time of each is reported, and the one-time build cost.
//
// Rerun: bun bench/api-docs.ts

import { Hono } from "hono";
import { z } from "zod";
import { Engine } from "../src/engine/engine.ts";
import { createLogger } from "../src/log.ts";
import { DEFAULT_LIMITS } from "../src/server/limits.ts";
import { buildOpenApi, openApiRoutes } from "../src/server/openapi.ts";
import { API_INFO, API_ROUTE_DOCS } from "../src/server/openapi-routes.ts";
import { createRestApp } from "../src/server/rest.ts";

const ROUNDS = 31;
const PER_ROUND = 4000;

const engine = await Engine.create({ maxInstruments: 64 });
engine.addInstrument({ symbol: "AAPL", kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" });
const base = { engine, limits: DEFAULT_LIMITS, readiness: () => ({ ready: true, reasons: [] }), startedAtMs: 0, log: createLogger("error", "bench", () => {}) };

const plain = createRestApp(base);
const registry = createRestApp({ ...base, routes: [openApiRoutes(() => API_ROUTE_DOCS, API_INFO)] });
// The validated variant: the route's path parameter checked by zod before the handler, per request.
const params = z.object({ symbol: z.string().min(1).max(32) });
const validated = new Hono();
validated.get("/v1/quotes/:symbol", async (c, next) => {
  const r = params.safeParse(c.req.param());
  if (!r.success) return c.json({ error: { code: "BAD_REQUEST", message: r.error.issues[0]!.message } }, 400);
  await next();
}, (c) => {
  const inst = engine.instrument(c.req.param("symbol"));
  return inst ? c.json(engine.quote(inst.index)) : c.json({ error: { code: "NOT_FOUND", message: "unknown" } }, 404);
});
validated.route("/", registry);
// The same shape with a middleware that checks nothing: what is left is the validator's own cost.
const composed = new Hono();
composed.get("/v1/quotes/:symbol", async (_c, next) => {
  await next();
}, (c) => {
  const inst = engine.instrument(c.req.param("symbol"));
  return inst ? c.json(engine.quote(inst.index)) : c.json({ error: { code: "NOT_FOUND", message: "unknown" } }, 404);
});
composed.route("/", registry);

const t0 = performance.now();
buildOpenApi(API_ROUTE_DOCS, API_INFO);
const buildMs = performance.now() - t0;
const f0 = performance.now();
await (await registry.fetch(new Request("http://bench/openapi.json"))).text();
const firstServeMs = performance.now() - f0;
const c0 = performance.now();
for (let i = 0; i < 100; i++) await (await registry.fetch(new Request("http://bench/openapi.json"))).arrayBuffer();
const cachedServeUs = ((performance.now() - c0) / 100) * 1000;

async function round(app: Hono): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < PER_ROUND; i++) {
    const res = await app.fetch(new Request("http://bench/v1/quotes/AAPL"));
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    await res.arrayBuffer();
  }
  return ((performance.now() - start) * 1e6) / PER_ROUND;
}

const apps = { plain, registry, validated, composed } as Record<string, Hono>;
const ns: Record<string, number[]> = { plain: [], registry: [], validated: [], composed: [] };
for (const a of Object.values(apps)) await round(a); // warm up
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? ["plain", "registry", "validated", "composed"] : ["composed", "validated", "registry", "plain"];
  for (const name of order) ns[name]!.push(await round(apps[name]!));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const out = Object.fromEntries(Object.entries(ns).map(([k, v]) => [k, Math.round(median(v))]));
console.log(JSON.stringify({ nsPerRequestMedian: out, registryVsPlain: +(out.registry! / out.plain!).toFixed(3),
  validatedVsPlain: +(out.validated! / out.plain!).toFixed(3), validatedVsComposed: +(out.validated! / out.composed!).toFixed(3), buildMs: +buildMs.toFixed(1), firstServeMs: +firstServeMs.toFixed(1),
  cachedServeUs: +cachedServeUs.toFixed(1), rounds: ROUNDS, perRound: PER_ROUND }));
