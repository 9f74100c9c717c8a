// The short version of campaign `tws` (bench/campaign/tws.ts) in `npm test`: the whole server
// against the TWS simulator through each fault (dropped socket, restart with execution ids
// starting again, fills while disconnected) under order flow: no fill lost, none doubled,
// every order filled. Its quotes-back time is reported, not judged: that is the full run's.

import { expect, test } from "bun:test";
import { campaignTws, run, SHORT_RUNS } from "../../bench/campaign/tws.ts";

test("campaign tws --short: each fault under order flow loses and doubles no fill", async () => {
  const f = await campaignTws(SHORT_RUNS);
  expect(f.faults).toEqual({ drop: 2, restart: 1, filldrop: 1 });
  expect(f).toMatchObject({ runs: SHORT_RUNS, fillsLost: 0, fillsDoubled: 0, ordersUnfilled: 0 });
  // Two market orders a run and one resting order a filldrop run, each one execution.
  expect(f.fills).toBe(2 * SHORT_RUNS + 1);
  expect(f.quotesBackMs).toHaveLength(SHORT_RUNS);
});

test("campaign tws: the entry point runs --short to a 0 exit and refuses bad options", async () => {
  expect(await run(["--runs", "0"])).toBe(2);
  expect(await run(["--bogus"])).toBe(2);
  expect(await run(["--short"])).toBe(0);
});
