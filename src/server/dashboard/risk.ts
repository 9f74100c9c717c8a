// Risk gauges of one account at a time (chosen in the panel), from the risk frames of watched
// accounts: trading state (the worse of the account's and the firm's), score, limit utilisation
// bars, greeks in dollars, VaR and stress. The firm's state is not in the account frame, so it
// comes from GET /v1/risk, polled and refetched whenever a trading-state alert moves.

import type { RiskView } from "../../client/protocol.ts";
import { $, conflated, el, fmt, keyValues, money, signed } from "./dom.ts";

/** The firm's line of GET /v1/risk that the panel shows. */
export interface FirmRisk {
  state: RiskView["state"];
  stateReason: string;
}

const LIMITS: [keyof RiskView["utilisation"], string][] = [
  ["gross", "gross"], ["net", "net"], ["delta", "delta"], ["concentration", "concentration"],
  ["dailyLoss", "daily loss"], ["var", "VaR 99"], ["buyingPower", "buying power"], ["openOrders", "open orders"],
];
const LEVEL = { active: 0, reducing: 1, halted: 2 } as const;

/** The risk panel. */
export class RiskPanel {
  private readonly risk = new Map<string, RiskView>();
  private firm: FirmRisk | undefined;
  private readonly select = $<HTMLSelectElement>("risk-account");
  readonly redraw = conflated(() => this.draw());

  constructor(private readonly target: HTMLElement) {
    this.select.addEventListener("change", () => this.redraw());
  }

  /** Forgets everything (a new key). */
  clear(): void {
    this.risk.clear();
    this.firm = undefined;
    this.select.replaceChildren();
    this.redraw();
  }

  /** The accounts to choose from. */
  setAccounts(ids: string[]): void {
    const was = this.select.value;
    this.select.replaceChildren(...ids.map((id) => { const o = el("option", "", id); o.value = id; return o; }));
    if (ids.includes(was)) this.select.value = was;
    this.redraw();
  }

  /** An account's latest risk. */
  setRisk(r: RiskView): void {
    this.risk.set(r.account, r);
    if (r.account === this.select.value) this.redraw();
  }

  /** The firm-wide state. */
  setFirm(f: FirmRisk): void {
    this.firm = f;
    this.redraw();
  }

  private draw(): void {
    const r = this.risk.get(this.select.value);
    if (!r) {
      this.target.replaceChildren(el("p", "na", this.select.value ? "waiting for the account's risk…" : "no account to show"));
      return;
    }
    // An order is checked against both states, so the operator needs the worse of the two.
    const firm = this.firm;
    const firmWorse = firm !== undefined && LEVEL[firm.state] > LEVEL[r.state];
    const state = firmWorse ? firm.state : r.state;
    const reason = firmWorse ? `firm: ${firm.stateReason}` : r.stateReason;
    const badge = el("span", `state ${state}`, state);
    badge.id = "risk-state";
    const head = el("div", "risk-head");
    head.append(badge, el("span", "dim", reason), el("span", "score", `score ${fmt(r.score, 0)}`));
    if (firm && !firmWorse && firm.state !== "active") head.append(el("span", "dim", `firm ${firm.state}`));
    const bars = el("div", "gauges");
    for (const [k, label] of LIMITS) bars.append(gauge(label, r.utilisation[k]));
    const kv = el("div", "kv");
    keyValues(kv, [
      ["equity", money(r.equity)], ["daily P&L", signed(r.dailyPnl)],
      ["$ delta", money(r.dollarDelta)], ["$ gamma / 1 %", money(r.dollarGamma)],
      ["vega / vol pt", money(r.vega)], ["theta / day", money(r.theta)],
      ["VaR 95", money(r.var95)], ["VaR 99", money(r.var99)],
      ["stress −10 %", signed(r.stress.down10)], ["stress −20 %", signed(r.stress.down20)],
      ["stress vol ×1.5", signed(r.stress.vol50)], ["open orders", String(r.openOrders)],
    ]);
    this.target.replaceChildren(head, bars, kv);
  }
}

/** A labelled bar of value / limit; amber from 80 %, red from 100 % (the alert thresholds). */
function gauge(label: string, u: number): HTMLElement {
  const div = el("div", "gauge");
  const pct = Number.isFinite(u) ? u * 100 : 0;
  const bar = el("div", "bar");
  const fill = el("div", pct >= 100 ? "fill bad" : pct >= 80 ? "fill warn" : "fill");
  fill.style.width = `${Math.min(100, Math.max(0, pct))}%`;
  bar.append(fill);
  div.append(el("span", "", label), bar, el("span", "", fmt(pct, 0, " %")));
  return div;
}
