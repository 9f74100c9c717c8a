// GET /v1/analytics/accounts/{account}/performance: an account's trading performance
// (src/analytics/account-performance.ts computes it) from its durable cash entries, fills and
// orders. A key with the trade scope for that account, or an admin key; the history read is
// bounded by maxFills, past which the reply is 400 TOO_MANY_ROWS rather than a silent cut (a
// curve computed from part of the fills would have wrong positions).

import type { Context, Hono } from "hono";
import { accountPerformance, type AccountPerformance, type ArrivalMids } from "../analytics/account-performance.ts";
import { hasScope, mayTrade, type ApiKey, type KeyStore } from "../auth/keys.ts";
import type { OrderManager } from "../oms/manager.ts";
import type { Store } from "../store/store.ts";
import { KeyBuckets } from "./key-auth.ts";
import { errorResponse } from "./rest.ts";
import { z } from "zod";
import type { RouteDoc } from "./openapi-registry.ts";

/** What the performance route needs. */
export interface PerformanceRouteDeps {
  oms: OrderManager;
  store: Store;
  keys: KeyStore;
  arrivals: ArrivalMids;
  /** Trading days and the exchange date of an instant (the order manager's calendar). */
  days: { dateOf(ms: number): string; isTradingDay(date: string): boolean };
  clock?: () => number;
  /** Most fills of one account a report reads. */
  maxFills?: number;
  /** Reports per second per key, and the burst. */
  keyRatePerS?: number;
  keyBurst?: number;
}

/**
 * Defaults: 10,000 fills is years of a weekly premium-selling book and a few MB of rows; a
 * report reads them all, so 10 a second per key (burst 20) keeps a loop from hogging the process.
 */
export const PERFORMANCE_ROUTE_DEFAULTS = { maxFills: 10_000, keyRatePerS: 10, keyBurst: 20 };

/** Adds GET /v1/analytics/accounts/:account/performance. */
export function performanceRoutes(deps: PerformanceRouteDeps): (app: Hono) => void {
  const o = { ...PERFORMANCE_ROUTE_DEFAULTS, clock: Date.now, ...deps };
  const buckets = new KeyBuckets(o.keys, o.keyRatePerS, o.keyBurst);

  const authorize = (c: Context, account: string): ApiKey | Response => {
    const header = c.req.header("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
    const key = token ? o.keys.verify(token) : undefined;
    if (!key) return errorResponse(401, "UNAUTHORIZED", token ? "the API key is not valid" : "send Authorization: Bearer <api key>");
    if (!hasScope(key, "trade")) return errorResponse(403, "FORBIDDEN", "account performance needs a trade or admin key");
    // An account the key may not trade is reported as unknown, as the account routes do.
    if (!o.oms.account(account) || !mayTrade(key, account)) return errorResponse(404, "NOT_FOUND", `no account ${account}`, "account");
    if (!buckets.take(key.id)) return errorResponse(429, "RATE_LIMITED", `over ${o.keyRatePerS} performance reports/s for this API key`);
    return key;
  };

  return (app) => {
    app.get("/v1/analytics/accounts/:account/performance", async (c) => {
      const account = c.req.param("account");
      const key = authorize(c, account);
      if (key instanceof Response) return key;
      const { items, total } = await o.oms.fills({ account }, o.maxFills, 0);
      if (total > o.maxFills) {
        return errorResponse(400, "TOO_MANY_ROWS", `account ${account} has ${total} fills; a report reads at most ${o.maxFills}`, "account");
      }
      const created = new Map<string, number | undefined>();
      const report = accountPerformance({
        account, cash: o.store.cash().filter((e) => e.account === account), fills: items,
        orderCreatedTs: (id) => {
          if (!created.has(id)) created.set(id, o.store.order(id)?.createdTs);
          return created.get(id);
        },
        arrivalMid: (id) => o.arrivals.get(id),
        equityNow: o.oms.account(account)!.equity, nowMs: o.clock(), days: o.days,
      });
      return c.json(report);
    });
  };
}

const n = z.number();
const nn = z.number().nullable();

/** GET /v1/analytics/accounts/{account}/performance (src/analytics/account-performance.ts). */
const performanceSchema = z.object({
  account: z.string(), asOfTs: n, deposits: n, equity: n, netPnl: n, realizedPnl: n, commissions: n, returnOnDeposits: nn,
  curve: z.array(z.object({ ts: n, equity: n })),
  daily: z.array(z.object({ date: z.string(), equity: n, pnl: n, return: nn })),
  periodsPerYear: n, sharpe: nn, sortino: nn,
  drawdown: z.object({ maxDrawdown: n, peakTs: n, troughTs: n, longestPoints: n, recovered: z.boolean() }).nullable(),
  trades: z.object({ trades: n, wins: n, losses: n, breakeven: n, winRate: nn, profitFactor: nn, grossProfit: n, grossLoss: n, expectancy: nn }),
  slippage: z.object({ fills: n, measured: n, cost: n, avgPerShare: nn, avgBps: nn }),
  fillLatencyMs: z.object({ count: n, p50: nn, p90: nn, p99: nn, max: nn }),
});

// Compile-time: the documented reply is exactly AccountPerformance.
const _performanceMatches: [z.infer<typeof performanceSchema>] extends [AccountPerformance]
  ? ([AccountPerformance] extends [z.infer<typeof performanceSchema>] ? true : false) : false = true;
void _performanceMatches;

/** The route of this file, for the OpenAPI document. */
export const performanceRouteDocs: RouteDoc[] = [{
  method: "get", path: "/v1/analytics/accounts/:account/performance", tag: "analytics", auth: "trade", summary: "An account's trading performance",
  params: z.object({ account: z.string() }),
  replies: { 200: { description: "Equity curve, daily P&L, ratios, drawdown, trade, slippage and latency statistics", schema: performanceSchema } },
  errors: { 400: ["TOO_MANY_ROWS"], 404: ["NOT_FOUND"] },
}];
