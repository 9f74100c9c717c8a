// One account's risk as published on REST and WebSocket, read from its account and position
// rows after a recompute. Money in dollars (estimates; the ledger in integer micros is the
// truth), utilisations as value / limit (1 = at the limit).

import type { PositionRiskView, RiskView } from "../client/protocol.ts";
import type { RiskBook } from "./book.ts";
import type { Valuation } from "./marks.ts";
import type { StateInfo } from "./service.ts";
import type { RiskLimits } from "./settings.ts";
import type { RiskTables } from "./tables.ts";

/** One position's risk (the wire shape is defined with the protocol). */
export type PositionRisk = PositionRiskView;

/** One account's published risk. */
export type RiskSnapshot = RiskView;

/** PR_STATUS by its PS_* value (assembly/layout.ts). */
const STATUS = ["ok", "no_mark", "no_greeks", "stale", "not_valued"] as const;
const num = (v: number) => (Number.isFinite(v) ? v : null);
const fin = (v: number) => (Number.isFinite(v) ? v : 0);

/**
 * Reads an account's snapshot from the risk region. `session` figures are NaN until taken from a
 * marked book (published as null); `marks` says how the book is marked.
 */
export function readSnapshot(
  t: RiskTables, slot: number, account: string, book: RiskBook, state: StateInfo, limits: RiskLimits,
  session: { open: number; peak: number }, now: number, marks: { valuation: Valuation; unmarked: readonly string[] },
): RiskSnapshot {
  const a = (f: string) => t.acc(slot, f);
  const concUnd = a("A_CONC_UND");
  const positions: PositionRisk[] = book.symbolsOf(account).map((symbol, row) => {
    const p = (f: string) => t.pos(slot, row, f);
    const kind = p("PR_KIND");
    return {
      symbol, qty: p("PR_QTY"), workingBuy: p("PR_WBUY"), workingSell: p("PR_WSELL"), mark: num(p("PR_MARK")),
      marketValue: fin(p("PR_MV")), unrealizedPnl: fin(p("PR_UNREAL")), delta: num(p("PR_DELTA")),
      gamma: kind === 0 ? 0 : num(p("PR_GAMMA")), vega: kind === 0 ? 0 : num(p("PR_VEGA")), theta: kind === 0 ? 0 : num(p("PR_THETA")), iv: kind === 0 ? null : num(p("PR_IV")), dollarDelta: fin(p("PR_DDELTA")),
      status: STATUS[p("PR_STATUS")] ?? "not_valued",
    };
  }).filter((p) => p.qty !== 0 || p.workingBuy !== 0 || p.workingSell !== 0);
  return {
    account, ts: now, state: state.state, stateReason: state.reason,
    equity: a("A_EQUITY"), cash: a("A_CASH"), marketValue: a("A_MV"), grossExposure: a("A_GROSS"), netExposure: a("A_NET"),
    dollarDelta: a("A_DDELTA"), dollarGamma: a("A_DGAMMA"), vega: a("A_VEGA"), theta: a("A_THETA"), unrealizedPnl: a("A_UNREAL"),
    dailyPnl: a("A_DAILY_PNL"), sessionOpenEquity: num(session.open), peakEquity: num(session.peak),
    valuation: marks.valuation, unmarked: [...marks.unmarked],
    var95: a("A_VAR95"), var99: a("A_VAR99"),
    stress: { down10: a("A_ST_DN10"), down20: a("A_ST_DN20"), down40: a("A_ST_DN40"), up10: a("A_ST_UP10"), vol50: a("A_ST_VOL50") },
    concentration: {
      largestUnderlying: concUnd >= 0 ? book.symbolOfIndex(concUnd) ?? null : null,
      shareOfEquity: Number.isFinite(a("A_CONC_MAX")) ? a("A_CONC_MAX") : 1e9, hhi: a("A_HHI"),
    },
    buyingPower: { required: a("A_REQUIRED"), available: a("A_AVAILABLE") },
    openOrders: a("A_OPEN_ORDERS"), unpriced: a("A_UNPRICED"), score: a("A_SCORE"),
    utilisation: {
      gross: a("A_U_GROSS"), net: a("A_U_NET"), delta: a("A_U_DELTA"), concentration: fin(a("A_U_CONC")), dailyLoss: a("A_U_LOSS"),
      var: a("A_U_VAR"), buyingPower: a("A_U_BP"), openOrders: a("A_U_ORDERS"), max: fin(a("A_U_MAX")),
    },
    limits, positions,
  };
}
