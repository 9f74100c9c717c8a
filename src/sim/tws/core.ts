// The core of the TWS simulator: a TCP server that speaks the TWS side of the API protocol
// (server version 193) and streams the SyntheticMarket as IB market data: listening,
// connections, the handshake and START_API, request dispatch, and the state the faults of
// simulator.ts change (which the core honours: farms, connectivity, competing session,
// contract look-ups).

import { createServer, type Server, type Socket } from "node:net";
import type { ExchangeCalendar } from "../../domain/calendar.ts";
import { nowMs } from "../../domain/time.ts";
import { SyntheticFeed } from "../../feed/synthetic.ts";
import type { SyntheticMarketOptions } from "../../feed/market.ts";
import { createLogger, type Logger } from "../../log.ts";
import { SimConnection, type ConnectionHost } from "./connection.ts";
import { SimHistorical, type SimHistoricalLimits } from "./historical.ts";
import { SimMarketData } from "./marketdata.ts";
import { type Code, errorMessage, FieldCursor, IN, managedAccounts, nextValidId, parseStartApi } from "./messages.ts";
import { orderHandlers } from "./order-requests.ts";
import { SimOrderBook, type SimOrderOptions } from "./orders.ts";
import { marketDataHandlers, type RequestHandler, type SimContext } from "./requests.ts";
import { Universe } from "./universe.ts";
import { frame, negotiateVersion, ProtocolError } from "./wire.ts";

/** Options of the simulator; the market options shape the SyntheticMarket behind it. */
export interface TwsSimulatorOptions extends SyntheticMarketOptions {
  /** Listen address (default 127.0.0.1: loopback only). */
  host?: string;
  /** Listen port; 0 picks a free one (default 7497, TWS paper). */
  port?: number;
  /** Ticks per second the market generates over all instruments (default 2000). */
  tickRatePerS?: number;
  /** Accounts reported in managedAccounts (default one paper account). */
  accounts?: string[];
  /** First order id handed out by nextValidId (default 1). */
  firstOrderId?: number;
  /** IB symbols the client has no live market data permission for (354, or delayed with type 3). */
  notSubscribed?: string[];
  /** Shortest interval between model greeks of one option, ms (default 250). */
  greeksIntervalMs?: number;
  /** Most simultaneous client connections (default 32); more are closed at once. */
  maxConnections?: number;
  /** Most bytes queued to one client before it is cut off as a slow consumer (default 64 MiB). */
  maxOutboundBytes?: number;
  /** Capacity of the inbound message log used to measure client pacing (default 100 000). */
  arrivalLogCapacity?: number;
  /** Order book settings (live order and execution bounds, starting cash, fill model). */
  orders?: SimOrderOptions;
  /**
   * An exchange calendar whose closes expire DAY orders, as TWS does at 16:00 New York (the CLI
   * uses the US equity calendar); absent, DAY orders end only by closeSession(), so a test
   * never sees the real close in the middle of it.
   */
  calendar?: ExchangeCalendar;
  /** Historical data pacing rules enforced with error 162 (default IBKR's; tests shrink the windows). */
  historicalLimits?: Partial<SimHistoricalLimits>;
  /** Clock of historical data, epoch ms (default the wall clock; tests step a virtual one through 10 minutes). */
  historicalClock?: () => number;
  log?: Logger;
}

/** The data farms TWS reports on: market data, historical data, security definitions. */
export type Farm = "market" | "hmds" | "secdef";
/** Codes of each farm going down and coming up. */
export const FARM_CODES: Record<Farm, { down: Code; up: Code }> = {
  market: { down: 2103, up: 2104 }, hmds: { down: 2105, up: 2106 }, secdef: { down: 2157, up: 2158 },
};

/** One inbound message as the simulator saw it arrive. */
export interface Arrival {
  tMs: number;
  msgId: number;
  clientId: number;
  /** Which connection (numbered from 1 in accept order). */
  connId: number;
}

/** The simulator without its fault injections (simulator.ts adds them). */
export class SimCore implements SimContext, ConnectionHost {
  readonly universe: Universe;
  readonly marketData: SimMarketData;
  /** Orders, executions, positions and cash (filled by the paper broker's model). */
  readonly orders: SimOrderBook;
  /** Historical bars and their pacing rules. */
  readonly historical: SimHistorical;
  readonly accounts: readonly string[];
  readonly log: Logger;
  readonly maxOutboundBytes: number;
  /** Current outbound delay (a fault), ms. */
  delayMs = 0;
  /** Counters for tests and the CLI. */
  readonly stats = { accepted: 0, refusals: 0, overLimit: 0, clientIdInUse: 0, protocolErrors: 0, unhandled: 0, slowConsumers: 0, restarts: 0 };
  private readonly feed: SyntheticFeed;
  private readonly handlers: Map<number, RequestHandler>;
  protected readonly connections = new Set<SimConnection>();
  protected readonly notSubscribedSet: Set<string>;
  protected readonly heldClientIds = new Map<number, number>();
  protected readonly orderIds = new Map<number, number>();
  protected readonly farmsUp: Record<Farm, boolean> = { market: true, hmds: true, secdef: true };
  private readonly arrivalsLog: Arrival[] = [];
  /** Messages sent by connections that have closed, by message id. */
  private readonly sentClosed = new Float64Array(128);
  private readonly arrivalCap: number;
  private arrivalHead = 0;
  private readonly maxConnections: number;
  private readonly host: string;
  protected connectivityLost = false;
  protected competing = false;
  protected contractsFail = false;
  private firstOrderId: number;
  protected server: Server | null = null;
  private boundPort: number;
  private nextConnId = 1;
  protected refuseTimer: ReturnType<typeof setTimeout> | null = null;
  private closeTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly calendar: ExchangeCalendar | undefined;
  /** When DAY orders next expire by the calendar, epoch ms (0 without a calendar). */
  nextCloseMs = 0;
  protected stopped = false;

  constructor(opts: TwsSimulatorOptions = {}) {
    const startMs = opts.startMs ?? nowMs();
    this.host = opts.host ?? "127.0.0.1";
    this.boundPort = opts.port ?? 7497;
    this.accounts = opts.accounts ?? ["DU1234567"];
    this.firstOrderId = opts.firstOrderId ?? 1;
    this.notSubscribedSet = new Set((opts.notSubscribed ?? []).map((s) => s.toUpperCase()));
    this.maxConnections = opts.maxConnections ?? 32;
    this.maxOutboundBytes = opts.maxOutboundBytes ?? 64 * 1024 * 1024;
    this.arrivalCap = opts.arrivalLogCapacity ?? 100_000;
    this.log = opts.log ?? createLogger("warn", "tws-sim");
    // Real TWS data is mostly clean; bad ticks are opt-in here, unlike the synthetic feed.
    this.feed = new SyntheticFeed({ ...opts, startMs, badTickRate: opts.badTickRate ?? 0, tickRatePerS: opts.tickRatePerS ?? 2000 });
    this.universe = new Universe(this.feed.market, startMs, opts.optionExpiries ?? 2);
    this.marketData = new SimMarketData(this.universe, (c) => this.streaming(c), opts.greeksIntervalMs ?? 250);
    this.handlers = marketDataHandlers();
    this.orders = new SimOrderBook(this.universe, this.marketData, this, opts.orders);
    this.calendar = opts.calendar;
    for (const [id, h] of orderHandlers(this.orders)) this.handlers.set(id, h);
    this.historical = new SimHistorical(opts.historicalLimits, opts.historicalClock);
    for (const [id, h] of this.historical.handlers()) this.handlers.set(id, h);
  }

  /** The port listened on (the OS's choice when 0 was asked for), once started. */
  get port(): number {
    return this.boundPort;
  }

  /** Live client connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Client ids of the connections past START_API. */
  get clientIds(): number[] {
    return [...this.connections].filter((c) => c.phase === "ready").map((c) => c.clientId);
  }

  /** Starts listening and the market; resolves with the port. */
  async start(): Promise<number> {
    await this.listen();
    const numberOf = new Map(this.universe.contracts.map((c) => [c.ourSymbol, c.number]));
    await this.feed.start(this.marketData, (s) => numberOf.get(s));
    this.scheduleClose();
    return this.boundPort;
  }

  /** Arms the timer of the calendar's next close; at it, DAY orders expire and the next one is armed. */
  private scheduleClose(): void {
    if (!this.calendar || this.stopped) return;
    const now = nowMs();
    this.nextCloseMs = this.calendar.nextCloseMs(now);
    // setTimeout holds at most 2^31-1 ms (~24.8 days); a longer wait re-arms on the way.
    this.closeTimer = setTimeout(() => {
      if (nowMs() >= this.nextCloseMs) this.orders.closeSession();
      this.scheduleClose();
    }, Math.min(Math.max(0, this.nextCloseMs - now), 2 ** 31 - 1));
    (this.closeTimer as { unref?: () => void }).unref?.();
  }

  /** Stops the market, closes every connection and the listener. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.refuseTimer) clearTimeout(this.refuseTimer);
    if (this.closeTimer) clearTimeout(this.closeTimer);
    await this.feed.stop();
    for (const c of [...this.connections]) c.close("simulator stopped", true);
    await this.unlisten();
  }

  /** Registers (or replaces) the handler of a request message id: how later slices add orders. */
  handle(msgId: number, handler: RequestHandler): void {
    this.handlers.set(msgId, handler);
  }

  protected listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.accept(socket));
      server.once("error", reject);
      server.listen(this.boundPort, this.host, () => {
        server.off("error", reject);
        this.boundPort = (server.address() as { port: number }).port;
        this.server = server;
        resolve();
      });
    });
  }

  protected unlisten(): Promise<void> {
    const server = this.server;
    this.server = null;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  private accept(socket: Socket): void {
    if (this.connections.size >= this.maxConnections) {
      this.stats.overLimit++;
      socket.destroy();
      return;
    }
    this.stats.accepted++;
    const conn = new SimConnection(this.nextConnId++, socket, this);
    this.connections.add(conn);
  }

  // ConnectionHost

  onHandshake(conn: SimConnection, offer: string): void {
    try {
      const version = negotiateVersion(offer);
      conn.writeNow(frame([version, twsTime(new Date())]));
      conn.phase = "start";
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      conn.close(`protocol error: ${err.message}`, true);
    }
  }

  onMessage(conn: SimConnection, fields: string[]): void {
    const c = new FieldCursor(fields);
    const id = c.id;
    this.logArrival(id, conn.clientId, conn.id);
    try {
      if (conn.phase === "start") {
        if (id !== IN.START_API) throw new ProtocolError(`message ${id} before START_API`);
        this.startApi(conn, parseStartApi(c).clientId);
        return;
      }
      const handler = this.handlers.get(id);
      if (!handler) {
        this.stats.unhandled++;
        this.log.warn("unhandled request", { msgId: id, clientId: conn.clientId });
        return;
      }
      handler(this, conn, c);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.log.warn("protocol error", { clientId: conn.clientId, msg: err.message });
      conn.close(`protocol error: ${err.message}`, true);
    }
  }

  onClosed(conn: SimConnection): void {
    conn.out.countsById.forEach((n, id) => (this.sentClosed[id]! += n));
    this.marketData.dropAll(conn);
    this.historical.drop(conn);
    this.connections.delete(conn);
    if (conn.closeReason.startsWith("slow consumer")) this.stats.slowConsumers++;
    // Framing errors (in the connection) and request errors (here) both close with this prefix.
    if (conn.closeReason.startsWith("protocol error")) this.stats.protocolErrors++;
  }

  private startApi(conn: SimConnection, clientId: number): void {
    const held = this.heldClientIds.get(clientId) ?? 0;
    const taken = [...this.connections].some((c) => c !== conn && c.phase === "ready" && c.clientId === clientId);
    if (held > 0 || taken) {
      if (held > 0) this.heldClientIds.set(clientId, held - 1);
      this.stats.clientIdInUse++;
      errorMessage(conn.out, -1, 326);
      conn.close("client id in use");
      return;
    }
    conn.clientId = clientId;
    conn.phase = "ready";
    managedAccounts(conn.out, this.accounts);
    nextValidId(conn.out, this.nextOrderId(clientId));
    for (const farm of ["market", "hmds", "secdef"] as Farm[]) {
      errorMessage(conn.out, -1, this.farmsUp[farm] ? FARM_CODES[farm].up : FARM_CODES[farm].down);
    }
    if (this.connectivityLost) errorMessage(conn.out, -1, 1100);
    conn.scheduleFlush();
  }

  // SimContext

  notSubscribed(symbol: string): boolean {
    return this.notSubscribedSet.has(symbol.toUpperCase());
  }

  /** True while the competing-session fault holds the market data (requests get 10197). */
  marketDataCompeting(): boolean {
    return this.competing;
  }

  /** True while the failing-contracts fault is on (contract details and market data get 200). */
  contractsFailing(): boolean {
    return this.contractsFail;
  }

  nextOrderId(clientId: number): number {
    return this.orderIds.get(clientId) ?? this.orders.nextOrderId(clientId, this.firstOrderId);
  }

  /** The connection past START_API holding a client id, if any (where that client's order reports go). */
  connectionFor(clientId: number): SimConnection | undefined {
    for (const c of this.connections) if (c.phase === "ready" && c.clientId === clientId) return c;
    return undefined;
  }

  now(): number {
    return nowMs();
  }

  private streaming(conn: SimConnection): boolean {
    return conn.phase === "ready" && !this.connectivityLost && this.farmsUp.market;
  }

  private logArrival(msgId: number, clientId: number, connId: number): void {
    const a = { tMs: nowMs(), msgId, clientId, connId };
    // A ring: once full, the oldest entry is overwritten in place.
    if (this.arrivalsLog.length < this.arrivalCap) this.arrivalsLog.push(a);
    else {
      this.arrivalsLog[this.arrivalHead] = a;
      this.arrivalHead = (this.arrivalHead + 1) % this.arrivalCap;
    }
  }

  /** Inbound messages seen (the latest arrivalLogCapacity of them), oldest first. */
  arrivals(): Arrival[] {
    return [...this.arrivalsLog.slice(this.arrivalHead), ...this.arrivalsLog.slice(0, this.arrivalHead)];
  }

  /** Messages sent to clients since start, by message id (framed messages only, not the version reply). */
  sentById(): Map<number, number> {
    const total = Float64Array.from(this.sentClosed);
    for (const c of this.connections) c.out.countsById.forEach((n, id) => (total[id]! += n));
    const out = new Map<number, number>();
    total.forEach((n, id) => { if (n > 0) out.set(id, n); });
    return out;
  }

  /** Forgets the arrival log (between phases of a test). */
  clearArrivals(): void {
    this.arrivalsLog.length = 0;
    this.arrivalHead = 0;
  }

}


/** TWS's connection time format: "20261121 16:17:34 UTC". */
function twsTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC`;
}
