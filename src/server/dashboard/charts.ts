// Canvas charts for the dashboard, drawn by hand: a candlestick chart with an optional forecast
// fan, and a multi-line time chart. Each draw sizes the canvas to its CSS box × devicePixelRatio,
// so charts stay sharp on any screen and follow layout changes (phone width, resize).

/** A candle. */
export interface Candle {
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

/** A forecast point drawn after the candles. */
export interface FanPoint {
  mean: number;
  lower: number;
  upper: number;
}

/** One line of a line chart; NaN values leave a gap. */
export interface Line {
  values: number[];
  color: string;
}

/** Grid line colour. */
export const GRID = "#26303b";
/** Axis label colour. */
export const LABEL = "#8795a5";
const UP = "#2fbf71";
const DOWN = "#e5534b";

/** Prepares a canvas for drawing in CSS pixels; null when it has no size (hidden). */
export function setup(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; w: number; h: number } | null {
  const rect = canvas.getBoundingClientRect();
  if (rect.width === 0 || rect.height === 0) return null;
  const dpr = window.devicePixelRatio || 1;
  const pw = Math.round(rect.width * dpr), ph = Math.round(rect.height * dpr);
  if (canvas.width !== pw || canvas.height !== ph) { canvas.width = pw; canvas.height = ph; }
  const ctx = canvas.getContext("2d")!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, rect.width, rect.height);
  ctx.font = "11px system-ui, sans-serif";
  return { ctx, w: rect.width, h: rect.height };
}

/** A "nice" step for about `n` grid lines over `span`. */
export function niceStep(span: number, n: number): number {
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

/** Horizontal grid with value labels on the right; returns the y mapping. */
export function yAxis(ctx: CanvasRenderingContext2D, w: number, h: number, lo: number, hi: number, pad: number, fmt: (v: number) => string): (v: number) => number {
  if (!(hi > lo)) { hi = lo + (Math.abs(lo) || 1) * 0.01; lo -= (hi - lo); }
  const top = 8, bottom = h - 18;
  const y = (v: number) => bottom - ((v - lo) / (hi - lo)) * (bottom - top);
  const step = niceStep(hi - lo, 4);
  ctx.strokeStyle = GRID;
  ctx.fillStyle = LABEL;
  ctx.lineWidth = 1;
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
    const yy = Math.round(y(v)) + 0.5;
    ctx.beginPath(); ctx.moveTo(0, yy); ctx.lineTo(w - pad, yy); ctx.stroke();
    ctx.fillText(fmt(v), w - pad + 4, yy);
  }
  return y;
}

function timeLabel(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/** Draws candles (oldest first) and, after them, a forecast fan; `note` is shown when there is nothing to draw. */
export function drawCandles(canvas: HTMLCanvasElement, candles: readonly Candle[], fan: readonly FanPoint[] = [], note = "no trades yet"): void {
  const s = setup(canvas);
  if (!s) return;
  const { ctx, w, h } = s;
  if (candles.length === 0) {
    ctx.fillStyle = LABEL; ctx.textAlign = "center"; ctx.fillText(note, w / 2, h / 2);
    return;
  }
  let lo = Infinity, hi = -Infinity;
  for (const c of candles) { lo = Math.min(lo, c.low); hi = Math.max(hi, c.high); }
  for (const f of fan) { lo = Math.min(lo, f.lower); hi = Math.max(hi, f.upper); }
  const pad = 56;
  const decimals = hi < 10 ? 3 : 2;
  const y = yAxis(ctx, w, h, lo, hi, pad, (v) => v.toFixed(decimals));
  const slots = candles.length + fan.length;
  const slot = (w - pad) / Math.max(slots, 20);
  const body = Math.max(1, slot * 0.6);
  candles.forEach((c, i) => {
    const x = i * slot + slot / 2;
    const color = c.close >= c.open ? UP : DOWN;
    ctx.strokeStyle = color; ctx.fillStyle = color;
    ctx.beginPath(); ctx.moveTo(Math.round(x) + 0.5, y(c.high)); ctx.lineTo(Math.round(x) + 0.5, y(c.low)); ctx.stroke();
    const top = y(Math.max(c.open, c.close)), bot = y(Math.min(c.open, c.close));
    ctx.fillRect(x - body / 2, top, body, Math.max(1, bot - top));
  });
  if (fan.length > 0) {
    const x0 = (candles.length - 1) * slot + slot / 2;
    const last = candles[candles.length - 1]!.close;
    const xs = fan.map((_, k) => (candles.length + k) * slot + slot / 2);
    ctx.fillStyle = "rgba(79,157,222,0.18)";
    ctx.beginPath(); ctx.moveTo(x0, y(last));
    fan.forEach((f, k) => ctx.lineTo(xs[k]!, y(f.upper)));
    for (let k = fan.length - 1; k >= 0; k--) ctx.lineTo(xs[k]!, y(fan[k]!.lower));
    ctx.closePath(); ctx.fill();
    ctx.strokeStyle = "#4f9dde"; ctx.setLineDash([4, 3]);
    ctx.beginPath(); ctx.moveTo(x0, y(last));
    fan.forEach((f, k) => ctx.lineTo(xs[k]!, y(f.mean)));
    ctx.stroke(); ctx.setLineDash([]);
  }
  ctx.fillStyle = LABEL; ctx.textBaseline = "alphabetic";
  // A time label needs about 70 px: label every k-th candle so neighbours never overlap.
  const every = Math.max(1, Math.ceil(70 / slot));
  for (let i = 0; i < candles.length; i += every) {
    ctx.textAlign = i === 0 ? "left" : "center";
    ctx.fillText(timeLabel(candles[i]!.start), i * slot + slot / 2, h - 4);
  }
}

/** Draws lines over a shared x axis (sample index) with y from 0 to the largest value. */
export function drawLines(canvas: HTMLCanvasElement, lines: readonly Line[], fmt: (v: number) => string = (v) => String(v)): void {
  const s = setup(canvas);
  if (!s) return;
  const { ctx, w, h } = s;
  let hi = 0, n = 0;
  for (const l of lines) {
    n = Math.max(n, l.values.length);
    for (const v of l.values) if (v > hi) hi = v;
  }
  if (n < 2) {
    ctx.fillStyle = LABEL; ctx.textAlign = "center"; ctx.fillText("collecting…", w / 2, h / 2);
    return;
  }
  const pad = 48;
  const y = yAxis(ctx, w, h, 0, hi > 0 ? hi * 1.1 : 1, pad, fmt);
  const x = (i: number) => (i / (n - 1)) * (w - pad);
  ctx.lineWidth = 1.5;
  for (const l of lines) {
    ctx.strokeStyle = l.color;
    ctx.beginPath();
    let pen = false;
    l.values.forEach((v, i) => {
      if (v !== v) { pen = false; return; }
      if (pen) ctx.lineTo(x(i), y(v)); else ctx.moveTo(x(i), y(v));
      pen = true;
    });
    ctx.stroke();
  }
}
