// What an execution costs: the broker's commission and the regulatory fees passed through on
// sales. The default is IBKR Pro "fixed" (docs/orders.md, "Commissions and fees", cites the
// published schedule): stocks $0.005 a share, at least $1 and at most 1 % of the trade value per
// order; options by premium — $0.65 a contract at $0.10 and above, $0.50 from $0.05 to $0.10,
// $0.25 below $0.05 — at least $1 per order. Sales also pay the SEC Section 31 fee (a rate per
// million dollars sold) and the FINRA Trading Activity Fee (per share, capped per trade, or per
// option contract), each rounded up to the cent.
//
// Minimums, caps and the fees' rounding apply to the order, not to each execution, so an order
// filled in pieces is charged the increase of the order's cumulative cost at each fill: the sum
// over the fills equals what one fill of the whole quantity at the same prices would pay. The
// running state (OrderCosts) is what a broker must be handed back after a restart.
//
// IBKR's fixed pricing for stocks treats a modified order, and one that persists overnight, as a
// new order for the minimum (docs/orders.md cites the note): newOrderForMinimum closes the
// order's current "minimum segment" — what it charged stays charged, and the next fills start a
// new minimum and cap. Regulatory fees stay on the whole order.

import type { Side } from "../domain/order.ts";
import { notionalMicros, toMicros } from "../domain/money.ts";
import { toUnits } from "../domain/price.ts";

/** An option commission rate that applies from a premium (per share, price units) up. */
export interface PremiumBand {
  minPremiumUnits: number;
  perContractMicros: number;
}

/** Regulatory fees on sales, all money in micros; 0 turns a fee off. */
export interface RegulatoryFees {
  /** SEC Section 31 fee, dollars per million dollars of sale proceeds (stocks and options). */
  secPerMillion: number;
  /** FINRA TAF per share sold, and its maximum per trade. */
  tafPerShareMicros: number;
  tafMaxPerTradeMicros: number;
  /** FINRA TAF per option contract sold. */
  tafPerContractMicros: number;
}

/** Per-kind commission rates and the fees, all money in micros. */
export interface CommissionSchedule {
  stock: { perShareMicros: number; minPerOrderMicros: number; maxFractionOfValue: number };
  /** Bands from the highest premium down; a premium below every band pays the last one. */
  option: { bands: readonly PremiumBand[]; minPerOrderMicros: number };
  fees: RegulatoryFees;
}

/** IBKR's published pass-through rates (docs/orders.md cites them and the date checked). */
export const US_REGULATORY_FEES: RegulatoryFees = {
  secPerMillion: 27.8, tafPerShareMicros: 166, tafMaxPerTradeMicros: 8_300_000, tafPerContractMicros: 2_790,
};

/** IBKR Pro fixed pricing (US stocks and options, ≤ 10,000 contracts a month) with US regulatory fees. */
export const IBKR_PRO_FIXED: CommissionSchedule = {
  stock: { perShareMicros: 5_000, minPerOrderMicros: 1_000_000, maxFractionOfValue: 0.01 },
  option: {
    bands: [
      { minPremiumUnits: toUnits(0.1), perContractMicros: 650_000 },
      { minPremiumUnits: toUnits(0.05), perContractMicros: 500_000 },
      { minPremiumUnits: 0, perContractMicros: 250_000 },
    ],
    minPerOrderMicros: 1_000_000,
  },
  fees: US_REGULATORY_FEES,
};

/** Fees from the configuration's dollar rates (trading.paper.fees). */
export function regulatoryFees(d: { secPerMillion: number; finraTafPerShare: number; finraTafMaxPerTrade: number; finraTafPerContract: number }): RegulatoryFees {
  return {
    secPerMillion: d.secPerMillion, tafPerShareMicros: toMicros(d.finraTafPerShare),
    tafMaxPerTradeMicros: toMicros(d.finraTafMaxPerTrade), tafPerContractMicros: toMicros(d.finraTafPerContract),
  };
}

/** What one order has filled and been charged so far. */
export interface OrderCosts {
  qty: number;
  valueMicros: number;
  /** Per-share or per-contract commission summed over the fills, before the order's minimum and cap. */
  baseMicros: number;
  /** Commission and fees charged so far. */
  chargedMicros: number;
  /** The current minimum segment (fills since the order last counted as new): quantity, value, base. */
  segQty: number;
  segValueMicros: number;
  segBaseMicros: number;
  /** Commission (without fees) of the segments closed before it. */
  priorCommissionMicros: number;
}

/** An execution as the cost fold needs it. */
export interface CostedFill {
  qty: number;
  priceUnits: number;
  /** What the execution was charged (commission and fees), micros. */
  commissionMicros: number;
  /** Execution time, epoch ms (a restart finds which fills share the current minimum). */
  ts?: number;
}

type Kind = "stock" | "option";

const CENT_MICROS = 10_000;

/** Rounds up to the cent, after rounding to the micro so float noise never adds a cent. */
function ceilCent(micros: number): number {
  return Math.ceil(Math.round(micros) / CENT_MICROS) * CENT_MICROS;
}

/** Commission per contract of an option execution at `premiumUnits`. */
export function optionRateMicros(s: CommissionSchedule, premiumUnits: number): number {
  const bands = s.option.bands;
  for (const b of bands) if (premiumUnits >= b.minPremiumUnits) return b.perContractMicros;
  return bands.at(-1)?.perContractMicros ?? 0;
}

/** Commission before minimum and cap of `qty` filled at `priceUnits`, micros. */
function baseOf(s: CommissionSchedule, kind: Kind, qty: number, priceUnits: number): number {
  return kind === "option" ? optionRateMicros(s, priceUnits) * qty : s.stock.perShareMicros * qty;
}

/** Commission of an order that filled `qty` for `valueMicros` with `baseMicros` before minimum and cap; 0 when nothing filled. */
export function orderCommissionMicros(s: CommissionSchedule, kind: Kind, qty: number, valueMicros: number, baseMicros: number): number {
  if (qty <= 0) return 0;
  if (kind === "option") return Math.max(s.option.minPerOrderMicros, baseMicros);
  const raw = Math.max(s.stock.minPerOrderMicros, baseMicros);
  return Math.min(raw, Math.round(s.stock.maxFractionOfValue * valueMicros));
}

/** Regulatory fees of an order that sold `qty` for `valueMicros` (0 for a buy), micros. */
export function regulatoryFeesMicros(f: RegulatoryFees, kind: Kind, side: Side, qty: number, valueMicros: number): number {
  if (side !== "sell" || qty <= 0) return 0;
  const sec = ceilCent((valueMicros * f.secPerMillion) / 1e6);
  const taf = kind === "option"
    ? ceilCent(f.tafPerContractMicros * qty)
    : ceilCent(Math.min(f.tafMaxPerTradeMicros, f.tafPerShareMicros * qty));
  return sec + taf;
}

/** Nothing filled, nothing charged. */
export function noCosts(): OrderCosts {
  return { qty: 0, valueMicros: 0, baseMicros: 0, chargedMicros: 0, segQty: 0, segValueMicros: 0, segBaseMicros: 0, priorCommissionMicros: 0 };
}

/**
 * True when a modify or a night makes an order new for the minimum: IBKR's note is in its fixed
 * pricing for stocks (ETFs, warrants); its option pricing has none, so an option order keeps one
 * minimum for its life.
 */
export function minimumRestartsFor(kind: Kind): boolean {
  return kind === "stock";
}

/**
 * The order counts as new for the minimum from here (a stock order modified, or carried over a
 * session close): the current segment's commission is kept as charged and the next fills start
 * a new minimum and cap. A segment with no fills changes nothing; options are left as they are.
 */
export function newOrderForMinimum(s: CommissionSchedule, kind: Kind, c: OrderCosts): void {
  if (!minimumRestartsFor(kind) || c.segQty === 0) return;
  c.priorCommissionMicros += orderCommissionMicros(s, kind, c.segQty, c.segValueMicros, c.segBaseMicros);
  c.segQty = c.segValueMicros = c.segBaseMicros = 0;
}

/**
 * Adds an execution to an order's costs and returns what it is charged: the increase of the
 * order's commission and fees. Never negative, so a schedule lowered between two fills of one
 * order does not pay money back.
 */
export function chargeFill(s: CommissionSchedule, kind: Kind, side: Side, c: OrderCosts, priceUnits: number, qty: number, multiplier: number): number {
  addFill(s, kind, c, priceUnits, qty, multiplier);
  const total = c.priorCommissionMicros + orderCommissionMicros(s, kind, c.segQty, c.segValueMicros, c.segBaseMicros)
    + regulatoryFeesMicros(s.fees, kind, side, c.qty, c.valueMicros);
  const charge = Math.max(0, total - c.chargedMicros);
  c.chargedMicros += charge;
  return charge;
}

function addFill(s: CommissionSchedule, kind: Kind, c: OrderCosts, priceUnits: number, qty: number, multiplier: number): void {
  const value = notionalMicros(priceUnits, qty, multiplier);
  const base = baseOf(s, kind, qty, priceUnits);
  c.qty += qty;
  c.valueMicros += value;
  c.baseMicros += base;
  c.segQty += qty;
  c.segValueMicros += value;
  c.segBaseMicros += base;
}

/**
 * Where an order's current minimum began, as an index into its fills: after the fills that came
 * before its last modify, and among the fills on the trading day (`dayOf`) of its last one. Fills
 * without a time count as that day's.
 */
export function currentMinimumFrom(fills: readonly CostedFill[], fillsBeforeModify: number, dayOf: (ms: number) => string): number {
  const lastTs = fills.at(-1)?.ts;
  const day = lastTs === undefined ? undefined : dayOf(lastTs);
  let from = fills.length;
  while (from > fillsBeforeModify) {
    const ts = fills[from - 1]!.ts;
    if (ts !== undefined && dayOf(ts) !== day) break;
    from--;
  }
  return from;
}

/**
 * An order's costs rebuilt from its executions, charged what they were charged (a restart).
 * `segmentFrom` is the index of the first fill of the current minimum segment (fills before it
 * belonged to the order before a modify or a night); the closed segments' commission is what was
 * charged less the fees and the current segment's commission.
 */
export function costsOf(s: CommissionSchedule, kind: Kind, side: Side, multiplier: number, fills: readonly CostedFill[], segmentFrom = 0): OrderCosts {
  const c = noCosts();
  fills.forEach((f, i) => {
    if (i === segmentFrom) newOrderForMinimum(s, kind, c);
    addFill(s, kind, c, f.priceUnits, f.qty, multiplier);
    c.chargedMicros += f.commissionMicros;
  });
  if (segmentFrom >= fills.length) newOrderForMinimum(s, kind, c);
  if (c.segQty < c.qty) {
    const current = orderCommissionMicros(s, kind, c.segQty, c.segValueMicros, c.segBaseMicros);
    c.priorCommissionMicros = Math.max(0, c.chargedMicros - regulatoryFeesMicros(s.fees, kind, side, c.qty, c.valueMicros) - current);
  }
  return c;
}
