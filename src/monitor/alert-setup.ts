// Builds the alert side of the app from the configuration: the engine over the store's
// database, webhook delivery and the /metrics families (createAlerts, before the server, whose
// routes and topic need the engine), then the built-in rules over whatever parts are running
// (start, once the server is up). Other parts (the risk engine) register their rules with
// `app.alerts.engine.addRule`.

import type { Database } from "bun:sqlite";
import { z } from "zod";
import type { Engine } from "../engine/engine.ts";
import type { Logger } from "../log.ts";
import type { OrderManager } from "../oms/manager.ts";
import type { ServerStats } from "../server/hub.ts";
import { AlertStore } from "../store/alerts.ts";
import { TRANSITION_TYPES } from "./alert-types.ts";
import {
  brokerConnectionRule, feedRejectRateRule, latencySloRule, orderRejectRule, quoteStalenessRule, slippageRule,
  slowClientsRule, slowDisconnectsRule, webhookDropsRule, type HistogramSource,
} from "./alert-rules.ts";
import { RULE_CATALOG } from "./alert-catalog.ts";
import { thresholdProblem } from "./alert-rule.ts";
import { ALERT_DEFAULTS, AlertEngine } from "./alerts.ts";
import type { Histogram, MetricsRegistry } from "./registry.ts";
import { WEBHOOK_DEFAULTS, WebhookSender } from "./webhooks.ts";

/** Thresholds are magnitudes in the rule's unit (ms, %, counts, bps); none of the rules reads below zero. */
const threshold = z.number().finite().min(0, "must be at least 0");

const thresholdsSchema = z.strictObject({
  warning: threshold.optional(),
  critical: threshold.optional(),
  clear: threshold.optional(),
  holdMs: z.number().int().min(0).max(3_600_000).optional(),
});

/**
 * The `alerts` block of the configuration. Rule overrides are checked against the catalogue
 * here (unknown names, thresholds that do not fit the rule's direction), so a bad one stops
 * the start with exit 2 and one line before anything is opened.
 */
export const alertsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  evaluateEveryMs: z.number().int().min(100).max(60_000).default(ALERT_DEFAULTS.evaluateEveryMs),
  maxOpen: z.number().int().min(1).max(100_000).default(ALERT_DEFAULTS.maxOpen),
  maxResolved: z.number().int().min(1).max(1_000_000).default(ALERT_DEFAULTS.maxResolved),
  /** Threshold overrides by rule name (RULE_CATALOG), for built-in rules and the risk engine's. */
  rules: z.record(z.string(), thresholdsSchema).default({}),
  webhooks: z.strictObject({
    urls: z.array(z.url({ protocol: /^https?$/ })).max(16).default([]),
    /** Alerts waiting per URL; 4 × maxOpen when absent, at least 2 × maxOpen + 1 (one evaluation's worth). */
    maxQueue: z.number().int().min(1).max(1_000_000).optional(),
    maxBatch: z.number().int().min(1).max(1000).default(WEBHOOK_DEFAULTS.maxBatch),
    format: z.enum(["batch", "single"]).default(WEBHOOK_DEFAULTS.format),
    retries: z.number().int().min(0).max(20).default(WEBHOOK_DEFAULTS.retries),
    backoffBaseMs: z.number().int().min(1).max(60_000).default(WEBHOOK_DEFAULTS.backoffBaseMs),
    backoffMaxMs: z.number().int().min(1).max(3_600_000).default(WEBHOOK_DEFAULTS.backoffMaxMs),
    timeoutMs: z.number().int().min(100).max(60_000).default(WEBHOOK_DEFAULTS.timeoutMs),
    /** Shared secret for the x-alluse-signature HMAC; at least 16 characters. */
    secret: z.string().min(16).max(256).optional(),
  }).prefault({}),
}).superRefine((c, ctx) => {
  for (const [name, given] of Object.entries(c.rules)) {
    const defaults = RULE_CATALOG[name];
    if (!defaults) {
      ctx.addIssue({ code: "custom", path: ["rules", name], message: `unknown alert rule; valid rules: ${Object.keys(RULE_CATALOG).sort().join(", ")}` });
      continue;
    }
    const problem = thresholdProblem({ ...defaults, ...definedOnly(given) });
    if (problem !== undefined) ctx.addIssue({ code: "custom", path: ["rules", name], message: problem });
  }
  // One evaluation can change every active alert and raise as many new ones, plus the overflow
  // alert: a queue that cannot hold them would drop notices while the receiver is healthy.
  const min = 2 * c.maxOpen + 1;
  if (c.webhooks.maxQueue !== undefined && c.webhooks.maxQueue < min) {
    ctx.addIssue({ code: "custom", path: ["webhooks", "maxQueue"], message: `must be at least ${min} (2 × alerts.maxOpen + 1), what one evaluation can change` });
  }
}).transform((c) => ({ ...c, webhooks: { ...c.webhooks, maxQueue: c.webhooks.maxQueue ?? 4 * c.maxOpen } }));

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The validated `alerts` block. */
export type AlertsConfig = z.infer<typeof alertsSchema>;

/** What the built-in rules read; a missing part means its rule is not registered. */
export interface AlertSources {
  engine: Engine;
  oms?: OrderManager;
  /** Arrival mid of an order (price per share), for the slippage rule (the app's ArrivalMids). */
  arrivalMid?: (orderId: string) => number | undefined;
  /** Present when the feed is IB (the paper broker is always connected). */
  ibSession?: { readonly state: string };
  /** The tick-to-publish histogram (absent when batch stamps are not wall-clock time). */
  publishSeconds?: Histogram | null;
  serverStats?: () => ServerStats;
  /** Engine rows some client subscribes to. */
  subscribedRows?: () => Iterable<number>;
  /** When quotes should be flowing (the exchange session for IBKR data); always when absent. */
  quotesExpected?: (nowMs: number) => boolean;
}

/** The alert side: the engine exists before the server (routes and the topic need it), rules once it is up. */
export interface Alerts {
  readonly engine: AlertEngine;
  readonly webhooks: WebhookSender;
  /** Registers the built-in rules over the parts that are running and starts evaluating (when enabled). */
  start(src: AlertSources): void;
  /** Stops evaluation, webhook delivery and the rules' listeners. */
  stop(): void;
}

/** Builds the engine on `db` (reloading active alerts), webhook delivery and the /metrics families. */
export function createAlerts(cfg: AlertsConfig, db: Database, registry: MetricsRegistry, log: Logger): Alerts {
  const engine = new AlertEngine(new AlertStore(db), {
    evaluateEveryMs: cfg.evaluateEveryMs, maxOpen: cfg.maxOpen, maxResolved: cfg.maxResolved, overrides: cfg.rules, log,
  });
  const webhooks = new WebhookSender(cfg.webhooks, log.child("webhooks"));
  engine.onTransition((t) => webhooks.send(t));
  if (cfg.webhooks.urls.length > 0) engine.addRule(webhookDropsRule(() => webhooks.drops()));
  registerAlertMetrics(registry, engine, webhooks);
  const stops: (() => void)[] = [];
  return {
    engine, webhooks,
    start(src) {
      for (const s of addBuiltInRules(engine, src)) stops.push(s);
      if (cfg.enabled) engine.start();
    },
    stop() {
      engine.stop();
      webhooks.stop();
      for (const s of stops.splice(0)) s();
    },
  };
}

/** Registers every built-in rule whose source is present; returns the listeners to detach. */
export function addBuiltInRules(engine: AlertEngine, src: AlertSources): (() => void)[] {
  engine.addRule(feedRejectRateRule(src.engine));
  if (src.subscribedRows) engine.addRule(quoteStalenessRule(src.engine, src.subscribedRows, {}, src.quotesExpected));
  if (src.ibSession) engine.addRule(brokerConnectionRule(src.ibSession));
  if (src.publishSeconds) engine.addRule(latencySloRule(histogramSource(src.publishSeconds)));
  if (src.serverStats) {
    engine.addRule(slowClientsRule(src.serverStats));
    engine.addRule(slowDisconnectsRule(src.serverStats));
  }
  if (!src.oms) return [];
  const oms = src.oms;
  const rejects = orderRejectRule((l) => oms.onUpdate(l), () => oms.accountIds());
  engine.addRule(rejects.rule);
  if (!src.arrivalMid) return [rejects.stop];
  const slippage = slippageRule((l) => oms.onUpdate(l), src.arrivalMid);
  engine.addRule(slippage.rule);
  return [rejects.stop, slippage.stop];
}

/** The unlabelled series of a registry histogram, as the latency rule reads it. */
function histogramSource(h: Histogram): HistogramSource {
  const child = h.labels();
  return { bounds: h.bounds, counts: () => child.counts };
}

/** Alert and webhook families on /metrics, read at scrape time. */
export function registerAlertMetrics(registry: MetricsRegistry, engine: AlertEngine, webhooks: WebhookSender): void {
  registry.scrape({
    name: "alluse_alerts", help: "Active alerts by state and severity.", type: "gauge", labelNames: ["state", "severity"],
    collect: (e) => { for (const r of engine.counts()) e(r.n, r.state, r.severity); },
  });
  registry.scrape({
    name: "alluse_alert_transitions_total", help: "Alert transitions by type.", type: "counter", labelNames: ["type"],
    collect: (e) => { for (const t of TRANSITION_TYPES) e(engine.stats.transitions[t], t); },
  });
  const s = engine.stats, w = webhooks.stats;
  const scalar = (name: string, help: string, type: "counter" | "gauge", read: () => number) => registry.scrape({ name, help, type, collect: (e) => e(read()) });
  scalar("alluse_alert_evaluations_total", "Alert rule evaluations (all rules once each).", "counter", () => s.evaluations);
  scalar("alluse_alert_rule_errors_total", "Alert rule reads that threw.", "counter", () => s.ruleErrors);
  scalar("alluse_alert_store_errors_total", "Alert evaluations cut short by a database error.", "counter", () => s.storeErrors);
  scalar("alluse_alert_held_back", "Conditions not raised in the last evaluation because of the open-alert bound.", "gauge", () => s.heldBack);
  scalar("alluse_alert_webhook_deliveries_total", "Webhook POSTs accepted (2xx).", "counter", () => w.delivered);
  scalar("alluse_alert_webhook_notices_total", "Alert transitions in accepted webhook POSTs.", "counter", () => w.notices);
  scalar("alluse_alert_webhook_coalesced_total", "Alert transitions replaced by a later one of the same alert before they were sent.", "counter", () => w.coalesced);
  scalar("alluse_alert_webhook_failures_total", "Webhook attempts that failed.", "counter", () => w.failures);
  scalar("alluse_alert_webhook_retries_total", "Webhook attempts that were retries.", "counter", () => w.retries);
  scalar("alluse_alert_webhook_drops_total", "Alert transitions a webhook receiver will never get (receiver down past the retries, or queue full).", "counter", () => w.dropped);
  scalar("alluse_alert_webhook_abandoned_total", "Webhook POSTs abandoned after their last attempt or a final status.", "counter", () => w.gaveUp);
  scalar("alluse_alert_webhook_queue", "Alerts waiting for webhook delivery (one per alert and URL).", "gauge", () => webhooks.queued);
}
