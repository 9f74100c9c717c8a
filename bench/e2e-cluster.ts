// The servers bench/e2e.ts loads: the single process (role all, or another server command), or
// a real nats-server, one `--role core` and N `--role edge` processes (docs/scaling.md). Either
// way it returns the WebSocket URLs to spread the load clients over and every process's pid, so
// the driver can read each node's CPU from /proc.

import { join } from "node:path";
import type { Subprocess } from "bun";
import { collectLines, readLineMatching } from "../test/helpers/process.ts";
import { freePort, natsServerBinary } from "../test/helpers/nats.ts";

/** One process of the system under load. */
export interface BenchNode {
  /** "server" (single process), "core", "edge1".., or "nats". */
  name: string;
  pid: number;
  /** Its HTTP base URL (not for nats), for /metrics. */
  http?: string;
}

/** The running servers of one scenario. */
export interface BenchServers {
  nodes: BenchNode[];
  /** Where load clients connect: the server, or each edge (client process p uses wsUrls[p % length]). */
  wsUrls: string[];
  /** Any HTTP URL of the system, for /v1/instruments. */
  http: string;
  stop(): Promise<void>;
}

/** What a server needs to know of the scenario. */
export interface ServerSpec {
  symbols: string[];
  ticksPerS: number;
  clients: number;
  /** Edges behind one core; 0 or absent: the single process. */
  edges?: number;
  feedThread?: "main" | "worker";
  serverCommand?: string[];
  dataDir: string;
  /** The checkout whose src/main.ts runs, with its cwd there; this tree when absent. */
  tree?: string;
}

const ROOT = join(import.meta.dir, "..");

type Proc = Subprocess<"ignore", "pipe", "inherit">;

async function listening(p: Proc, what: string): Promise<{ ws: string; http: string }> {
  try {
    return JSON.parse(await readLineMatching(p.stdout, (l) => l.includes('"msg":"listening"'), 30_000)) as { ws: string; http: string };
  } catch (err) {
    throw new Error(`${what} did not start: ${(err as Error).message}`);
  }
}

/** Starts the servers of a scenario; resolves once every one serves (edges: ready, i.e. loaded from the core). */
export async function startServers(spec: ServerSpec): Promise<BenchServers> {
  const tree = spec.tree ?? ROOT;
  const main = join(tree, "src/main.ts");
  const procs: { name: string; proc: Subprocess }[] = [];
  const stop = async () => {
    // Edges first, then the core, then the bus, as `npm run cluster` does.
    for (const { proc } of [...procs].reverse()) {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  };
  const appFlags = ["--port", "0", "--max-connections", String(spec.clients + 16)];
  const coreFlags = ["--data-dir", spec.dataDir, "--symbols", spec.symbols.join(","), "--tick-rate", String(spec.ticksPerS), "--bad-tick-rate", "0",
    ...(spec.feedThread ? ["--feed-thread", spec.feedThread] : [])];
  const spawn = (name: string, cmd: string[]) => {
    const proc = Bun.spawn(cmd, { cwd: tree, stdin: "ignore", stdout: "pipe", stderr: "inherit" });
    procs.push({ name, proc });
    return proc;
  };
  try {
    if (!spec.edges) {
      const cmd = spec.serverCommand ? [...spec.serverCommand, "--symbols", spec.symbols.join(",")] : [process.execPath, main, ...appFlags, ...coreFlags];
      const server = spawn("server", cmd);
      const at = await listening(server, "the server");
      return { nodes: [{ name: "server", pid: server.pid, http: at.http }], wsUrls: [at.ws], http: at.http, stop };
    }
    const port = await freePort();
    const nats = Bun.spawn([natsServerBinary(), "-a", "127.0.0.1", "-p", String(port)], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    procs.push({ name: "nats", proc: nats });
    await readLineMatching(nats.stderr, (l) => l.includes("Server is ready"), 10_000);
    collectLines(nats.stderr);
    const bus = ["--nats", `nats://127.0.0.1:${port}`];
    const core = spawn("core", [process.execPath, main, "--role", "core", ...bus, ...appFlags, ...coreFlags]);
    const coreAt = await listening(core, "the core");
    const edges = Array.from({ length: spec.edges }, (_, i) => spawn(`edge${i + 1}`, [process.execPath, main, "--role", "edge", ...bus, ...appFlags]));
    const edgeAt = await Promise.all(edges.map((e, i) => listening(e, `edge ${i + 1}`)));
    for (const at of edgeAt) {
      const deadline = Date.now() + 30_000;
      while (!(await fetch(`${at.http}/readyz`).then((r) => r.ok, () => false))) {
        if (Date.now() > deadline) throw new Error(`the edge at ${at.http} was not ready within 30 s`);
        await Bun.sleep(50);
      }
    }
    return {
      nodes: [{ name: "core", pid: core.pid, http: coreAt.http }, ...edges.map((e, i) => ({ name: `edge${i + 1}`, pid: e.pid, http: edgeAt[i]!.http })),
        { name: "nats", pid: nats.pid }],
      wsUrls: edgeAt.map((a) => a.ws), http: coreAt.http, stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A counter's value from a node's /metrics (Prometheus text), or NaN when absent or unreachable. */
export async function counter(http: string | undefined, name: string): Promise<number> {
  if (!http) return NaN;
  try {
    const text = await (await fetch(`${http}/metrics`)).text();
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}
