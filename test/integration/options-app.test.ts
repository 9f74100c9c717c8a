// The options workflow in the whole app on its embedded defaults (synthetic market with weekly
// chains, paper broker, the ALL-USE accounts and delta bands): this week's TSLA chain with live
// greeks, Gen-Acc's 40-50Δ puts found by the band filter, a preview of one agreeing with the
// submit that follows, and a put outside the band previewed as denied (DELTA_BAND) exactly as a
// submit is. A preview leaves the other accounts' risk recomputing.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { fridayExpiries } from "../../src/feed/market.ts";
import { createLogger } from "../../src/log.ts";
import { waitFor } from "../helpers/wait.ts";
import { parseExposition, promtoolCheck, sampleValue } from "../helpers/prom-parse.ts";
import { TestSocket } from "../helpers/test-socket.ts";
import type { ChainFrame } from "../../src/client/protocol.ts";
import { restCall } from "../helpers/server.ts";

const silent = createLogger("error", "test", () => {});
let dir: string;
let app: App;
let key: string;

const call = (method: string, path: string, body?: unknown) => restCall(app.server.url, key, method, path, body);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "alluse-options-app-"));
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify({ dataDir: dir, port: 0, feed: { symbols: ["TSLA", "AAPL"], tickRatePerS: 2000, optionExpiries: 2, strikesPerSide: 8 } }));
  app = await startApp(await loadConfig(["--config", file], {}), silent);
  key = app.trading.keys.create(["admin"], []).secret;
  // Every TSLA option quoted at least once.
  await waitFor(() => app.engine.instruments.filter((i) => i.underlying === "TSLA").every((i) => app.engine.quote(i.index).ask !== null), 10_000);
});
afterAll(async () => {
  await app?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const limitAtMid = (leg: any) => Math.round(leg.mid * 100) / 100;

describe("options workflow in the app", () => {
  test("the synthetic market's weekly TSLA chains are served with live greeks", async () => {
    const list = await call("GET", "/v1/chains/TSLA");
    expect(list.status).toBe(200);
    const weeklies = fridayExpiries(Date.now(), 3).map((e) => `${e.expiry.slice(0, 4)}-${e.expiry.slice(4, 6)}-${e.expiry.slice(6, 8)}`);
    // The market listed its two Fridays at start; now's next two are those (or, across a Friday close, start one later).
    expect([weeklies.slice(0, 2), weeklies.slice(1, 3)]).toContainEqual(list.json.expiries);
    expect(list.json.spot).toBeGreaterThan(0);
    const chain = await call("GET", `/v1/chains/TSLA/${list.json.expiries[0]}`);
    expect(chain.status).toBe(200);
    expect(chain.json.rows.length).toBe(17);
    const legs = chain.json.rows.flatMap((r: any) => [r.call, r.put]);
    expect(legs.every((l: any) => l !== null)).toBe(true);
    expect(legs.filter((l: any) => l.status === "ok").length).toBeGreaterThan(legs.length / 2);
  });

  test("Gen-Acc: a 40-50Δ put from the band filter previews as a submit then goes; a 10Δ put is DELTA_BAND for both", async () => {
    const expiry = (await call("GET", "/v1/chains/TSLA")).json.expiries[0];
    const all = (await call("GET", `/v1/chains/TSLA/${expiry}?right=put`)).json.rows.map((r: any) => r.put).filter((l: any) => l.status === "ok");
    const inBand = (await call("GET", `/v1/chains/TSLA/${expiry}?right=put&minDelta=0.40&maxDelta=0.50`)).json.rows.map((r: any) => r.put);
    expect(inBand.length).toBeGreaterThan(0);
    for (const leg of inBand) expect(Math.abs(leg.delta)).toBeGreaterThanOrEqual(0.4);
    // The leg farthest from the band's edges (the synthetic chain's are >= 0.015 inside), so the
    // market moving in the milliseconds between preview and submit does not flip the answer.
    const margin = (l: any) => Math.min(Math.abs(l.delta) - 0.4, 0.5 - Math.abs(l.delta));
    const pick = inBand.reduce((a: any, b: any) => (margin(b) > margin(a) ? b : a));
    const far = all.find((l: any) => Math.abs(l.delta) < 0.2);
    expect(far).toBeDefined();
    const sell = (leg: any, id: string) => ({ account: "Gen-Acc", clientOrderId: id, symbol: leg.symbol, side: "sell", type: "limit", qty: 1, limitPrice: limitAtMid(leg) });

    const denied = sell(far, "app-far");
    const p1 = await call("POST", "/v1/orders/preview", denied);
    expect(p1.json.allowed).toBe(false);
    expect(p1.json.denials.map((d: any) => d.code)).toEqual(["DELTA_BAND"]);
    const s1 = await call("POST", "/v1/orders", denied);
    expect(s1.json.status).toBe("denied");
    expect(s1.json.reason).toStartWith("DELTA_BAND: ");

    const body = sell(pick, "app-band");
    const p2 = await call("POST", "/v1/orders/preview", body);
    expect(p2.json).toMatchObject({ allowed: true, denials: [] });
    expect(p2.json.after.buyingPower.required - p2.json.before.buyingPower.required).toBeCloseTo(Number(pick.symbol.split("-")[3]) * 100, 6);
    const s2 = await call("POST", "/v1/orders", body);
    expect(s2.status).toBe(201);
    expect(s2.json.status).not.toBe("denied");
  });

  test("the live TSLA chain streams over /ws: a snapshot, then updates of changed rows as the synthetic market ticks", async () => {
    const expiry = (await call("GET", "/v1/chains/TSLA")).json.expiries[0];
    await using ws = await TestSocket.open(app.server.wsUrl);
    ws.send({ op: "chain.subscribe", id: 1, underlying: "TSLA", expiry });
    const snap = await ws.next<ChainFrame>((f) => f.t === "chain" && f.id === 1);
    expect(snap.rows.length).toBe(17);
    const update = await ws.next<ChainFrame>((f) => f.t === "chain" && !f.snapshot, 10_000);
    expect(update.rows.length).toBeGreaterThan(0);
    expect(update.rows.every((r) => snap.rows.some((x) => x.strike === r.strike))).toBe(true);
  });

  test("/metrics counts previews by outcome and the chain streams (promtool-clean)", async () => {
    const text = await (await fetch(`${app.server.url}/metrics`)).text();
    const fam = parseExposition(text);
    expect(sampleValue(fam, "alluse_order_previews_total", { result: "refused" })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(fam, "alluse_order_previews_total", { result: "allowed" })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(fam, "alluse_chain_frames_total")).toBeGreaterThanOrEqual(2);
    expect(sampleValue(fam, "alluse_chain_legs_priced_total")).toBeGreaterThan(0);
    expect(sampleValue(fam, "alluse_chain_streams_open")).toBeDefined();
    expect(sampleValue(fam, "alluse_chain_conflated_rows_total")).toBe(0);
    const check = promtoolCheck(text);
    if (check) expect(check.output).toBe("");
  });

  test("after previews every account is back in the risk recompute (the preview's isolation is undone)", async () => {
    const risk = app.trading.risk!;
    const t = risk.tables;
    const slots = ["Gen-Acc", "Rev-Acc", "Com-Acc"].map((a) => risk.book.slotOf(a)!);
    for (const s of slots) expect(t.acc(s, "A_USED")).toBe(1);
    const ts0 = t.acc(slots[1]!, "A_TS");
    await waitFor(() => Date.now() > ts0, 1000);
    risk.recompute();
    expect(t.acc(slots[1]!, "A_TS")).toBeGreaterThan(ts0);
  });
});
