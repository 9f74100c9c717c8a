// The floor under the order benchmark's latency and CPU (issue 14): a group-commit loop with
// nothing else in it. Orders are promises; the first waits for no one, the rest queue while a
// commit is in flight and go together in the next, exactly as the journal batches
// (src/store/journal.ts); the writer thread (bench/floor-worker.ts) inserts one row per order
// with an fsync per commit. Measured by the same open loop as the real paths, it answers "what
// would any durable order path reach on this disk and these two cores": one commit in flight,
// the wait for it, its own commit, and two cross-thread wake-ups per commit.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A minimal durable group commit: `submit()` resolves once its row is committed with an fsync. */
export class FloorPath {
  private pending: (() => void)[] = [];
  private inFlight: (() => void)[] | undefined;
  private scheduled = false;
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  private readonly dir = mkdtempSync(join(tmpdir(), "alluse-bench-floor-"));
  private closed: (() => void) | undefined;

  private constructor(private readonly worker: Worker) {}

  /** Starts the writer thread on a fresh database file. */
  static async start(): Promise<FloorPath> {
    const worker = new Worker(new URL("./floor-worker.ts", import.meta.url).href);
    const f = new FloorPath(worker);
    const ready = new Promise<void>((resolve) => {
      worker.onmessage = () => resolve();
    });
    worker.postMessage({ path: join(f.dir, "floor.db"), shared: f.control.buffer });
    await ready;
    worker.onmessage = (e) => f.onWriter(e.data);
    return f;
  }

  /** Resolves once this order's row is durable. */
  submit(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.pending.push(resolve);
    // Like the journal: what arrives in one turn goes in one batch, at the turn's end.
    if (!this.inFlight && !this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.send());
    }
    return promise;
  }

  async close(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.closed = resolve;
    Atomics.store(this.control, 1, -1);
    Atomics.add(this.control, 0, 1);
    Atomics.notify(this.control, 0);
    await promise;
    this.worker.terminate();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private onWriter(m: string): void {
    if (m === "closed") return this.closed?.();
    if (m !== "committed") return;
    const done = this.inFlight!;
    this.inFlight = undefined;
    for (const r of done) r();
    // Whatever queued during the commit goes next, at once.
    if (this.pending.length > 0) this.send();
  }

  private send(): void {
    this.scheduled = false;
    if (this.inFlight || this.pending.length === 0) return;
    this.inFlight = this.pending;
    this.pending = [];
    Atomics.store(this.control, 1, this.inFlight.length);
    Atomics.add(this.control, 0, 1);
    Atomics.notify(this.control, 0);
  }
}
