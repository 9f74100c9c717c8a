// Fan-out before and after, same run (issue 14): bench/e2e.ts's scenario with the server of
// another checkout (the baseline, exported as bench/compare.ts says) and with this tree's,
// alternating round by round, and the medians base → now (×). Only the server differs: the load
// clients are this tree's on both sides. The single process only — a baseline such as b6388e3
// has no --role or --nats, so edges cannot be compared this way. Every flag the single server
// gets (--port, --max-connections, --data-dir, --symbols, --tick-rate, --bad-tick-rate,
// --feed-thread) exists at b6388e3.
//
// Rerun, against b6388e3: bun bench/e2e.ts --baseline /tmp/base-b6388e3 --runs 3 --clients 1000 --symbols 10 --rate 100000 --seconds 10

import { resolve } from "node:path";
import { alternate, compareTable, type Alternated, type Metric } from "./compare.ts";
import { runE2e, type E2eResult, type E2eScenario } from "./e2e.ts";

const HERE = resolve(import.meta.dir, "..");

/** Server CPU (every server-side process) per delivered message, µs. */
const cpuUsPerMsg = (r: E2eResult) => r.nodes.reduce((a, n) => a + n.cpuUsPerMsg, 0);

/** The rows of the comparison. */
export const E2E_METRICS: Metric<E2eResult>[] = [
  { name: "delivered msgs/s", get: (r) => r.deliveredPerS, digits: 0 },
  { name: "tick→client p50 ms", get: (r) => r.ingestToClientMs.p50, digits: 3 },
  { name: "tick→client p99 ms", get: (r) => r.ingestToClientMs.p99, digits: 3 },
  { name: "server CPU µs per delivered msg", get: cpuUsPerMsg, digits: 3 },
  { name: "server CPU % of one core", get: (r) => r.serverCpuPercent, digits: 0 },
  { name: "server peak RSS MB", get: (r) => r.serverRssMbMax, digits: 1 },
  { name: "sequence gaps (conflated or dropped)", get: (r) => r.gaps, digits: 0 },
  { name: "missed (frames the clients never saw)", get: (r) => r.missed, digits: 0 },
  { name: "slow-client disconnects", get: (r) => r.slowDisconnects, digits: 0 },
];

/** Runs `s` `runs` times on each of `baseline` and this tree, alternating which goes first. */
export async function compareBaseline(s: E2eScenario, baseline: string, runs: number): Promise<Alternated<E2eResult>> {
  if (s.edges) throw new Error("--baseline compares the single process only (an older tree may have no --role/--nats)");
  if (s.serverCommand) throw new Error("--baseline runs each tree's own server; serverCommand does not apply");
  return alternate(runs, resolve(baseline), HERE, (tree) => runE2e(s, tree));
}

/** The comparison as markdown, headed by the scenario. */
export function e2eCompareTable(s: E2eScenario, c: Alternated<E2eResult>): string[] {
  const what = `${s.clients} clients × ${s.symbolsPerClient} symbols, ${s.ticksPerS} ticks/s, ${s.seconds} s, ${s.format}, ${s.client ?? "raw"} clients`;
  return compareTable(`Fan-out, baseline against this tree (${what})`, E2E_METRICS, c);
}
