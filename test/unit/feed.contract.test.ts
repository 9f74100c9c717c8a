// Runs the shared Feed contract against every feed implementation available without a broker.

import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReplayFeed } from "../../src/feed/replay.ts";
import { SyntheticFeed } from "../../src/feed/synthetic.ts";
import { WorkerFeed } from "../../src/feed/worker-feed.ts";
import { feedContract, writeSyntheticFile } from "./feed.contract.ts";

const dir = mkdtempSync(join(tmpdir(), "feed-contract-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

feedContract("synthetic", () => new SyntheticFeed({ seed: 3, tickRatePerS: 20_000 }));
feedContract("synthetic in a worker", () => new WorkerFeed({ kind: "synthetic", options: { seed: 3, tickRatePerS: 20_000 } }));

for (const ext of ["altk", "csv"]) {
  const path = join(dir, `fixture.${ext}`);
  // 2,000 ticks over 200 ms of recorded time, replayed at the recorded pace and looped so it outlasts the test.
  writeSyntheticFile(path, { batches: 20, perBatch: 100, spacingMs: 10 });
  feedContract(`replay (${ext})`, () => new ReplayFeed(path, { loop: true }));
  feedContract(`replay (${ext}) in a worker`, () => new WorkerFeed({ kind: "replay", path, options: { loop: true } }));
}
