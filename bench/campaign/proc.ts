// Child processes of the fault campaigns: the real server (`bun src/main.ts`) on loopback with
// its own data directory, API keys made with the keys CLI, load-client processes, the server's
// RSS from /proc. Every child is registered so a campaign can kill all it started, also when it
// fails half-way (`killAll` in a finally, and once more when the process exits).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { within } from "../../test/helpers/wait.ts";

/** Repository root: every child runs from here. */
export const ROOT = join(import.meta.dir, "..", "..");
/** The Bun binary running this campaign: children use the same one. */
export const BUN = process.execPath;
/** Longest wait for a server to print its URL (start-up under a loaded 2-core machine). */
const START_TIMEOUT_MS = 60_000;
/** Log lines of a server kept for a failure message. */
const KEPT_LINES = 200;

const children = new Set<Bun.Subprocess>();

/** Spawns a registered child (killed by killAll). */
export function spawnChild(cmd: string[], opts: { stdout?: "pipe" | "ignore"; stderr?: "pipe" | "ignore" | "inherit" } = {}): Bun.Subprocess<"ignore", "pipe", "pipe"> {
  const p = Bun.spawn(cmd, { cwd: ROOT, stdin: "ignore", stdout: opts.stdout ?? "pipe", stderr: opts.stderr ?? "pipe" }) as Bun.Subprocess<"ignore", "pipe", "pipe">;
  children.add(p);
  void p.exited.then(() => children.delete(p));
  return p;
}

/** SIGKILLs every child still running and waits for each to exit. */
export async function killAll(): Promise<void> {
  const all = [...children];
  for (const p of all) p.kill("SIGKILL");
  await Promise.all(all.map((p) => p.exited));
}

process.once("exit", () => {
  for (const p of children) p.kill("SIGKILL");
});

/** A running server process. */
export interface ServerProc {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  url: string;
  wsUrl: string;
  /** Log lines at level error (stdout and stderr), counted since start. */
  errorLines: string[];
  /** The last log lines, for a failure message. */
  tail: string[];
}

function drain(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): void {
  void (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const l of lines) onLine(l);
    }
  })().catch(() => undefined);
}

/** Starts `bun src/main.ts --host 127.0.0.1 --port 0 --data-dir DIR …args` and waits for its URL. */
export async function startServer(dataDir: string, args: string[]): Promise<ServerProc> {
  const proc = spawnChild([BUN, "src/main.ts", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, ...args]);
  const errorLines: string[] = [];
  const tail: string[] = [];
  const url = Promise.withResolvers<string>();
  const onLine = (line: string) => {
    tail.push(line);
    if (tail.length > KEPT_LINES) tail.shift();
    if (line.includes('"level":"error"') || line.includes('"level":"fatal"') || line.includes('"level":50') || line.includes('"level":60')) errorLines.push(line);
    const m = /HTTP\s+(http:\/\/[^/\s]+)/.exec(line);
    if (m) url.resolve(m[1]!);
  };
  drain(proc.stdout, onLine);
  drain(proc.stderr, onLine);
  void proc.exited.then((code) => url.reject(new Error(`server exited with ${code} before listening:\n${tail.join("\n")}`)));
  try {
    const http = await within(url.promise, START_TIMEOUT_MS, "the server to listen");
    return { proc, url: http, wsUrl: http.replace(/^http/, "ws") + "/ws", errorLines, tail };
  } catch (err) {
    proc.kill("SIGKILL");
    throw err;
  }
}

/** Stops a server with SIGTERM (SIGKILL if it has not exited within 10 s). */
export async function stopServer(s: ServerProc): Promise<number> {
  s.proc.kill("SIGTERM");
  const timer = setTimeout(() => s.proc.kill("SIGKILL"), 10_000);
  const code = await s.proc.exited;
  clearTimeout(timer);
  return code;
}

/** Creates an API key with the keys CLI (a separate process on the same data directory). */
export function createKey(dataDir: string, scope: string): string {
  const r = Bun.spawnSync([BUN, "src/main.ts", "keys", "create", "--scope", scope, "--data-dir", dataDir], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`keys create failed: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
}

/** Resident set size of a process in MB, or NaN once it is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The 1-minute load average, for the figure lines (the machine is shared). */
export function load1(): number {
  return Math.round(Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]) * 100) / 100;
}

/** Parses `--name value` options and bare `--flag`s into a map. */
export function parseOptions(args: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${JSON.stringify(a)}`);
    const next = args[i + 1];
    if (next !== undefined && !next.startsWith("--")) (out.set(a.slice(2), next), i++);
    else out.set(a.slice(2), "");
  }
  return out;
}

/** A positive integer option, with a default and an upper bound (every campaign is bounded). */
export function intOption(opts: Map<string, string>, name: string, dflt: number, max: number): number {
  const raw = opts.get(name);
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be an integer from 1 to ${max}`);
  return n;
}

/** Formats the one figure line: `campaign <name>: k=v k=v …`. */
export function figureLine(name: string, figures: Record<string, string | number | boolean>): string {
  return `campaign ${name}: ${Object.entries(figures).map(([k, v]) => `${k}=${typeof v === "number" && !Number.isInteger(v) ? v.toFixed(3).replace(/\.?0+$/, "") : v}`).join(" ")}`;
}
