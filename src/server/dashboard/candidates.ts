// The candidates list: what the chosen account's preset would sell in the chain panel's
// underlying and expiry (GET /v1/strategy/candidates with the operator's key, which must be
// allowed to trade that account), each row sized and pre-checked by the server. Its "ticket"
// button only fills the order ticket with the candidate's order; nothing is placed until the
// operator presses the ticket's own Place button. Loaded on demand and whenever the account,
// underlying or expiry changes, never on a timer: each load runs the server's previews.

import type { Candidate, CandidatesReply } from "../../client/protocol.ts";
import type { ChainPanel } from "./chain.ts";
import { $, el, fmt, money, note, row } from "./dom.ts";
import type { OrdersPanel } from "./orders.ts";
import type { ApiError, TradingSession } from "./session.ts";

/** The candidates panel. */
export class CandidatesPanel {
  /** Replies shown so far (the browser test waits on it). */
  loads = 0;
  private session: TradingSession | undefined;
  /** The reply shown (the browser test compares the ticket with it). */
  reply: CandidatesReply | undefined;
  /** Identifies the latest request, so an older reply arriving late is dropped. */
  private asked = 0;
  private answered = 0;
  private readonly status = $("cand-status");

  constructor(private readonly orders: OrdersPanel, private readonly chain: ChainPanel) {
    $("cand-load").addEventListener("click", () => void this.load());
    chain.onChange(() => { if (this.session && chain.account) void this.load(); });
  }

  /** True while the latest request has no answer yet. */
  get busy(): boolean {
    return this.answered !== this.asked;
  }

  /** Connects the panel to a session (undefined: no key). */
  setSession(s: TradingSession | undefined): void {
    this.session = s;
    this.answered = this.asked;
    $<HTMLButtonElement>("cand-load").disabled = s === undefined;
    this.reply = undefined;
    this.draw();
  }

  /** Asks the server for the candidates of the chosen account, underlying and expiry. */
  async load(): Promise<void> {
    const s = this.session;
    const { account, underlying, expiry } = this.chain;
    if (!s) return;
    if (!account) return note(this.status, "No account to choose: candidates need a key that may trade an account.");
    if (!underlying || !expiry) return note(this.status, "Choose an underlying and an expiry with options.");
    const ask = ++this.asked;
    note(this.status, `loading ${account} ${underlying} ${expiry}…`);
    const q = new URLSearchParams({ account, underlying, expiry });
    try {
      const reply = await s.rest<CandidatesReply>("GET", `/v1/strategy/candidates?${q}`);
      if (ask !== this.asked || s !== this.session) return;
      this.answered = ask;
      this.reply = reply;
      this.chain.setPresetBand(reply.account, reply.band, reply.right);
      note(this.status, reply.note ?? "");
      this.loads++;
    } catch (e) {
      if (ask !== this.asked) return;
      this.answered = ask;
      const err = e as ApiError;
      this.reply = undefined;
      note(this.status, err.status === 403 || err.status === 401
        ? `This key may not trade ${account}: candidates need a trade key for it.` : `Candidates unavailable: ${err.code}: ${err.message}`, err.status !== 403);
    }
    this.draw();
  }

  private ticket(c: Candidate, account: string): void {
    this.orders.fillTicket({ account, ...c.order });
  }

  private draw(): void {
    const r = this.reply;
    const head = $("cand-head");
    if (!r) {
      head.textContent = "";
    } else {
      head.textContent = [`${r.account} sells ${r.right}s ${fmt(r.band.lo * 100, 0)}–${fmt(r.band.hi * 100, 0)}Δ`, `${r.underlying} ${r.expiry}`,
        `spot ${fmt(r.spot)}`, `${fmt(r.daysToExpiry, 2)} days`, `buying power ${money(r.buyingPower)}`,
        ...(r.right === "call" ? [`free shares ${r.freeShares}`] : [])].join(" · ");
    }
    const rows = !r ? [row([this.session ? "press Load" : "—"], "empty")]
      : r.candidates.length === 0 ? [row([r.note ?? "no candidates"], "empty")]
      : r.candidates.map((c) => {
        const btn = el("button", "small", "ticket");
        btn.type = "button";
        btn.title = "Fill the order ticket with this candidate (nothing is placed)";
        btn.addEventListener("click", () => this.ticket(c, r.account));
        const check = el("span", c.preview.allowed ? "pos" : "neg", c.preview.allowed ? "allowed" : c.preview.denials.map((d) => d.code).join(", "));
        const notes = [...c.preview.denials, ...c.preview.warnings].map((d) => `${d.code}: ${d.message}`).join("; ");
        if (notes) check.append(el("span", "why", notes));
        const tr = row([String(c.strike), fmt(c.delta, 3), fmt(c.bid), money(c.premium), String(c.contracts), money(c.collateral),
          fmt(c.annualizedYield * 100, 1, " %"), fmt(c.probItm * 100, 1, " %"), fmt(c.breakeven), check, btn]);
        tr.dataset.symbol = c.symbol;
        return tr;
      });
    $("cand-body").replaceChildren(...rows);
  }
}
