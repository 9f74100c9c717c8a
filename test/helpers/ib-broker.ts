// A TWS simulator, an IbSession and an IbBroker on it over a real socket: the harness of the
// shared Broker contract for IBKR and of the IB broker's own tests.

import { IbBroker, type IbBrokerOptions } from "../../src/broker/ib.ts";
import type { Instrument } from "../../src/domain/instrument.ts";
import { IbSession } from "../../src/ib/session.ts";
import { createLogger } from "../../src/log.ts";
import { TwsSimulator, type TwsSimulatorOptions } from "../../src/sim/tws/simulator.ts";
import type { SimContract } from "../../src/sim/tws/universe.ts";

/** The simulator's contract as our instrument (its number is the index). */
export function instrumentOf(c: SimContract): Instrument {
  const opt = c.secType === "OPT";
  return {
    index: c.number, symbol: c.ourSymbol, kind: opt ? "option" : "stock", tickSize: c.minTick, multiplier: opt ? Number(c.multiplier) : 1,
    currency: c.currency, ...(opt ? { underlying: c.symbol, expiry: c.expiry, strike: c.strike, right: c.right as "C" | "P" } : {}),
  };
}

/** Simulator + session + broker, started; stop() tears all down. */
export interface IbRig {
  sim: TwsSimulator;
  session: IbSession;
  broker: IbBroker;
  instrument(symbol: string): Instrument;
  stop(): Promise<void>;
}

/** Starts a rig: the simulator on port 0 with accounts T1 and DU1, a session with fast reconnects, a broker. */
export async function startIbRig(simOpts: TwsSimulatorOptions = {}, brokerOpts: Partial<IbBrokerOptions> = {}, clientId = 7): Promise<IbRig> {
  const sim = new TwsSimulator({ port: 0, symbols: ["AAPL"], optionExpiries: 1, strikesPerSide: 1, tickRatePerS: 100, accounts: ["T1", "DU1"], ...simOpts });
  const port = await sim.start();
  const session = new IbSession({ host: "127.0.0.1", port, clientId, backoff: { initialMs: 20, maxMs: 100 } });
  session.start();
  await session.waitUsable(5000);
  const bySymbol = new Map(sim.universe.contracts.map((c) => [c.ourSymbol, instrumentOf(c)]));
  const instrument = (s: string) => {
    const i = bySymbol.get(s);
    if (!i) throw new Error(`no instrument ${s}`);
    return i;
  };
  // Reconciliations cut short by a fault or by teardown are expected here: log errors only.
  const broker = new IbBroker(session, { instrument: (s) => bySymbol.get(s), log: createLogger("error", "ib-broker"), ...brokerOpts });
  const rig: IbRig = {
    sim, session, broker, instrument,
    // A test may swap in a new session and broker (a restart); stop whatever the rig holds then.
    stop: async () => {
      await rig.broker.close();
      await rig.session.stop();
      await sim.stop();
    },
  };
  return rig;
}
