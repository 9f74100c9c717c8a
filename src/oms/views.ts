// Orders and fills as clients see them: decimal prices and money, null where absent. The
// server encodes these; the client library reads them (types re-exported by client/protocol.ts).

import { fromMicros } from "../domain/money.ts";
import { fromUnits } from "../domain/price.ts";
import type { UnderlyingBasis } from "./portfolio.ts";
import type { Fill, FillKind, Order, OrderStatus, OrderType, Side, TimeInForce, TriggerMethod } from "../domain/order.ts";

/** An order on the wire. */
export interface OrderView {
  id: string;
  account: string;
  clientOrderId: string;
  symbol: string;
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  qty: number;
  limitPrice: number | null;
  stopPrice: number | null;
  /** May work in the extended session (IBKR outsideRth; honoured for stock limit and stop-limit orders). */
  outsideRth: boolean;
  /** What triggers a stop (IBKR triggerMethod), null for other types. */
  triggerMethod: TriggerMethod | null;
  status: OrderStatus;
  filledQty: number;
  /** Volume-weighted fill price, null before the first fill. */
  avgFillPrice: number | null;
  triggered: boolean;
  brokerOrderId: string | null;
  reason: string | null;
  createdTs: number;
  updatedTs: number;
  /** +1 per applied event: a client keeps the highest it has seen. */
  version: number;
}

/** A fill on the wire. */
export interface FillView {
  fillId: string;
  orderId: string | null;
  account: string;
  symbol: string;
  side: Side;
  qty: number;
  price: number;
  multiplier: number;
  commission: number;
  ts: number;
  kind: FillKind;
}

/** Encodes an order. */
export function orderView(o: Order): OrderView {
  return {
    id: o.id, account: o.account, clientOrderId: o.clientOrderId, symbol: o.symbol, side: o.side, type: o.type, tif: o.tif, qty: o.qty,
    limitPrice: o.limitPriceUnits === undefined ? null : fromUnits(o.limitPriceUnits),
    stopPrice: o.stopPriceUnits === undefined ? null : fromUnits(o.stopPriceUnits),
    outsideRth: o.outsideRth ?? false, triggerMethod: o.triggerMethod ?? null,
    status: o.status, filledQty: o.filledQty,
    // The average is a float of units; rounding to 1e-8 gives the decimal a human expects.
    avgFillPrice: o.filledQty === 0 ? null : Math.round(o.avgFillPriceUnits) / 1e8,
    triggered: o.triggered, brokerOrderId: o.brokerOrderId ?? null, reason: o.reason ?? null,
    createdTs: o.createdTs, updatedTs: o.updatedTs, version: o.version,
  };
}

/** Encodes a fill. */
export function fillView(f: Fill): FillView {
  return {
    fillId: f.fillId, orderId: f.orderId ?? null, account: f.account, symbol: f.symbol, side: f.side, qty: f.qty,
    price: fromUnits(f.priceUnits), multiplier: f.multiplier, commission: fromMicros(f.commissionMicros), ts: f.ts, kind: f.kind,
  };
}

/** The wheel's adjusted cost basis of one underlying, in GET /v1/accounts/{id}/positions (docs/orders.md, "Adjusted cost basis"). */
export interface UnderlyingBasisView {
  underlying: string;
  /** Shares held (signed), 0 when flat. */
  shares: number;
  /** Cost basis of the shares (commissions and assigned options' premium included), as the stock position's costBasis. */
  costBasis: number;
  /** Net premium of the underlying's options closed, expired or lapsed since the shares were last flat (realised, after commissions). */
  premiumCollected: number;
  /** (costBasis − premiumCollected) / shares, per share; null when no shares are held. */
  adjustedCostBasis: number | null;
}

/** Encodes one underlying's wheel figures. */
export function underlyingBasisView(b: UnderlyingBasis): UnderlyingBasisView {
  return {
    underlying: b.underlying, shares: b.shares, costBasis: fromMicros(b.costMicros), premiumCollected: fromMicros(b.premiumMicros),
    // Rounded like avgCost: micros per share to 1e-4, so the decimal reads as a human expects.
    adjustedCostBasis: b.shares === 0 ? null : Math.round(((b.costMicros - b.premiumMicros) / b.shares) * 1e4) / 1e10,
  };
}
