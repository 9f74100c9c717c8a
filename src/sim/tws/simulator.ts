// The TWS simulator: the core (core.ts: server, connections, market data, orders) plus the
// faults a real TWS or IB Gateway produces, injected by tests, benchmarks and the CLI: dropped
// sockets, refused connections, gateway restarts that start execution ids again, connectivity
// lost and restored, farms down and up, slow messages, client id in use, missing market data
// permissions, a competing live session (10197), contract look-ups that fail (not ready), a
// login waiting for re-authentication after the weekly restart, and fills while disconnected.

import { nowMs } from "../../domain/time.ts";
import { type Farm, FARM_CODES, SimCore } from "./core.ts";
import { type Code, errorMessage } from "./messages.ts";

export { type Arrival, type Farm, type TwsSimulatorOptions } from "./core.ts";

/** A protocol-level TWS / IB Gateway simulator with fault injection. */
export class TwsSimulator extends SimCore {

  private broadcast(code: Code): void {
    for (const c of this.connections) {
      if (c.phase !== "ready") continue;
      errorMessage(c.out, -1, code);
      c.scheduleFlush();
    }
  }

  /** Drops every client socket at once, as a TWS crash or network cut does. */
  dropConnections(): void {
    for (const c of [...this.connections]) c.close("dropped by fault injection", true);
  }

  /** Stops listening (connections are refused) for `forMs`, or until acceptConnections(); resolves when listening again. */
  async refuseConnections(forMs?: number): Promise<void> {
    if (this.refuseTimer) clearTimeout(this.refuseTimer);
    await this.unlisten();
    this.stats.refusals++;
    if (forMs === undefined) return;
    await new Promise<void>((resolve) => {
      this.refuseTimer = setTimeout(() => {
        this.refuseTimer = null;
        resolve();
      }, forMs);
    });
    if (!this.stopped) await this.listen();
  }

  /** Listens again after refuseConnections() without a duration. */
  async acceptConnections(): Promise<void> {
    if (this.refuseTimer) clearTimeout(this.refuseTimer);
    this.refuseTimer = null;
    if (!this.server && !this.stopped) await this.listen();
  }

  /** 1100: IB ↔ TWS connectivity lost; the sockets stay up but no data flows. */
  loseConnectivity(): void {
    this.connectivityLost = true;
    this.broadcast(1100);
  }

  /** 1101 (data lost: every subscription is forgotten and must be renewed) or 1102 (data kept). */
  restoreConnectivity(dataKept: boolean): void {
    this.connectivityLost = false;
    if (!dataKept) for (const c of this.connections) this.marketData.dropAll(c);
    this.broadcast(dataKept ? 1102 : 1101);
  }

  /** 2110: TWS ↔ server connectivity broken (a warning; data may pause). */
  serverConnectivityBroken(): void {
    this.broadcast(2110);
  }

  /** A data farm goes down (2103 / 2105 / 2157); market data stops while the market farm is down. */
  farmDown(farm: Farm): void {
    this.farmsUp[farm] = false;
    this.broadcast(FARM_CODES[farm].down);
  }

  /** A data farm is back (2104 / 2106 / 2158); streams resume by themselves, as in TWS. */
  farmUp(farm: Farm): void {
    this.farmsUp[farm] = true;
    this.broadcast(FARM_CODES[farm].up);
  }

  /**
   * 10197: the same login went live elsewhere (TWS on another machine, IBKR Mobile) and took the
   * market data. Every subscription gets 10197 and stops, and new ones are refused with it, until
   * off; then requests work again but nothing is resent: the client must subscribe again.
   */
  competingSession(on: boolean): void {
    this.competing = on;
    if (!on) return;
    for (const c of this.connections) {
      if (c.phase !== "ready") continue;
      for (const reqId of [...c.subs.keys()]) errorMessage(c.out, reqId, 10197);
      this.marketData.dropAll(c);
      c.scheduleFlush();
    }
  }

  /** Contract details and market data requests fail with 200 while on, as when TWS cannot look contracts up. */
  failContracts(on: boolean): void {
    this.contractsFail = on;
  }

  /**
   * The weekly restart's login waits for re-authentication (IBKR invalidates the login tokens
   * each Sunday): the socket stays up, 1100 says IB is unreachable, and then nothing comes until
   * someone authenticates (reauthenticated()).
   */
  awaitReauthentication(): void {
    this.loseConnectivity();
  }

  /** The login was re-authenticated: a new login, so 1101 (data lost; every subscription must be renewed). */
  reauthenticated(): void {
    this.restoreConnectivity(false);
  }

  /** Delays every outbound message by `ms` (0 to stop), keeping their order. */
  delayMessages(ms: number): void {
    if (!(ms >= 0 && ms <= 60_000)) throw new Error("delay must be in [0, 60000] ms");
    this.delayMs = ms;
  }

  /** The next `times` START_APIs with this client id get 326 and are closed, as if a stale session held it. */
  holdClientId(clientId: number, times = 1): void {
    this.heldClientIds.set(clientId, times);
  }

  /** Takes away (or gives back) live market data permission for an IB symbol. */
  setNotSubscribed(symbol: string, notSubscribed = true): void {
    if (notSubscribed) this.notSubscribedSet.add(symbol.toUpperCase());
    else this.notSubscribedSet.delete(symbol.toUpperCase());
  }

  /** The market for a symbol of ours (a stock ticker or an option symbol) is held at this quote until unpinned. */
  pinQuote(symbol: string, bid: number, bidSize: number, ask: number, askSize: number): void {
    this.marketData.pinQuote(this.numberOf(symbol), bid, bidSize, ask, askSize, nowMs());
  }

  /** Prints a trade for a symbol of ours (and holds its market like pinQuote). */
  pinTrade(symbol: string, price: number, size: number): void {
    this.marketData.pinTrade(this.numberOf(symbol), price, size, nowMs());
  }

  /** Gives a pinned symbol back to the synthetic market. */
  unpin(symbol: string): void {
    this.marketData.mute(this.numberOf(symbol), false);
  }

  private numberOf(symbol: string): number {
    const c = this.universe.contracts.find((x) => x.ourSymbol === symbol);
    if (!c) throw new Error(`tws simulator: no instrument ${symbol}`);
    return c.number;
  }

  /** The next placeOrder is rejected with error 201 and this reason. */
  rejectNextOrder(reason = "simulated rejection"): void {
    this.orders.rejectNextOrder(reason);
  }

  /**
   * Drops every client socket, then prints a trade through each resting order's price, so limits
   * fill (and stops trigger) while no client is connected; the executions wait for reqExecutions.
   * Returns how many orders were traded through.
   */
  fillWhileDisconnected(): number {
    this.dropConnections();
    return this.orders.tradeThroughResting();
  }

  /** The exchange session closes: DAY orders are cancelled (expired), as TWS reports them. */
  closeSession(): void {
    this.orders.closeSession();
  }

  /**
   * A gateway restart: every socket drops, nothing listens for `downMs`, and the new gateway
   * starts execution ids again (and, with `forgetOrderIds`, nextValidId from its first value).
   * Orders resting before it rest after it; fills that happen while it is down wait for
   * reqExecutions. Resolves once listening again.
   */
  async restart(downMs = 0, forgetOrderIds = false): Promise<void> {
    this.dropConnections();
    this.stats.restarts++;
    this.orders.restarted(forgetOrderIds);
    if (forgetOrderIds) this.orderIds.clear();
    await this.refuseConnections(downMs);
  }

  /** Sets the order id nextValidId reports to a client id (e.g. lower, as after a gateway restart). */
  setNextOrderId(clientId: number, orderId: number): void {
    this.orderIds.set(clientId, orderId);
  }
}
