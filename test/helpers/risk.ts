// A trading rig with the risk engine for tests: the order manager over the WASM test market with
// the risk service as its pre-trade hook, the order and risk REST routes on a real Bun.serve
// (port 0), an admin key, and quotes on AAPL, MSFT, TSLA and two TSLA options.

import { KeyStore } from "../../src/auth/keys.ts";
import type { RiskConfig, RiskLimitsOverride } from "../../src/risk/settings.ts";
import { riskRoutes } from "../../src/server/risk-routes.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { orderRoutes, ORDER_ROUTE_DEFAULTS } from "../../src/server/orders.ts";
import { OmsHarness } from "./oms.ts";

/** Limits loose enough that only the ones a test sets can bind. */
export const LOOSE: RiskLimitsOverride = {
  maxOrderNotional: 100, maxQty: 1_000_000, priceBand: 1, optionPriceBand: 5, maxOpenOrders: 1000, maxPositionQty: 10_000_000,
  maxGrossExposure: 100, maxNetExposure: 100, maxConcentration: 100, maxDelta: 100, submitRatePerS: 100_000, modifyRatePerS: 100_000,
  dailyLossReduce: 100, dailyLossHalt: 100, drawdownReduce: 100, drawdownHalt: 100,
};
/** The options the rig quotes. */
export const CALL = "TSLA-20261127-C-250";
export const PUT = "TSLA-20261127-P-250";

/** A reply: status and parsed JSON. */
export interface Reply { status: number; json: any }

/** What a test drives. */
export interface RiskRig {
  h: OmsHarness;
  server: RunningServer;
  adminKey: string;
  keys: KeyStore;
  place(o: Record<string, unknown>): Promise<Reply>;
  call(method: string, path: string, body?: unknown, key?: string): Promise<Reply>;
  close(): Promise<void>;
}

let n = 0;

/** How a rig differs from the default one. */
export interface RiskRigOptions {
  mode?: "cash" | "regT";
  /** The data directory of an earlier rig: a restart. */
  dir?: string;
  extraStocks?: string[];
  /** The rest of the risk configuration (markWaitMs, adminOverrideStep, ...). */
  risk?: Partial<RiskConfig>;
  /** Start time of the harness clock (MONDAY_10AM by default). */
  nowMs?: number;
  /** false: start with no quotes at all, as a restarted server does before the feed ticks. */
  quotes?: boolean;
}

/** Starts a rig with one account `T` of $100,000 (cash or Reg-T), the given limits over LOOSE. */
export async function startRiskRig(limits: RiskLimitsOverride = {}, o: RiskRigOptions = {}): Promise<RiskRig> {
  const h = await OmsHarness.start({
    ...(o.dir ? { dir: o.dir } : {}),
    ...(o.extraStocks ? { extraStocks: o.extraStocks } : {}),
    ...(o.nowMs !== undefined ? { nowMs: o.nowMs } : {}),
    accounts: { capital: 100_000, list: [{ id: "T", share: 1, mode: o.mode ?? "cash", broker: "paper" }] },
    risk: { defaults: { ...LOOSE, ...limits }, accounts: {}, publishMs: 60_000, ...o.risk },
  });
  if (o.quotes !== false) quoteAll(h);
  const keys = new KeyStore(h.store.db);
  const adminKey = keys.create(["admin"], []).secret;
  const api = { keys, ...ORDER_ROUTE_DEFAULTS };
  const server = await startServer(h.market.engine, {
    host: "127.0.0.1", port: 0,
    rest: { routes: [orderRoutes({ oms: h.oms, maxRows: 50, ...api }), riskRoutes({ risk: h.risk!, maxRows: 50, ...api })] },
  });
  const call = async (method: string, path: string, body?: unknown, key = adminKey): Promise<Reply> => {
    const res = await fetch(`${server.url}${path}`, {
      method, headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  };
  return {
    h, server, adminKey, keys, call,
    place: (x) => call("POST", "/v1/orders", { account: "T", clientOrderId: `p${process.pid}-${++n}`, symbol: "AAPL", side: "buy", type: "market", qty: 1, ...x }),
    async close() {
      await server.stop();
      await h.stop();
    },
  };
}

/** The rig's opening quotes. */
function quoteAll(h: OmsHarness): void {
  h.quote("AAPL", 100, 100_000, 100.02, 100_000);
  h.quote("MSFT", 100, 100_000, 100.02, 100_000);
  h.quote("TSLA", 250, 100_000, 250.1, 100_000);
  h.quote(CALL, 10, 500, 10.2, 500);
  h.quote(PUT, 9.8, 500, 10, 500);
}
