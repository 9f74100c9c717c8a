// Webhook delivery against real Bun.serve receivers on port 0: retries with exponential
// back-off after failures, final statuses, the in-flight bound and the drop-oldest queue bound.

import { afterEach, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { alertsSchema, createAlerts } from "../../src/monitor/alert-setup.ts";
import { MetricsRegistry } from "../../src/monitor/registry.ts";
import { WebhookSender } from "../../src/monitor/webhooks.ts";
import { createLogger } from "../../src/log.ts";
import { openDatabase } from "../../src/store/db.ts";
import { parseExposition, sampleValue } from "../helpers/prom-parse.ts";
import { waitFor } from "../helpers/wait.ts";

interface Hit { atMs: number; body: { n: number }; raw: string; delivery: string; attempt: string; signature: string | null }

/** A receiver answering each request with the status `answer` picks (or holding it until released). */
function receiver(answer: (i: number) => number | Promise<number>) {
  const hits: Hit[] = [];
  const server = Bun.serve({
    port: 0, hostname: "127.0.0.1",
    async fetch(req) {
      const raw = await req.text();
      const hit = {
        atMs: performance.now(), body: JSON.parse(raw) as { n: number }, raw, delivery: req.headers.get("x-alluse-delivery")!,
        attempt: req.headers.get("x-alluse-attempt")!, signature: req.headers.get("x-alluse-signature"),
      };
      hits.push(hit);
      return new Response(null, { status: await answer(hits.length - 1) });
    },
  });
  return { hits, url: `http://127.0.0.1:${server.port}/hook`, server };
}

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

describe("webhooks", () => {
  test("a receiver failing the first 3 requests gets the delivery on the 4th, after back-offs of 40, 80, 160 ms", async () => {
    const r = receiver((i) => (i < 3 ? 503 : 200));
    const sender = new WebhookSender({ urls: [r.url], backoffBaseMs: 40, backoffMaxMs: 10_000, retries: 5 });
    cleanup.push(() => (sender.stop(), r.server.stop(true)));
    sender.send({ n: 1 });
    await waitFor(() => sender.stats.delivered === 1, 5000, "the delivery");
    expect(r.hits).toHaveLength(4);
    expect(new Set(r.hits.map((h) => h.delivery)).size).toBe(1);
    expect(r.hits.map((h) => h.attempt)).toEqual(["1", "2", "3", "4"]);
    const gaps = r.hits.slice(1).map((h, i) => h.atMs - r.hits[i]!.atMs);
    // Timers never fire early; 2 ms covers clock granularity between the two processes' views.
    gaps.forEach((g, i) => expect(g).toBeGreaterThanOrEqual(40 * 2 ** i - 2));
    expect(sender.stats).toEqual({ delivered: 1, failures: 3, retries: 3, dropped: 0, gaveUp: 0 });
  });

  test("retries are bounded; a 4xx other than 408/429 is final; a dead address is retried", async () => {
    const r = receiver((i) => (i < 100 ? 500 : 200));
    const bad = receiver(() => 400);
    const dead = Bun.serve({ port: 0, fetch: () => new Response() });
    const deadUrl = `http://127.0.0.1:${dead.port}/`;
    dead.stop(true);
    const sender = new WebhookSender({ urls: [r.url, bad.url, deadUrl], backoffBaseMs: 5, retries: 2 });
    cleanup.push(() => (sender.stop(), r.server.stop(true), bad.server.stop(true)));
    sender.send({ n: 1 });
    await waitFor(() => sender.stats.gaveUp === 3, 5000, "three abandoned deliveries");
    expect(r.hits).toHaveLength(3);
    expect(bad.hits).toHaveLength(1);
    expect(sender.stats).toMatchObject({ delivered: 0, failures: 7, retries: 4, gaveUp: 3 });
  });

  test("a full queue drops the oldest waiting delivery and counts it; in flight stays within its bound", async () => {
    const release = Promise.withResolvers<number>();
    const r = receiver(() => release.promise);
    const sender = new WebhookSender({ urls: [r.url], maxQueue: 3, maxInFlight: 1 });
    cleanup.push(() => (sender.stop(), r.server.stop(true)));
    for (let n = 1; n <= 6; n++) sender.send({ n });
    await waitFor(() => r.hits.length === 1, 5000, "the first request");
    expect(sender.active).toBe(1);
    expect(sender.queued).toBe(3);
    expect(sender.stats.dropped).toBe(2);
    release.resolve(200);
    await waitFor(() => sender.stats.delivered === 4, 5000, "four deliveries");
    expect(r.hits.map((h) => h.body.n)).toEqual([1, 4, 5, 6]);
  });

  test("with a secret every attempt carries the body's HMAC; delivery ids differ between senders (processes)", async () => {
    const r = receiver((i) => (i === 0 ? 503 : 200));
    const secret = "0123456789abcdef-test";
    const signed = new WebhookSender({ urls: [r.url], secret, backoffBaseMs: 5 });
    const plain = new WebhookSender({ urls: [r.url] });
    cleanup.push(() => (signed.stop(), plain.stop(), r.server.stop(true)));
    signed.send({ n: 1 });
    await waitFor(() => signed.stats.delivered === 1, 5000, "the signed delivery");
    plain.send({ n: 2 });
    await waitFor(() => plain.stats.delivered === 1, 5000, "the plain delivery");
    const expected = `sha256=${createHmac("sha256", secret).update(r.hits[0]!.raw).digest("hex")}`;
    expect(r.hits.map((h) => h.signature)).toEqual([expected, expected, null]);
    expect(r.hits[0]!.delivery).toBe(r.hits[1]!.delivery);
    expect(r.hits[2]!.delivery).not.toBe(r.hits[0]!.delivery);
    expect(r.hits[0]!.delivery.endsWith("-1") && r.hits[2]!.delivery.endsWith("-1")).toBe(true);
  });

  test("only http and https URLs are accepted", () => {
    expect(() => new WebhookSender({ urls: ["ftp://example.com/"] })).toThrow(/http or https/);
  });

  test("every transition of the configured engine reaches the webhook as {type, ts, alert}; counters reach /metrics", async () => {
    const r = receiver((i) => (i === 0 ? 500 : 200));
    const dir = mkdtempSync(join(tmpdir(), "alluse-alert-hooks-"));
    const db = openDatabase(join(dir, "alluse.db"), "none");
    const registry = new MetricsRegistry();
    const cfg = alertsSchema.parse({ enabled: false, webhooks: { urls: [r.url], backoffBaseMs: 5 } });
    const alerts = createAlerts(cfg, db, registry, createLogger("error", "test", () => {}));
    cleanup.push(() => (alerts.stop(), r.server.stop(true), db.close(), rmSync(dir, { recursive: true, force: true })));
    let value = 90;
    alerts.engine.addRule({ name: "test.x", description: "X", direction: "above", warning: 80, read: () => [{ key: "k", value }] });
    alerts.engine.evaluate(1000);
    value = 0;
    alerts.engine.evaluate(2000);
    await waitFor(() => alerts.webhooks.stats.delivered === 2, 5000, "two deliveries");
    // One body per delivery id (the failed first attempt was retried with the same id and body).
    const bodies = [...new Map(r.hits.map((h) => [h.delivery, h.body as unknown as { type: string; ts: number; alert: { state: string } }])).values()];
    expect(bodies.map((b) => `${b.type}:${b.alert.state}:${b.ts}`).sort()).toEqual(["raised:open:1000", "resolved:resolved:2000"]);
    const families = parseExposition(registry.render());
    expect(sampleValue(families, "alluse_alert_webhook_deliveries_total")).toBe(2);
    expect(sampleValue(families, "alluse_alert_webhook_retries_total")).toBe(1);
    expect(sampleValue(families, "alluse_alert_transitions_total", { type: "raised" })).toBe(1);
    expect(sampleValue(families, "alluse_alerts", { state: "open", severity: "warning" })).toBe(0);
  });
});

describe("alerts configuration", () => {
  test("defaults, and every bad field named with its path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "alluse-alert-config-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "c.json");
    expect((await loadConfig([], {})).alerts).toMatchObject({ enabled: true, evaluateEveryMs: 1000, maxOpen: 1000, webhooks: { urls: [], retries: 5 } });
    await Bun.write(file, JSON.stringify({ alerts: { evaluateEveryMs: 10, rules: { "Bad Name": {} }, webhooks: { urls: ["ftp://x/"], retries: 99 } } }));
    const err = await loadConfig(["--config", file], {}).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const lines = (err as ConfigError).lines.join("\n");
    for (const path of ["alerts.evaluateEveryMs", "alerts.rules.Bad Name", "alerts.webhooks.urls.0", "alerts.webhooks.retries"]) expect(lines).toContain(`config ${path}:`);
  });
});

