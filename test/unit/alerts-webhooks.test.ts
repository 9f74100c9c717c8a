// Webhook delivery against real Bun.serve receivers on port 0: retries with exponential
// back-off after failures, final statuses, coalescing per alert, batches, the in-flight bound,
// the queue bound and the counted, logged drops.

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
import type { Alert, AlertTransition, TransitionType } from "../../src/monitor/alert-types.ts";
import { openDatabase } from "../../src/store/db.ts";
import { parseExposition, sampleValue } from "../helpers/prom-parse.ts";
import { waitFor } from "../helpers/wait.ts";

/** One transition as a webhook body carries it. */
interface Item { type: TransitionType; ts: number; alert: Alert; superseded: number }
interface Hit { atMs: number; items: Item[]; raw: string; delivery: string; attempt: string; signature: string | null }

/** The transitions of a body: a batch, or the single-transition format. */
function itemsOf(body: { transitions?: Item[] } & Partial<Item>): Item[] {
  return body.transitions ?? [body as Item];
}

/** A receiver answering each request with the status `answer` picks (or holding it until released). */
function receiver(answer: (i: number) => number | Promise<number>) {
  const hits: Hit[] = [];
  const server = Bun.serve({
    port: 0, hostname: "127.0.0.1",
    async fetch(req) {
      const raw = await req.text();
      const hit = {
        atMs: performance.now(), items: itemsOf(JSON.parse(raw)), raw, delivery: req.headers.get("x-alluse-delivery")!,
        attempt: req.headers.get("x-alluse-attempt")!, signature: req.headers.get("x-alluse-signature"),
      };
      hits.push(hit);
      return new Response(null, { status: await answer(hits.length - 1) });
    },
  });
  return { hits, url: `http://127.0.0.1:${server.port}/hook`, server };
}

/** A transition of alert `id` (only the fields the sender reads matter). */
function tr(id: number, type: TransitionType = "raised", ts = id): AlertTransition {
  return {
    type, ts, alert: {
      id, rule: "test.x", key: `k${id}`, state: type === "resolved" ? "resolved" : "open", severity: "warning", value: 1, threshold: 1,
      message: "m", raisedTs: ts, updatedTs: ts, ackedTs: null, ackedBy: null, resolvedTs: type === "resolved" ? ts : null,
    },
  };
}

/** "id:type" of every transition a receiver got, in arrival order. */
const got = (hits: Hit[]) => hits.flatMap((h) => h.items.map((i) => `${i.alert.id}:${i.type}`));

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

describe("webhooks", () => {
  test("a receiver failing the first 3 requests gets the POST on the 4th, after back-offs of 40, 80, 160 ms", async () => {
    const r = receiver((i) => (i < 3 ? 503 : 200));
    const sender = new WebhookSender({ urls: [r.url], backoffBaseMs: 40, backoffMaxMs: 10_000, retries: 5 });
    cleanup.push(() => (sender.stop(), r.server.stop(true)));
    sender.send(tr(1));
    await waitFor(() => sender.stats.delivered === 1, 5000, "the delivery");
    expect(r.hits).toHaveLength(4);
    expect(new Set(r.hits.map((h) => h.delivery)).size).toBe(1);
    expect(new Set(r.hits.map((h) => h.raw)).size).toBe(1);
    expect(r.hits.map((h) => h.attempt)).toEqual(["1", "2", "3", "4"]);
    const gaps = r.hits.slice(1).map((h, i) => h.atMs - r.hits[i]!.atMs);
    // Timers never fire early; 2 ms covers clock granularity between the two processes' views.
    gaps.forEach((g, i) => expect(g).toBeGreaterThanOrEqual(40 * 2 ** i - 2));
    expect(sender.stats).toEqual({ delivered: 1, notices: 1, failures: 3, retries: 3, coalesced: 0, dropped: 0, gaveUp: 0 });
  });

  test("retries are bounded; a 4xx other than 408/429 is final; a dead address is retried; each loss is counted per URL and logged", async () => {
    const r = receiver((i) => (i < 100 ? 500 : 200));
    const bad = receiver(() => 400);
    const dead = Bun.serve({ port: 0, fetch: () => new Response() });
    const deadUrl = `http://127.0.0.1:${dead.port}/`;
    dead.stop(true);
    const lines: string[] = [];
    const sender = new WebhookSender({ urls: [r.url, bad.url, deadUrl], backoffBaseMs: 5, retries: 2 }, createLogger("debug", "test", (l) => lines.push(l)));
    cleanup.push(() => (sender.stop(), r.server.stop(true), bad.server.stop(true)));
    sender.send(tr(1));
    await waitFor(() => sender.stats.gaveUp === 3, 5000, "three abandoned POSTs");
    expect(r.hits).toHaveLength(3);
    expect(bad.hits).toHaveLength(1);
    expect(sender.stats).toMatchObject({ delivered: 0, failures: 7, retries: 4, gaveUp: 3, dropped: 3 });
    expect(sender.drops()).toEqual([
      { key: `#1 ${new URL(r.url).origin}`, dropped: 1 }, { key: `#2 ${new URL(bad.url).origin}`, dropped: 1 }, { key: `#3 ${new URL(deadUrl).origin}`, dropped: 1 },
    ]);
    const logged = lines.map((l) => JSON.parse(l) as { level: string; msg: string; url: string; dropped: number; outcome: string });
    const abandoned = new Map(logged.filter((l) => l.msg === "webhook POST abandoned: notices dropped").map((l) => [l.url, `${l.level} ${l.dropped} ${l.outcome}`]));
    expect(abandoned.size).toBe(3);
    expect(abandoned.get(`#1 ${new URL(r.url).origin}`)).toBe("error 1 HTTP 500");
    expect(abandoned.get(`#2 ${new URL(bad.url).origin}`)).toBe("error 1 HTTP 400");
    expect(abandoned.get(`#3 ${new URL(deadUrl).origin}`)).toStartWith("error 1 ");
    // The path of a webhook URL may carry a token: only origins are logged.
    expect(lines.join("")).not.toContain("/hook");
  });

  test("while a POST is out, later transitions of the same alert replace its waiting one in place; other alerts keep theirs", async () => {
    const release = Promise.withResolvers<number>();
    const r = receiver((i) => (i === 0 ? release.promise : 200));
    const sender = new WebhookSender({ urls: [r.url], maxInFlight: 1 });
    cleanup.push(() => (sender.stop(), r.server.stop(true)));
    sender.send(tr(1, "raised", 10));
    await waitFor(() => r.hits.length === 1, 5000, "the first POST");
    sender.send(tr(2, "raised", 11));
    sender.send(tr(1, "escalated", 12));
    sender.send(tr(3, "raised", 13));
    sender.send(tr(1, "resolved", 14));
    sender.send(tr(2, "acknowledged", 15));
    expect(sender.queued).toBe(3);
    release.resolve(200);
    await waitFor(() => sender.stats.delivered === 2, 5000, "the second POST");
    expect(got(r.hits)).toEqual(["1:raised", "2:acknowledged", "1:resolved", "3:raised"]);
    expect(r.hits[1]!.items.map((i) => i.superseded)).toEqual([1, 1, 0]);
    expect(sender.stats).toMatchObject({ notices: 4, coalesced: 2, dropped: 0 });
  });

  test("waiting alerts go out oldest first in POSTs of at most maxBatch; format single sends one {type, ts, alert} per POST", async () => {
    const r = receiver(() => 200);
    const batched = new WebhookSender({ urls: [r.url], maxBatch: 2, maxInFlight: 1 });
    const single = new WebhookSender({ urls: [r.url], format: "single", maxInFlight: 1 });
    cleanup.push(() => (batched.stop(), single.stop(), r.server.stop(true)));
    for (let id = 1; id <= 5; id++) batched.send(tr(id));
    await waitFor(() => batched.stats.notices === 5, 5000, "five batched notices");
    // Transitions sent in one task (one evaluation) share POSTs.
    expect(r.hits.map((h) => h.items.map((i) => i.alert.id))).toEqual([[1, 2], [3, 4], [5]]);
    expect(Object.keys(JSON.parse(r.hits[1]!.raw))).toEqual(["transitions"]);
    r.hits.length = 0;
    for (let id = 6; id <= 8; id++) single.send(tr(id));
    await waitFor(() => single.stats.notices === 3, 5000, "three single notices");
    expect(r.hits.map((h) => Object.keys(JSON.parse(h.raw)))).toEqual([["type", "ts", "alert", "superseded"], ["type", "ts", "alert", "superseded"], ["type", "ts", "alert", "superseded"]]);
    expect(got(r.hits)).toEqual(["6:raised", "7:raised", "8:raised"]);
  });

  test("past maxQueue waiting alerts the oldest waiting one is dropped, counted and logged once per burst; in flight stays within its bound", async () => {
    const release = Promise.withResolvers<number>();
    const r = receiver(() => release.promise);
    const lines: string[] = [];
    const sender = new WebhookSender({ urls: [r.url], maxQueue: 3, maxInFlight: 1 }, createLogger("debug", "test", (l) => lines.push(l)));
    cleanup.push(() => (sender.stop(), r.server.stop(true)));
    sender.send(tr(1));
    await waitFor(() => r.hits.length === 1, 5000, "the first request");
    for (let id = 2; id <= 6; id++) sender.send(tr(id));
    expect(sender.active).toBe(1);
    expect(sender.queued).toBe(3);
    expect(sender.stats.dropped).toBe(2);
    const logged = () => lines.map((l) => JSON.parse(l) as { msg: string; dropped: number });
    await waitFor(() => lines.length > 0, 5000, "the log line");
    expect(logged().filter((l) => l.msg === "webhook notices dropped: queue full").map((l) => l.dropped)).toEqual([2]);
    release.resolve(200);
    await waitFor(() => sender.stats.delivered === 2, 5000, "two POSTs");
    expect(got(r.hits)).toEqual(["1:raised", "4:raised", "5:raised", "6:raised"]);
  });

  test("a failing receiver gets only the retries of the POST out: no new POST starts until it is accepted or abandoned", async () => {
    const r = receiver(() => 503);
    const sender = new WebhookSender({ urls: [r.url], backoffBaseMs: 5, retries: 2 });
    cleanup.push(() => (sender.stop(), r.server.stop(true)));
    sender.send(tr(1));
    await waitFor(() => sender.stats.failures === 1, 5000, "the first failure");
    for (let id = 2; id <= 10; id++) sender.send(tr(id));
    await waitFor(() => sender.stats.gaveUp === 2, 5000, "two abandoned POSTs");
    expect(r.hits.map((h) => `${h.items.length}@${h.attempt}`)).toEqual(["1@1", "1@2", "1@3", "9@1", "9@2", "9@3"]);
    expect(sender.stats).toMatchObject({ dropped: 10, gaveUp: 2, failures: 6 });
  });

  test("with a secret every attempt carries the body's HMAC; delivery ids differ between senders (processes)", async () => {
    const r = receiver((i) => (i === 0 ? 503 : 200));
    const secret = "0123456789abcdef-test";
    const signed = new WebhookSender({ urls: [r.url], secret, backoffBaseMs: 5 });
    const plain = new WebhookSender({ urls: [r.url] });
    cleanup.push(() => (signed.stop(), plain.stop(), r.server.stop(true)));
    signed.send(tr(1));
    await waitFor(() => signed.stats.delivered === 1, 5000, "the signed delivery");
    plain.send(tr(2));
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
    await waitFor(() => alerts.webhooks.stats.delivered === 1, 5000, "the first delivery");
    value = 0;
    alerts.engine.evaluate(2000);
    await waitFor(() => alerts.webhooks.stats.delivered === 2, 5000, "two deliveries");
    // One body per delivery id (the failed first attempt was retried with the same id and body).
    const items = [...new Map(r.hits.map((h) => [h.delivery, h.items])).values()].flat();
    expect(items.map((b) => `${b.type}:${b.alert.state}:${b.ts}`)).toEqual(["raised:open:1000", "resolved:resolved:2000"]);
    const families = parseExposition(registry.render());
    expect(sampleValue(families, "alluse_alert_webhook_deliveries_total")).toBe(2);
    expect(sampleValue(families, "alluse_alert_webhook_notices_total")).toBe(2);
    expect(sampleValue(families, "alluse_alert_webhook_retries_total")).toBe(1);
    expect(sampleValue(families, "alluse_alert_webhook_drops_total")).toBe(0);
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

