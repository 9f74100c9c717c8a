// docs/openapi.json and docs/asyncapi.json are what scripts/gen-api-docs.ts generates now (run
// `npm run docs:api` after changing a route or a frame), and each validates with an independent
// validator: @seriousme/openapi-schema-validator (OpenAPI 3.1) and @asyncapi/parser (AsyncAPI 3).

import { describe, expect, test } from "bun:test";
import { Parser } from "@asyncapi/parser";
import { Validator } from "@seriousme/openapi-schema-validator";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { apiDocuments } from "../../scripts/gen-api-docs.ts";
import { WS_ERROR_CODES } from "../../src/client/protocol.ts";

const docsDir = join(import.meta.dir, "..", "..", "docs");
const generated = apiDocuments();

describe("API documents", () => {
  test("the committed documents are what the generator writes now", () => {
    for (const [name, text] of Object.entries(generated)) {
      expect(readFileSync(join(docsDir, name), "utf8"), `docs/${name} is stale: run npm run docs:api`).toBe(text);
    }
  });

  test("docs/openapi.json is valid OpenAPI 3.1", async () => {
    const v = new Validator();
    const r = await v.validate(JSON.parse(generated["openapi.json"]));
    expect(r.errors ?? []).toEqual([]);
    expect(r.valid).toBe(true);
  });

  test("docs/asyncapi.json is valid AsyncAPI 3 and describes every op, reply and push in both encodings", async () => {
    const diagnostics = await new Parser().validate(generated["asyncapi.json"]);
    // Severity 0 is an error, 1 a warning; 2 and 3 are hints (e.g. "a newer AsyncAPI version exists").
    expect(diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.code}: ${d.message} at ${d.path.join(".")}`)).toEqual([]);
    const doc = JSON.parse(generated["asyncapi.json"]);
    const ops = Object.values(doc.operations as Record<string, { action: string; title: string; channel: { $ref: string } }>);
    const sent = (ch: string) => ops.filter((o) => o.action === "receive" && o.channel.$ref === `#/channels/${ch}`).map((o) => o.title).sort();
    const expected = ["alerts.ack", "alerts.subscribe", "alerts.unsubscribe", "auth", "cancel", "chain.subscribe", "chain.unsubscribe", "modify", "ping",
      "preview", "session.subscribe", "session.unsubscribe", "submit", "subscribe", "unsubscribe", "unwatch", "watch"];
    expect(sent("ws")).toEqual(expected);
    expect(sent("wsMsgpack")).toEqual(expected);
    expect(doc.components.messages.frame_q_msgpack.contentType).toBe("application/msgpack");
    expect(doc.components.schemas.ErrorFrame.properties.code.enum).toEqual([...WS_ERROR_CODES]);
    // The parser's rule engine takes 7-14 s for this document on the shared 2-core machine: a bound, not a timing assertion.
  }, 120_000);
});
