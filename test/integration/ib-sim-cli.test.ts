// The simulator's CLI as a user runs it: a real process, a real @stoqey/ib client, and fault
// commands typed on stdin.

import { expect, test } from "bun:test";
import { join } from "node:path";
import { EventName, IBApi } from "@stoqey/ib";
import { collectLines as lines } from "../helpers/process.ts";
import { waitFor } from "../helpers/wait.ts";

const MAIN = join(import.meta.dir, "../../src/sim/tws/main.ts");


test("sim:tws listens, serves a client, and takes fault commands on stdin", async () => {
  const proc = Bun.spawn([process.execPath, MAIN, "--port", "0", "--symbols", "AAPL", "--option-expiries", "0"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const out = lines(proc.stdout);
  try {
    await waitFor(() => out.some((l) => l.includes('"msg":"listening"')), 20_000, "the listening line");
    const { port } = JSON.parse(out.find((l) => l.includes('"msg":"listening"'))!) as { port: number };
    const ib = new IBApi({ host: "127.0.0.1", port });
    const infos: number[] = [];
    let disconnected = false;
    ib.on(EventName.info, (_m: string, code: number) => infos.push(code));
    ib.on(EventName.disconnected, () => (disconnected = true));
    ib.connect(3);
    await waitFor(() => infos.includes(2104), 5000, "farm status 2104");
    proc.stdin.write("lost\n");
    await waitFor(() => infos.includes(1100), 5000, "1100 after `lost`");
    proc.stdin.write("status\n");
    await waitFor(() => out.some((l) => l.startsWith("{") && l.includes('"clientIds":[3]')), 5000, "status with the client");
    proc.stdin.write("drop\n");
    await waitFor(() => disconnected, 5000, "the dropped socket");
    proc.stdin.write("bogus\n");
    await waitFor(() => out.some((l) => l.startsWith("unknown command bogus")), 5000, "the refusal");
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  } finally {
    proc.kill("SIGKILL");
  }
});

test("sim:tws --help exits 0 and a bad flag exits 2", async () => {
  const help = Bun.spawn([process.execPath, MAIN, "--help"], { stdout: "pipe" });
  expect(await help.exited).toBe(0);
  expect(await new Response(help.stdout).text()).toContain("--not-subscribed");
  const bad = Bun.spawn([process.execPath, MAIN, "--nope"], { stdout: "pipe", stderr: "pipe" });
  expect(await bad.exited).toBe(2);
});
