// The short fuzz campaign (bench/campaign/fuzz.ts): random and mutated WebSocket frames (JSON and
// MessagePack) and REST requests against the real server process; it must stay up, answer
// /healthz, and never answer client input with a 5xx, a 1011 close or an error log line.

import { expect, test } from "bun:test";
import { run } from "../../bench/campaign/fuzz.ts";
import { captureFigure } from "../helpers/campaign.ts";

test("fuzz campaign, short: no crash, no 5xx, no internal error", async () => {
  const { code, figure } = await captureFigure("fuzz", () => run(["--short"]));
  expect(Number(figure.frames)).toBeGreaterThanOrEqual(12_000);
  expect(Number(figure.requests)).toBe(1_200);
  for (const k of ["crashes", "http5xx", "closes1011", "internal"]) expect(`${k}=${figure[k]}`).toBe(`${k}=0`);
  // The malformed input was seen as such: both decoders and the validator answered with error frames.
  for (const c of ["BAD_JSON", "BAD_MSGPACK", "BAD_REQUEST"]) expect(figure.errors).toContain(`${c}:`);
  expect(code).toBe(0);
}, 60_000);
