// Historical data of the simulator: reqHistoricalData answered with synthetic bars that end at
// the instrument's current price (a seeded random walk backwards, at the market's volatility),
// and IBKR's historical pacing rules enforced per connection the way TWS does: a request that
// breaks one is refused with error 162, so a test can show that a paced client never sees it.
//
// Simplifications, said once: times are UTC; regular trading hours are 14:30–21:00 UTC on
// weekdays (New York standard time, no holidays); daily bars skip weekends only.

import { hashSeed, Rng } from "../../domain/random.ts";
import type { SimConnection } from "./connection.ts";
import { type BarFields, errorMessage, type FieldCursor, historicalData, IN, parseVersionAndInt, readContract, type RequestContract } from "./messages.ts";
import type { RequestHandler, SimContext } from "./requests.ts";
import type { SimContract } from "./universe.ts";

/** The pacing rules the simulator enforces (IBKR's by default; tests shrink the windows). */
export interface SimHistoricalLimits {
  maxRequests: number;
  windowMs: number;
  identicalMs: number;
  sameContractMax: number;
  sameContractMs: number;
}

/** IBKR's rules: 60 per 10 minutes, no identical request within 15 s, 6 per contract, exchange and tick type within 2 s. */
export const TWS_HISTORICAL_LIMITS: Readonly<SimHistoricalLimits> = { maxRequests: 60, windowMs: 600_000, identicalMs: 15_000, sameContractMax: 6, sameContractMs: 2_000 };

/** Most bars in one answer; longer queries get 162, as TWS refuses too long a range. */
export const MAX_SIM_BARS = 20_000;

/** reqHistoricalData as read at server version 193 (no version field). */
export interface HistoricalRequest {
  reqId: number;
  contract: RequestContract;
  endDateTime: string;
  barSize: string;
  duration: string;
  useRTH: boolean;
  whatToShow: string;
  formatDate: number;
}

/** Reads reqHistoricalData: contract, includeExpired, end, bar size, duration, RTH, what, format, [legs], keepUpToDate, chart options. */
export function parseReqHistoricalData(c: FieldCursor): HistoricalRequest {
  const reqId = c.int();
  const contract = readContract(c);
  c.bool(); // includeExpired
  const endDateTime = c.str(), barSize = c.str(), duration = c.str(), useRTH = c.bool(), whatToShow = c.str(), formatDate = c.int();
  if (contract.secType.toUpperCase() === "BAG") {
    const legs = c.int();
    for (let i = 0; i < legs * 4; i++) c.str();
  }
  c.bool(); // keepUpToDate
  c.str(); // chart options
  c.end();
  return { reqId, contract, endDateTime, barSize, duration, useRTH, whatToShow, formatDate };
}

const UNIT_S: Readonly<Record<string, number>> = { sec: 1, min: 60, hour: 3600, day: 86_400, week: 604_800 };
const SPAN_S: Readonly<Record<string, number>> = { S: 1, D: 86_400, W: 604_800, M: 30 * 86_400, Y: 365 * 86_400 };

/** Seconds of a bar size ("1 min", "5 mins", "1 day", "1 week"); undefined when unsupported. */
export function barSeconds(barSize: string): number | undefined {
  const m = /^(\d+) (sec|min|hour|day|week)s?$/.exec(barSize.trim());
  return m ? Number(m[1]) * UNIT_S[m[2]!]! : undefined;
}

/** Seconds of a duration ("60 S", "1 D", "2 W", "1 M" = 30 days, "1 Y" = 365 days); undefined when malformed. */
export function durationSeconds(duration: string): number | undefined {
  const m = /^(\d+) ([SDWMY])$/.exec(duration.trim());
  return m && Number(m[1]) > 0 ? Number(m[1]) * SPAN_S[m[2]!]! : undefined;
}

/** The end instant of a request, epoch ms: "" is now; "yyyyMMdd-HH:mm:ss" or "yyyyMMdd HH:mm:ss[ zone]" read as UTC. */
export function parseEndDateTime(s: string, nowMs: number): number | undefined {
  if (s.trim() === "") return nowMs;
  const m = /^(\d{4})(\d{2})(\d{2})[ -](\d{2}):(\d{2}):(\d{2})(?: [\w/]+)?$/.exec(s.trim());
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : undefined;
}

/** What a run of bars is made from. */
export interface BarSpec {
  conId: number;
  endMs: number;
  barS: number;
  spanS: number;
  useRTH: boolean;
  whatToShow: string;
  /** The price the walk ends at (the instrument's current price). */
  endPrice: number;
  /** Annualised volatility of the walk. */
  vol: number;
  formatDate: number;
}

const RTH_OPEN_MIN = 14 * 60 + 30, RTH_CLOSE_MIN = 21 * 60;
const YEAR_S = 365 * 86_400;

/** Bar start times, epoch ms, oldest first; at most MAX_SIM_BARS + 1 (one more means "too many"). */
export function barStarts(spec: Pick<BarSpec, "endMs" | "barS" | "spanS" | "useRTH">): number[] {
  const daily = spec.barS >= 86_400;
  const stepMs = spec.barS * 1000;
  // Daily and weekly bars start at midnight UTC; the last bar is the one holding the instant
  // before the end, and the first is the earliest that overlaps the span.
  const endIn = spec.endMs - 1;
  const last = daily ? Math.floor(endIn / 86_400_000) * 86_400_000 : Math.floor(endIn / stepMs) * stepMs;
  const out: number[] = [];
  for (let t = last; t + stepMs > spec.endMs - spec.spanS * 1000 && out.length <= MAX_SIM_BARS; t -= stepMs) {
    const d = new Date(t), dow = d.getUTCDay(), minute = d.getUTCHours() * 60 + d.getUTCMinutes();
    if (spec.barS === 86_400 && (dow === 0 || dow === 6)) continue;
    if (!daily && spec.useRTH && (dow === 0 || dow === 6 || minute < RTH_OPEN_MIN || minute >= RTH_CLOSE_MIN)) continue;
    out.push(t);
  }
  return out.reverse();
}

const cents = (x: number) => Math.round(x * 100) / 100;

/** Synthetic bars for a spec: deterministic in (conId, bar size, last bar, what to show) and the end price. */
export function syntheticBars(spec: BarSpec): BarFields[] {
  const starts = barStarts(spec);
  const n = starts.length;
  const rng = new Rng(hashSeed(`${spec.conId}|${spec.barS}|${starts[n - 1] ?? 0}`));
  const sigma = spec.vol * Math.sqrt(Math.min(spec.barS, 86_400) / YEAR_S);
  // Walk backwards from the current price: each bar's close is the next bar's open.
  const closes = new Float64Array(n);
  let p = spec.endPrice;
  for (let i = n - 1; i >= 0; i--) {
    closes[i] = p;
    p = p * Math.exp(-sigma * rng.normal());
  }
  const trades = spec.whatToShow === "TRADES" || spec.whatToShow === "ADJUSTED_LAST";
  const shift = spec.whatToShow === "BID" ? -0.01 : spec.whatToShow === "ASK" ? 0.01 : 0;
  const dailyVolume = spec.conId >= 500_000_000 ? 5_000 : 40_000_000;
  const out: BarFields[] = [];
  for (let i = 0; i < n; i++) {
    const open = cents((i === 0 ? p : closes[i - 1]!) + shift), close = cents(closes[i]! + shift);
    const high = Math.max(open, close, cents(Math.max(open, close) * Math.exp(sigma * Math.abs(rng.normal()) * 0.5)));
    const low = Math.min(open, close, cents(Math.min(open, close) * Math.exp(-sigma * Math.abs(rng.normal()) * 0.5)));
    const volume = trades ? Math.max(1, Math.round(dailyVolume * Math.min(1, spec.barS / 23_400) * (0.5 + rng.next()))) : -1;
    out.push({ time: barTime(starts[i]!, spec.barS, spec.formatDate), open, high, low, close, volume,
      wap: trades ? cents((high + low + close) / 3) : -1, count: trades ? Math.max(1, Math.round(volume / 150)) : -1 });
  }
  return out;
}

/** TWS's bar time: daily bars as yyyyMMdd; intraday as epoch seconds (formatDate 2) or "yyyyMMdd HH:mm:ss". */
function barTime(ms: number, barS: number, formatDate: number): string {
  const iso = new Date(ms).toISOString();
  const date = iso.slice(0, 10).replaceAll("-", "");
  if (barS >= 86_400) return date;
  return formatDate === 2 ? String(ms / 1000) : `${date} ${iso.slice(11, 19)}`;
}

/** "yyyyMMdd-HH:mm:ss", the form of the start and end in historicalData. */
function rangeText(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19)}`;
}

interface PacingState {
  /** Arrival times of accepted requests, oldest first (at most maxRequests inside the window). */
  times: number[];
  /** Identity → arrival time of the last accepted one. */
  identical: Map<string, number>;
  /** Contract, exchange and tick type → arrival times. */
  perContract: Map<string, number[]>;
}

/** The historical data service of one simulator: answers, pacing per connection, counters. */
export class SimHistorical {
  /** Counters for tests: bars sent, requests answered, pacing refusals. */
  readonly stats = { answered: 0, bars: 0, pacingViolations: 0 };
  private readonly limits: SimHistoricalLimits;
  private readonly state = new Map<SimConnection, PacingState>();

  /** `clock` is epoch ms (tests pass a virtual one to step through the 10-minute window). */
  constructor(limits: Partial<SimHistoricalLimits> = {}, private readonly clock: () => number = Date.now) {
    this.limits = { ...TWS_HISTORICAL_LIMITS, ...limits };
  }

  /** The bars the simulator would answer now for a contract of its universe. */
  bars(ctx: SimContext, contract: SimContract, r: Omit<HistoricalRequest, "reqId" | "contract">): BarFields[] | string {
    const barS = barSeconds(r.barSize), spanS = durationSeconds(r.duration), endMs = parseEndDateTime(r.endDateTime, this.clock());
    if (barS === undefined) return `Invalid bar size: ${r.barSize}`;
    if (spanS === undefined) return `Invalid duration: ${r.duration}`;
    if (endMs === undefined) return `Invalid end date/time: ${r.endDateTime}`;
    if (!["TRADES", "MIDPOINT", "BID", "ASK", "ADJUSTED_LAST"].includes(r.whatToShow)) return `No data of type ${r.whatToShow} is available`;
    const q = ctx.marketData.quote(contract.number);
    // Before its first tick a stock still has the market's model price; an option needs a quote.
    const endPrice = q.last ?? (q.bid !== null && q.ask !== null ? (q.bid + q.ask) / 2 : q.prevClose)
      ?? (contract.secType === "STK" ? cents(ctx.universe.market.underlyingMid(contract.ourSymbol)) : null);
    if (!endPrice) return "HMDS query returned no data";
    const spec: BarSpec = { conId: contract.conId, endMs, barS, spanS, useRTH: r.useRTH, whatToShow: r.whatToShow, endPrice,
      vol: ctx.universe.market.volOf(contract.ourSymbol), formatDate: r.formatDate };
    if (barStarts(spec).length > MAX_SIM_BARS) return "Time length exceed max.";
    return syntheticBars(spec);
  }

  /** The request handlers, by message id. */
  handlers(): Map<number, RequestHandler> {
    return new Map<number, RequestHandler>([[IN.REQ_HISTORICAL_DATA, (ctx, conn, c) => this.request(ctx, conn, c)],
      [IN.CANCEL_HISTORICAL_DATA, (_ctx, conn, c) => {
        // Every answer goes out at once, so there is never a query left to cancel.
        const reqId = parseVersionAndInt(c);
        errorMessage(conn.out, reqId, 366, String(reqId));
        conn.scheduleFlush();
      }]]);
  }

  /** Forgets a closed connection's pacing state. */
  drop(conn: SimConnection): void {
    this.state.delete(conn);
  }

  private request(ctx: SimContext, conn: SimConnection, c: FieldCursor): void {
    const r = parseReqHistoricalData(c);
    const matches = ctx.universe.match(r.contract);
    if (matches.length !== 1) {
      errorMessage(conn.out, r.reqId, 200);
      return conn.scheduleFlush();
    }
    const contract = matches[0]!;
    if (!this.admit(conn, `${contract.conId}@${r.contract.exchange}|${r.whatToShow}`, [r.endDateTime, r.duration, r.barSize, r.useRTH].join("|"))) {
      this.stats.pacingViolations++;
      errorMessage(conn.out, r.reqId, 162, "Historical data request pacing violation");
      return conn.scheduleFlush();
    }
    const bars = this.bars(ctx, contract, r);
    if (typeof bars === "string") errorMessage(conn.out, r.reqId, 162, bars);
    else {
      const endMs = parseEndDateTime(r.endDateTime, this.clock())!;
      historicalData(conn.out, r.reqId, rangeText(endMs - durationSeconds(r.duration)! * 1000), rangeText(endMs), bars);
      this.stats.answered++;
      this.stats.bars += bars.length;
    }
    conn.scheduleFlush();
  }

  /** Applies the three rules at the arrival time; records the request when it passes. */
  private admit(conn: SimConnection, contractKey: string, rest: string): boolean {
    const l = this.limits, now = this.clock();
    let s = this.state.get(conn);
    if (!s) this.state.set(conn, (s = { times: [], identical: new Map(), perContract: new Map() }));
    while (s.times.length > 0 && now - s.times[0]! >= l.windowMs) s.times.shift();
    for (const [k, t] of s.identical) if (now - t >= l.identicalMs) s.identical.delete(k);
    for (const [k, ts] of s.perContract) {
      while (ts.length > 0 && now - ts[0]! >= l.sameContractMs) ts.shift();
      if (ts.length === 0) s.perContract.delete(k);
    }
    const identity = `${contractKey}|${rest}`;
    const same = s.perContract.get(contractKey) ?? [];
    if (s.times.length >= l.maxRequests || s.identical.has(identity) || same.length >= l.sameContractMax) return false;
    s.times.push(now);
    s.identical.set(identity, now);
    same.push(now);
    s.perContract.set(contractKey, same);
    return true;
  }
}
