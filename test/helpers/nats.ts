// A real nats-server for the core/edge tests, on a free loopback port, that can be stopped and
// started again on the same port (a bus restart). Debian's package puts it in /usr/sbin, which
// is not on every PATH; scripts/ensure-nats.sh installs it.

import { existsSync } from "node:fs";
import { createServer } from "node:net";
import type { Subprocess } from "bun";
import { collectLines, readLineMatching } from "./process.ts";

/** The nats-server binary; throws naming what to install when there is none. */
export function natsServerBinary(): string {
  for (const p of ["/usr/sbin/nats-server", "/usr/bin/nats-server"]) if (existsSync(p)) return p;
  const found = Bun.which("nats-server");
  if (found) return found;
  throw new Error("nats-server is not installed: run scripts/ensure-nats.sh (apt-get install nats-server)");
}

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** One nats-server process on a fixed port. */
export class TestNats {
  private proc: Subprocess<"ignore", "ignore", "pipe"> | undefined;

  private constructor(readonly port: number, readonly monitorPort: number) {}

  /** Starts a server on a free port. */
  static async start(): Promise<TestNats> {
    const n = new TestNats(await freePort(), await freePort());
    await n.restart();
    return n;
  }

  /** Client URL. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** (Re)starts the server on its port; resolves once it accepts clients. */
  async restart(): Promise<void> {
    if (this.proc) throw new Error("nats-server is already running");
    this.proc = Bun.spawn([natsServerBinary(), "-a", "127.0.0.1", "-p", String(this.port), "-m", String(this.monitorPort)],
      { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    await readLineMatching(this.proc.stderr, (l) => l.includes("Server is ready"), 10_000);
    // Keep reading its log so a full pipe never blocks it.
    collectLines(this.proc.stderr);
  }

  /** Subjects subscribed by the client connection with this name, from the server's monitoring endpoint. */
  async subjectsOf(clientName: string): Promise<string[]> {
    const r = await fetch(`http://127.0.0.1:${this.monitorPort}/connz?subs=1`);
    const body = (await r.json()) as { connections?: { name?: string; subscriptions_list?: string[] }[] };
    return (body.connections ?? []).filter((c) => c.name === clientName).flatMap((c) => c.subscriptions_list ?? []).sort();
  }

  /** Stops the server (SIGKILL: a crash, not a clean shutdown) and waits for it to exit. */
  async kill(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p) return;
    p.kill("SIGKILL");
    await p.exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }
}
