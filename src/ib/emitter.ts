// A small typed event emitter: listeners per event name, each returning its own unsubscribe.
// A listener that throws is a bug in the listener; it is reported and the others still run.

/** Registers and calls listeners for events described by the map `E` (name → payload). */
export class Emitter<E extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof E, Set<(payload: never) => void>>();

  constructor(private readonly onListenerError: (err: unknown, event: string) => void = (err) => {
    queueMicrotask(() => { throw err; });
  }) {}

  /** Calls `fn` on every `event`; returns a function that removes it. */
  on<K extends keyof E>(event: K, fn: (payload: E[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as (payload: never) => void);
    return () => set.delete(fn as (payload: never) => void);
  }

  /** Calls every listener of `event` with `payload`, in registration order. */
  emit<K extends keyof E>(event: K, payload: E[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as (p: E[K]) => void)(payload);
      } catch (err) {
        this.onListenerError(err, String(event));
      }
    }
  }
}
