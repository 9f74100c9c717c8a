// REST view of the broker's own account (admin): with --broker ib, what IBKR itself says —
// the account summary (net liquidation, cash, margin, buying power), its positions, and the
// differences the last reconciliation found against the journal. The paper broker has no account
// outside this process, so these routes answer 409 there (GET /v1/accounts is its truth).
//
//   GET /v1/broker            {"name","external","positionDiffs":[…]}
//   GET /v1/broker/account    {"summary":{ibAccount:{tag:value}},"positions":[{ibAccount,symbol,secType,qty,avgCost}]}

import type { Hono } from "hono";
import type { Broker } from "../broker/broker.ts";
import { IbBroker } from "../broker/ib.ts";
import { symbolOf } from "../broker/ib-map.ts";
import { keyAuthenticator, type KeyAuthOptions } from "./key-auth.ts";
import { errorResponse } from "./rest.ts";
import { z } from "zod";
import type { RouteDoc } from "./openapi-registry.ts";

/** What the broker routes need. */
export interface BrokerRoutesDeps extends KeyAuthOptions {
  broker: Broker;
}

/** Adds the /v1/broker routes. */
export function brokerRoutes(deps: BrokerRoutesDeps): (app: Hono) => void {
  const auth = keyAuthenticator(deps);
  const { broker } = deps;
  return (app) => {
    app.get("/v1/broker", (c) => {
      const key = auth(c, "admin");
      if (key instanceof Response) return key;
      return c.json({ name: broker.name, external: broker.external, positionDiffs: broker instanceof IbBroker ? broker.lastPositionDiffs : [] });
    });

    app.get("/v1/broker/account", async (c) => {
      const key = auth(c, "admin");
      if (key instanceof Response) return key;
      if (!(broker instanceof IbBroker)) {
        return errorResponse(409, "BAD_REQUEST", `the ${broker.name} broker keeps no account outside this server; see GET /v1/accounts`);
      }
      try {
        const [summary, positions] = await Promise.all([broker.accountSummary(), broker.positions()]);
        return c.json({
          summary,
          positions: positions.map((p) => ({
            ibAccount: p.account, symbol: symbolOf(p.contract) ?? null, secType: p.contract.secType ?? null, qty: p.qty, avgCost: p.avgCost,
          })),
        });
      } catch (err) {
        // A timeout, a refused request or a lost connection: the broker is not answering now.
        return errorResponse(503, "INTERNAL", `IBKR did not answer: ${(err as Error).message}`);
      }
    });
  };
}

/** The routes of this file, for the OpenAPI document. */
export const brokerRouteDocs: RouteDoc[] = [
  { method: "get", path: "/v1/broker", tag: "broker", auth: "admin", summary: "The broker and the last reconciliation's position differences",
    replies: { 200: { description: "The broker", schema: z.object({ name: z.string(), external: z.boolean(), positionDiffs: z.array(z.object({ ibAccount: z.string(), symbol: z.string(), ibQty: z.number(), ourQty: z.number() })).describe("Positions where IBKR and the journal disagree, at the last reconciliation") }) } } },
  { method: "get", path: "/v1/broker/account", tag: "broker", auth: "admin", summary: "What IBKR says about the account (--broker ib only)",
    replies: { 200: { description: "Account summary and positions as IBKR reports them", schema: z.object({
      summary: z.record(z.string(), z.record(z.string(), z.string())).describe("ibAccount → tag → value"),
      positions: z.array(z.object({ ibAccount: z.string(), symbol: z.string().nullable(), secType: z.string().nullable(), qty: z.number(), avgCost: z.number() })),
    }) } },
    errors: { 409: ["BAD_REQUEST"], 503: ["INTERNAL"] } },
];
