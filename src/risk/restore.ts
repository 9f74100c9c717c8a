// What the risk service reloads from SQLite at start (split out of service.ts): the admins'
// limit overrides and the trading states. Each stored row is validated again; a bad one is
// logged and dropped (the plain limits, or the state without its override, then apply), so one
// damaged row never stops the start.

import type { Logger } from "../log.ts";
import { DamagedJson, type RiskStore } from "../store/risk.ts";
import { policyOverrideSchema, STATE_RANK, type TradingState } from "./policy.ts";
import type { StateInfo } from "./service.ts";
import { limitsOverrideSchema, type RiskLimitsOverride } from "./settings.ts";

/** The stored limit overrides by account, without the ones that no longer parse. */
export function loadLimitOverrides(store: RiskStore, log: Logger): Map<string, RiskLimitsOverride> {
  const overrides = new Map<string, RiskLimitsOverride>();
  for (const [account, raw] of store.limitOverrides()) {
    if (raw instanceof DamagedJson) {
      log.warn("stored risk limits ignored", { account, error: `not JSON: ${raw.error}` });
      continue;
    }
    const parsed = limitsOverrideSchema.safeParse(raw);
    if (parsed.success) overrides.set(account, parsed.data);
    else log.warn("stored risk limits ignored", { account, error: parsed.error.message });
  }
  return overrides;
}

/**
 * Puts every stored state into `states`, by scope; an override that no longer parses is dropped.
 * A state that is not one of the known ones (a damaged row) restores as halted, set by hand, so
 * an admin's halt is never read back as active; an admin then sets the scope's state again.
 */
export function loadStates(store: RiskStore, log: Logger, states: Map<string, StateInfo>): void {
  for (const s of store.states()) {
    if (!Object.hasOwn(STATE_RANK, s.state)) {
      log.error("stored trading state unreadable: the scope restores halted until an admin sets it", { scope: s.scope, stored: String(s.state).slice(0, 50) });
      states.set(s.scope, { state: "halted", reason: `stored trading state unreadable (${String(s.state).slice(0, 50)}); halted until an admin sets it`, manual: true, sinceTs: s.sinceTs });
      continue;
    }
    const info: StateInfo = { state: s.state as TradingState, reason: s.reason, manual: s.manual, sinceTs: s.sinceTs };
    if (s.override instanceof DamagedJson) {
      log.warn("stored risk state override ignored", { scope: s.scope, error: `not JSON: ${s.override.error}` });
    } else if (s.override !== undefined) {
      // A bad stored override is dropped: the loss policy then acts on the plain limits (the stricter reading).
      const parsed = policyOverrideSchema.safeParse(s.override);
      if (parsed.success) info.override = parsed.data;
      else log.warn("stored risk state override ignored", { scope: s.scope, error: parsed.error.message });
    }
    states.set(s.scope, info);
  }
}
