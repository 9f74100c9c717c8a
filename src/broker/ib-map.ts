// Our orders in IBKR's terms and back: contracts from instruments (stocks on SMART, options by
// underlying, expiry, strike and right), order types and time in force, and our symbol for a
// contract TWS reports. Pure functions; the broker (ib.ts) does the talking.

import { type Contract, type Order, OrderAction, OrderType, SecType, TimeInForce as IbTif, OptionType } from "@stoqey/ib";
import { optionSymbol } from "../domain/instrument.ts";
import type { Instrument } from "../domain/instrument.ts";
import type { OrderType as OurType, TimeInForce } from "../domain/order.ts";
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

/** Parses TWS's execution time, "YYYYMMDD HH:MM:SS" with an optional zone (UTC and GMT understood; others read as UTC); epoch ms. */
export function parseExecTime(s: string | undefined): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})[- ]+(\d{2}):(\d{2}):(\d{2})/.exec(s ?? "");
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : undefined;
}

/** The execution filter's time, "yyyymmdd-hh:mm:ss" (UTC), from epoch ms (TWS keeps one-second resolution). */
export function filterTime(ms: number): string {
  const d = new Date(ms), p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}
