// Same-run baseline comparison (bench/compare.ts): the order the two trees run in, the medians,
// ratios and Markdown on made-up results, and that a bench server started for a tree is that
// tree's src/main.ts with its cwd there (bench/e2e-cluster.ts), not this checkout's.

import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alternate, baseNow, compareTable, median } from "../../bench/compare.ts";
import { startServers } from "../../bench/e2e-cluster.ts";

describe("bench comparison", () => {
  test("median is the lower middle, NaN when empty", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2);
    expect(median([])).toBeNaN();
  });

  test("alternate starts even rounds with the baseline and odd rounds with this tree", async () => {
    const seen: string[] = [];
    const c = await alternate(3, "B", "H", async (tree) => (seen.push(tree), seen.length));
    expect(seen).toEqual(["B", "H", "H", "B", "B", "H"]);
    expect(c.base).toEqual([1, 4, 5]);
    expect(c.cur).toEqual([2, 3, 6]);
    expect(c.loads).toHaveLength(6);
  });

  test("baseNow gives the ratio now ÷ base, none for a zero base", () => {
    expect(baseNow(200, 150, 1)).toBe("200.0 → 150.0 (0.75×)");
    expect(baseNow(0, 3, 0)).toBe("0 → 3");
  });

  test("the table has one row per metric with medians, ratio and ranges", () => {
    const rows = compareTable("Memory", [{ name: "peak RSS MB", get: (r: { mb: number }) => r.mb, digits: 1 }],
      { base: [{ mb: 100 }, { mb: 120 }, { mb: 110 }], cur: [{ mb: 99 }, { mb: 88 }, { mb: 90 }], loads: [1, 1.5, 2.25] });
    expect(rows[0]).toBe("## Memory");
    expect(rows[3]).toBe("| peak RSS MB | 110.0 → 90.0 (0.82×) | 100.0–120.0 | 88.0–99.0 |");
    expect(rows[5]).toContain("Medians of 3 runs on the baseline and 3 runs on this tree");
    expect(rows[5]).toContain("load average 1.0–2.3");
  });

  test("startServers runs the given tree's src/main.ts with its cwd there", async () => {
    const tree = mkdtempSync(join(tmpdir(), "alluse-bench-tree-"));
    try {
      mkdirSync(join(tree, "src"));
      // A stand-in server: answers with its own path and cwd, and prints the app's "listening" line.
      writeFileSync(join(tree, "src/main.ts"), `
        const s = Bun.serve({ port: 0, fetch: () => Response.json({ main: import.meta.path, cwd: process.cwd(), argv: process.argv.slice(2) }) });
        console.log(JSON.stringify({ msg: "listening", http: "http://127.0.0.1:" + s.port, ws: "ws://127.0.0.1:" + s.port }));
      `);
      const servers = await startServers({ symbols: ["AAPL"], ticksPerS: 10, clients: 1, dataDir: join(tree, "data"), tree });
      try {
        const got = (await (await fetch(servers.http)).json()) as { main: string; cwd: string; argv: string[] };
        expect(realpathSync(got.main)).toBe(realpathSync(join(tree, "src/main.ts")));
        expect(realpathSync(got.cwd)).toBe(realpathSync(tree));
        expect(got.argv).toContain("--symbols");
      } finally {
        await servers.stop();
      }
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });
});
