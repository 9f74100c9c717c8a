// The IBKR broker's read requests — open orders, executions, positions, account summary, P&L —
// each a bounded collecting request on the session: at most `maxInFlight` at once (more are
// refused, counted), at most `maxItems` items per answer, `timeoutMs` each, and a wait (within
// the same time) for the first connection, because the order manager asks at start-up before
// the session is up. The broker maps the raw answers to our terms.

import { type Contract, EventName, type Execution, type Order, type OrderState } from "@stoqey/ib";
import { type AccountSummary, type IbPnl, type IbPosition, requestAccountSummary, requestPnl, requestPositions } from "../ib/account.ts";
import { collect } from "../ib/collect.ts";
import type { IbSession } from "../ib/session.ts";
import { filterTime } from "./ib-map.ts";

/** Bounds of the read requests. */
export interface QueryLimits {
  maxInFlight: number;
  maxItems: number;
  timeoutMs: number;
}

/** One openOrder of a reqOpenOrders answer: IB order id, contract, order, status. */
export type OpenOrderItem = [number, Contract, Order, string | undefined];

/** The read requests; see the file comment. */
export class IbQueries {
  /** Requests refused by the in-flight bound. */
  refused = 0;
  private inFlight = 0;
  private openOrdersRun: Promise<OpenOrderItem[]> | null = null;

  constructor(private readonly session: IbSession, private readonly limits: QueryLimits) {}

  /** reqOpenOrders for this client; calls made while one runs share its answer (the request carries no id to tell two apart). */
  openOrders(): Promise<OpenOrderItem[]> {
    this.openOrdersRun ??= this.bounded(() => collect<OpenOrderItem>(this.session, {
      label: "reqOpenOrders", ...this.sizes(), send: (api) => api.reqOpenOrders(),
      listen: (push, end) => {
        const a = this.session.onIb(EventName.openOrder, (id: number, c: Contract, o: Order, st: OrderState) => push([id, c, o, st.status]));
        const b = this.session.onIb(EventName.openOrderEnd, () => end());
        return () => (a(), b());
      },
    })).finally(() => (this.openOrdersRun = null));
    return this.openOrdersRun;
  }

  /** reqExecutions for this client since `sinceMs` (0: the whole day TWS keeps). */
  executions(sinceMs: number): Promise<[Contract, Execution][]> {
    const reqId = this.session.nextRequestId();
    return this.bounded(() => collect<[Contract, Execution]>(this.session, {
      label: `reqExecutions ${reqId}`, ...this.sizes(),
      send: (api) => api.reqExecutions(reqId, { clientId: String(this.session.clientId), time: sinceMs > 0 ? filterTime(sinceMs) : "" }),
      listen: (push, end) => {
        const a = this.session.onIb(EventName.execDetails, (id: number, c: Contract, e: Execution) => id === reqId && push([c, e]));
        const b = this.session.onIb(EventName.execDetailsEnd, (id: number) => id === reqId && end());
        return () => (a(), b());
      },
    }));
  }

  /** reqPositions. */
  positions(): Promise<IbPosition[]> {
    return this.bounded(() => requestPositions(this.session, this.sizes()));
  }

  /** reqAccountSummary. */
  accountSummary(): Promise<AccountSummary> {
    return this.bounded(() => requestAccountSummary(this.session, this.sizes()));
  }

  /** reqPnL, first report. */
  pnl(ibAccount: string): Promise<IbPnl> {
    return this.bounded(() => requestPnl(this.session, ibAccount, { timeoutMs: this.limits.timeoutMs, maxItems: 1 }));
  }

  private sizes(): { timeoutMs: number; maxItems: number } {
    return { timeoutMs: this.limits.timeoutMs, maxItems: this.limits.maxItems };
  }

  /** Runs a request within the in-flight bound. */
  private async bounded<T>(run: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.limits.maxInFlight) {
      this.refused++;
      throw new Error(`IB broker: ${this.limits.maxInFlight} requests already in flight, its limit`);
    }
    this.inFlight++;
    try {
      // At start-up the order manager asks before the first connection is up: wait for it, bounded.
      if (!this.session.usable) await this.session.waitUsable(this.limits.timeoutMs);
      return await run();
    } finally {
      this.inFlight--;
    }
  }
}
