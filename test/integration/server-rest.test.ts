// The REST API against a real server: lists with filters and paging, quotes, bars, health,
// readiness, and the JSON errors of each route.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Quote } from "../../src/client/protocol.ts";
import { OPTIONS, STOCKS, TestMarket } from "../helpers/market.ts";
import { serveMarket, type TestServer } from "../helpers/server.ts";

let market: TestMarket;
let server: TestServer;
let ready = { ready: true, reasons: [] as string[] };

beforeAll(async () => {
  market = await TestMarket.create();
  server = await serveMarket(market, { maxRestRows: 4 }, { readiness: () => ready });
});
afterAll(() => server.stop());

async function get(path: string): Promise<{ status: number; body: any }> {
  const r = await fetch(server.url + path);
  expect(r.headers.get("content-type")).toContain(path === "/" ? "text/html" : "application/json");
  return { status: r.status, body: path === "/" ? await r.text() : await r.json() };
}

test("GET /v1/instruments filters by kind and underlying and pages by maxRestRows", async () => {
  const all = await get("/v1/instruments");
  expect(all.status).toBe(200);
  expect(all.body).toMatchObject({ total: STOCKS.length + OPTIONS.length, offset: 0, next: 4 });
  expect(all.body.instruments.map((i: { symbol: string }) => i.symbol)).toEqual(STOCKS.slice(0, 4));
  expect(all.body.instruments[0]).toEqual({ symbol: "AAPL", kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" });
  const last = await get(`/v1/instruments?offset=8&limit=4`);
  expect(last.body).toMatchObject({ total: 9, offset: 8, next: null });
  expect(last.body.instruments.length).toBe(1);

  const options = await get("/v1/instruments?kind=option&underlying=TSLA");
  expect(options.body.instruments.map((i: { symbol: string }) => i.symbol)).toEqual(OPTIONS.filter((s) => s.startsWith("TSLA")));
  expect(options.body.instruments[0]).toMatchObject({ underlying: "TSLA", expiry: "20261127", right: "C", strike: 250, multiplier: 100 });
  const family = await get("/v1/instruments?underlying=AAPL");
  expect(family.body.instruments.map((i: { symbol: string }) => i.symbol)).toEqual(["AAPL", "AAPL-20261127-C-202.5"]);

  expect(await get("/v1/instruments?kind=future")).toEqual({ status: 400, body: { error: { code: "BAD_REQUEST", message: "kind must be stock or option", field: "kind" } } });
  expect((await get("/v1/instruments?limit=5")).body.error).toMatchObject({ code: "BAD_REQUEST", field: "limit" });
  expect((await get("/v1/instruments?offset=-1")).body.error).toMatchObject({ code: "BAD_REQUEST", field: "offset" });
  expect((await get("/v1/instruments?offset=99")).status).toBe(400);
});

test("GET /v1/quotes by list, bounded by maxRestRows, and paged without a list", async () => {
  market.update(["AAPL", "MSFT"]);
  const two = await get("/v1/quotes?symbols=MSFT,AAPL");
  expect(two.status).toBe(200);
  const quotes = two.body.quotes as Quote[];
  expect(quotes.map((q) => q.symbol)).toEqual(["MSFT", "AAPL"]);
  expect(quotes[1]).toEqual({ ...market.engine.quote(market.row("AAPL")) });

  const unknown = await get("/v1/quotes?symbols=AAPL,NOPE");
  expect(unknown).toMatchObject({ status: 404, body: { error: { code: "NOT_FOUND", field: "symbols[1]" } } });
  const many = await get("/v1/quotes?symbols=A,B,C,D,E");
  expect(many).toMatchObject({ status: 400, body: { error: { code: "TOO_MANY_ROWS", field: "symbols" } } });
  expect((await get("/v1/quotes?symbols=")).status).toBe(400);

  const page = await get("/v1/quotes");
  expect(page.body).toMatchObject({ total: 9, offset: 0, next: 4 });
  expect(page.body.quotes.length).toBe(4);
  const rest = await get("/v1/quotes?offset=4&limit=4");
  expect(rest.body.quotes.map((q: Quote) => q.symbol)).toEqual(["BRK/B", ...OPTIONS.slice(0, 3)]);
});

test("GET /v1/quotes/:symbol decodes the path, including / and option symbols", async () => {
  market.update(["BRK/B", OPTIONS[3]]);
  const brk = await get(`/v1/quotes/${encodeURIComponent("BRK/B")}`);
  expect(brk.status).toBe(200);
  expect(brk.body.symbol).toBe("BRK/B");
  expect(brk.body.bid).toBe(market.engine.quote(market.row("BRK/B")).bid);
  const opt = await get(`/v1/quotes/${OPTIONS[3]}`);
  expect(opt.body).toMatchObject({ symbol: "AAPL-20261127-C-202.5", seq: market.engine.quote(market.row(OPTIONS[3])).seq });
  expect(await get("/v1/quotes/NOPE")).toMatchObject({ status: 404, body: { error: { code: "NOT_FOUND", field: "symbol" } } });
});

test("GET /v1/bars/:symbol returns closed 1-minute bars and the open one, limit validated", async () => {
  const minute = 60_000;
  const t0 = Math.floor(Date.now() / minute) * minute - 3 * minute;
  market.tradeAt("NVDA", 100, 10, t0 + 1000);
  market.tradeAt("NVDA", 101, 20, t0 + 2000);
  market.tradeAt("NVDA", 102, 30, t0 + minute + 1000);
  market.tradeAt("NVDA", 99, 40, t0 + 2 * minute + 1000);
  const all = await get("/v1/bars/NVDA");
  expect(all.status).toBe(200);
  expect(all.body.barMs).toBe(minute);
  expect(all.body.closed).toEqual([
    { start: t0, open: 100, high: 101, low: 100, close: 101, volume: 30 },
    { start: t0 + minute, open: 102, high: 102, low: 102, close: 102, volume: 30 },
  ]);
  expect(all.body.current).toEqual({ start: t0 + 2 * minute, open: 99, high: 99, low: 99, close: 99, volume: 40 });
  expect((await get("/v1/bars/NVDA?limit=1")).body.closed).toEqual([all.body.closed[1]]);
  expect((await get("/v1/bars/MSFT")).body).toMatchObject({ closed: [], current: null });
  for (const bad of ["0", "391", "abc", "1.5"]) {
    expect(await get(`/v1/bars/NVDA?limit=${bad}`)).toMatchObject({ status: 400, body: { error: { code: "BAD_REQUEST", field: "limit" } } });
  }
  expect((await get("/v1/bars/NOPE")).status).toBe(404);
});

test("health, readiness, the home page and unknown routes", async () => {
  expect(await get("/healthz")).toMatchObject({ status: 200, body: { status: "ok" } });
  expect(await get("/readyz")).toEqual({ status: 200, body: { ready: true, reasons: [] } });
  ready = { ready: false, reasons: ["feed not live"] };
  try {
    expect(await get("/readyz")).toEqual({ status: 503, body: { ready: false, reasons: ["feed not live"] } });
  } finally {
    ready = { ready: true, reasons: [] };
  }
  const home = await get("/");
  expect(home.status).toBe(200);
  // The dashboard page; its script and data come from public routes (test/e2e drives it in a browser).
  expect(home.body).toContain('<table id="quotes">');
  expect(home.body).toContain('src="/dashboard.js"');
  expect(await get("/v2/nothing")).toMatchObject({ status: 404, body: { error: { code: "NOT_FOUND" } } });
});
