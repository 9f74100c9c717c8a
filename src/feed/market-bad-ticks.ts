// The catalogue of deliberately invalid ticks the synthetic market emits (split out of
// market.ts, which re-exports it), with the engine's reject reason for each, so tests can check
// that every kind is refused for the right reason.

import { RejectReason } from "../domain/tick.ts";

/** Kinds of deliberately invalid ticks; crossed and jump need a displayed two-sided quote. */
export const BAD_TICK_KINDS = ["nan", "zero", "negative", "ib_minus_one", "ib_max_double", "ib_max_int", "crossed", "jump"] as const;
/** A kind of invalid tick. */
export type BadTickKind = (typeof BAD_TICK_KINDS)[number];

/** The engine's reject reason for each kind of invalid tick. */
export const BAD_TICK_REASONS: Readonly<Record<BadTickKind, RejectReason>> = {
  nan: RejectReason.NotFinite, zero: RejectReason.NonPositivePrice, negative: RejectReason.NonPositivePrice,
  ib_minus_one: RejectReason.Sentinel, ib_max_double: RejectReason.Sentinel, ib_max_int: RejectReason.Sentinel,
  crossed: RejectReason.Crossed, jump: RejectReason.Jump,
};
