// Our orders in IBKR's terms and back: contracts from instruments (stocks on SMART, options by
// underlying, expiry, strike and right), order types and time in force, and our symbol for a
// contract TWS reports. Pure functions; the broker (ib.ts) does the talking.

import { type Contract, type Order, OrderAction, OrderType, SecType, TimeInForce as IbTif, OptionType } from "@stoqey/ib";
import { optionSymbol } from "../domain/instrument.ts";
import type { Instrument } from "../domain/instrument.ts";
import { IB_TRIGGER_CODES, type OrderType as OurType, type TimeInForce } from "../domain/order.ts";
import { fromUnits } from "../domain/price.ts";
import type { BrokerOrder } from "./broker.ts";

const TYPE_TO_IB: Readonly<Record<OurType, OrderType>> = {
  market: OrderType.MKT, limit: OrderType.LMT, stop: OrderType.STP, stop_limit: OrderType.STP_LMT,
};
const TIF_TO_IB: Readonly<Record<TimeInForce, IbTif>> = { DAY: IbTif.DAY, GTC: IbTif.GTC, IOC: IbTif.IOC, FOK: IbTif.FOK };

/** The IB contract of an instrument: SMART-routed, in its currency; options by their four defining fields. */
export function contractOf(i: Instrument): Contract {
  if (i.kind === "stock") return { symbol: i.symbol, secType: SecType.STK, exchange: "SMART", currency: i.currency };
  return {
    symbol: i.underlying, secType: SecType.OPT, lastTradeDateOrContractMonth: i.expiry, strike: i.strike,
    right: i.right === "C" ? OptionType.Call : OptionType.Put, multiplier: i.multiplier, exchange: "SMART", currency: i.currency,
  };
}

/** The IB order for ours; orderRef carries our order id so TWS's reports (and its UI) name it. */
export function ibOrderOf(o: BrokerOrder, account: string): Order {
  return {
    action: o.side === "buy" ? OrderAction.BUY : OrderAction.SELL, totalQuantity: o.qty, orderType: TYPE_TO_IB[o.type],
    lmtPrice: o.limitPriceUnits === undefined ? undefined : fromUnits(o.limitPriceUnits),
    auxPrice: o.stopPriceUnits === undefined ? undefined : fromUnits(o.stopPriceUnits),
    tif: TIF_TO_IB[o.tif], account, orderRef: o.orderId, transmit: true,
    // IBKR's own fields: extended-hours permission and, for stops, the trigger method's code.
    outsideRth: o.outsideRth ?? false,
    ...(o.triggerMethod === undefined ? {} : { triggerMethod: IB_TRIGGER_CODES[o.triggerMethod] }),
  };
}

/** Our order type for an IB one, or undefined for types we do not trade. */
export function ourType(ibType: string | undefined): OurType | undefined {
  for (const [ours, ib] of Object.entries(TYPE_TO_IB)) if (ib === ibType) return ours as OurType;
  return undefined;
}

/** Our symbol for a contract TWS reports: the ticker for stocks, optionSymbol() for options. */
export function symbolOf(c: Contract): string | undefined {
  if (c.secType === SecType.STK) return c.symbol;
  if (c.secType !== SecType.OPT || !c.symbol || !c.lastTradeDateOrContractMonth || c.strike === undefined) return undefined;
  const right = String(c.right ?? "").toUpperCase().startsWith("C") ? "C" : "P";
  return optionSymbol(c.symbol, c.lastTradeDateOrContractMonth.slice(0, 8), right, c.strike);
}

/**
 * Parses TWS's execution time, epoch ms: "YYYYMMDD-HH:MM:SS" is UTC (API 10.18 on), and
 * "YYYYMMDD HH:MM:SS ZONE" is in the named zone (TWS sends e.g. "US/Eastern"). A time without a
 * zone, or in a zone this runtime does not know, is read as UTC.
 */
export function parseExecTime(s: string | undefined): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})[- ]+(\d{2}):(\d{2}):(\d{2})\s*(\S*)/.exec(s ?? "");
  if (!m) return undefined;
  const wall = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  const zone = m[7]!;
  if (zone === "" || /^(UTC|GMT|Z)$/i.test(zone)) return wall;
  const offset = (atMs: number) => zoneOffsetMs(zone, atMs);
  // The offset depends on the instant; a second pass settles times near a DST change.
  const first = wall - offset(wall);
  return wall - offset(first);
}

/** Formatters by zone; a handful of zones at most in practice, bounded all the same. */
const ZONE_FORMATS = new Map<string, Intl.DateTimeFormat | null>();
const MAX_ZONES = 32;

/** How far a zone's wall clock is ahead of UTC at an instant, ms; 0 for an unknown zone. */
function zoneOffsetMs(zone: string, atMs: number): number {
  let f = ZONE_FORMATS.get(zone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    } catch {
      f = null;
    }
    if (ZONE_FORMATS.size < MAX_ZONES) ZONE_FORMATS.set(zone, f);
  }
  if (!f) return 0;
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(atMs))) if (part.type !== "literal") p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - Math.floor(atMs / 1000) * 1000;
}

/** The execution filter's time, "yyyymmdd-hh:mm:ss" (UTC), from epoch ms (TWS keeps one-second resolution). */
export function filterTime(ms: number): string {
  const d = new Date(ms), p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}
