import { describe, expect, test } from "bun:test";
import { createLogger, REDACTED } from "../../src/log.ts";

function capture(level: "debug" | "info" | "warn" | "error" = "debug") {
  const lines: string[] = [];
  const log = createLogger(level, "app", (l) => lines.push(l));
  return { log, records: () => lines.join("").trimEnd().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), lines };
}

describe("structured logs", () => {
  test("one JSON object per line with level name, ISO time, component and message", () => {
    const { log, lines, records } = capture();
    log.info("hello", { symbol: "AAPL", n: 3 });
    log.child("server").child("rest").warn("slow");
    expect(lines.every((l) => l.endsWith("\n") && !l.slice(0, -1).includes("\n"))).toBe(true);
    const [a, b] = records();
    expect(a).toMatchObject({ level: "info", component: "app", msg: "hello", symbol: "AAPL", n: 3 });
    expect(new Date(a!.time as string).toISOString()).toBe(a!.time as string);
    expect(b).toMatchObject({ level: "warn", component: "app.server.rest", msg: "slow" });
    // The component key is written once even for a grandchild.
    expect(lines[1]!.match(/"component"/g)!.length).toBe(1);
  });

  test("levels below the threshold are dropped", () => {
    const { log, records } = capture("warn");
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    expect(records().map((r) => r.level)).toEqual(["warn", "error"]);
  });

  test("secrets are redacted wherever a caller puts them, up to three levels deep", () => {
    const { log, records, lines } = capture();
    log.info("request", {
      authorization: "Bearer top-secret-1", apiKey: "top-secret-2",
      headers: { authorization: "Bearer top-secret-3", "x-api-key": "top-secret-4", cookie: "top-secret-5", accept: "json" },
      req: { headers: { authorization: "Bearer top-secret-6" } }, password: "top-secret-7", token: "top-secret-8",
    });
    expect(lines.join("")).not.toContain("top-secret");
    const r = records()[0]!;
    expect(r.authorization).toBe(REDACTED);
    expect((r.headers as Record<string, string>).accept).toBe("json");
    expect(((r.req as Record<string, Record<string, string>>).headers).authorization).toBe(REDACTED);
  });

  test("errors keep their name, message and stack", () => {
    const { log, records } = capture();
    log.error("failed", { err: new TypeError("bad input"), cause: new RangeError("too big") });
    const r = records()[0]!;
    expect(r.err).toMatchObject({ type: "TypeError", message: "bad input" });
    expect(String((r.err as { stack: string }).stack)).toContain("TypeError: bad input");
    expect(r.cause).toMatchObject({ name: "RangeError", message: "too big" });
  });
});
