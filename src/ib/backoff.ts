// Back-off between IB connection attempts. The first retry comes after 38–50 ms, so a dropped
// socket with TWS still up costs almost nothing; the delay doubles up to a cap of 600 ms
// (450–600 ms with jitter). Quotes must flow again within 1 s of TWS accepting connections, so
// the gap between attempts has to stay well under that; at under two refused connects a
// second, a TWS that is down for its daily restart is not hammered. Measured in
// docs/benchmarks.md ("IBKR reconnect").

/** Back-off between connection attempts. */
export interface BackoffOptions {
  /** First delay, ms (default 50). */
  initialMs?: number;
  /** Cap, ms (default 600). */
  maxMs?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Share of the delay taken away at random, in [0, 1] (default 0.25), so many clients do not retry in step. */
  jitter?: number;
}

/** The default back-off; see the file comment for why these values. */
export const BACKOFF_DEFAULTS: Required<BackoffOptions> = { initialMs: 50, maxMs: 600, factor: 2, jitter: 0.25 };

/** The delay before reconnect attempt `attempt` (0-based): capped exponential, minus random jitter. */
export function backoffDelayMs(attempt: number, b: BackoffOptions = {}, random: () => number = Math.random): number {
  const d = BACKOFF_DEFAULTS;
  const initial = b.initialMs ?? d.initialMs, max = b.maxMs ?? d.maxMs, factor = b.factor ?? d.factor, jitter = b.jitter ?? d.jitter;
  const base = Math.min(max, initial * factor ** Math.min(attempt, 64));
  return base * (1 - jitter * random());
}
