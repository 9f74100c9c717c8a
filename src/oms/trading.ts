// Builds the trading side from the configuration: the SQLite store in the data directory, the
// API keys on it, the paper broker on the engine, and the order manager over them. The app
// calls startTrading() once and stop() on shutdown.

import { isAbsolute, join } from "node:path";
import { KeyStore } from "../auth/keys.ts";
import { PaperBroker } from "../broker/paper.ts";
import { ExchangeCalendar } from "../domain/calendar.ts";
import type { Engine } from "../engine/engine.ts";
import type { Logger } from "../log.ts";
import { Store } from "../store/store.ts";
import { OrderManager } from "./manager.ts";
import type { TradingConfig } from "./settings.ts";

/** The running trading side. */
export interface Trading {
  store: Store;
  keys: KeyStore;
  broker: PaperBroker;
  oms: OrderManager;
  /** Stops the order manager, the broker, then commits and closes the store. */
  stop(): Promise<void>;
}

/** The database file of a configuration. */
export function dbPath(t: TradingConfig, dataDir: string): string {
  return isAbsolute(t.dbFile) ? t.dbFile : join(dataDir, t.dbFile);
}

/** Opens the store and starts broker and order manager (which recovers from the store). */
export async function startTrading(t: TradingConfig, dataDir: string, engine: Engine, log: Logger): Promise<Trading> {
  const store = await Store.open({ path: dbPath(t, dataDir), durability: t.durability, maxPending: t.journalMaxPending });
  const broker = new PaperBroker(engine, { ...t.paper });
  try {
    const oms = await OrderManager.start({
      market: engine, store, brokers: { paper: broker }, accounts: t.accounts, calendar: new ExchangeCalendar(t.calendar), log,
      options: { maxOpenOrdersPerAccount: t.maxOpenOrdersPerAccount },
    });
    log.info("trading ready", { db: dbPath(t, dataDir), durability: t.durability, accounts: oms.accountIds() });
    return {
      store, broker, oms, keys: new KeyStore(store.db),
      async stop() {
        await oms.stop();
        await broker.close();
        await store.close();
      },
    };
  } catch (err) {
    await broker.close();
    await store.close();
    throw err;
  }
}
