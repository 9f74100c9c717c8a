// The IBKR settings of the configuration: flags, environment, defaults and their bounds.

import { expect, test } from "bun:test";
import { ConfigError, FLAG_HELP, loadConfig } from "../../src/config.ts";

test("--feed ib with --ib-host, --ib-port and --ib-client-id; TWS paper defaults otherwise", async () => {
  const c = await loadConfig(["--feed", "ib", "--ib-host", "10.0.0.5", "--ib-port", "4002", "--ib-client-id", "7"], {});
  expect(c.feed.kind).toBe("ib");
  expect(c.ib).toMatchObject({ host: "10.0.0.5", port: 4002, clientId: 7, clientIdInUse: "retry", maxLines: 100 });
  const d = await loadConfig([], {});
  expect(d.ib).toMatchObject({ host: "127.0.0.1", port: 7497, clientId: 1 });
  const e = await loadConfig([], { ALLUSE_IB_PORT: "4001", ALLUSE_IB_CLIENT_ID_IN_USE: "fail", ALLUSE_IB_MAX_LINES: "300" });
  expect(e.ib).toMatchObject({ port: 4001, clientIdInUse: "fail", maxLines: 300 });
  for (const flag of ["--ib-host", "--ib-port", "--ib-client-id", "--ib-client-id-in-use", "--ib-max-lines"]) expect(FLAG_HELP).toContain(flag);
});

test("bad IBKR settings are one line each, naming the flag", async () => {
  const err = await loadConfig(["--ib-port", "0", "--ib-client-id", "-1", "--ib-client-id-in-use", "steal"], {}).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  const lines = (err as ConfigError).lines;
  expect(lines).toHaveLength(3);
  expect(lines.find((l) => l.startsWith("config ib.port:"))).toContain("--ib-port");
  expect(lines.find((l) => l.startsWith("config ib.clientId:"))).toContain("--ib-client-id");
  expect(lines.find((l) => l.startsWith("config ib.clientIdInUse:"))).toBeDefined();
});
