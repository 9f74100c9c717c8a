// Builds the trading side from the configuration: the SQLite store in the data directory, the
// API keys on it, the broker (paper on the engine, or IBKR over the IB session), and the order
// manager over them. The app calls startTrading() once and stop() on shutdown.

import { isAbsolute, join } from "node:path";
import { KeyStore } from "../auth/keys.ts";
import type { Broker } from "../broker/broker.ts";
import { IbBroker } from "../broker/ib.ts";
import { IBKR_PRO_FIXED, regulatoryFees } from "../broker/commission.ts";
import { PaperBroker } from "../broker/paper.ts";
import { ExchangeCalendar } from "../domain/calendar.ts";
import type { Engine } from "../engine/engine.ts";
import type { IbSession } from "../ib/session.ts";
import type { Logger } from "../log.ts";
import { RiskService } from "../risk/service.ts";
import type { RiskConfig } from "../risk/settings.ts";
import { Store } from "../store/store.ts";
import { OrderManager } from "./manager.ts";
import type { TradingConfig } from "./settings.ts";

/** The running trading side. */
export interface Trading {
  store: Store;
  keys: KeyStore;
  broker: Broker;
  oms: OrderManager;
  /** The risk engine (pre-trade hook, portfolio risk, states), unless risk.enabled is false. */
  risk: RiskService | undefined;
  /** Stops the order manager, the broker (and the IB session it was given), then commits and closes the store. */
  stop(): Promise<void>;
}

/** The database file of a configuration. */
export function dbPath(t: TradingConfig, dataDir: string): string {
  return isAbsolute(t.dbFile) ? t.dbFile : join(dataDir, t.dbFile);
}

/** The configured broker; with broker ib, `ibSession` is required and is started if it is not running. */
function makeBroker(t: TradingConfig, engine: Engine, log: Logger, ibSession: IbSession | undefined, omsRef: { current?: OrderManager },
  calendar: ExchangeCalendar, clock: () => number): Broker {
  if (t.broker === "paper") {
    const { fees, ...fillModel } = t.paper;
    return new PaperBroker(engine, { ...fillModel, calendar, clock, commissions: { ...IBKR_PRO_FIXED, fees: regulatoryFees(fees) } });
  }
  if (!ibSession) throw new Error("trading.broker ib needs an IB session (ib.host, ib.port, ib.clientId)");
  if (ibSession.state === "disconnected") ibSession.start();
  return new IbBroker(ibSession, {
    instrument: (s) => engine.instrument(s), account: (a) => t.ibAccounts[a] ?? "", log: log.child("ib-broker"),
    ourPositions: () => (omsRef.current ? omsRef.current.accountIds().flatMap((a) => omsRef.current!.positions(a)) : []),
  });
}

/**
 * Opens the store and starts broker and order manager (which recovers from the store). `ibSession` is owned (stopped) by trading once given.
 * Broker and order manager share one calendar and one clock (the app's): the paper broker holds orders by it.
 */
export async function startTrading(
  t: TradingConfig, dataDir: string, engine: Engine, log: Logger, ibSession?: IbSession, riskConfig?: RiskConfig, clock: () => number = Date.now,
): Promise<Trading> {
  const calendar = new ExchangeCalendar(t.calendar);
  const store = await Store.open({ path: dbPath(t, dataDir), durability: t.durability, maxPending: t.journalMaxPending, journal: { log: log.child("journal") } });
  // The IB broker compares IBKR's positions with the order manager's, which exists only later.
  const omsRef: { current?: OrderManager } = {};
  const broker = makeBroker(t, engine, log, ibSession, omsRef, calendar, clock);
  // Every account trades through the one configured broker, under that broker's name
  // (the accounts schema in accounts.ts still lists only "paper" as a name, hence the cast).
  const accounts = { ...t.accounts, list: t.accounts.list.map((a) => ({ ...a, broker: t.broker as "paper" })) };
  const stopBroker = async () => {
    await broker.close();
    if (t.broker === "ib") await ibSession?.stop();
  };
  try {
    const risk = riskConfig?.enabled
      ? new RiskService({ engine, config: riskConfig, accounts: t.accounts, db: store.db, log: log.child("risk") })
      : undefined;
    const oms = await OrderManager.start({
      market: engine, store, brokers: { [t.broker]: broker }, accounts, calendar, log, clock,
      options: { maxOpenOrdersPerAccount: t.maxOpenOrdersPerAccount }, ...(risk ? { preTrade: risk.hook } : {}),
    });
    omsRef.current = oms;
    risk?.attach(oms);
    log.info("trading ready", { db: dbPath(t, dataDir), durability: t.durability, broker: t.broker, accounts: oms.accountIds() });
    return {
      store, broker, oms, risk, keys: new KeyStore(store.db),
      async stop() {
        risk?.stop();
        await oms.stop();
        await stopBroker();
        await store.close();
      },
    };
  } catch (err) {
    await stopBroker();
    await store.close();
    throw err;
  }
}
