// Every error reply a route module's source can build — errorResponse(status, "CODE") or the
// order manager's fail(status, "CODE") — is declared by that module's routes in the OpenAPI
// document, so a new error code or status cannot ship undocumented.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performanceRouteDocs } from "../../src/server/accounts-analytics.ts";
import { alertRouteDocs } from "../../src/server/alerts-routes.ts";
import { analyticsRouteDocs } from "../../src/server/analytics-routes.ts";
import { brokerRouteDocs } from "../../src/server/broker-routes.ts";
import { chainRouteDocs } from "../../src/server/chains-routes.ts";
import { greeksRouteDocs } from "../../src/server/greeks.ts";
import { historyRouteDocs } from "../../src/server/history-routes.ts";
import { keyRouteDocs } from "../../src/server/keys-routes.ts";
import { routeErrors } from "../../src/server/openapi.ts";
import type { RouteDoc } from "../../src/server/openapi-registry.ts";
import { orderRouteDocs } from "../../src/server/orders.ts";
import { previewRouteDocs } from "../../src/server/preview.ts";
import { restRouteDocs } from "../../src/server/rest.ts";
import { riskRouteDocs } from "../../src/server/risk-routes.ts";

const src = join(import.meta.dir, "..", "..", "src");
const ERROR_CALL = /\b(?:errorResponse|fail)(?:<\w+>)?\(\s*(\d{3}),\s*"([A-Z_]+)"/g;

/** "status code" pairs a source file can answer with. */
function built(...files: string[]): Set<string> {
  const out = new Set<string>();
  for (const f of files) for (const m of readFileSync(join(src, f), "utf8").matchAll(ERROR_CALL)) out.add(`${m[1]} ${m[2]}`);
  return out;
}

/** "status code" pairs the routes declare. */
function declared(docs: RouteDoc[]): Set<string> {
  const out = new Set<string>();
  for (const r of docs) for (const [status, codes] of routeErrors(r)) for (const c of codes) out.add(`${status} ${c}`);
  return out;
}

const MODULES: [string[], RouteDoc[]][] = [
  [["server/rest.ts"], restRouteDocs],
  [["server/greeks.ts"], greeksRouteDocs],
  [["server/chains-routes.ts"], chainRouteDocs],
  [["server/analytics-routes.ts"], analyticsRouteDocs],
  [["server/accounts-analytics.ts"], performanceRouteDocs],
  [["server/alerts-routes.ts"], alertRouteDocs],
  [["server/broker-routes.ts"], brokerRouteDocs],
  [["server/history-routes.ts"], historyRouteDocs],
  [["server/keys-routes.ts"], keyRouteDocs],
  [["server/risk-routes.ts"], riskRouteDocs],
  [["server/orders.ts", "server/preview.ts", ...readdirSync(join(src, "oms")).filter((f) => f.endsWith(".ts")).map((f) => `oms/${f}`)], [...orderRouteDocs, ...previewRouteDocs]],
];

describe("declared error codes", () => {
  for (const [files, docs] of MODULES) {
    test(`${files[0]}: every error it builds is declared`, () => {
      const have = declared(docs);
      expect([...built(...files)].filter((p) => !have.has(p)).sort()).toEqual([]);
    });
  }
});
