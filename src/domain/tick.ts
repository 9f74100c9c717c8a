// Tick kinds, reject reasons and quality flags. The engine (assembly/layout.ts) defines the
// numeric values; these names mirror them for code that must not load the engine (feeds,
// clients), and src/engine/layout.ts asserts at load that every value matches.

/** What a tick carries; see docs/architecture.md for the fields each kind uses. */
export const TickKind = {
  Bid: 0,
  Ask: 1,
  Trade: 2,
  BidSize: 3,
  AskSize: 4,
  BidPrice: 5,
  AskPrice: 6,
  Volume: 7,
  Close: 8,
} as const;
/** A tick kind code. */
export type TickKind = (typeof TickKind)[keyof typeof TickKind];

/** Lower-case names of tick kinds, indexed by code (used in the CSV tick file). */
export const TICK_KIND_NAMES = ["bid", "ask", "trade", "bid_size", "ask_size", "bid_price", "ask_price", "volume", "close"] as const;

/** Why the engine rejected a tick; counted per reason. */
export const RejectReason = {
  Ok: 0,
  UnknownInstrument: 1,
  UnknownKind: 2,
  NotFinite: 3,
  Sentinel: 4,
  NonPositivePrice: 5,
  BadSize: 6,
  Stale: 7,
  OutOfOrder: 8,
  Future: 9,
  Crossed: 10,
  Jump: 11,
  VolumeDecrease: 12,
} as const;
/** A reject reason code. */
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

/** snake_case names of reject reasons, indexed by code (metrics labels, REST). */
export const REJECT_REASON_NAMES = [
  "ok", "unknown_instrument", "unknown_kind", "not_finite", "sentinel", "non_positive_price", "bad_size",
  "stale", "out_of_order", "future", "crossed", "jump", "volume_decrease",
] as const;

/** Quote quality flag bits. */
export const QualityFlag = {
  Crossed: 1,
  Locked: 2,
  Stale: 4,
  JumpRejected: 8,
  Reanchored: 16,
  NoBid: 32,
  NoAsk: 64,
  Delayed: 128,
} as const;

/** Names of the set quality flags, for humans and JSON. */
export function flagNames(flags: number): string[] {
  const out: string[] = [];
  for (const [name, bit] of Object.entries(QualityFlag)) if ((flags & bit) !== 0) out.push(name);
  return out;
}

/** IBKR's "unset" values, which a feed may pass through and the engine rejects as sentinels. */
export const IB_SENTINELS = [-1, 1.7976931348623157e308, 2147483647] as const;
