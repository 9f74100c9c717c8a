// Prometheus families of the risk engine, read from the last snapshots at scrape time: score,
// equity, daily P&L, VaR 99, dollar delta and limit utilisation per account, trading state per
// account and for the firm, and pre-trade warnings. Denials by reason are counted from the
// journal by the trading metrics (src/monitor/trading-metrics.ts).

import type { MetricsRegistry } from "../monitor/registry.ts";
import { FIRM, type RiskService, type TradingState } from "./service.ts";

const STATES: readonly TradingState[] = ["active", "reducing", "halted"];
const LIMITS = ["gross", "net", "delta", "concentration", "dailyLoss", "var", "buyingPower", "openOrders"] as const;

/** Registers the risk families on `registry`. */
export function registerRiskMetrics(registry: MetricsRegistry, risk: RiskService): void {
  const perAccount = (name: string, help: string, read: (s: ReturnType<RiskService["allSnapshots"]>[number]) => number) =>
    registry.scrape({
      name, help, type: "gauge", labelNames: ["account"],
      collect: (emit) => { for (const s of risk.allSnapshots()) emit(read(s), s.account); },
    });
  perAccount("alluse_risk_score", "Composite risk score 0-100 per account (docs/risk.md).", (s) => s.score);
  perAccount("alluse_risk_equity_dollars", "Account equity: cash plus market value.", (s) => s.equity);
  perAccount("alluse_risk_daily_pnl_dollars", "Equity minus equity at the session open.", (s) => s.dailyPnl);
  perAccount("alluse_risk_var99_dollars", "One-day delta-normal VaR at 99 %.", (s) => s.var99);
  perAccount("alluse_risk_dollar_delta", "Net dollar delta of the account.", (s) => s.dollarDelta);
  registry.scrape({
    name: "alluse_risk_limit_utilisation_ratio", help: "Risk limit utilisation (value / limit) per account and limit.",
    type: "gauge", labelNames: ["account", "limit"],
    collect: (emit) => { for (const s of risk.allSnapshots()) for (const l of LIMITS) emit(s.utilisation[l], s.account, l); },
  });
  registry.scrape({
    name: "alluse_risk_trading_state", help: "1 for the current trading state of each account and of the firm (account=\"*\").",
    type: "gauge", labelNames: ["account", "state"],
    collect: (emit) => {
      for (const scope of [FIRM, ...risk.book.accounts()]) {
        const current = risk.state(scope).state;
        for (const st of STATES) emit(st === current ? 1 : 0, scope, st);
      }
    },
  });
  registry.scrape({
    name: "alluse_risk_pretrade_warnings_total", help: "Orders that passed with a warning (delta band in warn mode).",
    type: "counter", collect: (emit) => emit(risk.hook.warnings),
  });
}
