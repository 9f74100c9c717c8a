// The risk engine as the app runs it: builds the risk region's book from the order manager,
// answers the pre-trade hook, recomputes every account's risk in WASM at most every publishMs,
// moves accounts between trading states on their loss policy (policy.ts), runs the kill switch,
// and keeps limits, states, the session's open and peak equity, the last marks (marks.ts) and the
// audit trail in SQLite. The policy never acts on a book that is not marked: after a start it
// waits for live marks (at most risk.markWaitMs). Snapshots go to listeners (the WebSocket push)
// and to REST. What is reloaded from SQLite at start (limit overrides, states) is in restore.ts.

import type { Database } from "bun:sqlite";
import type { Engine } from "../engine/engine.ts";
import type { Logger } from "../log.ts";
import type { AccountsConfig } from "../oms/accounts.ts";
import type { OmsUpdate, OrderManager } from "../oms/manager.ts";
import { RiskStore } from "../store/risk.ts";
import { RiskBook } from "./book.ts";
import { RiskMarks, type Valuation } from "./marks.ts";
import { RiskSessions, type Session } from "./sessions.ts";
import {
  describeDecision, policyBounds, policyTarget, STATE_RANK, type PolicyNote, type PolicyOverride, type TradingState,
} from "./policy.ts";
import { RiskPreTrade } from "./pretrade.ts";
import { loadLimitOverrides, loadStates } from "./restore.ts";
import { effectiveLimits, type RiskConfig, type RiskLimits, type RiskLimitsOverride } from "./settings.ts";
import { readSnapshot, type RiskSnapshot } from "./snapshot.ts";
import { RiskTables } from "./tables.ts";
import { addListener } from "../domain/listeners.ts";

export type { TradingState } from "./policy.ts";
/** The firm-wide scope of a state. */
export const FIRM = "*";

/** One scope's state. */
export interface StateInfo {
  state: TradingState;
  reason: string;
  /** Set by an admin (never cleared automatically) rather than by the loss policy. */
  manual: boolean;
  sinceTs: number;
  /** An admin's decision against the loss policy, for one trading day (manual active or reducing only). */
  override?: PolicyOverride;
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
  private readonly sessions: RiskSessions;
  /** Held instruments of each account without a live mark in this run, as of the last recompute. */
  private readonly unmarked = new Map<string, string[]>();
  private marks: RiskMarks | undefined;
  private waitEnded = false;
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
    this.sessions = new RiskSessions(this.store, (account, date) => {
      // A new day: automatic states go back to active (manual ones stay until an admin changes them).
      if (deps.config.resetAutoStatesDaily && this.states.has(account) && !this.state(account).manual && this.state(account).state !== "active") {
        this.setState("risk", account, "active", `new session ${date}`, false);
      }
    });
    const c = deps.config;
    const p = (f: string, v: number) => (this.tables.params[this.tables.g[f]!] = v);
    p("RP_RATE", c.rate); p("RP_DIV", c.divYield); p("RP_CORR", c.correlation); p("RP_DEFAULT_VOL", c.defaultVol);
    p("RP_DAY_MS", c.tradingDayMs); p("RP_YEAR_MS", 365 * 86_400_000); p("RP_TRADING_DAYS", 252);
    this.overrides = loadLimitOverrides(this.store, deps.log);
    for (const a of deps.accounts.list) {
      this.book.addAccount(a.id, deps.accounts.capital * a.share, a.mode);
      this.applyLimits(a.id);
    }
    loadStates(this.store, deps.log, this.states);
    this.pushStates();
    this.hook.onWarning((w) => deps.log.warn("pre-trade warning", { ...w }));
  }

  /** Seeds the book from the order manager, follows its updates and starts recomputing. */
  attach(oms: OrderManager): void {
    this.oms = oms;
    const marks = (this.marks = new RiskMarks(this.store, this.tables, this.book, this.deps.log, this.clock(), this.deps.config.markWaitMs));
    this.book.seedMark = (symbol) => marks.seed(symbol);
    const heldSymbols = new Set<string>();
    for (const a of this.book.accounts()) {
      const ledger = oms.portfolio.ledger(a);
      if (ledger) this.book.setCash(a, ledger.cashMicros / 1e6);
      for (const p of oms.portfolio.positionsOf(a)) {
        const inst = this.deps.engine.instrument(p.symbol);
        if (inst && p.qty !== 0) this.book.setPosition(a, inst, p.qty, p.costMicros / 1e6);
        if (p.qty !== 0) heldSymbols.add(p.symbol);
      }
      for (const o of oms.openOrders(a)) this.book.onOrder(o, this.deps.engine.instrument(o.symbol));
    }
    marks.retainOnly(heldSymbols);
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
    const now = this.clock();
    // The end of the start-up wait changes what the policy may do: recompute at once.
    const waitEnds = !this.waitEnded && this.marks !== undefined && this.marks.waitOver(now);
    if (!waitEnds && !this.book.changed && now - this.lastRecomputeMs < IDLE_RECOMPUTE_MS) return false;
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
    const waitOver = this.marks?.waitOver(now) ?? false;
    const sessions = new Map<string, Session>();
    let reopened = false;
    for (const a of this.book.accounts()) {
      const slot = this.book.slotOf(a)!;
      const unmarked = this.marks?.scan(a) ?? [];
      this.unmarked.set(a, unmarked);
      // A book that is not marked is not evidence of a loss (or of a new peak): wait for marks.
      const s = this.sessions.update(a, date, this.tables.acc(slot, "A_EQUITY"), now, unmarked.length === 0 || waitOver);
      sessions.set(a, s);
      if (!Object.is(this.tables.acc(slot, "A_OPEN_EQUITY"), s.open)) {
        this.tables.setAcc(slot, "A_OPEN_EQUITY", s.open);
        reopened = true;
      }
    }
    if (waitOver && !this.waitEnded) this.endWait();
    // Daily P&L and its utilisation need the open equity, known only after the first marked pass of a day.
    if (reopened) this.tables.recompute(now);
    for (const a of this.book.accounts()) {
      const session = sessions.get(a)!;
      const slot = this.book.slotOf(a)!;
      const unmarked = this.unmarked.get(a)!;
      const valuation: Valuation = this.marks?.valuation(unmarked, now) ?? "marked";
      if (valuation !== "waiting_for_marks" && !Number.isNaN(session.open)) this.lossPolicy(a, this.tables.acc(slot, "A_EQUITY"), session, date);
      this.snapshots.set(a, readSnapshot(this.tables, slot, a, this.book, this.state(a), this.limits.get(a)!, session, now, { valuation, unmarked }));
    }
    this.marks?.flush(now);
    for (const s of this.snapshots.values()) for (const l of this.listeners) l(s);
  }

  /**
   * /readyz: null once every held instrument has a live mark (or the start-up wait is over),
   * else which are missing and for how long the loss policy may still wait.
   */
  marksReadiness(): string | null {
    const now = this.clock();
    if (!this.marks || this.marks.waitOver(now)) return null;
    const missing = [...this.unmarked].filter(([, symbols]) => symbols.length > 0).map(([a, symbols]) => `${a} ${symbols.join(", ")}`);
    if (missing.length === 0) return null;
    return `waiting for live marks (${missing.join("; ")}); the loss policy is held for at most ${Math.ceil(this.marks.waitLeftMs(now) / 1000)} s more`;
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

  /**
   * Sets a state by hand (admin) or by policy; journaled with its audit record (with `policy`, the
   * admin's note). No-op when unchanged and no override is given.
   */
  setState(actor: string, scope: string, state: TradingState, reason: string, manual = true, override?: PolicyOverride, policy?: string): StateInfo {
    const old = this.state(scope);
    if (old.state === state && old.manual === manual && old.reason === reason && !override) return old;
    const next: StateInfo = { state, reason, manual, sinceTs: this.clock(), ...(override ? { override } : {}) };
    this.store.changeState({ scope, ...next }, actor, { state: old.state, reason: old.reason, manual: old.manual }, policy);
    this.states.set(scope, next);
    this.pushStates();
    this.book.changed = true;
    this.deps.log.warn("trading state changed", { scope, from: old.state, to: state, reason, actor, manual });
    for (const l of this.stateListeners) l(scope, next);
    return next;
  }

  /**
   * An admin's state change. On an account (to active or reducing) it overrides the loss policy
   * for the rest of the trading day, unless the loss or the drawdown grows by a further
   * `adminOverrideStep` × capital (policy.ts); the note says what the policy will do, and is
   * audited with the change.
   */
  adminSetState(actor: string, scope: string, state: TradingState, reason: string): { info: StateInfo; policy: PolicyNote } {
    if (scope === FIRM) {
      const policy: PolicyNote = { message: "Firm-wide state: the loss policy acts on accounts and never changes the firm's state.", wouldSetNow: null, bounds: null, until: null };
      return { info: this.setState(actor, scope, state, reason, true, undefined, policy.message), policy };
    }
    const now = this.clock();
    const date = nyDate.format(new Date(now));
    const figures = this.figures(scope);
    const cap = this.book.capitalOf(scope);
    const l = this.limits.get(scope)!;
    const override: PolicyOverride | undefined = state === "halted" ? undefined : {
      date, decidedTs: now, lossAt: figures?.loss ?? null, drawdownAt: figures?.drawdown ?? null, step: this.deps.config.adminOverrideStep * cap,
    };
    const plain = figures ? policyTarget(policyBounds(l, cap), figures.loss, figures.drawdown, l, cap) : null;
    const policy = describeDecision(state, plain, figures && override ? policyBounds(l, cap, override) : null, override);
    return { info: this.setState(actor, scope, state, reason, true, override, policy.message), policy };
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

  /** Stops recomputing and following the order manager; writes the day's peaks and the last marks. */
  stop(): void {
    clearInterval(this.timer);
    this.detach?.();
    this.detachBatch?.();
    const now = this.clock();
    this.sessions.flush(now);
    this.marks?.flush(now, true);
  }

  /** An account's daily loss and drawdown now, when its book is marked (or the wait is over) and the session known. */
  private figures(account: string): { loss: number; drawdown: number } | undefined {
    const snap = this.snapshots.get(account);
    const s = this.sessions.get(account);
    if (!snap || !s || snap.valuation === "waiting_for_marks" || Number.isNaN(s.open)) return undefined;
    const equity = this.tables.acc(this.book.slotOf(account)!, "A_EQUITY");
    return { loss: Math.max(s.open - equity, 0), drawdown: Math.max(s.peak - equity, 0) };
  }

  /** Logs, once, the instruments still valued at their durable last mark when the start-up wait ends. */
  private endWait(): void {
    this.waitEnded = true;
    const stale = [...this.unmarked].filter(([, symbols]) => symbols.length > 0);
    if (stale.length > 0) {
      this.deps.log.warn("no live mark after the start-up wait: valuing at the last stored mark (stale)", {
        waitMs: this.deps.config.markWaitMs, unmarked: Object.fromEntries(stale),
      });
    }
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

  /**
   * Escalates an account to reducing or halted on its daily loss or drawdown; never de-escalates.
   * An admin's decision of the day raises the bounds (policy.ts); one taken before the book was
   * marked gets its figures now.
   */
  private lossPolicy(account: string, equity: number, session: Session, date: string): void {
    const l = this.limits.get(account)!;
    const cap = this.book.capitalOf(account);
    const loss = Math.max(session.open - equity, 0);
    const drawdown = Math.max(session.peak - equity, 0);
    const st = this.state(account);
    let o = st.manual && st.override?.date === date ? st.override : undefined;
    if (o && o.lossAt === null) {
      o = { ...o, lossAt: loss, drawdownAt: drawdown };
      this.states.set(account, { ...st, override: o });
      this.store.setOverride(account, o, "risk", this.clock());
    }
    const target = policyTarget(policyBounds(l, cap, o), loss, drawdown, l, cap, o);
    if (STATE_RANK[target.state] > STATE_RANK[st.state]) this.setState("risk", account, target.state, target.reason, false);
  }
}
