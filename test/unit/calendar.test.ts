// The US equity calendar: NYSE holidays and early closes by rule (checked against NYSE's
// published 2026 and 2027 schedules), sessions across daylight-saving changes, next close.

import { describe, expect, test } from "bun:test";
import { easterSunday, ExchangeCalendar, nyseEarlyCloses, nyseHolidays, US_EQUITY_CALENDAR } from "../../src/domain/calendar.ts";

const cal = new ExchangeCalendar();

describe("NYSE holidays by rule", () => {
  test("2026 matches the published schedule", () => {
    expect(nyseHolidays(2026).map((h) => h.date)).toEqual([
      "2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03", "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25",
    ]);
    expect(nyseEarlyCloses(2026)).toEqual(["2026-11-27", "2026-12-24"]);
  });

  test("2027 matches the published schedule (Juneteenth, July 4 and Christmas observed)", () => {
    expect(nyseHolidays(2027).map((h) => h.date)).toEqual([
      "2027-01-01", "2027-01-18", "2027-02-15", "2027-03-26", "2027-05-31", "2027-06-18", "2027-07-05", "2027-09-06", "2027-11-25", "2027-12-24",
    ]);
    expect(nyseEarlyCloses(2027)).toEqual(["2027-11-26"]);
  });

  test("New Year's Day on a Saturday is not observed on the Friday before (2028)", () => {
    expect(nyseHolidays(2028).some((h) => h.name === "New Year's Day")).toBe(false);
    expect(cal.isTradingDay("2027-12-31")).toBe(true);
  });

  test("Juneteenth exists from 2022, observed on a Monday when on a Sunday", () => {
    expect(nyseHolidays(2021).some((h) => h.name === "Juneteenth")).toBe(false);
    expect(nyseHolidays(2022).find((h) => h.name === "Juneteenth")?.date).toBe("2022-06-20");
  });

  test("Easter dates", () => {
    expect([2024, 2025, 2026, 2027, 2038].map(easterSunday)).toEqual(["2024-03-31", "2025-04-20", "2026-04-05", "2027-03-28", "2038-04-25"]);
  });
});

describe("sessions", () => {
  test("09:30-16:00 New York, in UTC across the March daylight-saving change", () => {
    expect(cal.session("2026-03-06")).toEqual({
      date: "2026-03-06", early: false, openMs: Date.parse("2026-03-06T14:30:00Z"), closeMs: Date.parse("2026-03-06T21:00:00Z"),
      extendedOpenMs: Date.parse("2026-03-06T09:00:00Z"), extendedCloseMs: Date.parse("2026-03-07T01:00:00Z"),
    });
    expect(cal.session("2026-03-09")).toMatchObject({ openMs: Date.parse("2026-03-09T13:30:00Z"), closeMs: Date.parse("2026-03-09T20:00:00Z") });
    expect(cal.session("2026-11-02")).toMatchObject({ openMs: Date.parse("2026-11-02T14:30:00Z") });
  });

  test("weekends and holidays have no session; early closes close at 13:00", () => {
    expect(cal.session("2026-03-07")).toBeUndefined();
    expect(cal.session("2026-12-25")).toBeUndefined();
    expect(cal.holiday("2026-12-25")).toBe("Christmas Day");
    expect(cal.session("2026-11-27")).toMatchObject({ early: true, closeMs: Date.parse("2026-11-27T18:00:00Z") });
  });

  test("isOpen and dateOf use New York time", () => {
    expect(cal.isOpen(Date.parse("2026-06-17T13:29:59Z"))).toBe(false);
    expect(cal.isOpen(Date.parse("2026-06-17T13:30:00Z"))).toBe(true);
    expect(cal.isOpen(Date.parse("2026-06-17T20:00:00Z"))).toBe(false);
    expect(cal.dateOf(Date.parse("2026-06-18T03:00:00Z"))).toBe("2026-06-17");
  });

  test("the next close skips Good Friday and the weekend", () => {
    const afterThursday = Date.parse("2026-04-02T20:30:00Z");
    expect(cal.nextSession(afterThursday).date).toBe("2026-04-06");
    expect(cal.nextCloseMs(Date.parse("2026-04-06T15:00:00Z"))).toBe(Date.parse("2026-04-06T20:00:00Z"));
  });

  test("configured closures and hours apply; a calendar with no session in 30 days fails loudly", () => {
    const c = new ExchangeCalendar({ ...US_EQUITY_CALENDAR, close: "16:15", extraHolidays: ["2026-06-17"] });
    expect(c.session("2026-06-17")).toBeUndefined();
    expect(c.session("2026-06-18")?.closeMs).toBe(Date.parse("2026-06-18T20:15:00Z"));
    const many = Array.from({ length: 40 }, (_, i) => new Date(Date.parse("2026-06-01T00:00:00Z") + i * 86_400_000).toISOString().slice(0, 10));
    const closed = new ExchangeCalendar({ ...c.options, extraHolidays: many });
    expect(() => closed.nextSession(Date.parse("2026-06-01T12:00:00Z"))).toThrow(/no session within 30 days/);
    expect(() => new ExchangeCalendar({ ...c.options, close: "4pm" })).toThrow(/close must be HH:MM/);
  });

  test("extended window: 04:00-20:00 New York, 17:00 on early-close days; none on closed days", () => {
    // Tuesday 2026-11-24 (EST, UTC-5): pre-market 09:00Z, open 14:30Z, close 21:00Z, after-hours to 01:00Z.
    expect(cal.isOpenIn(Date.parse("2026-11-24T08:59:59Z"), "extended")).toBe(false);
    expect(cal.isOpenIn(Date.parse("2026-11-24T09:00:00Z"), "extended")).toBe(true);
    expect(cal.isOpenIn(Date.parse("2026-11-24T09:00:00Z"), "regular")).toBe(false);
    expect(cal.isOpenIn(Date.parse("2026-11-25T00:59:59Z"), "extended")).toBe(true);
    expect(cal.isOpenIn(Date.parse("2026-11-25T01:00:00Z"), "extended")).toBe(false);
    // Thanksgiving (Thursday 26th) has no window at all; Friday 27th closes at 13:00 and after-hours at 17:00 (22:00Z).
    expect(cal.isOpenIn(Date.parse("2026-11-26T15:00:00Z"), "extended")).toBe(false);
    expect(cal.session("2026-11-27")).toMatchObject({ closeMs: Date.parse("2026-11-27T18:00:00Z"), extendedCloseMs: Date.parse("2026-11-27T22:00:00Z") });
    expect(cal.isOpenIn(Date.parse("2026-11-27T21:59:00Z"), "extended")).toBe(true);
    expect(cal.isOpenIn(Date.parse("2026-11-27T21:59:00Z"), "regular")).toBe(false);
  });

  test("next open and next boundary: Sunday afternoon waits for Monday, Thanksgiving for Friday", () => {
    const sunday = Date.parse("2026-11-22T20:00:00Z"); // 15:00 New York
    expect(cal.nextOpenMs(sunday, "regular")).toBe(Date.parse("2026-11-23T14:30:00Z"));
    expect(cal.nextOpenMs(sunday, "extended")).toBe(Date.parse("2026-11-23T09:00:00Z"));
    const thanksgiving = Date.parse("2026-11-26T17:00:00Z");
    expect(cal.nextOpenMs(thanksgiving, "regular")).toBe(Date.parse("2026-11-27T14:30:00Z"));
    const inSession = Date.parse("2026-11-24T15:00:00Z");
    expect(cal.nextOpenMs(inSession, "regular")).toBe(inSession);
    // 20:00 New York on a Tuesday: the regular session is over, the extended window too; both wait for Wednesday.
    const evening = Date.parse("2026-11-25T01:00:00Z");
    expect(cal.nextOpenMs(evening, "regular")).toBe(Date.parse("2026-11-25T14:30:00Z"));
    expect(cal.nextBoundaryMs(sunday)).toBe(Date.parse("2026-11-23T09:00:00Z"));
    expect(cal.nextBoundaryMs(Date.parse("2026-11-23T09:00:00Z"))).toBe(Date.parse("2026-11-23T14:30:00Z"));
    expect(cal.nextBoundaryMs(Date.parse("2026-11-23T21:00:00Z"))).toBe(Date.parse("2026-11-24T01:00:00Z"));
    expect(cal.formatLocal(Date.parse("2026-11-23T14:30:00Z"))).toBe("2026-11-23 09:30 America/New_York");
  });
});
