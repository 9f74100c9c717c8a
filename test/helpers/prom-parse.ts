// A strict parser of the Prometheus text exposition format 0.0.4, written from the format's
// rules, for tests: it throws on anything a Prometheus server would reject or that breaks the
// format's conventions (HELP/TYPE once per family and before its samples, samples of a family
// contiguous, label escaping, duplicate series, histograms with cumulative buckets ending at
// le="+Inf" equal to _count, plus _sum and _count), and returns the families it read.

/** One sample: its full name (with _bucket/_sum/_count), labels and value. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One family: name, help, type and samples in order. */
export interface PromFamily {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  samples: PromSample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = "[a-zA-Z_][a-zA-Z0-9_]*";
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(raw: string, line: number): number {
  if (raw === "+Inf") return Infinity;
  if (raw === "-Inf") return -Infinity;
  if (raw === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw new Error(`line ${line}: bad value ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** Reads `{a="x",b="y"}` starting at text[0] === "{"; returns labels and the rest of the line. */
function parseLabels(text: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  const nameRe = new RegExp(`^${LABEL}`);
  for (;;) {
    if (text[i] === "}") return { labels, rest: text.slice(i + 1) };
    const m = nameRe.exec(text.slice(i));
    if (!m) throw new Error(`line ${line}: bad label name at ${JSON.stringify(text.slice(i, i + 20))}`);
    const name = m[0];
    i += name.length;
    if (text[i] !== "=" || text[i + 1] !== '"') throw new Error(`line ${line}: expected =" after label ${name}`);
    i += 2;
    let value = "";
    for (;;) {
      const ch = text[i];
      if (ch === undefined) throw new Error(`line ${line}: unterminated label value`);
      if (ch === '"') break;
      if (ch === "\n") throw new Error(`line ${line}: raw newline in label value`);
      if (ch === "\\") {
        const e = text[i + 1];
        if (e === "\\") value += "\\";
        else if (e === '"') value += '"';
        else if (e === "n") value += "\n";
        else throw new Error(`line ${line}: bad escape \\${e} in label value`);
        i += 2;
        continue;
      }
      value += ch;
      i++;
    }
    i++;
    if (name in labels) throw new Error(`line ${line}: label ${name} repeated`);
    labels[name] = value;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") throw new Error(`line ${line}: expected , or } after label ${name}`);
  }
}

function unescapeHelp(s: string, line: number): string {
  return s.replace(/\\(.)/g, (_m, e: string) => {
    if (e === "\\") return "\\";
    if (e === "n") return "\n";
    throw new Error(`line ${line}: bad escape \\${e} in HELP`);
  });
}

/** The family a sample name belongs to, given the declared types. */
function familyOf(name: string, types: Map<string, string>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      if (types.get(base) === "histogram" || (types.get(base) === "summary" && suffix !== "_bucket")) return base;
    }
  }
  return name;
}

function checkHistogram(f: PromFamily): void {
  const groups = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}: bucket without le`);
      g.buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name === `${f.name}_sum`) g.sum = s.value;
    else if (s.name === `${f.name}_count`) g.count = s.value;
    else throw new Error(`${f.name}: unexpected sample ${s.name} in a histogram`);
  }
  for (const [key, g] of groups) {
    if (g.sum === undefined || g.count === undefined) throw new Error(`${f.name}${key}: missing _sum or _count`);
    const last = g.buckets.at(-1);
    if (!last || last[0] !== Infinity) throw new Error(`${f.name}${key}: buckets must end with le="+Inf"`);
    if (last[1] !== g.count) throw new Error(`${f.name}${key}: +Inf bucket ${last[1]} != _count ${g.count}`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i]![0] > g.buckets[i - 1]![0])) throw new Error(`${f.name}${key}: le not increasing`);
      if (g.buckets[i]![1] < g.buckets[i - 1]![1]) throw new Error(`${f.name}${key}: buckets not cumulative`);
    }
  }
}

/** Parses and checks a whole exposition; throws with the line number on the first violation. */
export function parseExposition(text: string): Map<string, PromFamily> {
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const families = new Map<string, PromFamily>();
  const types = new Map<string, string>();
  const seenSeries = new Set<string>();
  const closed = new Set<string>();
  let current: PromFamily | undefined;
  const sampleRe = new RegExp(`^(${NAME})(\\{.*)?$`);
  const lines = text.split("\n");
  lines.pop();
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw === "") return;
    if (raw.startsWith("#")) {
      const m = new RegExp(`^# (HELP|TYPE) (${NAME}) ?(.*)$`).exec(raw);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (closed.has(name)) throw new Error(`line ${line}: ${kind} for ${name} after its samples ended`);
      let f = families.get(name);
      if (f && f.samples.length > 0) throw new Error(`line ${line}: ${kind} for ${name} after its samples`);
      if (!f) families.set(name, (f = { name, help: "", type: "untyped", samples: [] }));
      if (current && current !== f) closed.add(current.name);
      current = f;
      if (kind === "HELP") f.help = unescapeHelp(rest, line);
      else {
        if (!TYPES.has(rest)) throw new Error(`line ${line}: unknown type ${rest}`);
        if (types.has(name)) throw new Error(`line ${line}: second TYPE for ${name}`);
        types.set(name, rest);
        f.type = rest as PromFamily["type"];
      }
      return;
    }
    const [head, ...tail] = splitSample(raw, line);
    const m = sampleRe.exec(head);
    if (!m) throw new Error(`line ${line}: bad sample ${JSON.stringify(raw)}`);
    const name = m[1]!;
    const labels = m[2] ? parseLabels(m[2], line) : { labels: {}, rest: "" };
    if (labels.rest !== "") throw new Error(`line ${line}: text after labels`);
    if (tail.length < 1 || tail.length > 2) throw new Error(`line ${line}: expected a value and an optional timestamp`);
    const value = parseValue(tail[0]!, line);
    if (tail.length === 2 && !/^-?\d+$/.test(tail[1]!)) throw new Error(`line ${line}: bad timestamp`);
    const fam = familyOf(name, types);
    if (closed.has(fam)) throw new Error(`line ${line}: samples of ${fam} are not contiguous`);
    let f = families.get(fam);
    if (!f) families.set(fam, (f = { name: fam, help: "", type: "untyped", samples: [] }));
    if (current && current !== f) closed.add(current.name);
    current = f;
    const series = `${name}${JSON.stringify(Object.entries(labels.labels).sort())}`;
    if (seenSeries.has(series)) throw new Error(`line ${line}: duplicate series ${series}`);
    seenSeries.add(series);
    if (f.type === "counter" && !(value >= 0)) throw new Error(`line ${line}: counter ${name} is ${value}`);
    f.samples.push({ name, labels: labels.labels, value });
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

/** Splits a sample line into the name-and-labels part and the value/timestamp fields. */
function splitSample(raw: string, line: number): string[] {
  let end = raw.indexOf("{");
  if (end >= 0) {
    // The label block may contain spaces inside quoted values: find its closing brace.
    let inQuote = false;
    for (let i = end + 1; i < raw.length; i++) {
      const ch = raw[i];
      if (inQuote && ch === "\\") { i++; continue; }
      if (ch === '"') inQuote = !inQuote;
      else if (ch === "}" && !inQuote) { end = i + 1; break; }
      if (i === raw.length - 1) throw new Error(`line ${line}: unterminated label block`);
    }
  } else {
    end = raw.indexOf(" ");
    if (end < 0) throw new Error(`line ${line}: sample without a value`);
  }
  const rest = raw.slice(end);
  if (!rest.startsWith(" ")) throw new Error(`line ${line}: expected a space before the value`);
  return [raw.slice(0, end), ...rest.slice(1).split(" ")];
}

/** The value of one series, or undefined. */
export function sampleValue(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const fam = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ""));
  const want = JSON.stringify(Object.entries(labels).sort());
  return fam?.samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)?.value;
}

/** Runs promtool's `check metrics` on an exposition; null when promtool is not installed. */
export function promtoolCheck(text: string): { ok: boolean; output: string } | null {
  const bin = Bun.which("promtool") ?? (Bun.file("/usr/local/bin/promtool").size > 0 ? "/usr/local/bin/promtool" : null);
  if (!bin) return null;
  const r = Bun.spawnSync([bin, "check", "metrics"], { stdin: new TextEncoder().encode(text) });
  return { ok: r.exitCode === 0, output: `${r.stdout.toString()}${r.stderr.toString()}` };
}
