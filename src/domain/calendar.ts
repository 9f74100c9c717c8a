// The exchange calendar: when a session opens and closes. The default is US equities and
// equity options (NYSE / Cboe): 09:30–16:00 America/New_York, closed on weekends and NYSE
// holidays, closing at 13:00 on the day after Thanksgiving, on July 3 and on Christmas Eve.
// Holidays are computed by rule, not listed, so the calendar needs no yearly update; a
// configuration can add closures (e.g. a national day of mourning) that no rule predicts.
//
// Each session also has an extended window for US stocks, as IBKR offers it to orders that
// allow trading outside regular hours: pre-market from 04:00 and after-hours to 20:00, to 17:00
// on early-close days. Options have no extended window. IBKR's overnight venue (OVERNIGHT,
// 20:00–03:50) is a separate destination and is not modelled.

/** A calendar date as YYYY-MM-DD. */
export type IsoDate = string;

/** What a calendar needs to know; every field has the US equity default. */
export interface CalendarOptions {
  /** IANA time zone the session hours are in. */
  timeZone: string;
  /** Regular open, HH:MM local. */
  open: string;
  /** Regular close, HH:MM local. */
  close: string;
  /** Close on early-close days, HH:MM local. */
  earlyClose: string;
  /** Start of the pre-market (extended) window, HH:MM local. */
  preOpen: string;
  /** End of the after-hours (extended) window, HH:MM local. */
  afterClose: string;
  /** End of the after-hours window on early-close days, HH:MM local. */
  earlyAfterClose: string;
  /** Extra full closures, YYYY-MM-DD, beyond the NYSE rules. */
  extraHolidays: readonly IsoDate[];
  /** Extra early closes, YYYY-MM-DD. */
  extraEarlyCloses: readonly IsoDate[];
}

/** US equities and equity options. */
export const US_EQUITY_CALENDAR: CalendarOptions = {
  timeZone: "America/New_York", open: "09:30", close: "16:00", earlyClose: "13:00",
  preOpen: "04:00", afterClose: "20:00", earlyAfterClose: "17:00", extraHolidays: [], extraEarlyCloses: [],
};

/** Which hours an order may work in: the regular session only, or also the extended window. */
export type SessionWindow = "regular" | "extended";

/** One trading session. */
export interface Session {
  date: IsoDate;
  openMs: number;
  closeMs: number;
  /** The extended window: pre-market open and after-hours close. */
  extendedOpenMs: number;
  extendedCloseMs: number;
  /** True on an early-close day. */
  early: boolean;
}

const DAY_MS = 86_400_000;

/** Day of week of a date, 0 = Sunday, computed in UTC so the host's zone never matters. */
function weekday(y: number, m: number, d: number): number {
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

function iso(y: number, m: number, d: number): IsoDate {
  return `${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

/** The nth (1-based) given weekday of a month; n = -1 is the last one. */
function nthWeekday(y: number, m: number, dow: number, n: number): number {
  if (n > 0) {
    const first = weekday(y, m, 1);
    return 1 + ((dow - first + 7) % 7) + (n - 1) * 7;
  }
  const lastDay = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const last = weekday(y, m, lastDay);
  return lastDay - ((last - dow + 7) % 7);
}

/** Easter Sunday (Gregorian), by the anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
export function easterSunday(year: number): IsoDate {
  const a = year % 19, b = Math.floor(year / 100), c = year % 100;
  const d = Math.floor(b / 4), e = b % 4, f = Math.floor((b + 8) / 25), g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30, i = Math.floor(c / 4), k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7, m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31), day = ((h + l - 7 * m + 114) % 31) + 1;
  return iso(year, month, day);
}

function addDays(date: IsoDate, days: number): IsoDate {
  const t = Date.parse(`${date}T00:00:00Z`) + days * DAY_MS;
  return new Date(t).toISOString().slice(0, 10);
}

/**
 * A fixed-date holiday as observed: Saturday moves to Friday, Sunday to Monday. NYSE Rule 7.2
 * makes one exception: New Year's Day on a Saturday is not observed on the Friday before,
 * because that Friday ends the accounting year.
 */
function observed(y: number, m: number, d: number, newYear = false): IsoDate | undefined {
  const dow = weekday(y, m, d);
  if (dow === 6) return newYear ? undefined : addDays(iso(y, m, d), -1);
  if (dow === 0) return addDays(iso(y, m, d), 1);
  return iso(y, m, d);
}

/** NYSE full-day holidays of a year, by rule (Juneteenth from 2022), with their names. */
export function nyseHolidays(year: number): { date: IsoDate; name: string }[] {
  const out: { date: IsoDate; name: string }[] = [];
  const add = (date: IsoDate | undefined, name: string) => { if (date) out.push({ date, name }); };
  add(observed(year, 1, 1, true), "New Year's Day");
  add(iso(year, 1, nthWeekday(year, 1, 1, 3)), "Martin Luther King Jr. Day");
  add(iso(year, 2, nthWeekday(year, 2, 1, 3)), "Washington's Birthday");
  add(addDays(easterSunday(year), -2), "Good Friday");
  add(iso(year, 5, nthWeekday(year, 5, 1, -1)), "Memorial Day");
  if (year >= 2022) add(observed(year, 6, 19), "Juneteenth");
  add(observed(year, 7, 4), "Independence Day");
  add(iso(year, 9, nthWeekday(year, 9, 1, 1)), "Labor Day");
  add(iso(year, 11, nthWeekday(year, 11, 4, 4)), "Thanksgiving Day");
  add(observed(year, 12, 25), "Christmas Day");
  return out.sort((a, b) => (a.date < b.date ? -1 : 1));
}

/** NYSE early closes of a year: July 3, the day after Thanksgiving, Christmas Eve (weekdays that are not holidays). */
export function nyseEarlyCloses(year: number): IsoDate[] {
  const holidays = new Set(nyseHolidays(year).map((h) => h.date));
  const candidates = [iso(year, 7, 3), addDays(iso(year, 11, nthWeekday(year, 11, 4, 4)), 1), iso(year, 12, 24)];
  return candidates.filter((d) => {
    const dow = new Date(`${d}T00:00:00Z`).getUTCDay();
    return dow !== 0 && dow !== 6 && !holidays.has(d);
  });
}

/** A session calendar for one exchange; see the file comment. */
export class ExchangeCalendar {
  private readonly parts: Intl.DateTimeFormat;
  private readonly holidayCache = new Map<number, Map<IsoDate, string>>();
  private readonly earlyCache = new Map<number, Set<IsoDate>>();

  constructor(readonly options: CalendarOptions = US_EQUITY_CALENDAR) {
    for (const key of ["open", "close", "earlyClose", "preOpen", "afterClose", "earlyAfterClose"] as const) {
      if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(options[key])) throw new Error(`calendar ${key} must be HH:MM, got ${options[key]}`);
    }
    this.parts = new Intl.DateTimeFormat("en-US", {
      timeZone: options.timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
  }

  /** The holiday's name if the exchange is closed all day on `date` for a holiday. */
  holiday(date: IsoDate): string | undefined {
    const year = Number(date.slice(0, 4));
    let map = this.holidayCache.get(year);
    if (!map) {
      map = new Map(nyseHolidays(year).map((h) => [h.date, h.name]));
      for (const d of this.options.extraHolidays) if (d.startsWith(`${year}-`)) map.set(d, "extra closure");
      this.holidayCache.set(year, map);
    }
    return map.get(date);
  }

  /** True on a weekday that is not a holiday. */
  isTradingDay(date: IsoDate): boolean {
    const dow = new Date(`${date}T00:00:00Z`).getUTCDay();
    return dow !== 0 && dow !== 6 && this.holiday(date) === undefined;
  }

  /** True when the session of a trading day closes early. */
  isEarlyClose(date: IsoDate): boolean {
    const year = Number(date.slice(0, 4));
    let set = this.earlyCache.get(year);
    if (!set) {
      set = new Set([...nyseEarlyCloses(year), ...this.options.extraEarlyCloses.filter((d) => d.startsWith(`${year}-`))]);
      this.earlyCache.set(year, set);
    }
    return set.has(date);
  }

  /** The session on `date`, or undefined when the exchange is closed that day. */
  session(date: IsoDate): Session | undefined {
    if (!this.isTradingDay(date)) return undefined;
    const early = this.isEarlyClose(date);
    const o = this.options;
    return {
      date, early,
      openMs: this.localToUtc(date, o.open),
      closeMs: this.localToUtc(date, early ? o.earlyClose : o.close),
      extendedOpenMs: this.localToUtc(date, o.preOpen),
      extendedCloseMs: this.localToUtc(date, early ? o.earlyAfterClose : o.afterClose),
    };
  }

  /** The exchange-local calendar date of an instant. */
  dateOf(ms: number): IsoDate {
    const p = this.fields(ms);
    return iso(p.year, p.month, p.day);
  }

  /** True while a session is open at `ms` (open inclusive, close exclusive). */
  isOpen(ms: number): boolean {
    const s = this.session(this.dateOf(ms));
    return s !== undefined && ms >= s.openMs && ms < s.closeMs;
  }

  /** True while `ms` is inside a session's window (open inclusive, close exclusive). */
  isOpenIn(ms: number, window: SessionWindow): boolean {
    if (window === "regular") return this.isOpen(ms);
    const s = this.session(this.dateOf(ms));
    return s !== undefined && ms >= s.extendedOpenMs && ms < s.extendedCloseMs;
  }

  /**
   * The first session whose close is after `ms` (the current one while open); with "extended",
   * whose after-hours close is after `ms`. Searches at most 30 days.
   */
  nextSession(ms: number, window: SessionWindow = "regular"): Session {
    let date = this.dateOf(ms);
    // The longest run of closed days is a long weekend plus a holiday or two; 30 bounds any
    // configuration that adds closures, and failing loudly beats looping forever.
    for (let i = 0; i < 30; i++, date = addDays(date, 1)) {
      const s = this.session(date);
      if (s && (window === "regular" ? s.closeMs : s.extendedCloseMs) > ms) return s;
    }
    throw new Error(`no session within 30 days after ${new Date(ms).toISOString()}: check the calendar's extra holidays`);
  }

  /** The first instant at or after `ms` when the window is open: `ms` itself while it is. */
  nextOpenMs(ms: number, window: SessionWindow): number {
    const s = this.nextSession(ms, window);
    return Math.max(ms, window === "regular" ? s.openMs : s.extendedOpenMs);
  }

  /** The first session boundary (pre-market open, open, close or after-hours close) after `ms`. */
  nextBoundaryMs(ms: number): number {
    const s = this.nextSession(ms, "extended");
    for (const t of [s.extendedOpenMs, s.openMs, s.closeMs, s.extendedCloseMs]) if (t > ms) return t;
    throw new Error("unreachable: nextSession returned a session that has ended");
  }

  /** An instant as the calendar's local wall-clock time, "YYYY-MM-DD HH:MM <zone>", for messages. */
  formatLocal(ms: number): string {
    const p = this.fields(ms);
    return `${iso(p.year, p.month, p.day)} ${String(p.hour).padStart(2, "0")}:${String(p.minute).padStart(2, "0")} ${this.options.timeZone}`;
  }

  /** The close of the first session closing after `ms`. */
  nextCloseMs(ms: number): number {
    return this.nextSession(ms).closeMs;
  }

  /** Epoch ms of a local wall-clock time on a date in the calendar's zone. */
  localToUtc(date: IsoDate, hhmm: string): number {
    const guess = Date.parse(`${date}T${hhmm}:00Z`);
    // Two passes converge for every instant except inside a DST gap, where no session time falls.
    let utc = guess - this.offsetMs(guess);
    utc = guess - this.offsetMs(utc);
    return utc;
  }

  /** The zone's offset from UTC at an instant (local minus UTC). */
  private offsetMs(ms: number): number {
    const p = this.fields(ms);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
  }

  private fields(ms: number): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
    const out = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
    for (const part of this.parts.formatToParts(ms)) {
      if (part.type in out) out[part.type as keyof typeof out] = Number(part.value);
    }
    return out;
  }
}
