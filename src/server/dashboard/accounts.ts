// Positions and P&L per account. The ledger figures (cash, realised P&L, commissions, positions
// with their cost) come from GET /v1/accounts/{id}[/positions] and the account and position
// frames pushed after fills; equity, unrealised and daily P&L and the marks of positions come
// from the risk frames, which follow the market every 100 ms, so the panel stays live between
// fills. Repaints are conflated to one per animation frame.

import type { AccountView, PositionView, RiskView } from "../../client/protocol.ts";
import { conflated, el, money, row, signed } from "./dom.ts";

/** Most position rows drawn per account; the rest are counted. */
const MAX_POSITION_ROWS = 50;

/** The positions and P&L panel. */
export class AccountsPanel {
  private readonly accounts = new Map<string, AccountView>();
  private readonly positions = new Map<string, Map<string, PositionView>>();
  private readonly risk = new Map<string, RiskView>();
  readonly redraw = conflated(() => this.draw());

  constructor(private readonly target: HTMLElement) {}

  /** Forgets everything (a new key). */
  clear(): void {
    this.accounts.clear();
    this.positions.clear();
    this.risk.clear();
    this.redraw();
  }

  /** An account's ledger values. */
  setAccount(a: AccountView): void {
    this.accounts.set(a.id, a);
    this.redraw();
  }

  /** Replaces an account's positions (from REST). */
  setPositions(account: string, list: PositionView[]): void {
    this.positions.set(account, new Map(list.map((p) => [p.symbol, p])));
    this.redraw();
  }

  /** One position after a fill; a flat one is dropped. */
  setPosition(p: PositionView): void {
    let m = this.positions.get(p.account);
    if (!m) this.positions.set(p.account, (m = new Map()));
    if (p.qty === 0) m.delete(p.symbol);
    else m.set(p.symbol, p);
    this.redraw();
  }

  /** The account's latest risk: live equity, P&L and marks. */
  setRisk(r: RiskView): void {
    this.risk.set(r.account, r);
    this.redraw();
  }

  private draw(): void {
    const blocks: HTMLElement[] = [];
    for (const a of this.accounts.values()) blocks.push(this.block(a));
    this.target.replaceChildren(...blocks);
  }

  private block(a: AccountView): HTMLElement {
    const r = this.risk.get(a.id);
    const unreal = r ? r.unrealizedPnl : a.unrealizedPnl;
    const div = el("div", "acct");
    div.dataset.account = a.id;
    const head = el("div", "acct-head");
    head.append(el("b", "", a.id), el("span", "dim", `${a.mode} account`),
      el("span", "", `equity ${money(r ? r.equity : a.equity)}`),
      labelled("day", signed(r?.dailyPnl ?? null)), labelled("net", signed(a.realizedPnl + unreal)));
    const sub = el("div", "dim small",
      `cash ${money(a.cash)} · realised ${money(a.realizedPnl)} · unrealised ${money(unreal)} · commissions ${money(a.commissions)} · buying power ${money(a.buyingPower)}`);
    div.append(head, sub);
    const marks = new Map((r?.positions ?? []).map((p) => [p.symbol, p]));
    const list = [...(this.positions.get(a.id)?.values() ?? [])];
    if (list.length === 0) {
      div.append(el("p", "na", "no positions"));
      return div;
    }
    const table = el("table", "compact");
    const thead = el("thead");
    thead.append(row(["Symbol", "Qty", "Avg cost", "Mark", "Value", "Unrealised"]));
    const tbody = el("tbody");
    for (const p of list.slice(0, MAX_POSITION_ROWS)) {
      const live = marks.get(p.symbol);
      const unrealised = live ? live.unrealizedPnl : p.unrealizedPnl;
      const tr = row([p.symbol, String(p.qty), money(p.avgCost), money(live?.mark ?? p.mark), money(live ? live.marketValue : p.marketValue), signed(unrealised)]);
      tr.dataset.symbol = p.symbol;
      tbody.append(tr);
    }
    if (list.length > MAX_POSITION_ROWS) tbody.append(row([`… ${list.length - MAX_POSITION_ROWS} more`]));
    table.append(thead, tbody);
    const wrap = el("div", "xscroll");
    wrap.append(table);
    div.append(wrap);
    return div;
  }
}

/** "label value" kept together on one line. */
function labelled(label: string, value: Node): HTMLElement {
  const span = el("span", "nowrap", `${label} `);
  span.append(value);
  return span;
}
