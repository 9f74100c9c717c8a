// Waiting on conditions with a bound, never on the clock alone.

/** Resolves once `condition()` is true; rejects after `timeoutMs` naming what was awaited. */
export async function waitFor(condition: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    // Yield to the event loop so sockets and timers make progress; this polls, it does not sleep a guess.
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Races a promise against a bound; rejects with `what` when the bound passes first. */
export async function within<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Like waitFor, for a condition that must itself await (a REST call): re-checked every `everyMs` until true or the bound. */
export async function waitForAsync(condition: () => Promise<boolean>, timeoutMs = 5000, what = "condition", everyMs = 20): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
