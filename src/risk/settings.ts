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

/** Limits of one account; every field optional in overrides. */
export const limitsSchema = z.strictObject({
  maxOrderNotional: frac.default(0.5),
  minQty: z.number().int().min(1).default(1),
  maxQty: z.number().int().min(1).max(10_000_000).default(10_000),
  /** Limit price within this fraction of the mid (stocks / options). */
  priceBand: z.number().positive().max(10).default(0.1),
  optionPriceBand: z.number().positive().max(10).default(0.5),
  /** A market order needs a quote updated within this many ms. */
  quoteMaxAgeMs: z.number().int().positive().max(86_400_000).default(10_000),
  maxOpenOrders: z.number().int().positive().max(100_000).default(500),
  /** Shares or contracts per instrument, worst case over working orders. */
  maxPositionQty: z.number().int().positive().max(100_000_000).default(10_000),
  /** Gross delta-adjusted exposure, × capital. */
  maxGrossExposure: frac.default(2),
  /** Net market value, × capital. */
  maxNetExposure: frac.default(1.5),
  /** Net dollar delta of one underlying / equity. */
  maxConcentration: z.number().positive().max(100).default(0.25),
  /** Portfolio dollar delta, × capital. */
  maxDelta: frac.default(1.5),
  submitRatePerS: rate.default(100),
  modifyRatePerS: rate.default(100),
  /** 1-day VaR 99, × capital (utilisation and alerts). */
  maxVar99: frac.default(0.05),
  /** Daily loss, × capital, at which the account goes to reducing, then halted. */
  dailyLossReduce: frac.default(0.02),
  dailyLossHalt: frac.default(0.03),
  /** Fall from the day's peak equity, × capital, at which the account goes to reducing, then halted. */
  drawdownReduce: frac.default(0.03),
  drawdownHalt: frac.default(0.05),
  deltaBand: bandSchema.optional(),
});

/** Limits of one account. */
export type RiskLimits = z.infer<typeof limitsSchema>;

/** An override: any subset of the limits. */
export const limitsOverrideSchema = limitsSchema.partial().strict();

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
  defaults: limitsSchema.prefault({}),
  /** Overrides by account id; the ALL-USE delta bands by default. */
  accounts: z.record(z.string(), limitsOverrideSchema).default({
    "Gen-Acc": { deltaBand: { lo: 40, hi: 50, mode: "deny" } },
    "Rev-Acc": { deltaBand: { lo: 30, hi: 40, mode: "deny" } },
    "Com-Acc": { deltaBand: { lo: 20, hi: 30, mode: "deny" } },
  }),
  /** Automatic states go back to active at the next session when true; manual ones never do. */
  resetAutoStatesDaily: z.boolean().default(true),
});

/** The validated risk section. */
export type RiskConfig = z.infer<typeof riskSchema>;

/** The effective limits of an account: defaults, then the config override, then an admin override. */
export function effectiveLimits(cfg: RiskConfig, account: string, admin?: RiskLimitsOverride): RiskLimits {
  return limitsSchema.parse({ ...cfg.defaults, ...cfg.accounts[account], ...admin });
}
