#!/usr/bin/env bun
// `npm run cluster`: one nats-server, one core and two edges on this machine, for trying the
// scale-out (docs/operations.md, "Core and edges"). Prints their URLs; Ctrl-C stops them all. If
// any of them exits by itself, the others are stopped too and the exit status is 1.
//
//   npm run cluster -- [--port 8787] [--nats-port 4222] [any core flag, e.g. --symbols AAPL,TSLA]
//
// The core listens on --port, the edges on the next two ports; 0 picks free ports. A preferred
// port that is taken is replaced by a free one (said in the output).

import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Subprocess } from "bun";

const MAIN = join(import.meta.dir, "../main.ts");

function natsBinary(): string {
  for (const p of ["/usr/sbin/nats-server", "/usr/bin/nats-server"]) if (existsSync(p)) return p;
  const found = Bun.which("nats-server");
  if (found) return found;
  process.stderr.write("cluster: nats-server is not installed; run scripts/ensure-nats.sh (apt-get install nats-server)\n");
  process.exit(2);
}

/** `port` when it is free on 127.0.0.1 (0: any free port), else a free one. */
async function portNear(port: number): Promise<number> {
  const tryPort = (p: number) => new Promise<number | undefined>((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(undefined));
    s.listen(p, "127.0.0.1", () => {
      const got = (s.address() as { port: number }).port;
      s.close(() => resolve(got));
    });
  });
  return (await tryPort(port)) ?? (await tryPort(0))!;
}

/** Takes our flags out of argv; the rest goes to the core. */
function ownFlag(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  argv.splice(i, 2);
  if (!Number.isInteger(v) || v < 0 || v > 65535) {
    process.stderr.write(`cluster: --${name} must be a port from 0 to 65535\n`);
    process.exit(2);
  }
  return v;
}

/** Reads a child's stdout until its "HTTP" line; the URL without the path. */
async function httpUrl(p: Subprocess<"ignore", "pipe", "inherit">, what: string): Promise<string> {
  const reader = p.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${what} exited before it was listening`);
    text += decoder.decode(value, { stream: true });
    const m = /HTTP\s+(\S+?)\/v1\/quotes/.exec(text);
    if (m) {
      reader.releaseLock();
      // Keep draining what it prints later.
      void p.stdout.pipeTo(new WritableStream()).catch(() => {});
      return m[1]!;
    }
  }
}

const argv = process.argv.slice(2);
const basePort = ownFlag(argv, "port", 8787);
const natsPort = await portNear(ownFlag(argv, "nats-port", 4222));
const ports = [await portNear(basePort)];
for (const k of [1, 2]) ports.push(await portNear(basePort === 0 ? 0 : basePort + k));
const nats = `nats://127.0.0.1:${natsPort}`;

const children: { name: string; proc: Subprocess }[] = [];
let stopping = false;
async function stopAll(code: number): Promise<never> {
  stopping = true;
  // Edges, then the core, then the bus: nothing logs a lost connection it could not avoid.
  for (const c of [...children].reverse()) {
    c.proc.kill("SIGTERM");
    await c.proc.exited;
  }
  process.exit(code);
}

const natsProc = Bun.spawn([natsBinary(), "-a", "127.0.0.1", "-p", String(natsPort)], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
children.push({ name: "nats-server", proc: natsProc });
const start = (name: string, args: string[]) => {
  const proc = Bun.spawn([process.execPath, MAIN, "--nats", nats, ...args], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  children.push({ name, proc });
  return proc;
};
const core = start("core", ["--role", "core", "--port", String(ports[0]), ...argv]);
const edges = [1, 2].map((k) => start(`edge ${k}`, ["--role", "edge", "--port", String(ports[k])]));
for (const c of children) {
  void c.proc.exited.then((status) => {
    if (stopping) return;
    process.stderr.write(`cluster: ${c.name} exited (status ${status}); stopping the others\n`);
    void stopAll(1);
  });
}
process.once("SIGINT", () => void stopAll(0));
process.once("SIGTERM", () => void stopAll(0));

try {
  const [coreUrl, ...edgeUrls] = await Promise.all([httpUrl(core, "the core"), ...edges.map((e, i) => httpUrl(e, `edge ${i + 1}`))]);
  const ws = (u: string) => `${u.replace(/^http/, "ws")}/ws`;
  process.stdout.write(`\nalluse-market cluster is running\n  NATS     ${nats}\n  core     ${coreUrl}/  (dashboard, orders, everything; WebSocket ${ws(coreUrl!)})\n` +
    edgeUrls.map((u, i) => `  edge ${i + 1}   ${u}/v1/quotes  WebSocket ${ws(u)}\n`).join("") + `Ctrl-C stops them all.\n`);
} catch (err) {
  process.stderr.write(`cluster: ${(err as Error).message}\n`);
  await stopAll(1);
}
