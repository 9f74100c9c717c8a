// The "risk" section of the configuration: market assumptions of the risk model, default limits
// for every account, per-account overrides, and the loss policy that moves accounts between
// trading states. Dollar limits are fractions of the account's capital (its configured share of
// trading.accounts.capital), so the defaults scale with the money in the account.

import { z } from "zod";

const frac = z.number().positive().max(100);
const rate = z.number().positive().max(1_000_000);

/** One option-sale delta band: |delta| in points (0-100) an opening option sale must fall in. */
const bandSchema = z.strictObject({
  lo: z.number().min(0).max(100),
  hi: z.number().min(0).max(100),
  /** "deny" refuses the order, "warn" lets it through with a warning (logged and counted). */
  mode: z.enum(["off", "warn", "deny"]).default("deny"),
}).refine((b) => b.lo <= b.hi, { message: "lo must be at most hi", path: ["lo"] });

/** The fields of an account's limits (no defaults here: an override must not fill in the rest). */
const limitFields = {
  /** Per order, × capital. */
  maxOrderNotional: frac,
  minQty: z.number().int().min(1),
  maxQty: z.number().int().min(1).max(10_000_000),
  /** Limit price within this fraction of the mid (stocks / options). */
  priceBand: z.number().positive().max(10),
  optionPriceBand: z.number().positive().max(10),
  /** A market order needs a quote updated within this many ms. */
  quoteMaxAgeMs: z.number().int().positive().max(86_400_000),
  maxOpenOrders: z.number().int().positive().max(100_000),
  /** Shares or contracts per instrument, worst case over working orders. */
  maxPositionQty: z.number().int().positive().max(100_000_000),
  /** Gross delta-adjusted exposure, × capital. */
  maxGrossExposure: frac,
  /** Net market value, × capital. */
  maxNetExposure: frac,
  /** Net dollar delta of one underlying / equity. */
  maxConcentration: z.number().positive().max(100),
  /** Portfolio dollar delta, × capital. */
  maxDelta: frac,
  submitRatePerS: rate,
  modifyRatePerS: rate,
  /** 1-day VaR 99, × capital (utilisation and alerts). */
  maxVar99: frac,
  /** Daily loss, × capital, at which the account goes to reducing, then halted. */
  dailyLossReduce: frac,
  dailyLossHalt: frac,
  /** Fall from the day's peak equity, × capital, at which the account goes to reducing, then halted. */
  drawdownReduce: frac,
  drawdownHalt: frac,
  deltaBand: bandSchema.optional(),
};

/** Limits of one account, every field present. */
export const limitsSchema = z.strictObject(limitFields);

/** Limits of one account. */
export type RiskLimits = z.infer<typeof limitsSchema>;

/** Built-in limits: what an account gets unless the configuration or an admin says otherwise. */
export const LIMIT_DEFAULTS: RiskLimits = {
  maxOrderNotional: 0.5, minQty: 1, maxQty: 10_000, priceBand: 0.1, optionPriceBand: 0.5, quoteMaxAgeMs: 10_000,
  maxOpenOrders: 500, maxPositionQty: 10_000, maxGrossExposure: 2, maxNetExposure: 1.5, maxConcentration: 0.25,
  maxDelta: 1.5, submitRatePerS: 100, modifyRatePerS: 100, maxVar99: 0.05, dailyLossReduce: 0.02, dailyLossHalt: 0.03,
  drawdownReduce: 0.03, drawdownHalt: 0.05,
};

/** An override: any subset of the limits. */
export const limitsOverrideSchema = z.strictObject(limitFields).partial();

/** A partial set of limits. */
export type RiskLimitsOverride = z.infer<typeof limitsOverrideSchema>;

/** The risk section. */
export const riskSchema = z.strictObject({
  /** Off only for load tests of the order path: no pre-trade checks, no risk published. */
  enabled: z.boolean().default(true),
  rate: z.number().min(-0.1).max(1).default(0.04),
  divYield: z.number().min(0).max(1).default(0),
  /** Pairwise correlation of underlyings assumed by the delta-normal VaR. */
  correlation: z.number().min(0).max(1).default(0.5),
  /** Annual vol used when the engine has no estimate for an underlying yet. */
  defaultVol: z.number().positive().max(10).default(0.3),
  /** Trading ms in a day (6.5 h): scales the engine's per-ms variance to one day. */
  tradingDayMs: z.number().int().positive().default(23_400_000),
  /** Recompute and publish at most this often. */
  publishMs: z.number().int().min(10).max(60_000).default(100),
  /** Limits for every account, over LIMIT_DEFAULTS. */
  defaults: limitsOverrideSchema.default({}),
  /** Overrides by account id; the ALL-USE delta bands by default. */
  accounts: z.record(z.string(), limitsOverrideSchema).default({
    "Gen-Acc": { deltaBand: { lo: 40, hi: 50, mode: "deny" } },
    "Rev-Acc": { deltaBand: { lo: 30, hi: 40, mode: "deny" } },
    "Com-Acc": { deltaBand: { lo: 20, hi: 30, mode: "deny" } },
  }),
  /** Automatic states go back to active at the next session when true; manual ones never do. */
  resetAutoStatesDaily: z.boolean().default(true),
  /**
   * After a start, the loss policy waits at most this long for a live mark on every held
   * instrument; then it acts on the durable last marks (flagged stale). /readyz waits with it.
   */
  markWaitMs: z.number().int().min(0).max(600_000).default(30_000),
  /**
   * An admin's state change against the loss policy stands for the rest of the trading day unless
   * the daily loss or the drawdown grows by this much more (× capital) than when the admin decided.
   */
  adminOverrideStep: z.number().positive().max(1).default(0.01),
});

/** The validated risk section. */
export type RiskConfig = z.infer<typeof riskSchema>;

/** The effective limits of an account: defaults, then the config override, then an admin override. */
export function effectiveLimits(cfg: RiskConfig, account: string, admin?: RiskLimitsOverride): RiskLimits {
  return limitsSchema.parse({ ...LIMIT_DEFAULTS, ...cfg.defaults, ...cfg.accounts[account], ...admin });
}
