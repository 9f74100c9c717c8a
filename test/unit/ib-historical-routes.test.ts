// GET /v1/history/:symbol over an IB session to the TWS simulator: keys and scopes, bars, the
// 15-second answer cache (an identical query never reaches TWS twice), parameter errors, TWS's
// refusals passed on, and 409 without --feed ib.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { Hono } from "hono";
import { KeyStore } from "../../src/auth/keys.ts";
import { IbSession } from "../../src/ib/session.ts";
import { createLogger } from "../../src/log.ts";
import { historyRoutes, parseQuery } from "../../src/server/history-routes.ts";
import { ORDER_ROUTE_DEFAULTS } from "../../src/server/orders.ts";
import { IN } from "../../src/sim/tws/messages.ts";
import { TwsSimulator } from "../../src/sim/tws/simulator.ts";
import { openDatabase } from "../../src/store/db.ts";

const quiet = createLogger("error", "test", () => {});
let sim: TwsSimulator;
let session: IbSession;
let keys: KeyStore;
let app: Hono;
let readKey: string;
beforeAll(async () => {
  sim = new TwsSimulator({ port: 0, symbols: ["AAPL", "TSLA"], optionExpiries: 1, strikesPerSide: 1, tickRatePerS: 100, log: quiet });
  await sim.start();
  session = new IbSession({ host: "127.0.0.1", port: sim.port, clientId: 51, backoff: { initialMs: 20, maxMs: 100 }, log: quiet });
  session.start();
  await session.waitUsable(5000);
  keys = new KeyStore(openDatabase(":memory:", "none"));
  readKey = keys.create(["read"], []).secret;
  app = new Hono();
  historyRoutes({ session, isStock: (s) => s === "AAPL" || s === "TSLA", keys, ...ORDER_ROUTE_DEFAULTS })(app);
});
afterAll(async () => {
  await session.stop();
  await sim.stop();
});

const get = async (path: string, key: string | null = readKey, on = app) => {
  const res = await on.request(path, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { bars: { time: number; close: number }[]; error: { code: string; message: string; field?: string } } };
};

test("a read key gets daily bars ending at the current price; an identical query within 15 s is served without TWS", async () => {
  sim.pinTrade("AAPL", 199.5, 100);
  const requests = () => sim.arrivals().filter((a) => a.msgId === IN.REQ_HISTORICAL_DATA).length;
  const before = requests();
  const r = await get("/v1/history/aapl?barSize=1d&duration=1M&end=2026-11-20T21:00:00Z");
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ symbol: "AAPL", barSize: "1d", duration: "1M", what: "TRADES", rth: true, end: "2026-11-20T21:00:00Z" });
  expect(r.body.bars.length).toBe(23);
  expect(r.body.bars.at(-1)).toMatchObject({ time: Date.UTC(2026, 10, 20), close: 199.5 });
  const again = await get("/v1/history/AAPL?barSize=1d&duration=1M&end=2026-11-20T21:00:00Z");
  expect(again.body.bars).toEqual(r.body.bars);
  expect(requests()).toBe(before + 1);
  const minutes = await get("/v1/history/AAPL?barSize=1m&duration=1D&what=midpoint&rth=0&end=2026-11-20T21:00:00Z");
  expect(minutes.body.bars.length).toBe(1440);
  expect(requests()).toBe(before + 2);
  sim.unpin("AAPL");
});

test("keys, symbols and parameters are checked before IBKR is asked", async () => {
  expect((await get("/v1/history/AAPL", null)).status).toBe(401);
  const tradeOnly = keys.create(["trade"], []).secret;
  expect((await get("/v1/history/AAPL", tradeOnly)).status).toBe(403);
  const unknown = await get("/v1/history/NOPE");
  expect(unknown.status).toBe(404);
  expect(unknown.body.error.code).toBe("UNKNOWN_INSTRUMENT");
  for (const [query, field] of [["barSize=2d", "barSize"], ["duration=1Q", "duration"], ["what=VOLUME", "what"], ["rth=yes", "rth"], ["end=yesterday", "end"]]) {
    const r = await get(`/v1/history/AAPL?${query}`);
    expect(r.status).toBe(400);
    expect(r.body.error.field).toBe(field!);
  }
  expect(parseQuery({})).toEqual({ endDateTime: "", duration: "1 M", barSize: "1 day", whatToShow: "TRADES", useRTH: true });
});

test("IBKR's refusal comes back as 422 with its message; without --feed ib the route is 409", async () => {
  // 999 years of 1-minute bars: TWS refuses with 162.
  const r = await get("/v1/history/TSLA?barSize=1m&duration=999Y&end=2026-11-20T21:00:00Z");
  expect(r.status).toBe(422);
  expect(r.body.error.message).toContain("162");
  const other = new Hono();
  historyRoutes({ session: undefined, isStock: () => true, keys, ...ORDER_ROUTE_DEFAULTS })(other);
  const off = await get("/v1/history/AAPL", readKey, other);
  expect(off.status).toBe(409);
  expect(off.body.error.message).toContain("--feed ib");
});
