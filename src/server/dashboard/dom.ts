// Small DOM and formatting helpers shared by the dashboard's panels. Everything that came from
// the server (symbols, reasons, alert messages) reaches the page through textContent, never
// through HTML parsing, so a hostile string can only ever show up as text.

/** The element with `id`; the page defines every id the script asks for. */
export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** A new element with an optional class and text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls = "", text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A table row of text cells; a Node is appended as it is (buttons, badges). */
export function row(cells: (string | Node)[], cls = ""): HTMLTableRowElement {
  const tr = el("tr", cls);
  for (const c of cells) {
    const td = el("td");
    if (typeof c === "string") td.textContent = c;
    else td.append(c);
    tr.append(td);
  }
  // A lone cell is a message ("no open orders"): let it span the table.
  if (cells.length === 1) tr.firstElementChild!.setAttribute("colspan", "99");
  return tr;
}

/** A number with fixed digits, "—" when absent; never "-0.00". */
export function fmt(v: number | null | undefined, digits = 2, suffix = ""): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  // toFixed keeps the sign of a value that rounds to zero ("-0.0"); a dashboard should not.
  const text = v.toFixed(digits);
  return `${Number(text) === 0 ? (0).toFixed(digits) : text}${suffix}`;
}

/** Money with thousands separators and two decimals, "—" when absent. */
export function money(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  const r = Math.round(v * 100) / 100;
  return (r === 0 ? 0 : r).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** A span coloured by the sign of `v` (green up, red down). */
export function signed(v: number | null | undefined, text = money(v)): HTMLSpanElement {
  const r = v === null || v === undefined ? 0 : Math.round(v * 100);
  return el("span", r > 0 ? "pos" : r < 0 ? "neg" : "", text);
}

/** Local wall-clock time of an epoch-ms timestamp. */
export function clock(ts: number): string {
  return new Date(ts).toLocaleTimeString("en-GB", { hour12: false });
}

/** Fills a .kv grid with label/value pairs. */
export function keyValues(target: HTMLElement, pairs: [string, string | Node][]): void {
  target.replaceChildren(...pairs.map(([k, v]) => {
    const div = el("div");
    const b = el("span");
    if (typeof v === "string") b.textContent = v;
    else b.append(v);
    div.append(el("span", "", k), b);
    return div;
  }));
}

/** Shows a one-line status under a panel: "" clears it, `bad` colours it as an error. */
export function note(target: HTMLElement, text: string, bad = false): void {
  target.textContent = text;
  target.className = bad ? "note bad" : "note";
}

/** Calls `draw` once on the next animation frame however often it is asked to. */
export function conflated(draw: () => void): () => void {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; draw(); });
  };
}
