// Alert webhooks end to end: the alert engine on a real SQLite file, its transitions through
// the configured WebhookSender to real receivers (Bun.serve on port 0). A burst of 458 raised
// and, before they are all delivered, 101 resolved reaches three receivers with every alert's
// latest state; a receiver down past the retries loses notices that are counted on /metrics,
// logged, and raise alerts.webhook_drops, which the healthy receiver hears of.

import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/log.ts";
import { alertsSchema, createAlerts, type Alerts } from "../../src/monitor/alert-setup.ts";
import type { Alert, TransitionType } from "../../src/monitor/alert-types.ts";
import type { Reading } from "../../src/monitor/alerts.ts";
import { MetricsRegistry } from "../../src/monitor/registry.ts";
import { openDatabase } from "../../src/store/db.ts";
import { parseExposition, sampleValue } from "../helpers/prom-parse.ts";
import { waitFor } from "../helpers/wait.ts";

interface Item { type: TransitionType; ts: number; alert: Alert; superseded?: number }

/** A receiver that records every transition it is sent and answers with `status()`. */
function receiver(status: () => number = () => 200) {
  const items: Item[] = [];
  /** Alert id → the last transition received, in arrival order (an alert is never in two POSTs at once). */
  const latest = new Map<number, Item>();
  const server = Bun.serve({
    port: 0, hostname: "127.0.0.1",
    async fetch(req) {
      const s = status();
      const body = await req.json() as { transitions?: Item[] } & Item;
      if (s === 200) for (const i of body.transitions ?? [body]) (items.push(i), latest.set(i.alert.id, i));
      return new Response(null, { status: s });
    },
  });
  return { items, latest, url: `http://127.0.0.1:${server.port}/hook/secret-token`, origin: `http://127.0.0.1:${server.port}`, server };
}

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

function setup(webhooks: Record<string, unknown>, lines: string[] = []): { alerts: Alerts; registry: MetricsRegistry; values: Map<string, number> } {
  const dir = mkdtempSync(join(tmpdir(), "alluse-webhooks-"));
  const db = openDatabase(join(dir, "alluse.db"), "none");
  const registry = new MetricsRegistry();
  const alerts = createAlerts(alertsSchema.parse({ enabled: false, webhooks }), db, registry, createLogger("debug", "test", (l) => lines.push(l)));
  cleanup.push(() => (alerts.stop(), db.close(), rmSync(dir, { recursive: true, force: true })));
  const values = new Map<string, number>();
  alerts.engine.addRule({
    name: "test.util", description: "Utilisation", unit: "%", direction: "above", warning: 80, critical: 100,
    read: (): Reading[] => [...values].map(([key, value]) => ({ key, value })),
  });
  return { alerts, registry, values };
}

test("458 raised, then 101 resolved before they are delivered: three healthy receivers each get every alert's latest state", async () => {
  const rs = [receiver(), receiver(), receiver()];
  cleanup.push(() => rs.forEach((r) => r.server.stop(true)));
  const { alerts, registry, values } = setup({ urls: rs.map((r) => r.url) });
  for (let i = 0; i < 458; i++) values.set(`k${i}`, 90);
  alerts.engine.evaluate(1000);
  const raised = alerts.engine.activeAlerts();
  expect(raised).toHaveLength(458);
  // Resolved in the next evaluation, while the raises are still in flight or waiting.
  // The first 400 left in the first four POSTs (100 a POST, 4 in flight); 400 to 457 wait. Every
  // fifth alert resolves (in flight: sent after their POST ends) and nine waiting ones do (replaced in place).
  const resolvedAt = (i: number) => i % 5 === 0 || (i > 400 && i <= 411 && i % 5 !== 0);
  const resolvedIds = new Set(raised.filter((_, i) => resolvedAt(i)).map((a) => a.id));
  expect(resolvedIds.size).toBe(101);
  for (const a of raised) if (resolvedIds.has(a.id)) values.delete(a.key);
  alerts.engine.evaluate(2000);
  expect(alerts.engine.stats.transitions).toMatchObject({ raised: 458, resolved: 101 });

  const complete = (r: ReturnType<typeof receiver>) => r.latest.size === 458 && [...resolvedIds].every((id) => r.latest.get(id)?.type === "resolved");
  await waitFor(() => rs.every(complete) && alerts.webhooks.active === 0, 20_000, "every alert's latest state at every receiver");
  for (const r of rs) {
    for (const a of raised) expect(`${a.id}:${r.latest.get(a.id)!.type}:${r.latest.get(a.id)!.alert.state}`).toBe(resolvedIds.has(a.id) ? `${a.id}:resolved:resolved` : `${a.id}:raised:open`);
  }
  const w = alerts.webhooks.stats;
  expect(w.dropped).toBe(0);
  expect(w.gaveUp).toBe(0);
  // Every transition either reached a receiver or was replaced by a later one of its alert.
  expect(w.notices + w.coalesced).toBe(3 * (458 + 101));
  expect(sampleValue(parseExposition(registry.render()), "alluse_alert_webhook_drops_total")).toBe(0);
  expect(alerts.webhooks.queued).toBe(0);
});

test("a receiver down past the retries: its lost notices are counted on /metrics, logged with the URL's origin only, and raise alerts.webhook_drops", async () => {
  const down = receiver(() => 503);
  const up = receiver();
  cleanup.push(() => (down.server.stop(true), up.server.stop(true)));
  const lines: string[] = [];
  const { alerts, registry, values } = setup({ urls: [down.url, up.url], retries: 2, backoffBaseMs: 5 }, lines);
  for (const k of ["a", "b", "c"]) values.set(k, 90);
  alerts.engine.evaluate(1000);
  await waitFor(() => alerts.webhooks.drops()[0]!.dropped === 3 && up.latest.size === 3, 10_000, "three drops at the down receiver, three deliveries at the other");
  expect(down.items).toHaveLength(0);
  expect(sampleValue(parseExposition(registry.render()), "alluse_alert_webhook_drops_total")).toBe(3);
  const logged = lines.map((l) => JSON.parse(l) as { level: string; msg: string; url: string; dropped: number; attempts: number });
  expect(logged.filter((l) => l.msg === "webhook POST abandoned: notices dropped")).toMatchObject([{ level: "error", url: `#1 ${down.origin}`, dropped: 3, attempts: 3 }]);
  expect(lines.join("")).not.toContain("secret-token");

  alerts.engine.evaluate(2000);
  const drop = alerts.engine.activeAlerts().find((a) => a.rule === "alerts.webhook_drops");
  expect(drop).toMatchObject({ key: `#1 ${down.origin}`, severity: "warning", value: 3 });
  await waitFor(() => up.latest.get(drop!.id)?.type === "raised", 10_000, "the drop alert at the healthy receiver");
  // No further loss for 5 minutes resolves it.
  alerts.engine.evaluate(2000 + 300_001);
  expect(alerts.engine.activeAlerts().filter((a) => a.rule === "alerts.webhook_drops")).toEqual([]);
});
