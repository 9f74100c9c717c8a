// Wire types of the ALL-USE options workflow (docs/protocol.md: "Option chains and the greeks
// calculator", "Live option chains over /ws", "Order preview"): kept beside protocol.ts, which
// re-exports everything here and includes the frames and requests in its unions.

import type { ChainRow } from "../options/chains.ts";
import type { OrderPreview } from "../options/preview.ts";
import type { NewOrder } from "./protocol.ts";

/** POST /v1/orders/preview and the preview frame. */
export type { OrderPreview, PreviewFigures } from "../options/preview.ts";
/** GET /v1/chains/{underlying}/{expiry}. */
export type { Chain, ChainLeg, ChainRow, ChainFilter, LegStatus } from "../options/chains.ts";
/** A row answered by POST /v1/greeks/calc. */
export type { CalcResult } from "../options/calc.ts";

/** GET /v1/strategy/candidates. */
export type { Candidate, CandidateOrder, CandidatesReply } from "../options/candidates.ts";

/** IV rank and percentile of the underlying (0-100; null without history), in both chain replies. */
export interface ChainIv {
  ivRank: number | null;
  ivPercentile: number | null;
  /** Days in the window (252 by default); null when the server keeps no IV history. */
  ivWindowDays: number | null;
  /** Recorded days before today inside the window. */
  ivHistoryDays: number;
}

/** GET /v1/chains/{underlying}. */
export interface ChainExpiries extends ChainIv {
  underlying: string;
  spot: number | null;
  /** YYYY-MM-DD, ascending. */
  expiries: string[];
}

/** A row of POST /v1/greeks/calc: exactly one of expiry / tYears, and one of vol / price. */
export interface CalcRow {
  spot: number;
  strike: number;
  /** YYYY-MM-DD. */
  expiry?: string;
  tYears?: number;
  right: "C" | "P" | "call" | "put";
  rate?: number;
  divYield?: number;
  vol?: number;
  price?: number;
}

/** A live option chain: the snapshot (reply to chain.subscribe, every row), then the rows whose quote or greeks changed. */
export interface ChainFrame {
  t: "chain";
  id?: number;
  snapshot: boolean;
  underlying: string;
  /** YYYY-MM-DD. */
  expiry: string;
  spot: number | null;
  tYears: number;
  /** Sorted by strike; on an update only the changed rows, each whole. */
  rows: ChainRow[];
}

/** Reply to chain.unsubscribe: the chains the connection still streams. */
export interface ChainsFrame {
  t: "chains";
  id?: number;
  chains: { underlying: string; expiry: string }[];
}

/** The answer to a preview request: what a submit of the order would meet (nothing was placed). */
export interface PreviewFrame {
  t: "preview";
  id?: number;
  preview: OrderPreview;
}

/** Previews an order: validation and the pre-trade checks, nothing placed; answered by a preview frame. */
export interface PreviewRequest {
  op: "preview";
  id?: number;
  order: NewOrder;
}

/** Streams one option chain (expiry YYYY-MM-DD): answered by its snapshot chain frame, then updates. */
export interface ChainSubscribeRequest {
  op: "chain.subscribe" | "chain.unsubscribe";
  id?: number;
  underlying: string;
  expiry: string;
}
