// An order manager over real parts for tests: the WASM test market, a SQLite file in a temp
// dir, the paper broker and the US calendar, all on one controllable clock. Reopening on the
// same directory is a restart.

import { afterEach } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PaperBroker, type PaperOptions } from "../../src/broker/paper.ts";
import { ExchangeCalendar } from "../../src/domain/calendar.ts";
import { createLogger } from "../../src/log.ts";
import { accountsSchema, type AccountsConfig } from "../../src/oms/accounts.ts";
import { OrderManager, type OmsOptions } from "../../src/oms/manager.ts";
import type { PreTradeHook } from "../../src/oms/pretrade.ts";
import type { Result } from "../../src/oms/validate.ts";
import type { Durability } from "../../src/store/db.ts";
import { Store } from "../../src/store/store.ts";
import { RiskService } from "../../src/risk/service.ts";
import { riskSchema, type RiskConfig } from "../../src/risk/settings.ts";
import { TestMarket } from "./market.ts";
import { setQuote, setTrade } from "./quotes.ts";

/** Monday 2026-11-23, 10:00 New York: a normal session day before the test options expire. */
export const MONDAY_10AM = Date.parse("2026-11-23T15:00:00Z");

/** What a test can vary. */
export interface OmsHarnessOptions {
  dir?: string;
  accounts?: Partial<AccountsConfig>;
  oms?: Partial<OmsOptions>;
  paper?: Partial<PaperOptions>;
  preTrade?: PreTradeHook;
  maxPending?: number;
  durability?: Durability;
  nowMs?: number;
  /** Makes the paper broker claim its orders live outside the process, so requests are written ahead. */
  external?: boolean;
  /** Stocks defined beside the test market's own. */
  extraStocks?: string[];
  /** Runs the risk engine as the pre-trade hook with this configuration (merged over the defaults). */
  risk?: Partial<RiskConfig>;
}

/** A running order manager with its parts and clock. */
export class OmsHarness {
  private constructor(
    /** Log lines written by the order manager (JSON). */
    readonly logs: string[],
    readonly dir: string, readonly market: TestMarket, readonly store: Store, readonly broker: PaperBroker,
    readonly oms: OrderManager, readonly clock: { now: number },
    /** The risk engine, when started with `risk`. */
    readonly risk?: RiskService,
  ) {}

  /** Starts (or restarts, given the same `dir`) everything. */
  static async start(o: OmsHarnessOptions = {}): Promise<OmsHarness> {
    const dir = o.dir ?? mkdtempSync(join(tmpdir(), "alluse-oms-"));
    const clock = { now: o.nowMs ?? MONDAY_10AM };
    const market = await TestMarket.create(o.extraStocks);
    const store = await Store.open({ path: join(dir, "alluse.db"), durability: o.durability ?? "normal", maxPending: o.maxPending ?? 10_000 });
    const broker = new PaperBroker(market.engine, { clock: () => clock.now, ...o.paper });
    if (o.external) (broker as { external: boolean }).external = true;
    const logs: string[] = [];
    const log = createLogger("debug", "oms", (l) => logs.push(l));
    const accounts = accountsSchema.parse(o.accounts ?? {});
    const risk = o.risk
      ? new RiskService({ engine: market.engine, config: riskSchema.parse(o.risk), accounts, db: store.db, log, clock: () => clock.now })
      : undefined;
    const oms = await OrderManager.start({
      market: market.engine, store, brokers: { paper: broker }, accounts,
      calendar: new ExchangeCalendar(), log, clock: () => clock.now,
      preTrade: risk?.hook ?? o.preTrade, options: o.oms,
    });
    risk?.attach(oms);
    return new OmsHarness(logs, dir, market, store, broker, oms, clock, risk);
  }

  /** Sets a quote stamped with the harness clock (one engine batch). */
  quote(symbol: string, bid: number, bidSize: number, ask: number, askSize: number): void {
    setQuote(this.market.engine, symbol, bid, bidSize, ask, askSize, ++this.clock.now);
  }

  /** Prints a trade stamped with the harness clock. */
  trade(symbol: string, price: number, size: number): void {
    setTrade(this.market.engine, symbol, price, size, ++this.clock.now);
  }

  /** Stops the manager and closes the store and broker (the directory stays for a restart). */
  async stop(): Promise<void> {
    this.risk?.stop();
    await this.oms.stop();
    await this.broker.close();
    await this.store.close();
  }

  /** Stops and deletes the directory. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The value of an ok result; throws (failing the test) with the error otherwise. */
export function ok<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.error)}`);
  return r.value;
}

/** The error of a failed result; throws (failing the test) with the value otherwise. */
export function err<T>(r: Result<T>) {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.value)}`);
  return r.error;
}

/**
 * Harnesses of one test file: start() opens one with AAPL quoted 100 / 100.02 (1,000 each side),
 * track() adopts one the test opened itself (a restart on the same directory); every harness is
 * disposed after the test that made it.
 */
export function harnessSet(): { start: (o?: OmsHarnessOptions) => Promise<OmsHarness>; track: (h: OmsHarness) => OmsHarness } {
  const harnesses: OmsHarness[] = [];
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.dispose().catch(() => undefined);
  });
  const track = (h: OmsHarness) => (harnesses.push(h), h);
  return {
    track,
    start: async (o = {}) => {
      const h = track(await OmsHarness.start(o));
      h.quote("AAPL", 100, 1000, 100.02, 1000);
      return h;
    },
  };
}
