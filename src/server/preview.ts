// POST /v1/orders/preview: a POST /v1/orders body checked as a submit would be — validation, the
// order manager's bounds and the WASM pre-trade check — without placing, journaling or sending
// anything (src/options/preview.ts). Same key rules as placing (trade scope on the account) and
// its own per-key rate, equal to the order routes', so previews cannot crowd out orders.

import type { Hono } from "hono";
import { mayTrade, type KeyStore } from "../auth/keys.ts";
import type { RestErrorCode } from "../client/protocol.ts";
import type { OrderPreviewer } from "../options/preview.ts";
import { jsonBody, keyAuthenticator } from "./key-auth.ts";
import { errorResponse } from "./rest.ts";
import { orderPreviewSchema } from "../client/protocol-schemas.ts";
import { newOrderSchema } from "../oms/validate.ts";
import type { RouteDoc } from "./openapi-registry.ts";

/** What the preview route needs. */
export interface PreviewRoutesDeps {
  previewer: OrderPreviewer;
  keys: KeyStore;
  /** Requests per second per API key, and the burst (the order routes' values). */
  keyRatePerS: number;
  keyBurst: number;
  maxBodyBytes: number;
}

/** Adds POST /v1/orders/preview. */
export function previewRoutes(deps: PreviewRoutesDeps): (app: Hono) => void {
  const auth = keyAuthenticator(deps);
  return (app) => {
    app.post("/v1/orders/preview", async (c) => {
      const key = auth(c, "trade");
      if (key instanceof Response) return key;
      const body = await jsonBody(c, deps.maxBodyBytes);
      if (body instanceof Response) return body;
      const r = deps.previewer.preview(body, (a) => mayTrade(key, a));
      if (!r.ok) return errorResponse(r.error.status, r.error.code as RestErrorCode, r.error.message, r.error.field);
      return c.json(r.value);
    });
  };
}

/** The route of this file, for the OpenAPI document. */
export const previewRouteDocs: RouteDoc[] = [{
  method: "post", path: "/v1/orders/preview", tag: "orders", auth: "trade", summary: "Check an order as a submit would, placing nothing",
  body: newOrderSchema,
  replies: { 200: { description: "What a submit would meet: allowed, denials, warnings, the account before and after", schema: orderPreviewSchema } },
  errors: {
    400: ["BAD_REQUEST", "BAD_QUANTITY", "PRICE_OFF_TICK", "OPTION_EXPIRED", "UNKNOWN_INSTRUMENT"], 403: ["FORBIDDEN"], 404: ["UNKNOWN_ACCOUNT"],
    409: ["DUPLICATE_CLIENT_ORDER_ID"],
  },
}];
