// The option chain panel: pick an underlying (the stocks that have options, from
// GET /v1/chains/{u}) and an expiry, and the chain streams live over the quotes connection's
// `chain.subscribe` (the old chain is unsubscribed on every change, so the connection never
// nears its per-connection chain limit). Rows show both legs' quotes, IV and greeks; the legs
// whose |delta| is in the chosen account's band are highlighted. The band is the candidates
// reply's (the preset's own, with its right) once loaded, else the account's risk `deltaBand`
// from its risk frames (both sides, since the limit alone does not say which right the preset
// sells). The IV smile and the underlying's IV rank and percentile sit beside the table.

import type { MarketClient } from "../../client/client.ts";
import type { ChainExpiries, ChainFrame, ChainLeg, ChainRow, RiskView } from "../../client/protocol.ts";
import { $, conflated, el, fmt, note } from "./dom.ts";
import { drawSmile, inBand, type Band } from "./smile.ts";

/** Most strikes drawn (the server refuses chains over chains.maxRowsPerChain, 200, anyway). */
const MAX_ROWS = 200;
/** Stocks probed for options at start, in server order. */
const MAX_PROBED = 40;

interface AccountBand {
  band: Band;
  /** The right the preset sells, when the band came from its candidates; null: both sides. */
  right: "call" | "put" | null;
  source: string;
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

function option(value: string, text = value): HTMLOptionElement {
  const o = el("option", "", text);
  o.value = value;
  return o;
}

/** The chain panel. */
export class ChainPanel {
  underlying = "";
  expiry = "";
  /** Snapshots and updates applied so far (the browser test waits on them). */
  snapshots = 0;
  updates = 0;
  /** Points in the last smile drawn. */
  smilePoints = 0;
  private client: MarketClient | undefined;
  private rows: ChainRow[] = [];
  private spot: number | null = null;
  private readonly riskBands = new Map<string, AccountBand>();
  private readonly presetBands = new Map<string, AccountBand>();
  private readonly listeners: (() => void)[] = [];
  private readonly status = $("chain-status");
  private readonly uSel = $<HTMLSelectElement>("chain-underlying");
  private readonly eSel = $<HTMLSelectElement>("chain-expiry");
  private readonly aSel = $<HTMLSelectElement>("opt-account");
  readonly redraw = conflated(() => this.draw());

  constructor() {
    this.uSel.addEventListener("change", () => void this.loadUnderlying(this.uSel.value));
    this.eSel.addEventListener("change", () => void this.open(this.underlying, this.eSel.value));
    this.aSel.addEventListener("change", () => { this.redraw(); this.changed(); });
  }

  /** The account chosen for the band and the candidates ("" without a key). */
  get account(): string {
    return this.aSel.value;
  }

  /** Calls `cb` whenever the account, underlying or expiry changes. */
  onChange(cb: () => void): void {
    this.listeners.push(cb);
  }

  /** Starts on the quotes connection: finds the stocks with options and opens the first. */
  async start(client: MarketClient, stocks: string[]): Promise<void> {
    this.client = client;
    client.onPush((f) => { if (f.t === "chain") this.onFrame(f); });
    // Chains are not renewed after a reconnect (docs/protocol.md): subscribe again.
    client.onOpen((reconnected) => { if (reconnected && this.expiry) void this.open(this.underlying, this.expiry); });
    const probed = await Promise.all(stocks.slice(0, MAX_PROBED).map(async (s) => {
      const c = await getJson<ChainExpiries>(`/v1/chains/${encodeURIComponent(s)}`).catch(() => null);
      return c && c.expiries.length > 0 ? s : null;
    }));
    const withOptions = probed.filter((s): s is string => s !== null);
    this.uSel.replaceChildren(...withOptions.map((s) => option(s)));
    if (withOptions.length === 0) return note(this.status, "No stock has options on this server.");
    await this.loadUnderlying(withOptions[0]!);
  }

  /** The accounts that may be chosen (those of the key; empty without one). */
  setAccounts(ids: string[]): void {
    const was = this.aSel.value;
    this.aSel.replaceChildren(...ids.map((id) => option(id)));
    if (ids.includes(was)) this.aSel.value = was;
    if (ids.length === 0) { this.riskBands.clear(); this.presetBands.clear(); }
    this.redraw();
    if (this.aSel.value !== was) this.changed();
  }

  /** An account's risk frame: its `deltaBand` limit (percent) is the band until candidates say more. */
  setRisk(r: RiskView): void {
    const b = r.limits.deltaBand;
    const band = typeof b === "object" && b.mode !== "off" ? { lo: b.lo / 100, hi: b.hi / 100 } : null;
    const was = this.riskBands.get(r.account);
    if (was?.band?.lo === band?.lo && was?.band?.hi === band?.hi) return;
    this.riskBands.set(r.account, { band, right: null, source: "risk limit" });
    if (r.account === this.account) this.redraw();
  }

  /** The band and right of an account's preset, from its candidates reply. */
  setPresetBand(account: string, band: { lo: number; hi: number }, right: "call" | "put"): void {
    this.presetBands.set(account, { band, right, source: "preset" });
    if (account === this.account) this.redraw();
  }

  private bandOf(): AccountBand | undefined {
    return this.presetBands.get(this.account) ?? this.riskBands.get(this.account);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  private async loadUnderlying(u: string): Promise<void> {
    this.uSel.value = u;
    try {
      const c = await getJson<ChainExpiries>(`/v1/chains/${encodeURIComponent(u)}`);
      if (this.uSel.value !== u) return;
      this.showIv(c);
      this.eSel.replaceChildren(...c.expiries.map((e) => option(e)));
      if (c.expiries.length === 0) return note(this.status, `${u} has no options.`);
      await this.open(u, c.expiries[0]!);
    } catch (e) {
      note(this.status, `chain of ${u} unavailable: ${(e as Error).message}`, true);
    }
  }

  private showIv(c: Pick<ChainExpiries, "ivRank" | "ivPercentile" | "ivWindowDays" | "ivHistoryDays">): void {
    const text = c.ivRank === null && c.ivPercentile === null
      ? `IV rank — (${c.ivWindowDays === null ? "no IV history kept" : `${c.ivHistoryDays} days recorded`})`
      : `IV rank ${fmt(c.ivRank, 0)} · percentile ${fmt(c.ivPercentile, 0)} (${c.ivHistoryDays} of ${c.ivWindowDays ?? "—"} days)`;
    $("chain-iv").textContent = text;
  }

  /** Streams `u`/`e`, ending the chain streamed before. */
  private async open(u: string, e: string): Promise<void> {
    const client = this.client;
    if (!client) return;
    const [oldU, oldE] = [this.underlying, this.expiry];
    this.underlying = u;
    this.expiry = e;
    this.eSel.value = e;
    this.changed();
    if (oldE && (oldU !== u || oldE !== e)) client.unsubscribeChain(oldU, oldE).catch(() => {});
    note(this.status, `opening ${u} ${e}…`);
    try {
      const snap = await client.subscribeChain(u, e);
      // The choice moved on while this one was opening: end it, a newer one is coming.
      if (this.underlying !== u || this.expiry !== e) { client.unsubscribeChain(u, e).catch(() => {}); return; }
      this.rows = snap.rows.slice(0, MAX_ROWS);
      this.spot = snap.spot;
      this.snapshots++;
      note(this.status, "");
      this.redraw();
    } catch (err) {
      const x = err as { code?: string; message: string };
      if (this.underlying === u && this.expiry === e) note(this.status, `${u} ${e}: ${x.code ? `${x.code}: ` : ""}${x.message}`, true);
    }
  }

  private onFrame(f: ChainFrame): void {
    if (f.snapshot || f.underlying !== this.underlying || f.expiry !== this.expiry || this.snapshots === 0) return;
    this.spot = f.spot;
    for (const r of f.rows) {
      const i = this.rows.findIndex((x) => x.strike === r.strike);
      if (i >= 0) this.rows[i] = r;
    }
    this.updates++;
    this.redraw();
  }

  private legCells(leg: ChainLeg | null, side: "call" | "put", band: AccountBand | undefined): HTMLTableCellElement[] {
    const values = leg ? [fmt(leg.bid), fmt(leg.ask), fmt(leg.mid), leg.iv === null ? (leg.status === "ok" ? "—" : leg.status.replaceAll("_", " ")) : fmt(leg.iv * 100, 1),
      fmt(leg.delta, 3), fmt(leg.gamma, 4)] : ["", "", "", "", "", ""];
    const hit = leg !== null && (band?.right ?? side) === side && inBand(leg.delta, band?.band ?? null);
    const cells = values.map((v, k) => {
      const td = el("td", `${side}${hit ? " band" : ""}${k === 5 ? " hide-sm" : ""}`, v);
      td.dataset.side = side;
      return td;
    });
    if (leg) cells[0]!.title = leg.symbol;
    return cells;
  }

  private draw(): void {
    const band = this.bandOf();
    const atm = this.spot === null ? null : this.rows.reduce<number | null>((best, r) =>
      best === null || Math.abs(r.strike - this.spot!) < Math.abs(best - this.spot!) ? r.strike : best, null);
    $("chain-body").replaceChildren(...(this.rows.length === 0 ? [emptyRow(this.expiry ? "no strikes" : "—")] : this.rows.map((r) => {
      const tr = el("tr", r.strike === atm ? "atm" : "");
      tr.dataset.strike = String(r.strike);
      const strike = el("td", "strike", String(r.strike));
      tr.append(...this.legCells(r.call, "call", band), strike, ...this.legCells(r.put, "put", band));
      return tr;
    })));
    const b = band?.band;
    $("chain-band").textContent = !this.account ? "enter a key to see an account's band"
      : b ? `${this.account}: ${fmt(b.lo * 100, 0)}–${fmt(b.hi * 100, 0)}Δ ${band!.right ? `${band!.right}s` : "calls and puts"} (${band!.source})` : `${this.account}: no delta band`;
    $("chain-spot").textContent = `spot ${fmt(this.spot)}`;
    this.smilePoints = drawSmile($<HTMLCanvasElement>("smile-chart"), this.rows, this.spot, b ?? null, band?.right ?? null);
  }
}

function emptyRow(text: string): HTMLTableRowElement {
  const tr = el("tr", "empty");
  const td = el("td", "", text);
  td.colSpan = 99;
  tr.append(td);
  return tr;
}
