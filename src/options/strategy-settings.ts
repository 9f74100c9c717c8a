// The "strategy" section of the configuration: which option each account sells (the ALL-USE
// preset: Gen-Acc and Rev-Acc sell cash-secured puts, Com-Acc covered calls) and how the IV
// rank history is kept. The delta band itself lives with the account's risk limits
// (risk.accounts.<id>.deltaBand, src/risk/settings.ts), so the candidates and the pre-trade check
// read one band; a preset may set its own band here to look wider or narrower than the check.

import { z } from "zod";

/** What one account sells. */
const presetSchema = z.strictObject({
  /** "put": cash-secured puts; "call": covered calls, only against shares the account holds. */
  right: z.enum(["put", "call"]),
  /** |delta| in points (0-100); absent: the account's risk deltaBand. */
  band: z.strictObject({ lo: z.number().min(0).max(100), hi: z.number().min(0).max(100) })
    .refine((b) => b.lo <= b.hi, { message: "lo must be at most hi", path: ["lo"] }).optional(),
});

/** One account's preset. */
export type StrategyPreset = z.infer<typeof presetSchema>;

/** The strategy section. */
export const strategySchema = z.strictObject({
  /** Presets by account id; the ALL-USE three by default. */
  accounts: z.record(z.string(), presetSchema).default({
    "Gen-Acc": { right: "put" },
    "Rev-Acc": { right: "put" },
    "Com-Acc": { right: "call" },
  }),
  /** Candidates one reply lists at most (the legs in a band are a handful; this bounds a wide band on a long chain). */
  maxCandidates: z.number().int().min(1).max(500).default(50),
  /** Days in the IV rank window: today's ATM IV and the window − 1 recorded days before it. */
  ivWindowDays: z.number().int().min(2).max(1000).default(252),
  /** Recorded days kept per underlying; older rows are deleted. At least the window. */
  ivKeepDays: z.number().int().min(2).max(3000).default(400),
  /** How often today's ATM IV is sampled and stored (the day's row keeps the last sample: the close). */
  ivSampleMs: z.number().int().min(1000).max(86_400_000).default(60_000),
}).refine((s) => s.ivKeepDays >= s.ivWindowDays, { message: "must be at least ivWindowDays", path: ["ivKeepDays"] });

/** The validated strategy section. */
export type StrategyConfig = z.infer<typeof strategySchema>;

/** The defaults, for servers built without a configuration (tests). */
export const STRATEGY_DEFAULTS: StrategyConfig = strategySchema.parse({});
