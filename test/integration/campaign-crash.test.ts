// The short crash campaign (bench/campaign/crash.ts): the real server killed with SIGKILL under an
// order flood and again when quiet, twice; nothing acknowledged is lost or doubled, and cash,
// positions and trading states are unchanged by the restarts.

import { expect, test } from "bun:test";
import { run } from "../../bench/campaign/crash.ts";
import { captureFigure } from "../helpers/campaign.ts";

test("crash campaign, short: 0 lost, 0 doubled, no state or cash changes", async () => {
  const { code, figure } = await captureFigure("crash", () => run(["--short"]));
  expect(figure.runs).toBe("2");
  expect(Number(figure.acked)).toBeGreaterThanOrEqual(120);
  for (const k of ["lost", "fillsLost", "doubled", "stateChanges", "cashDiffs", "positionDiffs"]) expect(`${k}=${figure[k]}`).toBe(`${k}=0`);
  expect(code).toBe(0);
}, 60_000);
