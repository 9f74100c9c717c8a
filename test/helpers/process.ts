// Reading the stdout of a child process (the server, the simulator CLI) line by line, for tests
// and the benchmark drivers that run them as real processes; starting the real server and its
// keys CLI as processes.

import { join } from "node:path";
import { within } from "./wait.ts";

const BUN = process.execPath;
const MAIN = join(import.meta.dir, "../../src/main.ts");

/** A server process and the HTTP URL it printed. */
export interface ServerProcess {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  url: string;
}

/** Starts `bun src/main.ts ...args` and resolves once it prints its HTTP URL (20 s bound). */
export async function startServerProcess(args: string[]): Promise<ServerProcess> {
  const proc = Bun.spawn([BUN, MAIN, ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const reader = proc.stdout.getReader();
  let text = "";
  const url = await within((async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`server exited before listening: ${text}${await new Response(proc.stderr).text()}`);
      text += new TextDecoder().decode(value);
      const m = /HTTP\s+(http:\/\/[^/\s]+)/.exec(text);
      if (m) return m[1]!;
    }
  })(), 20_000, "the server to listen");
  // Keep draining stdout so a chatty server never blocks on a full pipe.
  void (async () => { while (!(await reader.read()).done); })().catch(() => undefined);
  return { proc, url };
}

/** Creates an API key with the keys CLI on `dataDir`; returns the secret it prints. */
export function createKeyCli(dataDir: string, scope: string): string {
  const r = Bun.spawnSync([BUN, MAIN, "keys", "create", "--scope", scope, "--data-dir", dataDir], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return r.stdout.toString().trim();
}

/** Reads lines from `stream` until one satisfies `match`; rejects after `timeoutMs` or at its end. */
export async function readLineMatching(stream: ReadableStream<Uint8Array>, match: (line: string) => boolean, timeoutMs: number): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const timer = new Promise<null>((resolve) => setTimeout(() => resolve(null), deadline - Date.now()));
      const chunk = await Promise.race([reader.read(), timer]);
      if (chunk === null || chunk.done) break;
      buffered += decoder.decode(chunk.value, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      const hit = lines.find(match);
      if (hit !== undefined) return hit;
    }
  } finally {
    reader.releaseLock();
  }
  throw new Error(`no matching line within ${timeoutMs} ms`);
}

/** Collects every line of `stream` into the returned array as it arrives. */
export function collectLines(stream: ReadableStream<Uint8Array>): string[] {
  const out: string[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      out.push(...parts);
    }
  })();
  return out;
}
