// The opt-in stage timer (src/oms/stages.ts): per-stage figures from fixed marks, stages
// measured from the last mark reached, and reset. No clock: every mark is given.

import { expect, test } from "bun:test";
import { record, resetStages, STAGE_TIMING, StageTrace, stageSummary } from "../../src/oms/stages.ts";

test("off unless ALLUSE_STAGE_TIMING=1", () => {
  expect(STAGE_TIMING).toBe(process.env.ALLUSE_STAGE_TIMING === "1");
});

test("each stage runs from the previous mark reached; the total from first to last", () => {
  resetStages();
  for (let i = 0; i < 10; i++) {
    const t = new StageTrace();
    // No HTTP marks (an in-process order): "validated" counts from nothing, so the first stage is pretrade.
    t.mark("validated", 100);
    t.mark("pretrade", 100.002);
    t.mark("enqueued", 100.003);
    t.mark("broker", 100.005);
    t.mark("sent", 100.005 + i * 0.001);
    t.mark("resumed", 101);
    record(t);
  }
  const s = stageSummary();
  expect(s.orders).toBe(10);
  const by = Object.fromEntries(s.stages.map((r) => [r.stage, r]));
  expect(Object.keys(by)).toEqual(["pretrade", "enqueued", "broker", "sent", "resumed"]);
  expect(by.pretrade!.p50Us).toBeCloseTo(2, 6);
  expect(by.sent!.from).toBe("broker");
  expect(by.sent!.p50Us).toBeCloseTo(5, 6);
  expect(by.sent!.p99Us).toBeCloseTo(9, 6);
  expect(by.resumed!.from).toBe("sent");
  expect(s.totalUs!.meanUs).toBeCloseTo(1000, 6);
  resetStages();
  expect(stageSummary().orders).toBe(0);
});
