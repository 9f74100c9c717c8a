// Rendering of the Prometheus text exposition format 0.0.4: a `# HELP` and a `# TYPE` line per
// family, then its samples. HELP text escapes backslash and newline; label values escape
// backslash, double quote and newline. A histogram is rendered as cumulative `_bucket` series with
// an `le` label ending at `le="+Inf"` (equal to `_count`), then `_sum` and `_count`.

/** Label name → value. */
export type Labels = Record<string, string>;

/** The types this registry renders. */
export type MetricType = "counter" | "gauge" | "histogram";

/** A counter or gauge family at one instant. */
export interface ScalarFamily {
  name: string;
  help: string;
  type: "counter" | "gauge";
  samples: { labels: Labels; value: number }[];
}

/** A histogram family at one instant; `counts` are per bucket (not cumulative), last = +Inf. */
export interface HistogramFamily {
  name: string;
  help: string;
  type: "histogram";
  bounds: Float64Array;
  series: { labels: Labels; counts: Float64Array; sum: number; count: number }[];
}

/** One family, ready to render. */
export type FamilySnapshot = ScalarFamily | HistogramFamily;

/** Escapes HELP text. */
export function escapeHelp(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** Escapes a label value. */
export function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** A sample value as the format spells it (Go's ParseFloat reads every one of these). */
export function formatValue(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v !== v) return "NaN";
  return String(v);
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const parts: string[] = [];
  for (const k in labels) parts.push(`${k}="${escapeLabelValue(labels[k]!)}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** The text of one family, HELP and TYPE first, each line ending in a newline. */
export function renderFamily(f: FamilySnapshot): string {
  let out = `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
  if (f.type !== "histogram") {
    for (const s of f.samples) out += `${f.name}${labelText(s.labels)} ${formatValue(s.value)}\n`;
    return out;
  }
  const les = Array.from(f.bounds, formatValue);
  for (const s of f.series) {
    let cumulative = 0;
    for (let i = 0; i < les.length; i++) {
      cumulative += s.counts[i]!;
      out += `${f.name}_bucket${labelText(s.labels, ["le", les[i]!])} ${cumulative}\n`;
    }
    out += `${f.name}_bucket${labelText(s.labels, ["le", "+Inf"])} ${s.count}\n`;
    out += `${f.name}_sum${labelText(s.labels)} ${formatValue(s.sum)}\n`;
    out += `${f.name}_count${labelText(s.labels)} ${s.count}\n`;
  }
  return out;
}
