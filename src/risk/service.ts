// The risk engine as the app runs it: builds the risk region's book from the order manager,
// answers the pre-trade hook, recomputes every account's risk in WASM at most every publishMs,
// moves accounts between trading states on their loss policy, runs the kill switch, and keeps
// limits, states and the audit trail in SQLite. Snapshots go to listeners (the WebSocket push)
// and to REST.

import type { Database } from "bun:sqlite";
import type { Engine } from "../engine/engine.ts";
import type { Logger } from "../log.ts";
import type { AccountsConfig } from "../oms/accounts.ts";
import type { OmsUpdate, OrderManager } from "../oms/manager.ts";
import { RiskStore } from "../store/risk.ts";
import { RiskBook } from "./book.ts";
import { RiskPreTrade } from "./pretrade.ts";
import { effectiveLimits, limitsOverrideSchema, type RiskConfig, type RiskLimits, type RiskLimitsOverride } from "./settings.ts";
import { readSnapshot, type RiskSnapshot } from "./snapshot.ts";
import { RiskTables } from "./tables.ts";
import { addListener } from "../domain/listeners.ts";

/** Trading states, least to most restrictive. */
export type TradingState = "active" | "reducing" | "halted";
const RANK: Record<TradingState, number> = { active: 0, reducing: 1, halted: 2 };
/** The firm-wide scope of a state. */
export const FIRM = "*";

/** One scope's state. */
export interface StateInfo {
  state: TradingState;
  reason: string;
  /** Set by an admin (never cleared automatically) rather than by the loss policy. */
  manual: boolean;
  sinceTs: number;
}

/** What the service is built from. */
export interface RiskServiceDeps {
  engine: Engine;
  config: RiskConfig;
  accounts: AccountsConfig;
  db: Database;
  log: Logger;
  clock?: () => number;
}

/** New York calendar date of an instant: the session's day. */
const nyDate = new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York", year: "numeric", month: "2-digit", day: "2-digit" });
/** A book with no change is still recomputed this often (time to expiry, the session roll). */
const IDLE_RECOMPUTE_MS = 5_000;
/** The day's peak equity is written at most this often (a restart only loses a little strictness). */
const PEAK_WRITE_MS = 10_000;

/** The running risk engine; see the file comment. */
export class RiskService {
  readonly tables: RiskTables;
  readonly book: RiskBook;
  readonly hook: RiskPreTrade;
  readonly store: RiskStore;
  private readonly clock: () => number;
  private readonly states = new Map<string, StateInfo>();
  private readonly overrides: Map<string, RiskLimitsOverride>;
  private readonly limits = new Map<string, RiskLimits>();
  private readonly sessions = new Map<string, { date: string; open: number; peak: number; peakWrittenMs: number }>();
  private readonly snapshots = new Map<string, RiskSnapshot>();
  private readonly listeners: ((s: RiskSnapshot) => void)[] = [];
  private readonly stateListeners: ((scope: string, s: StateInfo) => void)[] = [];
  private oms: OrderManager | undefined;
  private detach: (() => void) | undefined;
  private detachBatch: (() => void) | undefined;
  private lastRecomputeMs = 0;
  /** Recomputes since start (tests and metrics). */
  recomputes = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly deps: RiskServiceDeps) {
    this.clock = deps.clock ?? Date.now;
    this.tables = RiskTables.create(deps.engine);
    this.book = new RiskBook(this.tables, deps.engine, deps.engine.options.maxInstruments);
    this.hook = new RiskPreTrade(this.tables, this.book);
    this.store = new RiskStore(deps.db);
    const c = deps.config;
    const p = (f: string, v: number) => (this.tables.params[this.tables.g[f]!] = v);
    p("RP_RATE", c.rate); p("RP_DIV", c.divYield); p("RP_CORR", c.correlation); p("RP_DEFAULT_VOL", c.defaultVol);
    p("RP_DAY_MS", c.tradingDayMs); p("RP_YEAR_MS", 365 * 86_400_000); p("RP_TRADING_DAYS", 252);
    this.overrides = new Map();
    for (const [account, raw] of this.store.limitOverrides()) {
      const parsed = limitsOverrideSchema.safeParse(raw);
      if (parsed.success) this.overrides.set(account, parsed.data);
      else deps.log.warn("stored risk limits ignored", { account, error: parsed.error.message });
    }
    for (const a of deps.accounts.list) {
      this.book.addAccount(a.id, deps.accounts.capital * a.share, a.mode);
      this.applyLimits(a.id);
    }
    for (const s of this.store.states()) {
      this.states.set(s.scope, { state: s.state as TradingState, reason: s.reason, manual: s.manual, sinceTs: s.sinceTs });
    }
    this.pushStates();
    this.hook.onWarning((w) => deps.log.warn("pre-trade warning", { ...w }));
  }

  /** Seeds the book from the order manager, follows its updates and starts recomputing. */
  attach(oms: OrderManager): void {
    this.oms = oms;
    for (const a of this.book.accounts()) {
      const ledger = oms.portfolio.ledger(a);
      if (ledger) this.book.setCash(a, ledger.cashMicros / 1e6);
      for (const p of oms.portfolio.positionsOf(a)) {
        const inst = this.deps.engine.instrument(p.symbol);
        if (inst && p.qty !== 0) this.book.setPosition(a, inst, p.qty, p.costMicros / 1e6);
      }
      for (const o of oms.openOrders(a)) this.book.onOrder(o, this.deps.engine.instrument(o.symbol));
    }
    this.detach = oms.onUpdate((u) => this.onUpdate(u));
    // Incremental: a batch of ticks matters only when it touched an instrument some row holds or works.
    const held = this.book.held;
    this.detachBatch = this.deps.engine.onBatch((changed) => {
      if (this.book.changed) return;
      for (let i = 0; i < changed.length; i++) {
        if (held[changed[i]!] === 1) {
          this.book.changed = true;
          return;
        }
      }
    });
    this.recompute();
    this.timer = setInterval(() => {
      try {
        this.maybeRecompute();
      } catch (err) {
        this.deps.log.error("risk recompute failed", { err });
      }
    }, this.deps.config.publishMs);
  }

  /**
   * The timer's work: recomputes when something risk reads has changed (a held instrument's
   * quote, a fill, an order, a state or a limit), or when the book has been quiet for a while
   * (time decay, the session roll). Returns whether it recomputed.
   */
  maybeRecompute(): boolean {
    if (!this.book.changed && this.clock() - this.lastRecomputeMs < IDLE_RECOMPUTE_MS) return false;
    this.recompute();
    return true;
  }

  /** Recomputes every account now, applies the loss policy and notifies listeners. */
  recompute(): void {
    const now = this.clock();
    this.book.changed = false;
    this.lastRecomputeMs = now;
    this.recomputes++;
    this.tables.recompute(now);
    const date = nyDate.format(new Date(now));
    const sessions = new Map<string, { open: number; peak: number }>();
    let reopened = false;
    for (const a of this.book.accounts()) {
      const slot = this.book.slotOf(a)!;
      const s = this.session(a, date, this.tables.acc(slot, "A_EQUITY"), now);
      sessions.set(a, s);
      if (this.tables.acc(slot, "A_OPEN_EQUITY") !== s.open) {
        this.tables.setAcc(slot, "A_OPEN_EQUITY", s.open);
        reopened = true;
      }
    }
    // Daily P&L and its utilisation need the open equity, known only after the first pass of a day.
    if (reopened) this.tables.recompute(now);
    for (const a of this.book.accounts()) {
      const session = sessions.get(a)!;
      const slot = this.book.slotOf(a)!;
      this.lossPolicy(a, this.tables.acc(slot, "A_EQUITY"), session);
      this.snapshots.set(a, readSnapshot(this.tables, slot, a, this.book, this.state(a), this.limits.get(a)!, session, now));
    }
    for (const s of this.snapshots.values()) for (const l of this.listeners) l(s);
  }

  /** The last snapshot of an account. */
  snapshot(account: string): RiskSnapshot | undefined {
    return this.snapshots.get(account);
  }

  /** Every account's last snapshot, in configuration order. */
  allSnapshots(): RiskSnapshot[] {
    return this.book.accounts().flatMap((a) => this.snapshots.get(a) ?? []);
  }

  /** Listens to every snapshot (each recompute); returns a remover. */
  onSnapshot(listener: (s: RiskSnapshot) => void): () => void {
    return addListener(this.listeners, listener);
  }

  /** Listens to state changes; returns a remover. */
  onState(listener: (scope: string, s: StateInfo) => void): () => void {
    return addListener(this.stateListeners, listener);
  }

  /** The state of an account (or FIRM). */
  state(scope: string): StateInfo {
    return this.states.get(scope) ?? { state: "active", reason: "", manual: false, sinceTs: 0 };
  }

  /** The effective limits of an account. */
  limitsOf(account: string): RiskLimits | undefined {
    return this.limits.get(account);
  }

  /** True for a configured account. */
  hasAccount(account: string): boolean {
    return this.book.slotOf(account) !== undefined;
  }

  /** Sets a state by hand (admin) or by policy; journaled with its audit record. No-op when unchanged. */
  setState(actor: string, scope: string, state: TradingState, reason: string, manual = true): StateInfo {
    const old = this.state(scope);
    if (old.state === state && old.manual === manual && old.reason === reason) return old;
    const next: StateInfo = { state, reason, manual, sinceTs: this.clock() };
    this.store.changeState({ scope, ...next }, actor, { state: old.state, reason: old.reason, manual: old.manual });
    this.states.set(scope, next);
    this.pushStates();
    this.book.changed = true;
    this.deps.log.warn("trading state changed", { scope, from: old.state, to: state, reason, actor, manual });
    for (const l of this.stateListeners) l(scope, next);
    return next;
  }

  /**
   * The kill switch: halts the scope (an account, or FIRM for every account) and asks the broker
   * to cancel every working order in it. Returns the ids cancel was asked for.
   */
  async kill(actor: string, scope: string, reason: string): Promise<string[]> {
    this.setState(actor, scope, "halted", `kill switch: ${reason}`, true);
    const accounts = scope === FIRM ? this.book.accounts() : [scope];
    const ids: string[] = [];
    for (const a of accounts) for (const o of this.oms?.openOrders(a) ?? []) ids.push(o.id);
    const results = await Promise.all(ids.map((id) => this.oms!.cancel(id)));
    const failed = results.flatMap((r, i) => (r.ok ? [] : [`${ids[i]}: ${r.error.message}`]));
    this.store.audit(this.clock(), actor, "kill", scope, null, { reason, canceled: ids, failed });
    this.deps.log.warn("kill switch", { scope, actor, reason, canceled: ids.length, failed: failed.length });
    return ids;
  }

  /** Replaces an account's admin override of its limits; journaled with old and new effective limits. */
  setLimits(actor: string, account: string, override: RiskLimitsOverride): RiskLimits {
    const old = this.limits.get(account);
    const merged = { ...this.overrides.get(account), ...override };
    const next = effectiveLimits(this.deps.config, account, merged);
    this.store.changeLimits(account, merged, actor, old, next, this.clock());
    this.overrides.set(account, merged);
    this.applyLimits(account);
    return next;
  }

  /** Stops recomputing and following the order manager. */
  stop(): void {
    clearInterval(this.timer);
    this.detach?.();
    this.detachBatch?.();
  }

  private applyLimits(account: string): void {
    const l = effectiveLimits(this.deps.config, account, this.overrides.get(account));
    this.limits.set(account, l);
    this.book.setLimits(account, l);
  }

  private pushStates(): void {
    const code = { active: 0, reducing: 1, halted: 2 } as const;
    this.tables.params[this.tables.g.RP_GLOBAL_STATE!] = code[this.state(FIRM).state];
    for (const a of this.book.accounts()) this.tables.setAcc(this.book.slotOf(a)!, "A_STATE", code[this.state(a).state]);
  }

  private onUpdate(u: OmsUpdate): void {
    const inst = this.deps.engine.instrument(u.type === "order" ? u.order.symbol : u.fill.symbol);
    if (!this.hasAccount(u.account)) return;
    if (u.type === "fill") {
      if (inst) this.book.setPosition(u.account, inst, u.position.qty, u.position.costMicros / 1e6);
      const ledger = this.oms?.portfolio.ledger(u.account);
      if (ledger) this.book.setCash(u.account, ledger.cashMicros / 1e6);
    } else {
      this.book.onOrder(u.order, inst);
    }
  }

  /** The session's open and peak equity of an account: stored, or taken now on a new day. */
  private session(account: string, date: string, equity: number, now: number) {
    let s = this.sessions.get(account);
    if (!s || s.date !== date) {
      const stored = this.store.session(account);
      if (stored && stored.date === date) {
        s = { date, open: stored.openEquity, peak: stored.peakEquity, peakWrittenMs: now };
      } else {
        s = { date, open: equity, peak: equity, peakWrittenMs: now };
        this.store.setSession(account, date, equity, equity);
        if (this.deps.config.resetAutoStatesDaily && this.states.has(account) && !this.state(account).manual && this.state(account).state !== "active") {
          this.setState("risk", account, "active", `new session ${date}`, false);
        }
      }
      this.sessions.set(account, s);
    }
    if (equity > s.peak) {
      s.peak = equity;
      if (now - s.peakWrittenMs >= PEAK_WRITE_MS) {
        this.store.setSession(account, date, s.open, s.peak);
        s.peakWrittenMs = now;
      }
    }
    return s;
  }

  /** Escalates an account to reducing or halted on its daily loss or drawdown; never de-escalates. */
  private lossPolicy(account: string, equity: number, session: { open: number; peak: number }): void {
    const l = this.limits.get(account)!;
    const cap = this.book.capitalOf(account);
    const loss = Math.max(session.open - equity, 0);
    const drawdown = Math.max(session.peak - equity, 0);
    let target: TradingState = "active";
    let reason = "";
    if (loss >= l.dailyLossHalt * cap) { target = "halted"; reason = `daily loss $${loss.toFixed(2)} reached the halt limit $${(l.dailyLossHalt * cap).toFixed(2)}`; }
    else if (drawdown >= l.drawdownHalt * cap) { target = "halted"; reason = `drawdown $${drawdown.toFixed(2)} reached the halt limit $${(l.drawdownHalt * cap).toFixed(2)}`; }
    else if (loss >= l.dailyLossReduce * cap) { target = "reducing"; reason = `daily loss $${loss.toFixed(2)} reached the reduce limit $${(l.dailyLossReduce * cap).toFixed(2)}`; }
    else if (drawdown >= l.drawdownReduce * cap) { target = "reducing"; reason = `drawdown $${drawdown.toFixed(2)} reached the reduce limit $${(l.drawdownReduce * cap).toFixed(2)}`; }
    if (RANK[target] > RANK[this.state(account).state]) this.setState("risk", account, target, reason, false);
  }
}
