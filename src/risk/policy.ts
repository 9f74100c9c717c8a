// The loss policy's rule, apart from the service that applies it: the daily loss and drawdown at
// which an account goes to reducing or halted, an admin's decision against it, and the sentences
// that explain both (the admin's reply, the audit trail, the automatic state's reason).
//
// An admin who sets an account's state by hand (to active or reducing) overrides the policy for
// the rest of that trading day: the policy acts again only when the daily loss or the drawdown
// has grown by `adminOverrideStep` × capital beyond what it was when the admin decided (and never
// before the configured limits). The next trading day the override lapses.

import { z } from "zod";
import type { RiskLimits } from "./settings.ts";

/** Trading states, least to most restrictive. */
export type TradingState = "active" | "reducing" | "halted";

/** Rank of a state: a higher rank is stricter. */
export const STATE_RANK: Record<TradingState, number> = { active: 0, reducing: 1, halted: 2 };

const dollars = z.number().finite().min(0);

/** An admin's decision against the loss policy, for one trading day (checked when read back from SQLite). Dollars. */
export const policyOverrideSchema = z.strictObject({
  /** The trading day (New York date) it holds for. */
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  /** When the admin decided. */
  decidedTs: z.number().int(),
  /** Daily loss and drawdown when the admin decided; null until the account's book was marked. */
  lossAt: dollars.nullable(),
  drawdownAt: dollars.nullable(),
  /** How much more loss (or drawdown) it takes before the policy acts again. */
  step: dollars,
});

/** An admin's decision against the loss policy, for one trading day. */
export type PolicyOverride = z.infer<typeof policyOverrideSchema>;

/** The daily loss and drawdown (dollars) at which the policy sets reducing and halted. */
export interface PolicyBounds {
  lossReduce: number;
  lossHalt: number;
  drawdownReduce: number;
  drawdownHalt: number;
}

/** The policy's bounds for an account: its limits, raised by an admin's override of the day. */
export function policyBounds(l: RiskLimits, capital: number, o?: PolicyOverride): PolicyBounds {
  const lossFloor = o && o.lossAt !== null ? o.lossAt + o.step : 0;
  const ddFloor = o && o.drawdownAt !== null ? o.drawdownAt + o.step : 0;
  return {
    lossReduce: Math.max(l.dailyLossReduce * capital, lossFloor), lossHalt: Math.max(l.dailyLossHalt * capital, lossFloor),
    drawdownReduce: Math.max(l.drawdownReduce * capital, ddFloor), drawdownHalt: Math.max(l.drawdownHalt * capital, ddFloor),
  };
}

const usd = (v: number) => `$${v.toFixed(2)}`;

/** The state the policy wants for a daily loss and drawdown, with the reason (active: ""). */
export function policyTarget(
  b: PolicyBounds, loss: number, drawdown: number, l: RiskLimits, capital: number, o?: PolicyOverride,
): { state: TradingState; reason: string } {
  const why = (what: string, v: number, bound: number, level: string, limit: number) => {
    const base = `${what} ${usd(v)} reached the ${level} limit ${usd(limit)}`;
    if (bound <= limit || !o) return base;
    return `${what} ${usd(v)} reached ${usd(bound)}: the ${level} limit ${usd(limit)} was raised by the admin's decision of ` +
      `${new Date(o.decidedTs).toISOString()} to the ${what} then plus ${usd(o.step)}`;
  };
  if (loss >= b.lossHalt) return { state: "halted", reason: why("daily loss", loss, b.lossHalt, "halt", l.dailyLossHalt * capital) };
  if (drawdown >= b.drawdownHalt) return { state: "halted", reason: why("drawdown", drawdown, b.drawdownHalt, "halt", l.drawdownHalt * capital) };
  if (loss >= b.lossReduce) return { state: "reducing", reason: why("daily loss", loss, b.lossReduce, "reduce", l.dailyLossReduce * capital) };
  if (drawdown >= b.drawdownReduce) return { state: "reducing", reason: why("drawdown", drawdown, b.drawdownReduce, "reduce", l.drawdownReduce * capital) };
  return { state: "active", reason: "" };
}

/** What an admin's state change means for the loss policy, for the reply and the audit trail. */
export interface PolicyNote {
  /** One or two sentences an operator reads. */
  message: string;
  /** The state the policy would set now without the admin's decision (null: none stricter). */
  wouldSetNow: TradingState | null;
  /** The bounds the policy acts at for the rest of the day (null: not known until the book is marked, or not applicable). */
  bounds: PolicyBounds | null;
  /** The trading day the decision stands for (null: it stands until an admin changes it). */
  until: string | null;
}

const boundsText = (b: PolicyBounds) =>
  `reducing at a daily loss of ${usd(b.lossReduce)} or a drawdown of ${usd(b.drawdownReduce)}, ` +
  `halted at ${usd(b.lossHalt)} or ${usd(b.drawdownHalt)}`;

/**
 * Explains an admin's decision: `plain` is what the policy wants now under the configured limits,
 * `bounds` the bounds it acts at from now on (null when the book is not yet marked).
 */
export function describeDecision(
  state: TradingState, plain: { state: TradingState; reason: string } | null, bounds: PolicyBounds | null, o: PolicyOverride | undefined,
): PolicyNote {
  if (state === "halted" || !o) {
    return { message: "Halted by hand: the loss policy never relaxes a state, so it stays halted until an admin changes it.", wouldSetNow: null, bounds: null, until: null };
  }
  if (!plain || !bounds) {
    return {
      message: `The account's positions are not all marked yet, so the loss policy is held. ${state} stands for the rest of trading day ` +
        `${o.date} unless the daily loss or the drawdown grows by a further ${usd(o.step)} beyond the first fully marked figures ` +
        "(and never before the configured limits).",
      wouldSetNow: null, bounds: null, until: o.date,
    };
  }
  if (STATE_RANK[plain.state] > STATE_RANK[state]) {
    return {
      message: `The loss policy would set ${plain.state} now (${plain.reason}). This decision stands for the rest of trading day ${o.date}: ` +
        `the policy acts again only if the loss grows by a further ${usd(o.step)}: ${boundsText(bounds)}.`,
      wouldSetNow: plain.state, bounds, until: o.date,
    };
  }
  return { message: `The loss policy applies as usual for the rest of trading day ${o.date}: ${boundsText(bounds)}.`, wouldSetNow: null, bounds, until: o.date };
}
