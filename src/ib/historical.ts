// Historical bars from TWS: reqHistoricalData → historicalData… and the end marker, as one
// bounded collecting request that first waits its turn under IBKR's historical pacing rules
// (historical-pacer.ts), then goes through the session's outbound queue. @stoqey/ib 1.6.10 has
// no historicalDataEnd event at server version 193: it emits the end of a run as one more
// historicalData whose time reads "finished-<start>-<end>" and whose prices are −1.

import { type BarSizeSetting, type Contract, EventName, type WhatToShow } from "@stoqey/ib";
import { IbCode, isWarning } from "./codes.ts";
import { collect } from "./collect.ts";
import { type HistoricalKey, HistoricalPacer } from "./historical-pacer.ts";
import { IbRequestError } from "./requests.ts";
import type { IbSession } from "./session.ts";

/** What to ask for: IBKR's own vocabulary ("1 M", "1 day", "TRADES"). */
export interface HistoricalQuery {
  /** "" for now, else "yyyyMMdd-HH:mm:ss" (UTC) or "yyyyMMdd HH:mm:ss <zone>". */
  endDateTime: string;
  /** "<n> S|D|W|M|Y", e.g. "1 M". */
  duration: string;
  barSize: BarSizeSetting | string;
  whatToShow: WhatToShow | string;
  /** Regular trading hours only. */
  useRTH: boolean;
}

/** One bar; volume, wap and count are −1 where TWS has none (MIDPOINT, BID, ASK). */
export interface HistoricalBar {
  /** Bar start, epoch ms (daily bars: midnight UTC of their date). */
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  wap: number;
  count: number;
}

/** Bounds of one historical request. */
export interface HistoricalOptions {
  /** The pacer (default: the session's own, shared by every caller on it). */
  pacer?: HistoricalPacer;
  /** Longest wait for pacing, ms (default 660 000: one rolling window and a margin). */
  maxWaitMs?: number;
  /** Time from being sent to the end marker, ms (default 60 000: HMDS is slow for long ranges). */
  timeoutMs?: number;
  /** Most bars accepted (default 10 000); one more fails the request with IB_TOO_MANY. */
  maxBars?: number;
}

const pacers = new WeakMap<IbSession, HistoricalPacer>();

/** The session's historical pacer: IBKR paces per connection, so every caller on it shares one. */
export function historicalPacerOf(session: IbSession): HistoricalPacer {
  let p = pacers.get(session);
  if (!p) pacers.set(session, (p = new HistoricalPacer()));
  return p;
}

/** The pacing key of a contract and query: the same contract spelled two ways is two keys, as at IB. */
export function historicalKey(contract: Contract, q: HistoricalQuery): HistoricalKey {
  const c = contract.conId
    ? String(contract.conId)
    : [contract.symbol, contract.secType, contract.lastTradeDateOrContractMonth, contract.strike, contract.right, contract.currency].map((x) => x ?? "").join(":");
  return { contract: `${c}@${contract.exchange ?? ""}`, whatToShow: q.whatToShow, endDateTime: q.endDateTime, duration: q.duration, barSize: q.barSize, useRTH: q.useRTH };
}

/** Parses TWS's bar time: epoch seconds (formatDate 2), "yyyyMMdd", or "yyyyMMdd[ -]HH:mm:ss[ zone]" read as UTC; NaN if neither. */
export function parseBarTime(s: string): number {
  if (/^\d{9,}$/.test(s)) return Number(s) * 1000;
  const m = /^(\d{4})(\d{2})(\d{2})(?:[ -]+(\d{2}):(\d{2}):(\d{2}))?$/.exec(s.replace(/ [A-Za-z][\w/]*$/, ""));
  if (!m) return NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
}

/** Bars of `contract` for `query`, paced by IBKR's historical rules; rejects with IbRequestError (TWS's code, or ours). */
export async function requestHistoricalBars(session: IbSession, contract: Contract, query: HistoricalQuery, opts: HistoricalOptions = {}): Promise<HistoricalBar[]> {
  const pacer = opts.pacer ?? historicalPacerOf(session);
  const ticket = await pacer.acquire(historicalKey(contract, query), opts.maxWaitMs ?? 660_000);
  const reqId = session.nextRequestId();
  const label = `reqHistoricalData ${reqId} ${contract.symbol ?? contract.conId} ${query.duration} ${query.barSize}`;
  let failure: Error | undefined;
  let answered = false;
  let sent = false;
  try {
    const bars = await collect<HistoricalBar>(session, {
      label, timeoutMs: opts.timeoutMs ?? 60_000, maxItems: opts.maxBars ?? 10_000,
      // formatDate 2: intraday bar times as epoch seconds, so no time zone has to be guessed.
      send: (api) => {
        api.reqHistoricalData(reqId, contract, query.endDateTime, query.duration, query.barSize as BarSizeSetting, query.whatToShow as WhatToShow, query.useRTH ? 1 : 0, 2, false);
        sent = true;
        ticket.sent();
      },
      listen: (push, end) => {
        const a = session.onIb(EventName.historicalData, (id: number, time: string, open: number, high: number, low: number, close: number,
          volume: number, count: number | undefined, wap: number) => {
          if (id !== reqId) return;
          if (time.startsWith("finished")) return (answered = true), end();
          const timeMs = parseBarTime(time);
          if (Number.isNaN(timeMs)) return (failure ??= new IbRequestError(IbCode.DecodeError, `${label}: unreadable bar time ${JSON.stringify(time)}`)), end();
          push({ time: timeMs, open, high, low, close, volume: volume ?? -1, wap: wap ?? -1, count: count ?? -1 });
        });
        // 162 (pacing violation, no data, bad query), 366, 322, 200, 321 …: the request failed with TWS's message.
        const b = session.events.on("requestError", (e) => {
          if (e.reqId !== reqId || isWarning(e.code)) return;
          answered = true;
          failure = new IbRequestError(e.code, `${label}: ${e.code} ${e.message}`);
          end();
        });
        return () => (a(), b());
      },
    });
    if (failure) throw failure;
    return bars;
  } catch (err) {
    // Timed out or too many bars: TWS is still working on it, so tell it to stop.
    if (sent && !answered && session.usable) void session.cancel(`cancelHistoricalData ${reqId}`, (api) => api.cancelHistoricalData(reqId)).catch(() => undefined);
    throw err;
  } finally {
    ticket.release();
  }
}
