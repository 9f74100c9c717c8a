// Worker for feed-ring-writer.test.ts: writes `n` known trades into the engine's shared tick
// ring through a RingWriter, publishing in batches of varying size, then reports "done" (or the
// writer's error). Tick k is a pure function of k (knownTick), so the test can check every value.

import type { SharedRing } from "../../src/feed/feed.ts";
import { RingWriter } from "../../src/feed/ring-writer.ts";
import { knownTick } from "./feed-ring-writer-ticks.ts";

declare const self: Worker;

self.onmessage = (e: MessageEvent<{ ring: SharedRing; stats: Float64Array; n: number; instruments: number; maxFullWaitMs: number }>) => {
  const { ring, stats, n, instruments, maxFullWaitMs } = e.data;
  try {
    const w = new RingWriter(ring, stats, maxFullWaitMs);
    const t = { index: 0, price: 0, size: 0 };
    for (let k = 0; k < n; k++) {
      knownTick(k, instruments, t);
      w.write(t.index, 2 /* TickKind.Trade */, t.price, t.size, performance.timeOrigin + performance.now());
      // Publications at pseudo-random points, about one in 13 ticks, so they land at every ring offset.
      if (Math.imul(k, 0x9e3779b1) >>> 0 < 0x13b13b13) w.flush();
    }
    w.flush();
    self.postMessage({ type: "done" });
  } catch (err) {
    self.postMessage({ type: "error", error: (err as Error).message });
  }
};
