// The keyed half of the dashboard: the API key field and the panels that need it (positions and
// P&L, risk, orders and fills, alerts, option candidates; the chain panel's account and band). The key lives in sessionStorage only — gone when the
// tab closes, never in the URL or localStorage (docs/decisions.md) — and is sent as the `auth`
// op on /ws and as a Bearer token on REST. Without a key the panels say how to get one and the
// market panels carry on.

import type { AccountView, FillView, Page, PositionView } from "../../client/protocol.ts";
import { AccountsPanel } from "./accounts.ts";
import { AlertsPanel } from "./alerts.ts";
import { CandidatesPanel } from "./candidates.ts";
import type { ChainPanel } from "./chain.ts";
import { $, note } from "./dom.ts";
import { OrdersPanel } from "./orders.ts";
import { RiskPanel, type FirmRisk } from "./risk.ts";
import { TradingSession, type ApiError } from "./session.ts";

/** sessionStorage slot of the key. */
const KEY_SLOT = "alluse.apiKey";
/** Most accounts one watch request may name (docs/protocol.md). */
const MAX_WATCH = 64;
const FILLS_SHOWN = 50;
const FIRM_EVERY_MS = 2000;

/** The key field and the keyed panels. */
export class TradingPanels {
  readonly accounts = new AccountsPanel($("accounts"));
  readonly risk = new RiskPanel($("risk"));
  readonly orders = new OrdersPanel();
  readonly alerts = new AlertsPanel();
  readonly candidates: CandidatesPanel;
  session: TradingSession | undefined;
  /** Authenticated connections so far (the browser test waits on it). */
  readies = 0;
  private firmTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly wsUrl: string, private readonly chain: ChainPanel) {
    this.candidates = new CandidatesPanel(this.orders, chain);
    $<HTMLFormElement>("key-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const input = $<HTMLInputElement>("key");
      const key = input.value.trim();
      input.value = "";
      if (key) this.use(key);
    });
    $("key-forget").addEventListener("click", () => this.forget("Key forgotten."));
    const saved = sessionStorage.getItem(KEY_SLOT);
    if (saved) this.use(saved);
    else this.showNoKey("Enter an API key above to see accounts, orders, risk and alerts.");
  }

  private use(key: string): void {
    this.session?.stop();
    sessionStorage.setItem(KEY_SLOT, key);
    this.accounts.clear();
    this.risk.clear();
    const s = new TradingSession(this.wsUrl, key, {
      ready: (scopes, accounts) => void this.onReady(s, scopes, accounts),
      account: (a) => this.accounts.setAccount(a),
      order: (o) => this.orders.setOrder(o),
      fill: (f) => this.orders.addFill(f),
      position: (p) => this.accounts.setPosition(p),
      risk: (r) => { this.accounts.setRisk(r); this.risk.setRisk(r); this.chain.setRisk(r); },
      alert: (event, a) => {
        this.alerts.onTransition(event, a);
        // The firm's state is only on REST: fetch it as soon as a trading-state alert moves.
        if (a.rule === "risk.trading_state") void this.pollFirm();
      },
      state: (text, ok) => this.setKeyPill(text, ok),
      refused: (message) => this.forget(message, true),
    });
    this.session = s;
    this.orders.setSession(s);
    this.alerts.setSession(s);
    this.candidates.setSession(s);
    document.body.classList.add("keyed");
    s.start();
  }

  private forget(message: string, bad = false): void {
    this.session?.stop();
    this.session = undefined;
    sessionStorage.removeItem(KEY_SLOT);
    clearInterval(this.firmTimer);
    this.orders.setSession(undefined);
    this.alerts.setSession(undefined);
    this.candidates.setSession(undefined);
    this.chain.setAccounts([]);
    this.accounts.clear();
    this.risk.clear();
    document.body.classList.remove("keyed");
    this.setKeyPill("no key", false);
    this.showNoKey(message, bad);
  }

  private showNoKey(message: string, bad = false): void {
    for (const id of ["accounts-status", "risk-status", "alerts-status", "ticket-status", "cand-status"]) {
      note($(id), `${message} Create one with: alluse-market keys create --scope trade --accounts Gen-Acc (admin to acknowledge alerts).`, bad);
    }
  }

  private setKeyPill(text: string, ok: boolean): void {
    const el = $("key-state");
    el.textContent = text;
    el.className = ok ? "pill ok" : "pill";
  }

  /** Each authenticated connection: list the accounts, watch them, load positions and fills, subscribe to alerts. */
  private async onReady(s: TradingSession, scopes: string[], _accounts: string[]): Promise<void> {
    if (s !== this.session) return;
    this.setKeyPill(`key: ${scopes.join(", ")}`, true);
    for (const id of ["accounts-status", "risk-status", "alerts-status", "ticket-status", "cand-status"]) note($(id), "");
    await Promise.all([this.loadAccounts(s), this.loadAlerts(s)]);
    clearInterval(this.firmTimer);
    this.firmTimer = setInterval(() => void this.pollFirm(), FIRM_EVERY_MS);
    void this.pollFirm();
    this.readies++;
  }

  private async loadAccounts(s: TradingSession): Promise<void> {
    try {
      const { accounts } = await s.rest<{ accounts: AccountView[] }>("GET", "/v1/accounts");
      const ids = accounts.map((a) => a.id).slice(0, MAX_WATCH);
      for (const a of accounts) this.accounts.setAccount(a);
      this.risk.setAccounts(ids);
      this.orders.setAccounts(ids);
      this.chain.setAccounts(ids);
      if (ids.length === 0) return note($("accounts-status"), "This key may not see any account.");
      this.orders.resetOpen();
      await s.watch(ids);
      await Promise.all(ids.map(async (id) => {
        const enc = encodeURIComponent(id);
        const [pos, fills] = await Promise.all([
          s.rest<{ positions: PositionView[] }>("GET", `/v1/accounts/${enc}/positions`),
          s.rest<Page & { fills: FillView[] }>("GET", `/v1/accounts/${enc}/fills?limit=${FILLS_SHOWN}`),
        ]);
        this.accounts.setPositions(id, pos.positions);
        this.orders.setFills(fills.fills);
      }));
    } catch (e) {
      const err = e as ApiError;
      const text = err.status === 403 ? "This key may not trade any account (it needs the trade or admin scope)." : `Accounts unavailable: ${err.code}: ${err.message}`;
      note($("accounts-status"), text, err.status !== 403);
    }
  }

  private async loadAlerts(s: TradingSession): Promise<void> {
    try {
      this.alerts.setActive(await s.subscribeAlerts());
    } catch (e) {
      const err = e as ApiError;
      note($("alerts-status"), `Alerts unavailable: ${err.code}: ${err.message}`, true);
    }
  }

  private async pollFirm(): Promise<void> {
    const s = this.session;
    if (!s) return;
    try {
      const { firm } = await s.rest<{ firm: FirmRisk }>("GET", "/v1/risk");
      if (s === this.session) this.risk.setFirm(firm);
    } catch (e) {
      const err = e as ApiError;
      // A read key may not see risk: stop asking, the account frames still arrive when allowed.
      if (err.status === 403 || err.status === 401) clearInterval(this.firmTimer);
      note($("risk-status"), err.status === 403 ? "This key may not see risk (it needs the trade or admin scope)." : `Risk unavailable: ${err.message}`, err.status !== 403);
    }
  }
}
