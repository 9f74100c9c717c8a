// Readiness: named checks registered by the parts that can make the process unfit for traffic
// (the feed; later the broker connection and the store). /readyz runs every check and reports
// each failure as "name: reason". Checks are synchronous and cheap: they read state the part
// already keeps (a connection flag, the result of its last write), they never do I/O on request.

import type { Readiness } from "../server/rest.ts";

/** A readiness check: null when ready, else why not (for humans). */
export type ReadinessCheck = () => string | null;

/** Bound on registered checks: each is a part of the process, and parts are few. */
export const MAX_READINESS_CHECKS = 32;

/** The set of readiness checks behind /readyz. */
export class HealthChecks {
  private readonly checks = new Map<string, ReadinessCheck>();

  /** Adds a named check; returns a function that removes it. A name is registered once. */
  register(name: string, check: ReadinessCheck): () => void {
    if (this.checks.has(name)) throw new Error(`readiness check ${name} is already registered`);
    if (this.checks.size >= MAX_READINESS_CHECKS) throw new Error(`at most ${MAX_READINESS_CHECKS} readiness checks`);
    this.checks.set(name, check);
    return () => this.checks.delete(name);
  }

  /** Names of the registered checks. */
  names(): string[] {
    return [...this.checks.keys()];
  }

  /** Runs every check. A check that throws counts as not ready, with its error as the reason. */
  readiness(): Readiness {
    const reasons: string[] = [];
    for (const [name, check] of this.checks) {
      let reason: string | null;
      try {
        reason = check();
      } catch (err) {
        reason = `check failed: ${(err as Error).message}`;
      }
      if (reason !== null) reasons.push(`${name}: ${reason}`);
    }
    return { ready: reasons.length === 0, reasons };
  }
}
