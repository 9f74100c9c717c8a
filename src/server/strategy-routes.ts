// GET /v1/strategy/candidates?account=&underlying=&expiry= — the legs of one expiry inside the
// account's delta band, sized and pre-checked with the order preview (src/options/candidates.ts).
// A trade key that may trade the account (the answer shows its buying power and positions'
// consequences); the per-key rate of the order routes, since each reply runs order previews.

import type { Hono } from "hono";
import { z } from "zod";
import { candidatesReplySchema } from "../client/protocol-schemas.ts";
import type { RouteDoc } from "./openapi-registry.ts";
import { mayTrade, type KeyStore } from "../auth/keys.ts";
import type { RestErrorCode } from "../client/protocol.ts";
import { findCandidates, type CandidateDeps } from "../options/candidates.ts";
import { keyAuthenticator } from "./key-auth.ts";
import { errorResponse } from "./rest.ts";

/** What the route needs. */
export interface StrategyRoutesDeps {
  candidates: CandidateDeps;
  keys: KeyStore;
  keyRatePerS: number;
  keyBurst: number;
}

/** Adds GET /v1/strategy/candidates. */
export function strategyRoutes(deps: StrategyRoutesDeps): (app: Hono) => void {
  const auth = keyAuthenticator(deps);
  return (app) => {
    app.get("/v1/strategy/candidates", async (c) => {
      const key = auth(c, "trade");
      if (key instanceof Response) return key;
      const account = c.req.query("account");
      const underlying = c.req.query("underlying");
      if (!account) return errorResponse(400, "BAD_REQUEST", "account is required", "account");
      if (!underlying) return errorResponse(400, "BAD_REQUEST", "underlying is required", "underlying");
      const expiry = c.req.query("expiry");
      const r = await findCandidates(deps.candidates, { account, underlying, ...(expiry !== undefined ? { expiry } : {}) }, (a) => mayTrade(key, a));
      if (!r.ok) return errorResponse(r.error.status, r.error.code as RestErrorCode, r.error.message, r.error.field);
      return c.json(r.value);
    });
  };
}

/** The route of this file, for the OpenAPI document. */
export const strategyRouteDocs: RouteDoc[] = [{
  method: "get", path: "/v1/strategy/candidates", tag: "options", auth: "trade",
  summary: "The legs of one expiry in the account's delta band, sized and pre-checked with the order preview",
  query: z.object({
    account: z.string().describe("An account the key may trade"),
    underlying: z.string().describe("A stock with listed options, e.g. TSLA"),
    expiry: z.string().optional().describe("YYYY-MM-DD; the next weekly expiry when absent"),
  }),
  replies: { 200: { description: "Candidates in the band, with size, yield and the preview of each", schema: candidatesReplySchema } },
  errors: { 400: ["BAD_REQUEST"], 403: ["FORBIDDEN"], 404: ["UNKNOWN_ACCOUNT", "NOT_FOUND"] },
}];
