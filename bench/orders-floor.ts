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
import { childUrl, closedLoop, cpuUs, openLoop, percentiles, threadCpuUs, threadsPerOrder, type Submit } from "./orders-load.ts";
import type { OrdersResult } from "./orders.ts";
import { RawHttpPool } from "./raw-http.ts";

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

/** The floor (bench/orders-floor.ts): a bare group commit, one row per order, in the same open loop and process shape as "in process". */
export async function benchFloor(ratePerS: number, seconds: number): Promise<OrdersResult> {
  const floor = await FloorPath.start();
  const submit: Submit = async () => {
    const sent = performance.now();
    await floor.submit();
    return sent;
  };
  await closedLoop(submit, 64, 2);
  const main0 = cpuUs(process.pid, process.pid), proc0 = cpuUs(process.pid), threads0 = threadCpuUs(process.pid);
  const r = await openLoop(submit, ratePerS, seconds);
  const mainUs = cpuUs(process.pid, process.pid) - main0, procUs = cpuUs(process.pid) - proc0, threads = threadsPerOrder(threads0, threadCpuUs(process.pid), r.done);
  await floor.close();
  return {
    name: `floor: bare group commit (1 row per order, fsync), ${ratePerS}/s`, durability: "full", mode: "open", load: ratePerS,
    orders: r.lat.length, ordersPerS: r.lat.length / r.wallS, latencyMs: percentiles(r.lat), fromSentMs: percentiles(r.fromSent), sendLagMs: percentiles(r.lag),
    mainCpuUsPerOrder: mainUs / Math.max(1, r.done), processCpuUsPerOrder: procUs / Math.max(1, r.done), threadCpuUsPerOrder: threads,
  };
}

/**
 * The HTTP floor: a bare Bun.serve (bench/http-floor-fixture.ts) answering the same order POSTs
 * from the same raw client at the same rate as the REST scenario; its CPU per request is the
 * server's share of HTTP alone.
 */
export async function benchHttpFloor(ratePerS: number, seconds: number, order: () => unknown): Promise<OrdersResult> {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "http-floor-fixture.ts")], { stdout: "pipe", stderr: "inherit" });
  const url = await childUrl(proc);
  const pool = new RawHttpPool(url, { authorization: "Bearer ak_000000000000_0000000000000000000000000000000000000000000", "content-type": "application/json" });
  const submit: Submit = async () => {
    const r = await pool.post("/v1/orders", JSON.stringify(order()));
    return r.status === 201 ? r.sentAt : false;
  };
  await closedLoop(submit, 8, 3);
  const main0 = cpuUs(proc.pid, proc.pid), proc0 = cpuUs(proc.pid), threads0 = threadCpuUs(proc.pid);
  const r = await openLoop(submit, ratePerS, seconds);
  const mainUs = cpuUs(proc.pid, proc.pid) - main0, procUs = cpuUs(proc.pid) - proc0, threads = threadsPerOrder(threads0, threadCpuUs(proc.pid), r.done);
  pool.close();
  proc.kill();
  await proc.exited;
  return {
    name: `floor: bare Bun.serve JSON POST → 201, ${ratePerS}/s`, durability: "none", mode: "open", load: ratePerS,
    orders: r.lat.length, ordersPerS: r.lat.length / r.wallS, latencyMs: percentiles(r.lat), fromSentMs: percentiles(r.fromSent), sendLagMs: percentiles(r.lag),
    mainCpuUsPerOrder: mainUs / Math.max(1, r.done), processCpuUsPerOrder: procUs / Math.max(1, r.done), threadCpuUsPerOrder: threads,
  };
}
