// The "chains" configuration section: defaults, bounds, unknown keys refused.

import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config.ts";

test("chains defaults: 4 Hz, 8 chains per connection, 200 rows per chain", async () => {
  expect((await loadConfig([], {})).chains).toEqual({ publishHz: 4, maxChainsPerConnection: 8, maxRowsPerChain: 200 });
});

test("chains bounds and unknown keys are errors naming the field", async () => {
  const dir = mkdtempSync(join(tmpdir(), "alluse-chains-cfg-"));
  for (const [chains, field] of [[{ publishHz: 0 }, "chains.publishHz"], [{ maxChainsPerConnection: 0 }, "chains.maxChainsPerConnection"],
    [{ maxRowsPerChain: 5000 }, "chains.maxRowsPerChain"], [{ hz: 4 }, "chains"]] as const) {
    const file = join(dir, "c.json");
    await Bun.write(file, JSON.stringify({ chains }));
    const err = await loadConfig(["--config", file], {}).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).lines.join("\n")).toContain(`config ${field}`);
  }
  rmSync(dir, { recursive: true, force: true });
});
