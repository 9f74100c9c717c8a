// What the risk service reloads from SQLite at start (split out of service.ts): the admins'
// limit overrides and the trading states. Each stored row is validated again; a bad one is
// logged and dropped (the plain limits, or the state without its override, then apply), so one
// damaged row never stops the start.

import type { Logger } from "../log.ts";
import type { RiskStore } from "../store/risk.ts";
import { policyOverrideSchema, type TradingState } from "./policy.ts";
import type { StateInfo } from "./service.ts";
import { limitsOverrideSchema, type RiskLimitsOverride } from "./settings.ts";

/** The stored limit overrides by account, without the ones that no longer parse. */
export function loadLimitOverrides(store: RiskStore, log: Logger): Map<string, RiskLimitsOverride> {
  const overrides = new Map<string, RiskLimitsOverride>();
  for (const [account, raw] of store.limitOverrides()) {
    const parsed = limitsOverrideSchema.safeParse(raw);
    if (parsed.success) overrides.set(account, parsed.data);
    else log.warn("stored risk limits ignored", { account, error: parsed.error.message });
  }
  return overrides;
}

/** Puts every stored state into `states`, by scope; an override that no longer parses is dropped. */
export function loadStates(store: RiskStore, log: Logger, states: Map<string, StateInfo>): void {
  for (const s of store.states()) {
    const info: StateInfo = { state: s.state as TradingState, reason: s.reason, manual: s.manual, sinceTs: s.sinceTs };
    if (s.override !== undefined) {
      // A bad stored override is dropped: the loss policy then acts on the plain limits (the stricter reading).
      const parsed = policyOverrideSchema.safeParse(s.override);
      if (parsed.success) info.override = parsed.data;
      else log.warn("stored risk state override ignored", { scope: s.scope, error: parsed.error.message });
    }
    states.set(s.scope, info);
  }
}
