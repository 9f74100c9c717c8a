// Writes docs/openapi.json (REST) and docs/asyncapi.json (/ws) from the server's zod schemas.
// `npm run docs:api` after changing a route or a frame; test/unit/api-docs.test.ts fails while
// the committed files differ from what this generates.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildAsyncApi } from "../src/server/asyncapi.ts";
import { buildOpenApi } from "../src/server/openapi.ts";
import { API_INFO, API_ROUTE_DOCS } from "../src/server/openapi-routes.ts";

/** The two documents as the files hold them. */
export function apiDocuments(): { "openapi.json": string; "asyncapi.json": string } {
  return {
    "openapi.json": `${JSON.stringify(buildOpenApi(API_ROUTE_DOCS, API_INFO), null, 2)}\n`,
    "asyncapi.json": `${JSON.stringify(buildAsyncApi(), null, 2)}\n`,
  };
}

if (import.meta.main) {
  const docs = join(import.meta.dir, "..", "docs");
  for (const [name, text] of Object.entries(apiDocuments())) {
    writeFileSync(join(docs, name), text);
    process.stdout.write(`wrote docs/${name} (${text.length} bytes)\n`);
  }
}
