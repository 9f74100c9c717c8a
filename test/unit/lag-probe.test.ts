// The event-loop lag probe on a virtual clock: a blocked loop is simulated exactly, so each
// observation is known to the millisecond and nothing depends on how the scheduler runs.

import { expect, test } from "bun:test";
import { LAG_SECONDS_BUCKETS, LagProbe } from "../../src/monitor/metrics.ts";
import { MetricsRegistry } from "../../src/monitor/registry.ts";
import { VirtualClock } from "../helpers/virtual-clock.ts";

function probe() {
  const clock = new VirtualClock();
  const h = new MetricsRegistry().histogram({ name: "lag_seconds", help: "lag", buckets: LAG_SECONDS_BUCKETS });
  const p = new LagProbe(h, clock, 100);
  const series = h.labels();
  return { clock, p, observations: () => ({ count: series.count, sumMs: Math.round(series.sum * 1000) }) };
}

test("an idle loop shows no lag: a 100 ms timer fires on time", () => {
  const { clock, observations } = probe();
  clock.advance(1000);
  expect(observations()).toEqual({ count: 10, sumMs: 0 });
});

test("a block shows as the timer's lateness: from the block's length minus the interval to the block's length", () => {
  const { clock, observations } = probe();
  clock.advance(100);
  // Armed at 100, due at 200; the loop is busy from 100 to 350, so it fires at 350: 150 ms late.
  clock.block(250);
  clock.advance(350);
  expect(observations()).toEqual({ count: 2, sumMs: 150 });
  // Armed at 350, due at 450; busy from 440 to 690: fires at 690, 240 ms late (the block minus 10 ms).
  clock.advance(440);
  clock.block(250);
  clock.advance(690);
  expect(observations()).toEqual({ count: 3, sumMs: 390 });
  // Armed at 690, due at 790; a 150 ms block from 700 shows as only 60 ms: why a test cannot
  // expect a 150 ms block above the 0.1 s bucket (the flaky test this replaced).
  clock.advance(700);
  clock.block(150);
  clock.advance(850);
  expect(observations()).toEqual({ count: 4, sumMs: 450 });
});

test("stop() ends the observations", () => {
  const { clock, p, observations } = probe();
  clock.advance(250);
  p.stop();
  clock.block(500);
  clock.advance(5000);
  expect(observations()).toEqual({ count: 2, sumMs: 0 });
});
