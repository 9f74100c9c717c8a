// The order ticket, open orders with a cancel button each, and the recent fills. Orders go out
// through the WS `submit` op and cancels through `cancel`; the server's answer (and every push
// of a watched account) updates the tables, keeping the highest `version` of each order. A
// denied or rejected order is shown in red with the server's reason, since an operator who
// clicked "place" must see why nothing is working.

import type { FillView, NewOrder, OrderView } from "../../client/protocol.ts";
import { parseOptionSymbol } from "../../domain/instrument.ts";
import { defaultTriggerMethod, isTerminal } from "../../domain/order.ts";
import { $, clock, conflated, el, money, note, row } from "./dom.ts";
import type { ApiError, TradingSession } from "./session.ts";

/** Fills kept and drawn, newest first. */
const MAX_FILLS = 50;
/** Open orders drawn; the rest are counted. */
const MAX_ORDER_ROWS = 100;

let sequence = 0;

/** A client order id unique to this page: time, a random part and a counter. */
function clientOrderId(): string {
  return `dash-${Date.now().toString(36)}-${Math.floor(Math.random() * 36 ** 4).toString(36)}-${(++sequence).toString(36)}`;
}

/** The orders panel. */
export class OrdersPanel {
  private readonly open = new Map<string, OrderView>();
  private fills: FillView[] = [];
  private session: TradingSession | undefined;
  private readonly status = $("ticket-status");
  readonly redraw = conflated(() => this.draw());

  constructor() {
    $<HTMLFormElement>("ticket").addEventListener("submit", (e) => { e.preventDefault(); void this.place(); });
    $<HTMLSelectElement>("t-type").addEventListener("change", () => this.syncPriceFields());
    $<HTMLInputElement>("t-symbol").addEventListener("input", () => this.syncPriceFields());
    this.syncPriceFields();
  }

  /** Connects the panel to a session (undefined: no key). */
  setSession(s: TradingSession | undefined): void {
    this.session = s;
    $<HTMLButtonElement>("t-place").disabled = s === undefined;
    if (!s) {
      this.open.clear();
      this.fills = [];
      note(this.status, "");
      $("t-account").replaceChildren();
    }
    this.redraw();
  }

  /** The accounts the ticket may choose. */
  setAccounts(ids: string[]): void {
    const sel = $<HTMLSelectElement>("t-account");
    const was = sel.value;
    sel.replaceChildren(...ids.map((id) => { const o = el("option", "", id); o.value = id; return o; }));
    if (ids.includes(was)) sel.value = was;
  }

  /** Symbols offered by the ticket's symbol field. */
  setSymbols(symbols: string[]): void {
    $("t-symbols").replaceChildren(...symbols.map((s) => { const o = el("option"); o.value = s; return o; }));
  }

  /**
   * Fills the ticket with an order (a candidate's) without placing it: the operator checks it and
   * presses Place. Fields the order does not name are reset so nothing stale rides along.
   */
  fillTicket(o: Pick<NewOrder, "symbol" | "side" | "type" | "qty" | "tif"> & { account: string; limitPrice: number }): void {
    const set = (id: string, v: string) => { $<HTMLInputElement>(id).value = v; };
    const acct = $<HTMLSelectElement>("t-account");
    if (![...acct.options].some((x) => x.value === o.account)) acct.append(Object.assign(el("option", "", o.account), { value: o.account }));
    set("t-account", o.account);
    set("t-symbol", o.symbol);
    set("t-side", o.side);
    set("t-type", o.type);
    set("t-tif", o.tif ?? "DAY");
    set("t-qty", String(o.qty));
    set("t-limit", String(o.limitPrice));
    set("t-stop", "");
    $<HTMLInputElement>("t-rth").checked = false;
    $<HTMLSelectElement>("t-trigger").value = "default";
    this.syncPriceFields();
    note(this.status, `ticket filled: ${o.side} ${o.qty} ${o.symbol} limit ${o.limitPrice} — check it, then press Place`);
    $("ticket").scrollIntoView({ block: "nearest" });
  }

  /** Drops the open orders of accounts about to be re-watched: their snapshot follows. */
  resetOpen(): void {
    this.open.clear();
    this.redraw();
  }

  /** An order's state; kept while working, dropped once finished. */
  setOrder(o: OrderView): void {
    const known = this.open.get(o.id);
    if (known && known.version >= o.version) return;
    if (isTerminal(o.status)) this.open.delete(o.id);
    else this.open.set(o.id, o);
    this.redraw();
  }

  /** Replaces the fills with a newest-first list (from REST). */
  setFills(list: FillView[]): void {
    this.fills = [...list, ...this.fills.filter((f) => !list.some((g) => g.fillId === f.fillId))]
      .sort((a, b) => b.ts - a.ts).slice(0, MAX_FILLS);
    this.redraw();
  }

  /** A new fill. */
  addFill(f: FillView): void {
    if (this.fills.some((g) => g.fillId === f.fillId)) return;
    this.fills = [f, ...this.fills].slice(0, MAX_FILLS);
    this.redraw();
  }

  /**
   * Enables the fields the order's type and instrument use: prices by type; outside RTH for
   * stocks only (US options trade in the regular session only); the trigger method for stop
   * types, its default labelled with the instrument kind's (last for stocks, double bid/ask for options).
   */
  private syncPriceFields(): void {
    const type = $<HTMLSelectElement>("t-type").value;
    const stop = type === "stop" || type === "stop_limit";
    const kind = parseOptionSymbol($<HTMLInputElement>("t-symbol").value.trim().toUpperCase()) ? "option" : "stock";
    $<HTMLInputElement>("t-limit").disabled = type !== "limit" && type !== "stop_limit";
    $<HTMLInputElement>("t-stop").disabled = !stop;
    const rth = $<HTMLInputElement>("t-rth");
    rth.disabled = kind === "option";
    if (rth.disabled) rth.checked = false;
    const trigger = $<HTMLSelectElement>("t-trigger");
    trigger.disabled = !stop;
    trigger.options[0]!.textContent = `trigger: default (${defaultTriggerMethod(kind).replaceAll("_", " ")})`;
  }

  private ticket(): NewOrder {
    const v = (id: string) => $<HTMLInputElement>(id).value.trim();
    const order: NewOrder = {
      account: v("t-account"), clientOrderId: clientOrderId(), symbol: v("t-symbol"),
      side: v("t-side") as NewOrder["side"], type: v("t-type") as NewOrder["type"], tif: v("t-tif") as NewOrder["tif"], qty: Number(v("t-qty")),
    };
    if (!$<HTMLInputElement>("t-limit").disabled) order.limitPrice = Number(v("t-limit"));
    if (!$<HTMLInputElement>("t-stop").disabled) order.stopPrice = Number(v("t-stop"));
    const rth = $<HTMLInputElement>("t-rth");
    if (!rth.disabled && rth.checked) order.outsideRth = true;
    const trigger = $<HTMLSelectElement>("t-trigger");
    if (!trigger.disabled) order.triggerMethod = trigger.value as NewOrder["triggerMethod"];
    return order;
  }

  private async place(): Promise<void> {
    const s = this.session;
    if (!s) return;
    const order = this.ticket();
    note(this.status, `placing ${order.side} ${order.qty} ${order.symbol}…`);
    try {
      const o = await s.submit(order);
      this.setOrder(o);
      const bad = o.status === "denied" || o.status === "rejected";
      note(this.status, `${o.id} ${o.status}${o.reason ? `: ${o.reason}` : ""}`, bad);
    } catch (e) {
      const err = e as ApiError;
      note(this.status, `refused: ${err.code}: ${err.message}`, true);
    }
  }

  private async cancel(o: OrderView): Promise<void> {
    const s = this.session;
    if (!s) return;
    note(this.status, `canceling ${o.id}…`);
    try {
      const after = await s.cancel(o.id);
      this.setOrder(after);
      note(this.status, `${after.id} ${after.status}${after.reason ? `: ${after.reason}` : ""}`, after.status !== "canceled");
    } catch (e) {
      const err = e as ApiError;
      note(this.status, `cancel refused: ${err.code}: ${err.message}`, true);
      // Rebuilding the rows brings the button back for another try.
      this.redraw();
    }
  }

  private draw(): void {
    const body = $<HTMLTableSectionElement>("orders-body");
    const list = [...this.open.values()].sort((a, b) => b.createdTs - a.createdTs);
    const rows = list.slice(0, MAX_ORDER_ROWS).map((o) => {
      const btn = el("button", "small", "Cancel");
      btn.type = "button";
      btn.addEventListener("click", () => { btn.disabled = true; void this.cancel(o); });
      const price = o.type === "market" ? "MKT" : [o.limitPrice, o.stopPrice].filter((p) => p !== null).map((p) => money(p)).join(" / ");
      const terms = [`${o.type} ${price}`, o.tif, ...(o.outsideRth ? ["outside RTH"] : []), ...(o.triggerMethod ? [`trigger ${o.triggerMethod.replaceAll("_", " ")}`] : [])];
      // Why an order is not trading (held until its session opens, outsideRth ignored…) is shown under its status.
      const status = el("span", "", o.status);
      if (o.reason) status.append(el("span", "why", o.reason));
      const tr = row([o.id, o.account, o.symbol, o.side, `${o.filledQty}/${o.qty}`, terms.join(" · "), status, btn]);
      tr.dataset.order = o.id;
      return tr;
    });
    if (list.length > MAX_ORDER_ROWS) rows.push(row([`… ${list.length - MAX_ORDER_ROWS} more`]));
    if (rows.length === 0) rows.push(row([this.session ? "no open orders" : "—"], "empty"));
    body.replaceChildren(...rows);
    $<HTMLTableSectionElement>("fills-body").replaceChildren(...(this.fills.length === 0 ? [row([this.session ? "no fills yet" : "—"], "empty")]
      : this.fills.map((f) => row([clock(f.ts), f.account, f.symbol, f.side, String(f.qty), money(f.price), money(f.commission)]))));
  }
}
