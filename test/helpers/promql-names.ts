// The metric names a PromQL expression reads, for checking a Grafana board or a rule file against
// the families /metrics serves. A tokenizer, not a parser: strings, label matchers `{…}`, ranges
// `[…]` and the label lists of by/without/on/ignoring/group_left/group_right are removed, then
// every identifier left that is not a function call, keyword or number is a metric selector.

const KEYWORDS = new Set(["and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "inf", "nan", "atan2"]);
const LABEL_LISTS = /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g;

/** Metric names (histogram `_bucket`/`_sum`/`_count` kept as written) selected in `expr`. */
export function metricNamesOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(LABEL_LISTS, " ");
  const names = new Set<string>();
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    const before = bare[m.index - 1];
    if (before !== undefined && /[0-9.$]/.test(before)) continue; // 1e3, $__interval, $account
    if (KEYWORDS.has(word.toLowerCase())) continue;
    if (/^\s*\(/.test(bare.slice(m.index + word.length))) continue; // a function call
    names.add(word);
  }
  return [...names];
}

/** The family a sample name belongs to: histogram and summary series resolve to their family. */
export function familyOf(name: string, families: ReadonlySet<string>): string | undefined {
  if (families.has(name)) return name;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  return m && families.has(m[1]!) ? m[1] : undefined;
}
