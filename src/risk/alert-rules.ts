// The risk engine's alert rules, registered with the alert engine (src/monitor/alerts.ts) by
// the app: limit utilisation per account and limit (warning at 80 %, critical at 100 %), daily
// loss as a share of the account's capital, and accounts (or the firm) not in the active state.
// Readings come from the last snapshots, so they are at most one publish interval old.

import type { AlertRule, Reading } from "../monitor/alerts.ts";
import { FIRM, type RiskService } from "./service.ts";

const LIMITS = ["gross", "net", "delta", "concentration", "dailyLoss", "var", "buyingPower", "openOrders"] as const;
const STATE_LEVEL = { active: 0, reducing: 1, halted: 2 } as const;

/** The risk rules over `risk`'s snapshots. */
export function riskAlertRules(risk: RiskService): AlertRule[] {
  return [
    {
      name: "risk.limit_utilisation", unit: "%", direction: "above", warning: 80, critical: 100, clear: 75,
      description: "Risk limit utilisation (account:limit)",
      *read(): Iterable<Reading> {
        for (const s of risk.allSnapshots()) {
          for (const l of LIMITS) yield { key: `${s.account}:${l}`, value: s.utilisation[l] * 100 };
        }
      },
    },
    {
      name: "risk.daily_loss", unit: "% of capital", direction: "above", warning: 1, critical: 2, clear: 0.75,
      description: "Daily loss of an account",
      *read(): Iterable<Reading> {
        for (const s of risk.allSnapshots()) {
          // After a start the figures are provisional until the book is marked (docs/risk.md, "Marks").
          if (s.valuation === "waiting_for_marks") continue;
          const capital = risk.book.capitalOf(s.account);
          if (capital > 0) yield { key: s.account, value: (Math.max(-s.dailyPnl, 0) / capital) * 100 };
        }
      },
    },
    {
      name: "risk.trading_state", direction: "above", warning: 1, critical: 2, clear: 0.5,
      description: "Trading state (1 reducing, 2 halted) of an account or the firm (*)",
      *read(): Iterable<Reading> {
        for (const scope of [FIRM, ...risk.book.accounts()]) yield { key: scope, value: STATE_LEVEL[risk.state(scope).state] };
      },
    },
  ];
}
