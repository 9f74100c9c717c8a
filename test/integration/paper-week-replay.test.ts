// A week of a recorded market replayed through the order manager and the paper broker on a
// compressed clock: Sunday 2026-11-22 to Saturday 2026-11-28 New York, Thanksgiving (Thursday)
// and an early close (Friday, 13:00, after-hours to 17:00) included. The market ticks every 10
// minutes round the clock, nights and weekend too; a schedule of orders is placed at hours open
// and closed. Checked: no fill outside the window its order may trade in (the regular session,
// or the extended one for an outsideRth stock limit), each order fills at the time worked out by
// hand, and stock commissions equal the hand schedule (IBKR Pro fixed: $0.005 a share, $1.00
// minimum, 1 % of value maximum). Real parts: a tick file written and read back, the WASM
// engine, the SQLite journal; the clock is the only thing faked, so this passes at any hour.

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExchangeCalendar } from "../../src/domain/calendar.ts";
import { fromMicros } from "../../src/domain/money.ts";
import type { Order } from "../../src/domain/order.ts";
import { fromUnits } from "../../src/domain/price.ts";
import { Rng } from "../../src/domain/random.ts";
import { TickKind } from "../../src/domain/tick.ts";
import { createTickWriter, openTickReader, TickBatch } from "../../src/feed/tickfile.ts";
import { OPTIONS } from "../helpers/market.ts";
import { OmsHarness } from "../helpers/oms.ts";

const cal = new ExchangeCalendar();
/** Epoch ms of a New York wall-clock time. */
const ny = (date: string, hhmm: string) => cal.localToUtc(date, hhmm);
const STEP_MS = 10 * 60_000;
const START = ny("2026-11-22", "00:00");
const END = ny("2026-11-28", "00:00");
const OPTION = OPTIONS[0]; // TSLA 250 call expiring Friday 2026-11-27
const SYMBOLS = ["AAPL", "MSFT", OPTION] as const;
const START_MID: Record<string, number> = { AAPL: 100, MSFT: 300, [OPTION]: 5 };

const dir = mkdtempSync(join(tmpdir(), "alluse-week-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Records the week: per 10-minute step and symbol a bid, an ask (2 ticks apart) and a trade, seeded. */
function recordWeek(path: string): number {
  const w = createTickWriter(path, SYMBOLS.map((s) => s === OPTION
    ? { symbol: s, kind: "option" as const, tickSize: 0.01, multiplier: 100, currency: "USD", underlying: "TSLA", expiry: "20261127", right: "C" as const, strike: 250 }
    : { symbol: s, kind: "stock" as const, tickSize: 0.01, multiplier: 1, currency: "USD" }));
  const rng = new Rng(20261122);
  const mid = SYMBOLS.map((s) => START_MID[s]!);
  for (let t = START; t < END; t += STEP_MS) {
    SYMBOLS.forEach((s, i) => {
      const step = s === OPTION ? 0.01 : 0.05;
      mid[i] = Math.max(1, Math.round((mid[i]! + (rng.next() < 0.5 ? -step : step)) * 100) / 100);
      w.write(i, TickKind.Bid, mid[i]! - 0.01, 300 + rng.int(700), t);
      w.write(i, TickKind.Ask, mid[i]! + 0.01, 300 + rng.int(700), t);
      w.write(i, TickKind.Trade, mid[i]!, 100 + rng.int(400), t);
    });
  }
  w.close();
  return w.records;
}

/** One scheduled order: when (New York), the request, when it must fill by hand (or never this week), and its hand commission. */
interface Planned {
  at: number;
  req: Record<string, unknown>;
  fillAt: number | undefined;
  commission: number | undefined;
  why: string;
}

// Limits and stops are placed ±$20 from the market (stocks move $0.05 a step), so "marketable" and "far" are certain.
test("a week replayed through the paper broker: fills only inside the sessions, at the hand-worked times, with the hand commissions", async () => {
  const path = join(dir, "week.altk");
  const records = recordWeek(path);
  expect(records).toBe(((END - START) / STEP_MS) * SYMBOLS.length * 3);

  const h = await OmsHarness.start({ dir: join(dir, "oms"), nowMs: START, accounts: { capital: 10_000_000 } });
  try {
    const market = h.market.engine;
    const reader = openTickReader(path);
    const rowOf = reader.instruments.map((spec) => market.instrument(spec.symbol)!.index);
    let n = 0;
    const mid = (symbol: string) => {
      const q = market.quote(market.instrument(symbol)!.index);
      return Math.round(((q.bid! + q.ask!) / 2) * 100) / 100;
    };
    const req = (o: Record<string, unknown>) => ({ account: "Gen-Acc", clientOrderId: `w${++n}`, side: "buy", type: "market", qty: 100, ...o });
    // The hand schedule. Fill times: the first 10-minute step at or after the window opens (the
    // broker re-gates on the first batch at a boundary, and the step grid lands on every boundary).
    const plan: Planned[] = [
      { why: "Sunday afternoon market: held to Monday 09:30", at: ny("2026-11-22", "15:00"),
        req: { symbol: "AAPL" }, fillAt: ny("2026-11-23", "09:30"), commission: 1.00 }, // 100 × 0.005 = 0.50 → minimum 1.00
      { why: "Sunday sell stop above the market: no trigger on night prints, triggers on Monday's first", at: ny("2026-11-22", "15:00"),
        req: { symbol: "MSFT", side: "sell", type: "stop", qty: 200, stopPriceMid: 20, tif: "GTC" }, fillAt: ny("2026-11-23", "09:30"), commission: 1.00 },
      { why: "Monday 07:00 outsideRth marketable limit: fills pre-market", at: ny("2026-11-23", "07:00"),
        req: { symbol: "AAPL", type: "limit", qty: 300, limitMid: 20, outsideRth: true }, fillAt: ny("2026-11-23", "07:00"), commission: 1.50 },
      { why: "Monday 07:00 marketable limit without outsideRth: waits for 09:30", at: ny("2026-11-23", "07:00"),
        req: { symbol: "AAPL", type: "limit", qty: 1000, limitMid: 20 }, fillAt: ny("2026-11-23", "09:30"), commission: 5.00 },
      { why: "Monday 07:00 market with outsideRth: ignored (market order), waits for 09:30", at: ny("2026-11-23", "07:00"),
        req: { symbol: "AAPL", qty: 150, outsideRth: true }, fillAt: ny("2026-11-23", "09:30"), commission: 1.00 }, // 0.75 → 1.00
      { why: "Monday 11:00 far DAY limit: expires at Monday's close", at: ny("2026-11-23", "11:00"),
        req: { symbol: "AAPL", type: "limit", limitMid: -20 }, fillAt: undefined, commission: undefined },
      { why: "Tuesday 17:00 outsideRth marketable sell limit: fills after hours", at: ny("2026-11-24", "17:00"),
        req: { symbol: "AAPL", side: "sell", type: "limit", qty: 400, limitMid: -20, outsideRth: true }, fillAt: ny("2026-11-24", "17:00"), commission: 2.00 },
      { why: "Tuesday 20:30 market: held to Wednesday 09:30", at: ny("2026-11-24", "20:30"),
        req: { symbol: "MSFT", side: "sell" }, fillAt: ny("2026-11-25", "09:30"), commission: 1.00 },
      { why: "Wednesday 19:50 far outsideRth DAY limit: expires at the 20:00 after-hours close", at: ny("2026-11-25", "19:50"),
        req: { symbol: "AAPL", type: "limit", limitMid: -20, outsideRth: true }, fillAt: undefined, commission: undefined },
      { why: "Thanksgiving market: held to Friday 09:30", at: ny("2026-11-26", "11:00"),
        req: { symbol: "AAPL", qty: 500 }, fillAt: ny("2026-11-27", "09:30"), commission: 2.50 },
      { why: "Thanksgiving option market with outsideRth: options trade in the regular session only", at: ny("2026-11-26", "11:00"),
        req: { symbol: OPTION, qty: 2, outsideRth: true }, fillAt: ny("2026-11-27", "09:30"), commission: undefined },
      { why: "Friday 14:00, after the 13:00 early close, outsideRth marketable limit: after-hours run to 17:00", at: ny("2026-11-27", "14:00"),
        req: { symbol: "AAPL", type: "limit", limitMid: 20, outsideRth: true }, fillAt: ny("2026-11-27", "14:00"), commission: 1.00 },
      { why: "Friday 13:30 market: for the next session, Monday 11-30 — not this week", at: ny("2026-11-27", "13:30"),
        req: { symbol: "AAPL" }, fillAt: undefined, commission: undefined },
      { why: "Friday 17:30 outsideRth limit: after the 17:00 early after-hours close, waits for Monday 04:00", at: ny("2026-11-27", "17:30"),
        req: { symbol: "AAPL", type: "limit", limitMid: 20, outsideRth: true, tif: "GTC" }, fillAt: undefined, commission: undefined },
    ];
    const placed = new Map<string, Planned>();
    const batch = new TickBatch(1024);
    let pending = plan.slice().sort((a, b) => a.at - b.at);
    let lastTs = -1;
    const flushAt = (ts: number) => {
      h.clock.now = ts;
      market.flush(ts);
    };
    const placeDue = async (ts: number) => {
      // Orders go in right after the batch of their step, on the quote of that moment.
      for (const p of pending.filter((x) => x.at <= ts)) {
        const { stopPriceMid, limitMid, ...rest } = p.req as Record<string, number | string | boolean>;
        const symbol = rest.symbol as string;
        const body = req(rest);
        if (limitMid !== undefined) Object.assign(body, { limitPrice: Math.round((mid(symbol) + (limitMid as number)) * 100) / 100 });
        if (stopPriceMid !== undefined) Object.assign(body, { stopPrice: Math.round((mid(symbol) + (stopPriceMid as number)) * 100) / 100 });
        const r = await h.oms.submit(body);
        if (!r.ok) throw new Error(`${p.why}: ${JSON.stringify(r.error)}`);
        placed.set(r.value.order.id, p);
      }
      pending = pending.filter((x) => x.at > ts);
    };
    for (let count = reader.read(batch); count > 0; count = reader.read(batch)) {
      for (let i = 0; i < count; i++) {
        const ts = batch.tsMs[i]!;
        if (ts !== lastTs && lastTs >= 0) {
          flushAt(lastTs);
          await placeDue(lastTs);
          // The order manager's close timer runs on the wall clock; on this clock the test fires it.
          const close = cal.nextCloseMs(lastTs);
          if (close > lastTs && close <= ts) h.oms.sessionClosed(close);
        }
        lastTs = ts;
        market.write(rowOf[batch.instrument[i]!]!, batch.kind[i]!, batch.price[i]!, batch.size[i]!, ts);
      }
    }
    flushAt(lastTs);
    await placeDue(lastTs);
    reader.close();
    await h.store.journal.durable();
    expect(placed.size).toBe(plan.length);

    const fills = [...h.store.allFills()].filter((f) => f.kind === "trade");
    const orders = new Map<string, Order>();
    for (const id of placed.keys()) orders.set(id, (await h.oms.order(id))!);
    // No fill outside the window its order may trade in.
    for (const f of fills) {
      const o = orders.get(f.orderId!)!;
      const extended = o.outsideRth === true && o.type === "limit" && o.symbol !== OPTION;
      expect({ order: placed.get(o.id)!.why, ts: new Date(f.ts).toISOString(), inWindow: cal.isOpenIn(f.ts, extended ? "extended" : "regular") })
        .toEqual({ order: placed.get(o.id)!.why, ts: new Date(f.ts).toISOString(), inWindow: true });
    }
    // Each order filled (in full) when worked out by hand, or not at all.
    for (const [id, p] of placed) {
      const own = fills.filter((f) => f.orderId === id);
      const o = orders.get(id)!;
      const got = { why: p.why, fillTimes: [...new Set(own.map((f) => new Date(f.ts).toISOString()))], filled: o.filledQty === o.qty };
      expect(got).toEqual({ why: p.why, fillTimes: p.fillAt === undefined ? [] : [new Date(p.fillAt).toISOString()], filled: p.fillAt !== undefined });
    }
    // Stock commissions: per order and in total, as the hand schedule says. A sale also pays the
    // regulatory fees passed through with the commission (docs/orders.md, "Commissions and fees"),
    // worked out here from the order's own proceeds: SEC $27.80 per million and FINRA's TAF
    // $0.000166 a share (at most $8.30), each rounded up to the cent.
    const upToCent = (dollars: number) => Math.ceil(Math.round(dollars * 1e6) / 1e4) / 100;
    let total = 0;
    for (const [id, p] of placed) {
      if (p.commission === undefined) continue;
      const own = fills.filter((f) => f.orderId === id);
      const paid = fromMicros(own.reduce((s, f) => s + f.commissionMicros, 0));
      let fees = 0;
      if (p.req.side === "sell") {
        const proceeds = own.reduce((s, f) => s + fromUnits(f.priceUnits) * f.qty, 0);
        const shares = own.reduce((s, f) => s + f.qty, 0);
        fees = upToCent((proceeds * 27.8) / 1e6) + upToCent(Math.min(shares * 0.000166, 8.3));
        expect(fees).toBeGreaterThan(0);
      }
      expect({ why: p.why, paid }).toEqual({ why: p.why, paid: Math.round((p.commission + fees) * 100) / 100 });
      total += paid - fees;
    }
    expect(total).toBeCloseTo(16.00, 9); // commissions alone: 1 + 1 + 1.5 + 5 + 1 + 2 + 1 + 2.5 + 1
    // OPTION COMMISSION — for the lead to check after merging paper-costs' premium bands: 2 contracts
    // at a premium near $5 (≥ $0.10) pay $0.65 each = $1.30 (above the $1.00 order minimum), under
    // the old flat schedule and the new bands alike.
    const optionId = [...placed].find(([, p]) => p.req.symbol === OPTION)![0];
    expect(fromMicros(fills.filter((f) => f.orderId === optionId).reduce((s, f) => s + f.commissionMicros, 0))).toBe(1.3);
    // What the held orders said, and how the day orders ended.
    const byWhy = (prefix: string) => [...placed].find(([, p]) => p.why.startsWith(prefix))![0];
    expect(h.oms.events(byWhy("Sunday afternoon")).map((e) => e.kind)).toEqual(["submitted", "accepted", "held", "released", "fill"]);
    expect(orders.get(byWhy("Monday 11:00"))).toMatchObject({ status: "expired" });
    expect(orders.get(byWhy("Wednesday 19:50"))).toMatchObject({ status: "expired", updatedTs: ny("2026-11-25", "20:00") });
    expect(orders.get(byWhy("Friday 13:30"))).toMatchObject({ status: "accepted", reason: "held until the regular session opens at 2026-11-30 09:30 America/New_York" });
    expect(orders.get(byWhy("Friday 17:30"))).toMatchObject({ status: "accepted", reason: "held until the extended session opens at 2026-11-30 04:00 America/New_York" });
  } finally {
    await h.stop();
  }
});
