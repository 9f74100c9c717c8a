// The built-in quote staleness rule end to end through the whole app: a client subscribes to
// AAPL, the feed stops, and the alert for AAPL (not for TSLA, which nobody subscribed to)
// reaches a WebSocket subscriber of the alerts topic, REST and /metrics. After a restart on the
// same data directory the open alert is still there.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp, type App } from "../../src/app.ts";
import type { ServerFrame } from "../../src/client/protocol.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import type { Alert } from "../../src/monitor/alert-types.ts";
import { RULE_CATALOG } from "../../src/monitor/alert-catalog.ts";
import type { AlertFrame } from "../../src/server/alerts-ws.ts";
import { TestSocket } from "../helpers/test-socket.ts";

const silent = createLogger("error", "test", () => {});
let dir: string;
let app: App | undefined;
let key: string;

async function start(enabled: boolean): Promise<App> {
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify({
    dataDir: dir, port: 0, feed: { symbols: ["AAPL", "TSLA"], tickRatePerS: 2000, optionExpiries: 0 },
    alerts: { enabled, evaluateEveryMs: 100, rules: { "feed.quote_stale": { warning: 400, critical: 600_000 } } },
  }));
  return startApp(await loadConfig(["--config", file], {}), silent);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "alluse-alerts-app-"));
  app = await start(true);
  key = app.trading.keys.create(["admin"], []).secret;
});
afterAll(async () => {
  await app?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the rule catalogue", () => {
  test("every rule the app registers is in the catalogue the configuration checks, with the same direction and defaults", () => {
    const names = app!.alerts.engine.ruleNames();
    expect(names).toEqual(expect.arrayContaining(["feed.quote_stale", "feed.reject_rate", "risk.limit_utilisation", "risk.daily_loss", "risk.trading_state"]));
    const overrides = app!.config.alerts.rules;
    for (const name of names) {
      const { direction, warning, critical, clear, holdMs } = app!.alerts.engine.ruleInfo(name)!;
      const inEffect: Record<string, unknown> = { name, direction, warning, critical, clear, holdMs };
      expect(inEffect).toEqual({ name, warning: undefined, critical: undefined, clear: undefined, holdMs: undefined, ...RULE_CATALOG[name], ...overrides[name] });
    }
  });
});

describe("quote staleness end to end", () => {
  test("a subscribed symbol whose ticks stop raises feed.quote_stale on the alerts topic, REST and /metrics; it survives a restart", async () => {
    await using quotes = await TestSocket.open(app!.server.wsUrl);
    quotes.send({ op: "subscribe", id: 1, symbols: ["AAPL"] });
    await quotes.next((f) => f.t === "q" && f.s === "AAPL", 5000);
    await using watcher = await TestSocket.open(app!.server.wsUrl);
    watcher.send({ op: "auth", id: 1, key });
    await watcher.next((f) => "id" in f && f.id === 1);
    watcher.send({ op: "alerts.subscribe", id: 2 });
    await watcher.next((f) => "id" in f && f.id === 2);

    await app!.feed.stop();
    const frame = await watcher.next((f: ServerFrame) => {
      const a = f as unknown as AlertFrame;
      return a.t === "alert" && a.event === "raised" && a.alert.rule === "feed.quote_stale";
    }, 10_000) as unknown as AlertFrame;
    expect(frame.alert).toMatchObject({ key: "AAPL", severity: "warning", state: "open", threshold: 400 });
    expect(frame.alert.value!).toBeGreaterThanOrEqual(400);

    const res = await fetch(`${app!.server.url}/v1/alerts?rule=feed.quote_stale`, { headers: { authorization: `Bearer ${key}` } });
    const body = await res.json() as { alerts: Alert[] };
    expect(body.alerts.map((a) => a.key)).toEqual(["AAPL"]);
    const metrics = await (await fetch(`${app!.server.url}/metrics`)).text();
    expect(metrics).toContain('alluse_alerts{state="open",severity="warning"} 1');
    // The journal's checkpointer runs in the real app (src/store/checkpointer.ts).
    expect(metrics).toContain("alluse_journal_checkpointer_failures_total 0");
    expect(metrics).toMatch(/^alluse_journal_checkpoints_total \d+$/m);

    await app!.stop();
    // Evaluation off: the reloaded alert is what the database held, untouched by any rule.
    app = await start(false);
    const again = await fetch(`${app.server.url}/v1/alerts/${frame.alert.id}`, { headers: { authorization: `Bearer ${key}` } });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ alert: { id: frame.alert.id, key: "AAPL", state: "open" } });
  });
});
