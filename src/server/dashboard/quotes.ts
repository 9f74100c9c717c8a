// The live quotes table. Frames are conflated per symbol and applied once per animation frame, so
// a fast market costs the page one repaint per frame however many quotes arrive; a changed price
// cell flashes green or red by the direction of the change.

import type { QuoteFrame } from "../../client/protocol.ts";
import { QualityFlag } from "../../domain/tick.ts";

/** Short labels of quality flags; "bad" ones are shown in red. */
const FLAG_LABELS: [number, string, boolean][] = [
  [QualityFlag.Stale, "stale", true], [QualityFlag.Crossed, "crossed", true], [QualityFlag.Locked, "locked", false],
  [QualityFlag.JumpRejected, "jump", false], [QualityFlag.Reanchored, "re-anchored", false], [QualityFlag.NoBid, "no bid", false],
  [QualityFlag.NoAsk, "no ask", false], [QualityFlag.Delayed, "delayed", false],
];

type Column = "b" | "a" | "l" | "chg" | "v" | "vw" | "vol" | "lat" | "f";
const COLUMNS: Column[] = ["b", "a", "l", "chg", "v", "vw", "vol", "lat", "f"];
const SMALL_HIDDEN = new Set<Column>(["v", "vw", "vol", "lat"]);

interface Row {
  tr: HTMLTableRowElement;
  cells: Record<Column, HTMLTableCellElement>;
  last: QuoteFrame | undefined;
}

function price(v: number | null): string {
  return v === null ? "—" : v.toFixed(v < 10 ? 3 : 2);
}

/** The table of quotes for a fixed list of symbols. */
export class QuoteTable {
  private readonly rows = new Map<string, Row>();
  private readonly pending = new Map<string, QuoteFrame>();
  private scheduled = false;
  /** Quote frames applied to the table (the browser test waits on it). */
  applied = 0;
  private selected: string | undefined;

  constructor(private readonly tbody: HTMLTableSectionElement, private readonly onSelect: (symbol: string) => void) {}

  /** Builds one row per symbol. */
  setSymbols(symbols: readonly string[]): void {
    this.tbody.replaceChildren();
    this.rows.clear();
    for (const s of symbols) {
      const tr = document.createElement("tr");
      tr.dataset.symbol = s;
      const name = document.createElement("td");
      name.textContent = s;
      tr.append(name);
      const cells = {} as Record<Column, HTMLTableCellElement>;
      for (const c of COLUMNS) {
        const td = document.createElement("td");
        td.dataset.col = c;
        if (SMALL_HIDDEN.has(c)) td.className = "hide-sm";
        td.textContent = "—";
        cells[c] = td;
        tr.append(td);
      }
      tr.addEventListener("click", () => this.onSelect(s));
      this.tbody.append(tr);
      this.rows.set(s, { tr, cells, last: undefined });
    }
  }

  /** Marks the selected row. */
  select(symbol: string): void {
    if (this.selected) this.rows.get(this.selected)?.tr.classList.remove("sel");
    this.selected = symbol;
    this.rows.get(symbol)?.tr.classList.add("sel");
  }

  /** Queues a frame; the latest per symbol is drawn on the next animation frame. */
  push(q: QuoteFrame): void {
    this.pending.set(q.s, q);
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const now = Date.now();
    for (const q of this.pending.values()) this.apply(q, now);
    this.pending.clear();
  }

  private apply(q: QuoteFrame, now: number): void {
    const row = this.rows.get(q.s);
    if (!row) return;
    const prev = row.last;
    const c = row.cells;
    this.setPrice(c.b, q.b, prev?.b);
    this.setPrice(c.a, q.a, prev?.a);
    this.setPrice(c.l, q.l, prev?.l);
    const ref = q.pc ?? q.o;
    const chg = q.l !== null && ref !== null ? (q.l / ref - 1) * 100 : null;
    // Round first, so a change that shows as 0.00 is neither signed nor coloured.
    const shown = chg === null ? null : Number(chg.toFixed(2));
    c.chg.textContent = shown === null ? "—" : `${shown > 0 ? "+" : ""}${(shown === 0 ? 0 : shown).toFixed(2)}`;
    c.chg.className = shown === null || shown === 0 ? "" : shown > 0 ? "pos" : "neg";
    c.v.textContent = q.v.toLocaleString("en-US");
    c.vw.textContent = price(q.vw);
    c.vol.textContent = q.vol === null ? "—" : (q.vol * 100).toFixed(1);
    c.lat.textContent = q.its > 0 ? `${Math.max(0, now - q.its).toFixed(0)} ms` : "—";
    c.f.replaceChildren(...FLAG_LABELS.filter(([bit]) => (q.f & bit) !== 0).map(([, label, bad]) => {
      const span = document.createElement("span");
      span.className = bad ? "flag bad" : "flag";
      span.textContent = label;
      return span;
    }));
    row.last = q;
    this.applied++;
  }

  private setPrice(td: HTMLTableCellElement, v: number | null, before: number | null | undefined): void {
    td.textContent = price(v);
    if (v === null || before === null || before === undefined || v === before) return;
    // Restarting a CSS animation needs the class removed and a style flush in between.
    td.classList.remove("up", "down");
    void td.offsetWidth;
    td.classList.add(v > before ? "up" : "down");
  }
}
