// The operator's stack around /metrics: the Grafana board (docs/grafana/alluse-market.json) and
// the Prometheus alerting rules (docs/prometheus/alerts.yml). promtool checks and unit-tests the
// rules; every metric the board and the rules name must be served by a running app (fed and
// brokered by IBKR through the TWS simulator, so the IB families are there too); each built-in
// alert rule has its Prometheus counterpart with the catalogue's thresholds and hold.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type App, startApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { RULE_CATALOG } from "../../src/monitor/alert-catalog.ts";
import { TwsSimulator } from "../../src/sim/tws/simulator.ts";
import { parseExposition } from "../helpers/prom-parse.ts";
import { familyOf, metricNamesOf } from "../helpers/promql-names.ts";

const ROOT = join(import.meta.dir, "../..");
const RULES = join(ROOT, "docs/prometheus/alerts.yml");
const RULE_TESTS = join(ROOT, "docs/prometheus/alerts.test.yml");
const BOARD = join(ROOT, "docs/grafana/alluse-market.json");

interface PromRule { alert: string; expr: string; for?: string; labels: Record<string, string>; annotations: Record<string, string> }
interface Panel { id: number; type: string; title: string; datasource?: { type: string; uid: string }; gridPos: { h: number; w: number; x: number; y: number };
  targets?: { refId: string; expr: string; datasource?: { uid: string } }[] }

const rules = (Bun.YAML.parse(await Bun.file(RULES).text()) as { groups: { name: string; rules: PromRule[] }[] }).groups.flatMap((g) => g.rules);
const board = (await Bun.file(BOARD).json()) as { schemaVersion: number; uid: string; title: string; panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] } };

/** promtool's path, or null when it is not installed (required under CI). */
function promtool(): string | null {
  const bin = Bun.which("promtool") ?? (Bun.file("/usr/local/bin/promtool").size > 0 ? "/usr/local/bin/promtool" : null);
  if (bin === null && process.env.CI) throw new Error("promtool is required under CI (scripts/ensure-promtool.sh)");
  return bin;
}

function run(cmd: string[], cwd: string): { code: number; out: string } {
  const p = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, out: p.stdout.toString() + p.stderr.toString() };
}

describe("Prometheus rules", () => {
  test("promtool check rules accepts the file", () => {
    const bin = promtool();
    if (bin === null) return;
    const r = run([bin, "check", "rules", RULES], ROOT);
    expect(r.out).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });

  test("promtool test rules: thresholds, holds and labels of the unit-tested rules", () => {
    const bin = promtool();
    if (bin === null) return;
    const r = run([bin, "test", "rules", RULE_TESTS], join(ROOT, "docs/prometheus"));
    expect(r.out).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });

  test("every built-in rule has a counterpart; thresholds and holds are the catalogue's", () => {
    for (const name of Object.keys(RULE_CATALOG)) expect(rules.some((r) => r.labels.builtin === name), name).toBe(true);
    for (const r of rules) {
      expect(Object.keys(RULE_CATALOG), r.alert).toContain(r.labels.builtin!);
      expect(r.annotations.summary, r.alert).toBeTruthy();
    }
    // Rules whose value is the built-in rule's own value end in `>= threshold` of their severity.
    const sameValue = ["feed.reject_rate", "orders.rejects", "latency.tick_to_publish", "ws.slow_clients", "ws.slow_disconnects",
      "alerts.webhook_drops", "risk.limit_utilisation", "risk.daily_loss"];
    for (const r of rules.filter((x) => sameValue.includes(x.labels.builtin!) || x.alert === "AlluseBrokerAnomalies")) {
      const d = RULE_CATALOG[r.labels.builtin!]!;
      const threshold = r.labels.severity === "critical" ? d.critical : d.warning;
      expect(r.expr.split(/\s+and on\(\)/)[0]!.trim(), r.alert).toEndWith(`>= ${threshold}`);
    }
    for (const r of rules) {
      const hold = RULE_CATALOG[r.labels.builtin!]!.holdMs;
      if (hold !== undefined && r.labels.builtin !== "feed.quote_stale") expect(r.for, r.alert).toBe(`${hold / 1000}s`);
    }
  });
});

describe("Grafana board", () => {
  test("importable: schema version, a Prometheus datasource variable, panels with targets on it", () => {
    expect(board.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(board.uid).toBe("alluse-market");
    const ds = board.templating.list.find((v) => v.type === "datasource");
    expect(ds).toMatchObject({ name: "datasource", query: "prometheus" });
    const panels = board.panels.filter((p) => p.type !== "row");
    expect(panels.length).toBeGreaterThan(20);
    expect(new Set(board.panels.map((p) => p.id)).size).toBe(board.panels.length);
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: "prometheus", uid: "${datasource}" });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (const t of p.targets!) {
        expect(t.refId).toMatch(/^[A-Z]$/);
        expect(metricNamesOf(t.expr).length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
      }
    }
    // The areas the operator asked for each have a row.
    const rows = board.panels.filter((p) => p.type === "row").map((p) => p.title);
    for (const area of ["Feed", "Fan-out", "Orders", "Risk per account", "IB session", "Alerts"]) expect(rows.some((r) => r.startsWith(area)), area).toBe(true);
  });
});

test("metricNamesOf takes selectors and leaves functions, keywords, labels and variables", () => {
  expect(metricNamesOf(`1000 * histogram_quantile(0.99, sum by (le) (rate(a_seconds_bucket{x="y"}[$__rate_interval]))) >= 10 and on() sum(increase(a_seconds_count[1m])) >= 1e2`))
    .toEqual(["a_seconds_bucket", "a_seconds_count"]);
  expect(metricNamesOf(`alluse_risk_trading_state == 1`)).toEqual(["alluse_risk_trading_state"]);
  expect(metricNamesOf(`100 * clamp_min(-p{account=~"$account"}, 0) / (q > 0)`)).toEqual(["p", "q"]);
  expect(metricNamesOf(`sum without (instance) (x) / ignoring(code) group_left(job) y offset 5m`)).toEqual(["x", "y"]);
});

describe("every metric the board and the rules name is on /metrics", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "alluse-ecosystem-"));
  let sim: TwsSimulator;
  let app: App;
  beforeAll(async () => {
    sim = new TwsSimulator({ port: 0, symbols: ["AAPL"], optionExpiries: 1, strikesPerSide: 1, tickRatePerS: 100, log: createLogger("error", "sim", () => {}) });
    await sim.start();
    const config = await loadConfig(["--port", "0", "--feed", "ib", "--broker", "ib", "--ib-port", String(sim.port), "--ib-client-id", "13", "--symbols", "AAPL",
      "--option-expiries", "1", "--strikes-per-side", "1", "--data-dir", dataDir, "--log-level", "error"], {});
    app = await startApp(config, createLogger("error", "app", () => {}));
  });
  afterAll(async () => {
    await app?.stop();
    await sim?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("no name is missing", async () => {
    const families = new Set(parseExposition(await (await fetch(`${app.server.url}/metrics`)).text()).keys());
    const named = new Map<string, string>();
    for (const r of rules) for (const n of metricNamesOf(r.expr)) named.set(n, `rule ${r.alert}`);
    for (const p of board.panels) for (const t of p.targets ?? []) for (const n of metricNamesOf(t.expr)) named.set(n, `panel ${p.title}`);
    for (const v of board.templating.list) if (typeof v.query === "object") for (const n of metricNamesOf(String((v.query as { query: string }).query).replace(/^label_values\((\w+),.*$/, "$1"))) named.set(n, `variable ${v.name}`);
    const missing = [...named].filter(([n]) => familyOf(n, families) === undefined).map(([n, where]) => `${n} (${where})`);
    expect(missing).toEqual([]);
    expect(named.size).toBeGreaterThan(50);
  });
});
