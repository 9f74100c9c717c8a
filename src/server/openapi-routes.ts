// Every REST route's declaration, in one list: what GET /openapi.json and
// scripts/gen-api-docs.ts document. A test (test/integration/openapi.test.ts) compares it with the
// routes the running app serves, both ways, so a route added without its declaration fails there.

import { PROTOCOL_VERSION } from "../client/protocol.ts";
import { performanceRouteDocs } from "./accounts-analytics.ts";
import { alertRouteDocs } from "./alerts-routes.ts";
import { analyticsRouteDocs } from "./analytics-routes.ts";
import { brokerRouteDocs } from "./broker-routes.ts";
import { chainRouteDocs } from "./chains-routes.ts";
import { greeksRouteDocs } from "./greeks.ts";
import { historyRouteDocs } from "./history-routes.ts";
import { dashboardRouteDocs } from "./home.ts";
import { keyRouteDocs } from "./keys-routes.ts";
import { metricsRouteDocs } from "./metrics-http.ts";
import { openApiRouteDocs, type ApiInfo } from "./openapi.ts";
import type { RouteDoc } from "./openapi-registry.ts";
import { orderRouteDocs } from "./orders.ts";
import { previewRouteDocs } from "./preview.ts";
import { restRouteDocs } from "./rest.ts";
import { riskRouteDocs } from "./risk-routes.ts";
import { strategyRouteDocs } from "./strategy-routes.ts";

/** Every REST route of the app (risk routes are served only with the risk engine on, its default). */
export const API_ROUTE_DOCS: readonly RouteDoc[] = [
  ...restRouteDocs, ...greeksRouteDocs, ...chainRouteDocs, ...metricsRouteDocs, ...dashboardRouteDocs, ...analyticsRouteDocs, ...performanceRouteDocs,
  ...orderRouteDocs, ...previewRouteDocs, ...keyRouteDocs, ...alertRouteDocs, ...brokerRouteDocs, ...historyRouteDocs, ...riskRouteDocs, ...strategyRouteDocs,
  ...openApiRouteDocs,
];

/** The document's title and version (the wire protocol's). */
export const API_INFO: ApiInfo = {
  title: "alluse-market",
  version: String(PROTOCOL_VERSION),
  description: "REST API of alluse-market: quotes, bars, options, analytics, orders, accounts, risk, alerts and admin. "
    + "Every error is {\"error\":{\"code\",\"message\",\"field?\"}}. The WebSocket API at /ws is described by docs/asyncapi.json. "
    + "Generated from the server's zod schemas by scripts/gen-api-docs.ts; never edit by hand.",
};
