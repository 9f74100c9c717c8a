// The engine core: the hot-path algorithm over the shared tables. Two implementations share
// one memory layout: the WASM module (production) and a plain-TypeScript reference (tests and
// the benchmark baseline). Both must leave the tables bit-for-bit identical.

import type { Layout } from "./layout.ts";

/** Table capacities, fixed at start. */
export interface Capacities {
  /** Rows in the instrument, quote and bar tables. */
  maxInstruments: number;
  /** Ticks the ring holds between two ingest calls; a power of two. */
  ringCapacity: number;
  /** Closed 1-minute bars kept per instrument. */
  barHistory: number;
  /**
   * Account rows of the risk region (1 to the module's RISK_MAX_ACCOUNTS, 64): each reserves its
   * 1,024 position rows, so a deployment plans only the accounts it configures. Default 64.
   */
  maxAccounts?: number;
}

/** Validation and volatility parameters. */
export interface CoreParams {
  /** An instrument with no accepted tick for this long is flagged stale by sweepStale(). */
  staleAfterMs: number;
  /** A tick whose exchange time is older than this at ingest is rejected as stale. */
  maxTickAgeMs: number;
  /** A tick whose exchange time is this far ahead of the host clock is rejected. */
  maxFutureMs: number;
  /** Time constant of the EWMA volatility. */
  volTauMs: number;
  /** Minimum spacing of mid samples for the volatility estimate. */
  volSampleMs: number;
  /** Consecutive jump/cross anomalies rejected before the next one re-anchors the level. */
  reanchorAfter: number;
}

/** One implementation of the hot path over a memory laid out as `layout` says. */
export interface EngineCore {
  readonly name: "wasm" | "ts";
  readonly layout: Layout;
  /** The memory holding every table. */
  readonly buffer: ArrayBufferLike;
  configure(p: CoreParams): number;
  defineInstrument(index: number, tickUnits: number, band: number, bandFloorUnits: number): number;
  /** Consumes `count` ticks from the ring; returns the changed-row count or a negative E_* code. */
  ingest(count: number, nowMs: number): number;
  sweepStale(nowMs: number): number;
  resetSession(nowMs: number): number;
}
