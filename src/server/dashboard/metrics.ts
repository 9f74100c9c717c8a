// The dashboard's view of /metrics: scrape the text format, and turn two consecutive scrapes into
// rates (counter deltas over time) and latency quantiles of the interval between them (bucket
// deltas through the same histogram_quantile rule Prometheus uses). A bounded history feeds the
// charts.

import { bucketDelta, histogramQuantile, type CumulativeBucket } from "../../analytics/histogram.ts";

/** One scrape: series key (name plus sorted labels) → value, and when it was taken. */
export interface Scrape {
  atMs: number;
  values: Map<string, number>;
}

/** Points kept per chart: 150 scrapes at 2 s is five minutes. */
export const HISTORY_POINTS = 150;

/** Parses the sample lines of a text exposition (comments skipped). */
export function parseScrape(text: string, atMs: number): Scrape {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const sp = line.lastIndexOf(" ");
    const head = line.slice(0, sp);
    const raw = line.slice(sp + 1);
    const v = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    values.set(head, v);
  }
  return { atMs, values };
}

/** Sum of every series of a family (all label combinations). */
export function total(s: Scrape, name: string): number {
  let sum = 0;
  for (const [k, v] of s.values) if (k === name || k.startsWith(`${name}{`)) sum += v;
  return sum;
}

/** Cumulative buckets of an unlabelled histogram. */
export function buckets(s: Scrape, name: string): CumulativeBucket[] {
  const out: CumulativeBucket[] = [];
  const prefix = `${name}_bucket{le="`;
  for (const [k, v] of s.values) {
    if (!k.startsWith(prefix)) continue;
    const le = k.slice(prefix.length, -2);
    out.push({ le: le === "+Inf" ? Infinity : Number(le), count: v });
  }
  return out.sort((a, b) => a.le - b.le);
}

/** Per-second rate of a counter family between two scrapes. */
export function rate(cur: Scrape, prev: Scrape, name: string): number {
  const dt = (cur.atMs - prev.atMs) / 1000;
  return dt > 0 ? Math.max(0, total(cur, name) - total(prev, name)) / dt : NaN;
}

/** q-quantile of a histogram over the interval between two scrapes; NaN when nothing was observed. */
export function intervalQuantile(cur: Scrape, prev: Scrape, name: string, q: number): number {
  const a = buckets(cur, name), b = buckets(prev, name);
  if (a.length === 0 || a.length !== b.length) return NaN;
  return histogramQuantile(q, bucketDelta(a, b)) ?? NaN;
}

/** A bounded series for a chart. */
export class Series {
  readonly values: number[] = [];
  push(v: number): void {
    this.values.push(v);
    if (this.values.length > HISTORY_POINTS) this.values.shift();
  }
}
