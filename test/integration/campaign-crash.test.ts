// The short crash campaign (bench/campaign/crash.ts): the real server killed with SIGKILL under an
// order flood and again when quiet, twice; nothing acknowledged is lost or doubled, and cash,
// positions and trading states are unchanged by the restarts.

import { beforeAll, expect, test } from "bun:test";
import { run } from "../../bench/campaign/crash.ts";
import { captureFigure } from "../helpers/campaign.ts";

let result: { code: number; figure: Record<string, string> };
beforeAll(async () => {
  result = await captureFigure("crash", () => run(["--short"]));
}, 60_000);

test("crash campaign, short: 0 lost, 0 doubled, cash and positions unchanged", () => {
  const { figure } = result;
  expect(figure.runs).toBe("2");
  expect(Number(figure.acked)).toBeGreaterThanOrEqual(120);
  for (const k of ["lost", "fillsLost", "doubled", "cashDiffs", "positionDiffs"]) expect(`${k}=${figure[k]}`).toBe(`${k}=0`);
});

// Issue 10, defect 1: a restart with positions valued them as a day's loss and halted the account
// (Com-Acc's holding here); positions now wait for their marks (docs/risk.md), and this guards it.
test("crash campaign, short: trading states unchanged by the restarts (defect 1)", () => {
  expect(`stateChanges=${result.figure.stateChanges}`).toBe("stateChanges=0");
  expect(result.code).toBe(0);
});
