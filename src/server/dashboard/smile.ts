// The IV smile of one chain: implied vol against strike, calls and puts as two lines of points,
// the legs inside the account's delta band drawn larger and ringed, and the spot as a dashed vertical line.
// Drawn on a canvas with the same helpers (sizing, grid, labels) as the other charts.

import type { ChainRow } from "../../client/protocol.ts";
import { LABEL, niceStep, setup, yAxis } from "./charts.ts";

/** |delta| bounds as fractions, or null when no account band is known. */
export type Band = { lo: number; hi: number } | null;

const CALL = "#2fbf71";
const PUT = "#e5534b";
const SPOT = "#4f9dde";
/** Ring around a point in the band, the colour of the band rows in the table. */
const BAND = "#d29922";

/** True when the leg's |delta| lies in the band. */
export function inBand(delta: number | null | undefined, band: Band): boolean {
  if (!band || delta === null || delta === undefined || !Number.isFinite(delta)) return false;
  const d = Math.abs(delta);
  return d >= band.lo && d <= band.hi;
}

/**
 * Draws the smile of `rows` (sorted by strike), ringing the legs in `band` on the side `right`
 * (null: both sides); returns how many points were drawn (the browser test reads it).
 */
export function drawSmile(canvas: HTMLCanvasElement, rows: readonly ChainRow[], spot: number | null, band: Band, right: "call" | "put" | null): number {
  const s = setup(canvas);
  if (!s) return 0;
  const { ctx, w, h } = s;
  const pts: { side: "call" | "put"; k: number; iv: number; band: boolean }[] = [];
  for (const r of rows) {
    for (const side of ["call", "put"] as const) {
      const leg = r[side];
      if (leg && leg.iv !== null && Number.isFinite(leg.iv)) pts.push({ side, k: r.strike, iv: leg.iv * 100, band: (right ?? side) === side && inBand(leg.delta, band) });
    }
  }
  if (pts.length === 0) {
    ctx.fillStyle = LABEL; ctx.textAlign = "center"; ctx.fillText("no implied vols yet", w / 2, h / 2);
    return 0;
  }
  let kLo = Infinity, kHi = -Infinity, vLo = Infinity, vHi = -Infinity;
  for (const p of pts) { kLo = Math.min(kLo, p.k); kHi = Math.max(kHi, p.k); vLo = Math.min(vLo, p.iv); vHi = Math.max(vHi, p.iv); }
  if (kHi === kLo) { kLo -= 1; kHi += 1; }
  const margin = (vHi - vLo) * 0.1 || 1;
  const pad = 44, left = 8;
  const y = yAxis(ctx, w, h, Math.max(0, vLo - margin), vHi + margin, pad, (v) => `${v.toFixed(0)}%`);
  const x = (k: number) => left + ((k - kLo) / (kHi - kLo)) * (w - pad - 2 * left);
  // Strike labels under the axis, on a "nice" step so they never crowd.
  ctx.fillStyle = LABEL; ctx.textAlign = "center"; ctx.textBaseline = "alphabetic";
  const step = niceStep(kHi - kLo, Math.max(2, Math.floor((w - pad) / 70)));
  for (let k = Math.ceil(kLo / step) * step; k <= kHi; k += step) ctx.fillText(String(Number(k.toFixed(4))), x(k), h - 4);
  if (spot !== null && spot >= kLo && spot <= kHi) {
    ctx.strokeStyle = SPOT; ctx.setLineDash([4, 3]); ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(Math.round(x(spot)) + 0.5, 8); ctx.lineTo(Math.round(x(spot)) + 0.5, h - 18); ctx.stroke();
    ctx.setLineDash([]);
  }
  for (const side of ["call", "put"] as const) {
    const mine = pts.filter((p) => p.side === side);
    const color = side === "call" ? CALL : PUT;
    ctx.strokeStyle = color; ctx.fillStyle = color; ctx.lineWidth = 1.5;
    ctx.beginPath();
    mine.forEach((p, i) => (i === 0 ? ctx.moveTo(x(p.k), y(p.iv)) : ctx.lineTo(x(p.k), y(p.iv))));
    ctx.stroke();
    for (const p of mine) {
      ctx.beginPath(); ctx.arc(x(p.k), y(p.iv), p.band ? 4.5 : 2.5, 0, 2 * Math.PI); ctx.fill();
      if (p.band) { ctx.strokeStyle = BAND; ctx.lineWidth = 1.5; ctx.stroke(); ctx.strokeStyle = color; }
    }
  }
  return pts.length;
}
