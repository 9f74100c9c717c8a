#!/usr/bin/env bun
// CLI entry: flags → config → app. Prints the URLs once listening; stops cleanly on SIGINT or
// SIGTERM. Exit status: 0 after a clean stop, 1 on a start-up failure, 2 on invalid config or
// a data directory another server holds (one line on stderr, before any log line).

import { ConfigError, FLAG_HELP, loadConfig, type Config } from "./config.ts";
import { startApp } from "./app.ts";
import { paperHoursNotice } from "./broker/paper-session.ts";
import { ExchangeCalendar } from "./domain/calendar.ts";
import { createLogger, type Logger } from "./log.ts";
import { ListenError } from "./server/server.ts";
import { DataDirLockedError } from "./store/lock.ts";
import { runKeysCli, KEYS_USAGE } from "./auth/cli.ts";
import { startEdge } from "./cluster/edge-app.ts";

const USAGE = `alluse-market — quote and risk server

usage: npm start -- [flags]      (or: bun src/main.ts [flags])
       npm start -- keys create|list|revoke …   API keys (see below)

  --config FILE        JSON or TOML config file (env ALLUSE_CONFIG)
  --help               this text
${FLAG_HELP}

${KEYS_USAGE}`;

async function main(argv: string[]): Promise<void> {
  if (argv[0] === "keys") {
    process.exitCode = await runKeysCli(argv.slice(1), (s) => process.stdout.write(s), (s) => process.stderr.write(s));
    return;
  }
  if (argv.includes("--help")) {
    process.stdout.write(USAGE);
    return;
  }
  let config;
  try {
    config = await loadConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const line of err.lines) process.stderr.write(`${line}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel, "alluse-market");
  if (config.role === "edge") return runEdge(config, log);
  let app;
  try {
    app = await startApp(config, log);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof DataDirLockedError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    log.error("start-up failed", { err });
    process.exit(1);
  }
  const { server } = app;
  log.info("listening", { http: server.url, ws: server.wsUrl, dashboard: app.dashboardUrl, port: server.port });
  process.stdout.write(
    `\nalluse-market is running\n  HTTP       ${server.url}/v1/quotes\n  WebSocket  ${server.wsUrl}\n  Dashboard  ${app.dashboardUrl}\n\n`,
  );
  const hours = config.trading.broker === "paper" ? paperHoursNotice(config.trading.paper.hours, new ExchangeCalendar(config.trading.calendar), Date.now()) : undefined;
  if (hours) {
    log.info("paper trading hours", { hours: config.trading.paper.hours, notice: hours });
    process.stdout.write(`${hours}\n\n`);
  }
  const shutdown = (signal: string) => {
    log.info("shutting down", { signal });
    app.stop().then(() => process.exit(0), (err) => {
      log.error("shutdown failed", { err });
      process.exit(1);
    });
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

/** Role edge: market data for clients from a core over NATS (src/cluster/edge-app.ts). */
async function runEdge(config: Config, log: Logger): Promise<void> {
  let edge;
  try {
    edge = await startEdge(config, log);
  } catch (err) {
    if (err instanceof ListenError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    log.error("start-up failed", { err });
    process.exit(1);
  }
  const { server } = edge;
  log.info("listening", { role: "edge", http: server.url, ws: server.wsUrl, port: server.port, nats: config.nats });
  process.stdout.write(`\nalluse-market edge is running\n  HTTP       ${server.url}/v1/quotes\n  WebSocket  ${server.wsUrl}\n  NATS       ${config.nats!.join(",")}\n\n`);
  const shutdown = (signal: string) => {
    log.info("shutting down", { signal });
    edge.stop().then(() => process.exit(0), (err) => {
      log.error("shutdown failed", { err });
      process.exit(1);
    });
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

await main(process.argv.slice(2));
