// Open and recent alerts from the `alerts` topic: the subscribe reply is the truth at that
// moment, and each pushed transition replaces the alert it names. Open alerts have an
// acknowledge button (POST /v1/alerts/{id}/ack; it needs an admin key, so a 403 is shown with
// the server's message instead of hidden). At most MAX_ALERTS are kept, active ones first.

import type { Alert, TransitionType } from "../../monitor/alert-types.ts";
import { $, clock, conflated, el, note, row } from "./dom.ts";
import type { ApiError, TradingSession } from "./session.ts";

/** Alerts kept and drawn. */
const MAX_ALERTS = 100;

/** The alerts panel. */
export class AlertsPanel {
  private readonly alerts = new Map<number, Alert>();
  private session: TradingSession | undefined;
  private readonly status = $("alerts-status");
  readonly redraw = conflated(() => this.draw());

  /** Connects the panel to a session (undefined: no key). */
  setSession(s: TradingSession | undefined): void {
    this.session = s;
    this.alerts.clear();
    note(this.status, "");
    this.redraw();
  }

  /** Replaces every alert with the subscribe snapshot (active alerts). */
  setActive(list: Alert[]): void {
    this.alerts.clear();
    for (const a of list) this.alerts.set(a.id, a);
    this.redraw();
  }

  /** Applies a pushed transition. */
  onTransition(_event: TransitionType, a: Alert): void {
    const known = this.alerts.get(a.id);
    if (known && known.updatedTs > a.updatedTs) return;
    this.alerts.set(a.id, a);
    this.prune();
    this.redraw();
  }

  /** Drops the oldest resolved alerts, then the oldest of all, beyond MAX_ALERTS. */
  private prune(): void {
    if (this.alerts.size <= MAX_ALERTS) return;
    const order = [...this.alerts.values()].sort((a, b) => Number(a.state !== "resolved") - Number(b.state !== "resolved") || a.updatedTs - b.updatedTs);
    for (const a of order.slice(0, this.alerts.size - MAX_ALERTS)) this.alerts.delete(a.id);
  }

  private async ack(a: Alert): Promise<void> {
    const s = this.session;
    if (!s) return;
    try {
      const { alert } = await s.rest<{ alert: Alert }>("POST", `/v1/alerts/${a.id}/ack`);
      this.onTransition("acknowledged", alert);
      note(this.status, `alert ${alert.id} acknowledged`);
    } catch (e) {
      const err = e as ApiError;
      note(this.status, `acknowledge refused (${err.status ?? "?"} ${err.code}): ${err.message}`, true);
      this.redraw();
    }
  }

  private draw(): void {
    const rank = { open: 0, acknowledged: 1, resolved: 2 } as const;
    const list = [...this.alerts.values()].sort((a, b) => rank[a.state] - rank[b.state] || b.raisedTs - a.raisedTs);
    const rows = list.map((a) => {
      let action: Node = el("span", "dim", a.state === "acknowledged" ? `by ${a.ackedBy ?? "?"}` : "");
      if (a.state === "open") {
        const btn = el("button", "small", "Ack");
        btn.type = "button";
        btn.disabled = this.session === undefined;
        btn.addEventListener("click", () => { btn.disabled = true; void this.ack(a); });
        action = btn;
      }
      const sev = el("span", `sev ${a.severity}`, a.severity);
      const tr = row([clock(a.raisedTs), sev, `${a.rule} ${a.key}`, a.message, a.state, action], a.state);
      tr.dataset.alert = String(a.id);
      tr.dataset.rule = a.rule;
      tr.dataset.key = a.key;
      tr.dataset.state = a.state;
      return tr;
    });
    if (rows.length === 0) rows.push(row([this.session ? "no active alerts" : "—"], "empty"));
    $<HTMLTableSectionElement>("alerts-body").replaceChildren(...rows);
  }
}
