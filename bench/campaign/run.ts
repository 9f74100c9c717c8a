// Runs one fault campaign: `npm run campaign -- <name> [options]` (or `bun bench/campaign/run.ts
// <name> …`). A campaign is the file bench/campaign/<name>.ts exporting
// `run(args: string[]): Promise<number>`; it parses its own options, is bounded in count and
// time, talks only to loopback, kills every child it started, prints one figure line
// `campaign <name>: k=v …` on stdout, and returns the exit code (0 when the figures meet their
// targets). A new campaign needs no registration here. docs/reliability.md describes each one.

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Files in this folder that are helpers, not campaigns. */
const HELPERS = new Set(["run", "proc"]);

/** The campaigns available: every bench/campaign/<name>.ts exporting run(), by file name. */
export async function campaigns(): Promise<string[]> {
  const names = readdirSync(import.meta.dir).filter((f) => f.endsWith(".ts") && !f.endsWith("-fixture.ts")).map((f) => f.slice(0, -3));
  const out: string[] = [];
  for (const n of names.filter((x) => !HELPERS.has(x)).sort()) {
    const mod = (await import(join(import.meta.dir, `${n}.ts`))) as { run?: unknown };
    if (typeof mod.run === "function") out.push(n);
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  // Only a plain file name in this folder is a campaign: no paths, no helpers.
  const file = name && /^[a-z][a-z0-9-]*$/.test(name) && !HELPERS.has(name) ? join(import.meta.dir, `${name}.ts`) : undefined;
  if (file && existsSync(file)) {
    const mod = (await import(file)) as { run?: (args: string[]) => Promise<number> };
    if (typeof mod.run === "function") return mod.run(rest);
  }
  process.stderr.write(`${name ? `unknown campaign ${JSON.stringify(name)}\n` : ""}usage: npm run campaign -- <name> [options]\ncampaigns: ${(await campaigns()).join(", ")}\n`);
  return 2;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
