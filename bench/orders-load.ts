// The order benchmark's load loops and measurements (bench/orders.ts, bench/orders-floor.ts):
// open and closed loops that time each order from its schedule and from its send, percentiles,
// and CPU from /proc per process and per thread.

import { readdirSync, readFileSync } from "node:fs";

/** Latency percentiles in ms. */
export interface Percentiles {
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** p50 / p99 / p99.9 / max of `samples` (ms); throws when there is none. */
export function percentiles(samples: number[]): Percentiles {
  if (samples.length === 0) throw new Error("no order succeeded: nothing to measure (see the server's replies)");
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: s.at(-1)! };
}

/** CPU time of a process (or one of its threads) so far, µs, from /proc (Linux; 10 ms ticks). */
export function cpuUs(pid: number, tid?: number): number {
  const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
  const f = readFileSync(path, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

/** CPU µs so far of each thread of a process, by thread name (threads of one name summed). */
export function threadCpuUs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim().replace(/[0-9]+$/, "#");
      out.set(name, (out.get(name) ?? 0) + cpuUs(pid, Number(tid)));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** CPU µs per order of each thread name between two threadCpuUs() readings, largest first; threads under 1 µs/order left out. */
export function threadsPerOrder(before: Map<string, number>, after: Map<string, number>, orders: number): Record<string, number> {
  const rows: [string, number][] = [];
  for (const [name, us] of after) {
    const per = (us - (before.get(name) ?? 0)) / Math.max(1, orders);
    if (per >= 1) rows.push([name, Math.round(per)]);
  }
  return Object.fromEntries(rows.sort((a, b) => b[1] - a[1]));
}

/**
 * A submit: sends one order; resolves with the time its request left the bench (performance.now())
 * when it was accepted, or false.
 */
export type Submit = () => Promise<number | false>;

/** What a load loop measured: latency from each scheduled time and from each send, and the send lag. */
export interface Loop { lat: number[]; fromSent: number[]; lag: number[]; done: number; wallS: number }

/**
 * Sends `submit` at `ratePerS` for `seconds` (open loop); latency from each scheduled time (a
 * stall counts against every order queued behind it), and beside it from each send and the
 * send's lag behind its schedule: the generator issues on a 1 ms timer, so up to a timer tick
 * of the first is the bench's own.
 */
export async function openLoop(submit: Submit, ratePerS: number, seconds: number): Promise<Loop> {
  const total = Math.round(ratePerS * seconds), lat: number[] = [], fromSent: number[] = [], lag: number[] = [];
  const t0 = performance.now();
  let issued = 0, done = 0;
  const { promise, resolve } = Promise.withResolvers<void>();
  const tick = () => {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * ratePerS) / 1000));
    for (; issued < due; issued++) {
      const scheduled = t0 + (issued * 1000) / ratePerS;
      void submit().then((sent) => {
        if (sent !== false) {
          const now = performance.now();
          lat.push(now - scheduled);
          fromSent.push(now - sent);
          lag.push(sent - scheduled);
        }
        if (++done === total) resolve();
      });
    }
    if (issued < total) setTimeout(tick, 1);
  };
  tick();
  await promise;
  return { lat, fromSent, lag, done, wallS: (performance.now() - t0) / 1000 };
}

/** Keeps `inFlight` submits going for `seconds` (closed loop). */
export async function closedLoop(submit: Submit, inFlight: number, seconds: number): Promise<Loop> {
  const lat: number[] = [], fromSent: number[] = [], lag: number[] = [];
  const t0 = performance.now(), end = t0 + seconds * 1000;
  let done = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const s = performance.now();
      const sent = await submit();
      if (sent !== false) {
        const now = performance.now();
        lat.push(now - s);
        fromSent.push(now - sent);
        lag.push(sent - s);
      }
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { lat, fromSent, lag, done, wallS: (performance.now() - t0) / 1000 };
}


/**
 * The URL a child server prints as "HTTP http://host:port" on its stdout; the rest of its output
 * is drained so the pipe never fills. Throws with what it printed if it exits first.
 */
export async function childUrl(proc: Bun.Subprocess<"ignore" | "pipe" | "inherit", "pipe", "ignore" | "pipe" | "inherit">): Promise<string> {
  const reader = proc.stdout.getReader();
  let text = "", url = "";
  while (!url) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited: ${text}`);
    text += new TextDecoder().decode(value);
    url = /HTTP\s+(http:\/\/[^/\s]+)/.exec(text)?.[1] ?? "";
  }
  void (async () => { while (!(await reader.read()).done); })().catch(() => undefined);
  return url;
}
