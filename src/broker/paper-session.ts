// When the paper broker may trade an order, after IBKR: only in the regular session unless the
// order allows outside regular trading hours (`outsideRth`), and then, for US stocks, also in
// the extended window (pre-market 04:00–09:30, after-hours 16:00–20:00 New York). IBKR ignores
// the attribute "based on the order type and destination" (its warning 2109): extended-hours
// venues take limit orders, so market and stop orders wait for the regular session, and US
// options trade in the regular session only. An order that may not trade now is held — accepted,
// working, neither triggered nor filled — until its window opens. `hours: "always"` trades
// round the clock, for demos on a synthetic market that never closes.

import { hasLimit, type OrderType } from "../domain/order.ts";
import type { ExchangeCalendar, SessionWindow } from "../domain/calendar.ts";
import type { BrokerOrder } from "./broker.ts";

/** Trading hours of the paper broker: the exchange calendar's, or always open. */
export type PaperHours = "exchange" | "always";

/** Whether an order may trade now, and if not, why and from when. */
export type GateAnswer = { open: true } | { open: false; untilMs: number; reason: string };

/** True when IBKR honours outsideRth for this order: a stock limit or stop-limit. */
export function outsideRthHonoured(kind: "stock" | "option", type: OrderType): boolean {
  return kind === "stock" && hasLimit(type);
}

/** Why an order's outsideRth does not apply, or undefined when it does (or was not asked for). */
export function outsideRthIgnored(o: Pick<BrokerOrder, "outsideRth" | "type" | "instrument">): string | undefined {
  if (!o.outsideRth) return undefined;
  if (o.instrument.kind === "option") return "outsideRth ignored: US options trade in the regular session only";
  if (!hasLimit(o.type)) return `outsideRth ignored: a ${o.type} order does not work outside the regular session (extended hours take limit orders)`;
  return undefined;
}

/** The window an order may work in. */
export function windowOf(o: Pick<BrokerOrder, "outsideRth" | "type" | "instrument">): SessionWindow {
  return o.outsideRth && outsideRthHonoured(o.instrument.kind, o.type) ? "extended" : "regular";
}

/** What holds for one window between two session boundaries. */
interface WindowState {
  open: boolean;
  /** When closed: when it opens, and the held reason (without an order's own note). */
  untilMs: number;
  reason: string;
  /** When a DAY order placed now ends. */
  dayEndMs: number;
  /** The date of the session an instant belongs to: the next one whose after-hours close is after it. */
  sessionDate: string;
}

/**
 * Decides, per order and instant, whether the paper broker may trigger or fill; see the file
 * comment. Calendar look-ups cost ~100 µs each (Intl time-zone formatting), so the answers are
 * computed once per interval between session boundaries, inside which none of them changes.
 */
export class SessionGate {
  private fromMs = Infinity;
  private toMs = -Infinity;
  private regular!: WindowState;
  private extended!: WindowState;

  constructor(readonly hours: PaperHours, readonly calendar: ExchangeCalendar) {}

  /** May `o` trigger or fill at `nowMs`? */
  check(o: BrokerOrder, nowMs: number): GateAnswer {
    if (this.hours === "always") return { open: true };
    const w = this.state(nowMs, windowOf(o));
    if (w.open) return { open: true };
    const ignored = outsideRthIgnored(o);
    return { open: false, untilMs: w.untilMs, reason: ignored ? `${w.reason} (${ignored})` : w.reason };
  }

  /** The next instant any order's answer may change (a session boundary); Infinity when always open. */
  nextChangeMs(nowMs: number): number {
    if (this.hours === "always") return Infinity;
    this.state(nowMs, "regular");
    return this.toMs;
  }

  /**
   * When a DAY order submitted at `submittedMs` ends: the close of its session, or for an order
   * working in the extended window the after-hours close (IBKR keeps such a DAY order through
   * after-hours). A DAY order submitted after the close is for the next session. Round the
   * clock, every DAY order ends at the regular close (sessionClosed expires them all there).
   */
  dayEndMs(o: BrokerOrder, submittedMs: number): number {
    return this.state(submittedMs, this.hours === "always" ? "regular" : windowOf(o)).dayEndMs;
  }

  /**
   * The trading day `ms` belongs to (the session whose after-hours close is next): fills of one
   * order on two of them were on two days, so the later one starts a new commission minimum.
   */
  sessionDate(ms: number): string {
    return this.state(ms, "extended").sessionDate;
  }

  /** The window's state at `ms`, from the cache while `ms` is inside the interval it was computed for. */
  private state(ms: number, window: SessionWindow): WindowState {
    if (ms < this.fromMs || ms >= this.toMs) {
      const c = this.calendar;
      this.fromMs = ms;
      this.toMs = c.nextBoundaryMs(ms);
      this.regular = this.compute(ms, "regular");
      this.extended = this.compute(ms, "extended");
    }
    return window === "regular" ? this.regular : this.extended;
  }

  private compute(ms: number, window: SessionWindow): WindowState {
    const c = this.calendar;
    const s = c.nextSession(ms, window);
    const open = c.isOpenIn(ms, window);
    const untilMs = open ? ms : c.nextOpenMs(ms, window);
    const what = window === "regular" ? "the regular session opens" : "the extended session opens";
    return {
      open, untilMs, reason: `held until ${what} at ${c.formatLocal(untilMs)}`, dayEndMs: window === "regular" ? s.closeMs : s.extendedCloseMs,
      sessionDate: c.nextSession(ms, "extended").date,
    };
  }
}

/**
 * What an operator is told at start about paper trading hours: with exchange hours, that orders
 * are held outside the sessions (and whether the exchange is open now), and how to trade round
 * the clock instead; undefined with hours "always".
 */
export function paperHoursNotice(hours: PaperHours, calendar: ExchangeCalendar, nowMs: number): string | undefined {
  if (hours === "always") return undefined;
  const open = calendar.isOpen(nowMs);
  const now = open
    ? `the regular session is open now, until ${calendar.formatLocal(calendar.nextCloseMs(nowMs))}`
    : `the exchange is closed now: orders are held until ${calendar.formatLocal(calendar.nextOpenMs(nowMs, "regular"))}`;
  return `Paper orders trade in exchange hours (regular session; outsideRth stock limits also pre-market and after-hours): ${now}.\n` +
    "  For round-the-clock demo fills on the synthetic market, start with --paper-hours always (or ALLUSE_PAPER_HOURS=always).";
}
