// The short soak campaign (bench/campaign/soak.ts): 100 churning WebSocket clients in a client
// process against the real server; every client stays served (no slow-consumer or other
// disconnect, no failed dial, no error frame). RSS flatness needs minutes: the full run judges it (docs/reliability.md).

import { expect, test } from "bun:test";
import { run } from "../../bench/campaign/soak.ts";
import { captureFigure } from "../helpers/campaign.ts";

test("soak campaign, short: 100 churning clients served, no slow-consumer disconnects", async () => {
  const { code, figure } = await captureFigure("soak", () => run(["--short"]));
  expect(figure.clients).toBe("100");
  expect(Number(figure.deliveredPerS)).toBeGreaterThan(0);
  expect(Number(figure.reconnects) + Number(figure.resubscribes)).toBeGreaterThan(0);
  for (const k of ["slowDisconnects", "unexpectedCloses", "dialFailures"]) expect(`${k}=${figure[k]}`).toBe(`${k}=0`);
  expect(figure.errors).toBe("none");
  expect(figure.flat).toBe("untested"); // seconds of RSS samples cannot tell a trend from GC; the full run judges it
  expect(code).toBe(0);
}, 60_000);
