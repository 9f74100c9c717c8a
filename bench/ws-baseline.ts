// The app's fan-out against a bare Bun.serve pub/sub server (bench/bare-pubsub-fixture.ts) in the
// same run: the e2e scenario (raw load clients, JSON) `runs` rounds, each loading both servers,
// alternating which goes first, so both see the same load from other processes. Prints every
// run, the medians per server and the ratios app ÷ bare. The bare server publishes every
// subscribed symbol once per millisecond: what it delivers is the ceiling of Bun's pub/sub with
// these clients on this machine, not the same workload (it has no feed, engine or encoder).
//
// usage: bun bench/ws-baseline.ts [--runs 3] [--seconds 8] [--clients 100] [--symbols 10] [--rate 100000]

import { loadavg } from "node:os";
import { join } from "node:path";
import { runE2e, type E2eResult, type E2eScenario } from "./e2e.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const scenario: E2eScenario = {
  clients: arg("clients", 100), symbolsPerClient: arg("symbols", 10), ticksPerS: arg("rate", 100_000),
  seconds: arg("seconds", 8), clientProcesses: 2, format: "json", client: "raw",
};
const bare = [process.execPath, join(import.meta.dir, "bare-pubsub-fixture.ts")];
const runs = arg("runs", 3);
const all: Record<"app" | "bare", E2eResult[]> = { app: [], bare: [] };
const loadAvg = [loadavg()[0]!];
for (let r = 0; r < runs; r++) {
  for (const which of r % 2 === 0 ? ["app", "bare"] as const : ["bare", "app"] as const) {
    all[which].push(await runE2e(which === "app" ? scenario : { ...scenario, serverCommand: bare }));
    loadAvg.push(loadavg()[0]!);
  }
}
const summary = (rs: E2eResult[]) => ({
  deliveredPerS: median(rs.map((x) => x.deliveredPerS)),
  ingestToClientMs: { p50: median(rs.map((x) => x.ingestToClientMs.p50)), p99: median(rs.map((x) => x.ingestToClientMs.p99)), p999: median(rs.map((x) => x.ingestToClientMs.p999)) },
  gaps: rs.reduce((a, x) => a + x.gaps, 0),
  serverCpuPercent: median(rs.map((x) => x.serverCpuPercent)),
  // The server's CPU per message it delivered (µs): the cost of the fan-out itself, comparable
  // between the two servers even where their delivered rates differ a little.
  serverCpuUsPerMsg: median(rs.map((x) => (x.serverCpuPercent / 100) * 1e6 / Math.max(1, x.deliveredPerS))),
  clientCpuPercent: median(rs.map((x) => x.clientCpuPercent)),
  serverRssMbMax: Math.max(...rs.map((x) => x.serverRssMbMax)),
});
const app = summary(all.app), base = summary(all.bare);
console.log(JSON.stringify({
  date: new Date().toISOString(), loadAvg1m: loadAvg, scenario, app, bare: base,
  ratios: {
    delivered: app.deliveredPerS / base.deliveredPerS,
    p50: app.ingestToClientMs.p50 / base.ingestToClientMs.p50,
    p99: app.ingestToClientMs.p99 / base.ingestToClientMs.p99,
    serverCpu: app.serverCpuPercent / base.serverCpuPercent,
    serverCpuPerMsg: app.serverCpuUsPerMsg / base.serverCpuUsPerMsg,
  },
  runs: all,
}, null, 2));
