// Account state from TWS: positions (reqPositions → position… positionEnd) and the account
// summary (reqAccountSummary → accountSummary… accountSummaryEnd, then cancelled, since we want
// one answer rather than TWS's 3-minute updates). Each is one bounded collecting request.

import { type Contract, EventName } from "@stoqey/ib";
import { collect } from "./collect.ts";
import type { IbSession } from "./session.ts";

/** One position as TWS reports it. */
export interface IbPosition {
  account: string;
  contract: Contract;
  qty: number;
  /** Average cost per share or contract, multiplier included (IB's convention). */
  avgCost: number;
}

/** The account summary tags we ask for: value, cash, margin and buying power. */
export const ACCOUNT_SUMMARY_TAGS = [
  "NetLiquidation", "TotalCashValue", "GrossPositionValue", "EquityWithLoanValue", "InitMarginReq", "MaintMarginReq",
  "AvailableFunds", "ExcessLiquidity", "BuyingPower",
] as const;

/** Account summary values: account → tag → value (in the account's currency). */
export type AccountSummary = Record<string, Record<string, number>>;

/** Bounds of one account request. */
export interface AccountRequestLimits {
  timeoutMs: number;
  maxItems: number;
}

/** Every position of every account the login manages. */
export async function requestPositions(session: IbSession, limits: AccountRequestLimits): Promise<IbPosition[]> {
  // reqPositions is a subscription; it is cancelled once the end marker has come.
  const out = await collect<IbPosition>(session, {
    label: "reqPositions", ...limits, send: (api) => api.reqPositions(),
    listen: (push, end) => {
      const a = session.onIb(EventName.position, (account: string, contract: Contract, qty: number, avgCost: number) => push({ account, contract, qty, avgCost }));
      const b = session.onIb(EventName.positionEnd, () => end());
      return () => (a(), b());
    },
  });
  void session.cancel("cancelPositions", (api) => api.cancelPositions()).catch(() => undefined);
  return out;
}

/** The summary tags of every account (group "All"). */
export async function requestAccountSummary(session: IbSession, limits: AccountRequestLimits,
  tags: readonly string[] = ACCOUNT_SUMMARY_TAGS): Promise<AccountSummary> {
  const reqId = session.nextRequestId();
  const rows = await collect<[string, string, string]>(session, {
    label: `reqAccountSummary ${reqId}`, ...limits, send: (api) => api.reqAccountSummary(reqId, "All", tags.join(",")),
    listen: (push, end) => {
      const a = session.onIb(EventName.accountSummary, (id: number, account: string, tag: string, value: string) => id === reqId && push([account, tag, value]));
      const b = session.onIb(EventName.accountSummaryEnd, (id: number) => id === reqId && end());
      return () => (a(), b());
    },
  });
  void session.cancel(`cancelAccountSummary ${reqId}`, (api) => api.cancelAccountSummary(reqId)).catch(() => undefined);
  const out: AccountSummary = {};
  for (const [account, tag, value] of rows) {
    const n = Number(value);
    if (Number.isFinite(n)) (out[account] ??= {})[tag] = n;
  }
  return out;
}

/** An account's P&L as reqPnL reports it, in the account's currency. */
export interface IbPnl {
  daily: number;
  unrealized: number;
  realized: number;
}

/** The first P&L report of an account; the subscription is cancelled once it has come. */
export async function requestPnl(session: IbSession, account: string, limits: AccountRequestLimits): Promise<IbPnl> {
  const reqId = session.nextRequestId();
  const [first] = await collect<IbPnl>(session, {
    label: `reqPnL ${reqId}`, ...limits, send: (api) => api.reqPnL(reqId, account, ""),
    listen: (push, end) => session.onIb(EventName.pnl, (id: number, daily: number, unrealized?: number, realized?: number) => {
      if (id !== reqId) return;
      push({ daily, unrealized: unrealized ?? 0, realized: realized ?? 0 });
      end();
    }),
  });
  void session.cancel(`cancelPnL ${reqId}`, (api) => api.cancelPnL(reqId)).catch(() => undefined);
  return first!;
}
