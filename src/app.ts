// The composition root: builds the feed, the engine, trading (order manager, paper broker,
// store, API keys), monitoring and the server from a Config, wires them (feed → engine →
// trading → server) and owns the periodic work: stale sweeps and session rolls. Building the
// feed, its readiness check and its end-of-run logging are in app-feed.ts.

import { dirname } from "node:path";
import { ConfigError, type Config } from "./config.ts";
import { Engine, DEFAULT_ENGINE_OPTIONS } from "./engine/engine.ts";
import type { Feed } from "./feed/feed.ts";
import { feedReadiness, feedWatcher, makeFeed, makeIbSession, withHostFlags } from "./app-feed.ts";
import { registerIbMetrics } from "./ib/metrics.ts";
import { IbBroker } from "./broker/ib.ts";
import { registerIbBrokerMetrics } from "./broker/ib-metrics.ts";
import { IbFeed } from "./feed/ib.ts";
import type { Logger } from "./log.ts";
import { SpreadSampler } from "./analytics/spread.ts";
import { HealthChecks } from "./monitor/health.ts";
import { createAppMetrics, type AppMetrics } from "./monitor/metrics.ts";
import { ibBrokerHealth, PAPER_BROKER_HEALTH, registerTradingMetrics } from "./monitor/trading-metrics.ts";
import { analyticsRoutes } from "./server/analytics-routes.ts";
import { buildDashboardScript, dashboardRoutes } from "./server/home.ts";
import { openApiRoutes } from "./server/openapi.ts";
import { API_INFO, API_ROUTE_DOCS } from "./server/openapi-routes.ts";
import { metricsRoutes, observeRequests, registerHttpMetrics } from "./server/metrics-http.ts";
import { startServer, type RunningServer } from "./server/server.ts";
import { dbPath, startTrading, type Trading } from "./oms/trading.ts";
import { lockDirs, type DirLock } from "./store/lock.ts";
import type { Journal } from "./store/journal.ts";
import { orderRoutes } from "./server/orders.ts";
import { riskRoutes } from "./server/risk-routes.ts";
import { SessionWs } from "./server/session-ws.ts";
import { brokerRoutes } from "./server/broker-routes.ts";
import { historyRoutes } from "./server/history-routes.ts";
import { riskAlertRules } from "./risk/alert-rules.ts";
import { registerRiskMetrics } from "./risk/metrics.ts";
import { keyRoutes } from "./server/keys-routes.ts";
import { performanceRoutes } from "./server/accounts-analytics.ts";
import { ArrivalMids } from "./analytics/account-performance.ts";
import { ExchangeCalendar } from "./domain/calendar.ts";
import { OrdersWs } from "./server/orders-ws.ts";
import { marketDataMiddleware, marketDataRefusal } from "./auth/market-gate.ts";
import { resolveLimits } from "./server/limits.ts";
import { createAlerts, type Alerts } from "./monitor/alert-setup.ts";
import { brokerAnomalyRule, brokerSessionRule, checkpointerRule } from "./monitor/alert-rules.ts";
import type { MetricsRegistry } from "./monitor/registry.ts";
import { alertRoutes } from "./server/alerts-routes.ts";
import { AlertsWs } from "./server/alerts-ws.ts";
import type { Hub } from "./server/hub.ts";
import { OrderPreviewer } from "./options/preview.ts";
import { previewRoutes } from "./server/preview.ts";
import { ChainsWs } from "./server/chains-ws.ts";
import { registerOptionsMetrics } from "./options/metrics.ts";
import { ChainBook } from "./options/chains.ts";
import type { CandidateDeps } from "./options/candidates.ts";
import { GreeksEngine } from "./risk/greeks.ts";
import { effectiveLimits } from "./risk/settings.ts";
import { DEFAULT_GREEKS_CONFIG } from "./server/greeks.ts";
import { strategyRoutes } from "./server/strategy-routes.ts";
import { IvTracker } from "./options/iv-history.ts";
import { CoreLink } from "./cluster/core.ts";

/** A running alluse-market. */
export interface App {
  readonly config: Config;
  readonly engine: Engine;
  readonly feed: Feed;
  readonly server: RunningServer;
  /** /metrics: other parts register their families here. */
  readonly metrics: AppMetrics;
  /** /readyz: other parts register their readiness checks here. */
  readonly health: HealthChecks;
  /** Dashboard URL (the HTTP root). */
  readonly dashboardUrl: string;
  /** Orders, paper broker, positions, the store and API keys. */
  readonly trading: Trading;
  /** The alert engine (other parts register rules with alerts.engine.addRule), webhooks. */
  readonly alerts: Alerts;
  /** Role core: its NATS link for the edges (publishing, forwarded requests); undefined otherwise. */
  readonly coreLink: CoreLink | undefined;
  /** Stops the feed, then the server; resolves when both are down. */
  stop(): Promise<void>;
}

/** The New York calendar date of an instant, YYYY-MM-DD: US equity sessions roll on it. */
const nyDate = new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York", year: "numeric", month: "2-digit", day: "2-digit" });

/**
 * Builds and starts everything; on failure, whatever was started is stopped again. The data
 * directory (and the database's, when it lies elsewhere) is locked first, so a second server
 * on it fails with DataDirLockedError before it opens or writes anything there.
 */
export async function startApp(config: Config, log: Logger): Promise<App> {
  const lock = lockDirs([config.dataDir, dirname(dbPath(config.trading, config.dataDir))]);
  try {
    return await startLocked(config, log, lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function startLocked(config: Config, log: Logger, lock: DirLock): Promise<App> {
  const ibSession = makeIbSession(config, log);
  const feed = makeFeed(config, log, ibSession);
  try {
    // A broker feed looks its instruments up first; a failure must not leave its session retrying.
    await feed.prepare?.();
  } catch (err) {
    await feed.stop();
    await ibSession?.stop();
    throw err;
  }
  const specs = feed.instruments();
  // Known only now, from the feed: a table too small for it is a configuration error, not a crash.
  const maxInstruments = config.engine.maxInstruments;
  if (maxInstruments !== undefined && maxInstruments < specs.length) {
    await feed.stop();
    await ibSession?.stop();
    throw new ConfigError([`config engine.maxInstruments: ${maxInstruments} is fewer than the ${specs.length} instruments the ${feed.name} feed lists; use at least ${specs.length}`]);
  }
  const stockSymbols = new Set(specs.filter((s) => s.kind === "stock").map((s) => s.symbol));
  const engineOverrides = { ...config.engine };
  // A replay that keeps its recorded times would be rejected as stale by the live-data rules.
  if (config.feed.kind === "replay" && config.feed.replayKeepTime) {
    engineOverrides.maxTickAgeMs = Infinity;
    engineOverrides.maxFutureMs = Infinity;
    engineOverrides.staleAfterMs = Infinity;
  }
  const engine = await Engine.create({
    ...engineOverrides,
    maxInstruments: engineOverrides.maxInstruments ?? Math.max(DEFAULT_ENGINE_OPTIONS.maxInstruments, specs.length),
    // The risk region reserves 1,024 position rows per account row: plan only the configured accounts.
    maxAccounts: config.trading.accounts.list.length,
  });
  for (const spec of specs) engine.addInstrument(spec);
  log.info("engine ready", { core: engine.core.name, instruments: specs.length, maxInstruments: engine.options.maxInstruments });

  // Metrics first: their batch timer must be the engine's first listener.
  const metrics = createAppMetrics({ engine, feed, stampsAreWallClock: !(config.feed.kind === "replay" && config.feed.replayKeepTime) });
  const health = new HealthChecks();
  let feedStarted = false;
  const watchFeed = feedWatcher(feed, log);
  health.register("feed", () => feedReadiness(feed, feedStarted));
  if (ibSession) {
    const s = ibSession;
    registerIbMetrics(metrics.registry, s, feed instanceof IbFeed ? feed : undefined);
    health.register("ib", () => (s.state === "connected" ? null : `IB session is ${s.state}${s.lastError ? `: ${s.lastError}` : ""}`));
  }
  const spreads = new SpreadSampler(engine);
  const trading = await startTrading(config.trading, config.dataDir, engine, log.child("oms"), ibSession, config.risk);
  health.register("journal", () => trading.store.journal.failed?.message ?? null);
  const brokerHealth = config.trading.broker === "ib" && ibSession ? ibBrokerHealth(ibSession) : PAPER_BROKER_HEALTH;
  registerTradingMetrics(metrics.registry, { oms: trading.oms, journal: trading.store.journal, brokers: [brokerHealth] });
  if (trading.broker instanceof IbBroker) registerIbBrokerMetrics(metrics.registry, trading.broker);
  const arrivals = new ArrivalMids(trading.store.journal, engine);
  const dashboardScript = await buildDashboardScript();
  const alerts = createAlerts(config.alerts, trading.store.db, metrics.registry, log.child("alerts"));
  let hub: Hub | undefined;
  const previewer = new OrderPreviewer(trading.oms, trading.risk);
  // Candidates price chains exactly as GET /v1/chains does (same rate, same WASM batch).
  let candidateGreeks: Promise<GreeksEngine> | undefined;
  const chainBook = new ChainBook(engine);
  const optionGreeks = () => (candidateGreeks ??= GreeksEngine.create(engine));
  const iv = new IvTracker({
    engine, book: chainBook, greeks: optionGreeks, market: DEFAULT_GREEKS_CONFIG, db: trading.store.db,
    windowDays: config.strategy.ivWindowDays, keepDays: config.strategy.ivKeepDays,
  });
  const ivStats = (underlying: string, nowMs: number) => iv.stats(underlying, nowMs);
  // With --feed ib, each chain leg shows IBKR's model delta and IV beside ours.
  const modelGreeks = feed instanceof IbFeed ? (symbol: string) => feed.modelGreeks(symbol) : undefined;
  const candidates: CandidateDeps = {
    engine, book: chainBook, greeks: optionGreeks, market: DEFAULT_GREEKS_CONFIG,
    oms: trading.oms, preview: (body, scope) => previewer.preview(body, scope),
    limitsOf: (a) => trading.risk?.limitsOf(a) ?? effectiveLimits(config.risk, a), strategy: config.strategy, ivStats, now: Date.now,
  };
  let chainsWs: ChainsWs | undefined;
  let ordersWs: OrdersWs | undefined;
  const server = await startServer(engine, {
    host: config.host, port: config.port, limits: config.limits, readiness: () => health.readiness(), log: log.child("server"),
    rest: {
      middleware: [observeRequests({ metrics: registerHttpMetrics(metrics.registry), log: log.child("http") }),
        marketDataMiddleware(config.trading.api.marketData, trading.keys)],
      chains: { ivStats, modelGreeks },
      routes: [openApiRoutes(() => API_ROUTE_DOCS, API_INFO), metricsRoutes(metrics.registry), analyticsRoutes(engine, spreads), dashboardRoutes(dashboardScript),
        orderRoutes({ oms: trading.oms, keys: trading.keys, maxRows: resolveLimits(config.limits).maxRestRows, ...config.trading.api }),
        previewRoutes({ previewer, keys: trading.keys, ...config.trading.api }),
        strategyRoutes({ candidates, keys: trading.keys, ...config.trading.api }),
        keyRoutes({ keys: trading.keys, accountIds: () => trading.oms.accountIds(), maxRows: resolveLimits(config.limits).maxRestRows }),
        performanceRoutes({ oms: trading.oms, store: trading.store, keys: trading.keys, arrivals, days: new ExchangeCalendar(config.trading.calendar) }),
        alertRoutes({ alerts: alerts.engine, keys: trading.keys, maxRows: resolveLimits(config.limits).maxRestRows, ...config.trading.api }),
        brokerRoutes({ broker: trading.broker, keys: trading.keys, ...config.trading.api }),
        historyRoutes({ session: config.feed.kind === "ib" ? ibSession : undefined, isStock: (s) => stockSymbols.has(s), keys: trading.keys, ...config.trading.api }),
        ...(trading.risk ? [riskRoutes({ risk: trading.risk, keys: trading.keys, maxRows: resolveLimits(config.limits).maxRestRows, ...config.trading.api })] : [])],
    },
    // The alerts topic wraps order entry so that one auth message serves both (alerts-ws.ts).
    ws: [(h) => new AlertsWs((hub = h), alerts.engine, trading.keys, (ordersWs = new OrdersWs(h, trading.oms, trading.keys, { ...config.trading.api, log: log.child("orders-ws") }))),
      (h) => new SessionWs(h, ibSession), (h) => (chainsWs = new ChainsWs(h, engine, config.chains, log.child("chains"), DEFAULT_GREEKS_CONFIG,
        modelGreeks && feed instanceof IbFeed ? { greeks: modelGreeks, onChange: (l) => feed.onModelGreeks(l) } : undefined))],
    marketDataGate: (ip, authorization) => marketDataRefusal(config.trading.api.marketData, trading.keys, ip, authorization),
  }).catch(async (err: unknown) => {
    // Cannot listen (address, port): undo what started, so nothing is left open in this process.
    metrics.stop();
    await trading.stop();
    await feed.stop();
    throw err;
  });
  metrics.attachServer(() => server.stats());
  // Role core: publish every changed row on NATS for the edges (role all adds nothing here).
  const coreLink = config.role === "core" ? new CoreLink(engine, config.nats!, server.url, log.child("nats"), { fetch: server.fetch, ws: server }) : undefined;
  if (coreLink) {
    coreLink.registerMetrics(metrics.registry);
    coreLink.start();
  }
  ordersWs?.setPreviewer(previewer);
  registerOptionsMetrics(metrics.registry, previewer, chainsWs);
  if (trading.risk) {
    const risk = trading.risk;
    ordersWs?.setRiskSource((a) => risk.snapshot(a));
    risk.onSnapshot((s) => ordersWs?.pushRisk(s));
  }
  if (trading.risk) {
    const risk = trading.risk;
    // After a start, not ready until every held instrument has a live mark (bounded: risk.markWaitMs).
    health.register("risk_marks", () => risk.marksReadiness());
    for (const rule of riskAlertRules(trading.risk)) alerts.engine.addRule(rule);
    registerRiskMetrics(metrics.registry, trading.risk);
  }
  watchBrokerAnomalies(trading, alerts, metrics.registry, log);
  checkpointMetrics(trading.store.journal, metrics.registry);
  alerts.engine.addRule(checkpointerRule(() => trading.store.journal.stats.checkpointerFailures));
  if (ibSession) alerts.engine.addRule(brokerSessionRule(ibSession));
  const quoteCalendar = new ExchangeCalendar(config.trading.calendar);
  alerts.start({
    engine, oms: trading.oms, arrivalMid: (id) => arrivals.get(id), ibSession, publishSeconds: metrics.publishSeconds,
    serverStats: () => server.stats(), subscribedRows: () => hub!.subscribedRows(),
    // IBKR data stops outside the session; the synthetic market and replays never close.
    ...(config.feed.kind === "ib" ? { quotesExpected: (now: number) => quoteCalendar.isOpen(now) } : {}),
  });
  spreads.start();
  // Today's ATM IV of every underlying with options, stored once per sample (the day's row keeps the last).
  const optionUnderlyings = () => [...new Set(engine.instruments.flatMap((i) => (i.kind === "option" && i.underlying ? [i.underlying] : [])))];
  let ivSampling: Promise<void> | undefined;
  const sampleIv = () => {
    ivSampling ??= iv.sample(optionUnderlyings(), Date.now())
      .then(() => undefined, (err: unknown) => log.error("IV history sample failed", { err }))
      .finally(() => { ivSampling = undefined; });
  };
  const ivTimer = setInterval(sampleIv, config.strategy.ivSampleMs);

  let sessionDate = nyDate.format(new Date());
  const sweep = setInterval(() => {
    try {
      if (feedStarted) watchFeed();
      engine.sweepStale();
      // Keys revoked with the CLI (another process) are cut off within a second, sessions included.
      trading.keys.syncRevocations();
      const today = nyDate.format(new Date());
      if (today !== sessionDate) {
        sessionDate = today;
        engine.resetSession();
        log.info("session rolled", { date: today });
      }
    } catch (err) {
      log.error("periodic engine work failed", { err });
    }
  }, config.staleSweepMs);

  try {
    await feed.start(feed instanceof IbFeed ? withHostFlags(metrics.sink, engine) : metrics.sink, (symbol) => engine.instrument(symbol)?.index);
  } catch (err) {
    clearInterval(sweep);
    clearInterval(ivTimer);
    spreads.stop();
    alerts.stop();
    metrics.stop();
    await coreLink?.stop();
    await server.stop();
    await trading.stop();
    throw err;
  }
  feedStarted = true;
  log.info("feed started", { feed: feed.name });

  let stopping: Promise<void> | undefined;
  return {
    config, engine, feed, server, metrics, health, trading, alerts, coreLink,
    dashboardUrl: `${server.url}/`,
    stop() {
      stopping ??= (async () => {
        clearInterval(sweep);
        clearInterval(ivTimer);
        await ivSampling;
        // Before stopping the feed: whatever it did by itself is logged, its stop is not.
        watchFeed();
        await feed.stop();
        engine.flush();
        await coreLink?.stop();
        alerts.stop();
        await server.stop();
        await trading.stop();
        spreads.stop();
        metrics.stop();
        lock.release();
        log.info("stopped");
      })();
      return stopping;
    },
  };
}

/** The journal's WAL checkpoints on /metrics (src/store/checkpointer.ts); its failures are logged by the journal. */
function checkpointMetrics(journal: Journal, registry: MetricsRegistry): void {
  registry.scrape({ name: "alluse_journal_checkpoints_total", help: "WAL checkpoints the journal's checkpointer thread made that copied pages.", type: "counter",
    collect: (e) => e(journal.stats.checkpoints) });
  registry.scrape({ name: "alluse_journal_checkpointer_failures_total", help: "Times the journal's checkpointer thread failed (the writer's backstop then bounds the WAL).", type: "counter",
    collect: (e) => e(journal.stats.checkpointerFailures) });
}

/**
 * Whatever a broker sent that had to be refused or set right is logged, counted on /metrics and
 * raised as the broker.anomalies alert: the journal's refused rows, the order manager's
 * invalid fills, reused fill ids and overfills, the IB broker's corrections and Filled orders
 * without their executions.
 */
function watchBrokerAnomalies(trading: Trading, alerts: Alerts, registry: MetricsRegistry, log: Logger): void {
  const journal = trading.store.journal, ib = trading.broker instanceof IbBroker ? trading.broker : undefined;
  journal.onRefused((rows) => { for (const r of rows) log.error("journal row refused by the database and skipped", { ...r }); });
  registry.scrape({ name: "alluse_journal_refused_rows_total", help: "Journal rows the database refused on a constraint and the writer skipped.", type: "counter",
    collect: (e) => e(journal.stats.refusedRows) });
  alerts.engine.addRule(brokerAnomalyRule(() => {
    const s = trading.oms.stats;
    return s.invalidBrokerMessages + s.reusedFillIds + s.overfills + journal.stats.refusedRows + (ib ? ib.joinStats.corrections + ib.stats.filledWithoutExecutions : 0);
  }));
}
