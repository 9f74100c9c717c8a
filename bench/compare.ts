// Same-run comparison against another checkout (issue 14: "before and after, same run"): run a
// scenario on the baseline tree and on this one, round by round, alternating which side goes
// first so that neither always meets the same moment of the machine's other load; then the
// medians of each side and the ratio current ÷ baseline as a markdown table. Used by
// bench/memory.ts and bench/e2e-compare.ts; the table is a pure function of the runs, pinned by
// test/unit/bench-compare.test.ts.
//
// The baseline tree is another commit of this project exported beside this one:
//   git archive <commit> | tar -x -C /tmp/base && ln -s "$PWD/node_modules" /tmp/base/node_modules
//   (cd /tmp/base && ./node_modules/.bin/asc assembly/index.ts --config assembly/asconfig.json --target release)
// Build its wasm/ from its own assembly/ rather than copying this tree's when assembly/ differs
// between the two commits: the engine's table layout lives in both the WASM and the TypeScript.

import { loadavg } from "node:os";

/** The lower median (the middle element, or the lower of the two middle ones); NaN when empty. */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  return [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
}

/** A number with `digits` decimals and thousands separators. */
export function fmt(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return "—";
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** The runs of one comparison: each side's results in run order, and the 1-minute load average at each run's start. */
export interface Alternated<R> {
  base: R[];
  cur: R[];
  loads: number[];
}

/**
 * Runs `run` on `baseline` and on `here`, `runs` rounds; even rounds start with the baseline,
 * odd rounds with the current tree.
 */
export async function alternate<R>(runs: number, baseline: string, here: string, run: (tree: string) => Promise<R>): Promise<Alternated<R>> {
  const out: Alternated<R> = { base: [], cur: [], loads: [] };
  for (let r = 0; r < runs; r++) {
    const order = r % 2 === 0 ? [[baseline, out.base], [here, out.cur]] as const : [[here, out.cur], [baseline, out.base]] as const;
    for (const [tree, into] of order) {
      out.loads.push(loadavg()[0]!);
      into.push(await run(tree));
    }
  }
  return out;
}

/** One row of a comparison: how to read the figure from a result, and its decimals. */
export interface Metric<R> {
  name: string;
  get: (r: R) => number;
  digits: number;
}

/** "base → now (ratio×)", or "base → now" when the ratio means nothing (a zero or missing base). */
export function baseNow(base: number, now: number, digits: number): string {
  const ratio = now / base;
  return `${fmt(base, digits)} → ${fmt(now, digits)}${Number.isFinite(ratio) && base !== 0 ? ` (${fmt(ratio)}×)` : ""}`;
}

/** The comparison as markdown: one row per metric, medians base → now (×), each side's range, and the load. */
export function compareTable<R>(title: string, metrics: Metric<R>[], c: Alternated<R>): string[] {
  const range = (xs: number[], d: number) => (xs.length > 1 ? `${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)}` : fmt(xs[0] ?? NaN, d));
  const rows = [`## ${title}`, "| metric | median base → now (now ÷ base) | base range | now range |", "|---|---:|---:|---:|"];
  for (const m of metrics) {
    const b = c.base.map(m.get), n = c.cur.map(m.get);
    rows.push(`| ${m.name} | ${baseNow(median(b), median(n), m.digits)} | ${range(b, m.digits)} | ${range(n, m.digits)} |`);
  }
  const loads = c.loads.length ? `${fmt(Math.min(...c.loads), 1)}–${fmt(Math.max(...c.loads), 1)}` : "—";
  const runs = (n: number) => `${n} run${n === 1 ? "" : "s"}`;
  rows.push("", `Medians of ${runs(c.base.length)} on the baseline and ${runs(c.cur.length)} on this tree, alternating which goes first; 1-minute load average ${loads} at the runs' starts.`, "");
  return rows;
}
