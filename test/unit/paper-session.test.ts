// The session gate caches its calendar answers between session boundaries (a calendar look-up
// costs ~100 µs of time-zone formatting): the cached answers must equal the calendar's own, every
// 11 minutes across a week with a holiday and an early close, forwards and backwards in time.

import { expect, test } from "bun:test";
import type { BrokerOrder } from "../../src/broker/broker.ts";
import { SessionGate, windowOf } from "../../src/broker/paper-session.ts";
import { ExchangeCalendar } from "../../src/domain/calendar.ts";

const cal = new ExchangeCalendar();
const stock = { index: 0, symbol: "AAPL", kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD" } as BrokerOrder["instrument"];
const option = { ...stock, symbol: "TSLA-20261127-C-250", kind: "option" } as BrokerOrder["instrument"];
const base: BrokerOrder = { orderId: "O1", account: "A", instrument: stock, side: "buy", type: "limit", tif: "DAY", qty: 1, limitPriceUnits: 1 };
const ORDERS: BrokerOrder[] = [base, { ...base, outsideRth: true }, { ...base, type: "market", limitPriceUnits: undefined, outsideRth: true },
  { ...base, instrument: option, outsideRth: true }];

test("cached answers equal the calendar's every 11 minutes from Sunday to Saturday of Thanksgiving week, and after the clock goes back", () => {
  const gate = new SessionGate("exchange", cal);
  const from = Date.parse("2026-11-22T05:00:00Z"), to = Date.parse("2026-11-28T05:00:00Z");
  const times: number[] = [];
  for (let t = from; t < to; t += 11 * 60_000) times.push(t);
  times.push(from + 3_600_000, to - 1); // backwards, then forwards again
  for (const t of times) {
    for (const o of ORDERS) {
      const w = windowOf(o);
      const got = gate.check(o, t);
      const open = cal.isOpenIn(t, w);
      expect({ t, open: got.open }).toEqual({ t, open });
      if (!got.open) expect(got.untilMs).toBe(cal.nextOpenMs(t, w));
      const s = cal.nextSession(t, w);
      expect(gate.dayEndMs(o, t)).toBe(w === "regular" ? s.closeMs : s.extendedCloseMs);
    }
    expect(gate.nextChangeMs(t)).toBe(cal.nextBoundaryMs(t));
  }
});
