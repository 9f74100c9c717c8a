// Commission schedules. The default is IBKR Pro "fixed": stocks $0.005 a share, at least $1
// and at most 1 % of the trade value per order; options $0.65 a contract, at least $1 per
// order. Minimums and caps apply to the order, not to each execution, so an order filled in
// pieces is charged the increase of the order's cumulative commission at each fill: the sum
// over the fills equals the commission of one fill of the whole quantity.

/** Per-kind commission rates, all money in micros. */
export interface CommissionSchedule {
  stock: { perShareMicros: number; minPerOrderMicros: number; maxFractionOfValue: number };
  option: { perContractMicros: number; minPerOrderMicros: number };
}

/** IBKR Pro fixed pricing (US stocks and options). */
export const IBKR_PRO_FIXED: CommissionSchedule = {
  stock: { perShareMicros: 5_000, minPerOrderMicros: 1_000_000, maxFractionOfValue: 0.01 },
  option: { perContractMicros: 650_000, minPerOrderMicros: 1_000_000 },
};

/** Commission of an order that has filled `qty` with total value `valueMicros`, in micros; 0 when nothing filled. */
export function orderCommissionMicros(s: CommissionSchedule, kind: "stock" | "option", qty: number, valueMicros: number): number {
  if (qty <= 0) return 0;
  if (kind === "option") return Math.max(s.option.minPerOrderMicros, s.option.perContractMicros * qty);
  const raw = Math.max(s.stock.minPerOrderMicros, s.stock.perShareMicros * qty);
  return Math.min(raw, Math.round(s.stock.maxFractionOfValue * valueMicros));
}
