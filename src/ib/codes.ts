// IBKR message codes the connector acts on, and how each one is classified. TWS reports
// connection-wide conditions as "errors" with id −1 (which @stoqey/ib emits on EventName.info)
// and request failures as errors carrying the request or order id.

/** Codes with a meaning for the session or the feed. */
export const IbCode = {
  /** Max rate of messages per second exceeded (pacing violation). */
  MaxRateExceeded: 100,
  /** Historical data pacing violation (among other historical data errors). */
  HistoricalDataError: 162,
  NoSecurityDefinition: 200,
  CantFindTickerId: 300,
  DuplicateTickerId: 322,
  ClientIdInUse: 326,
  MarketDataNotSubscribed: 354,
  /** @stoqey/ib: could not connect / socket error. */
  ConnectFail: 502,
  /** @stoqey/ib: tried to send while disconnected. */
  NotConnected: 504,
  /** @stoqey/ib: a message could not be decoded (unprocessed data, underrun, unknown id). */
  DecodeError: 505,
  ConnectivityLost: 1100,
  RestoredDataLost: 1101,
  RestoredDataKept: 1102,
  MarketFarmDown: 2103,
  MarketFarmOk: 2104,
  HmdsFarmDown: 2105,
  HmdsFarmOk: 2106,
  HmdsFarmInactive: 2107,
  MarketFarmInactive: 2108,
  ServerConnectivityBroken: 2110,
  MarketFarmConnecting: 2119,
  SecDefFarmDown: 2157,
  SecDefFarmOk: 2158,
  RequiresApiSubscription: 10089,
  DelayedDataShown: 10167,
  DelayedDataNotEnabled: 10168,
  /** No market data during competing live session: the same login is live elsewhere. */
  CompetingLiveSession: 10197,
} as const;

/** The farm kinds TWS reports on. */
export type FarmKind = "market" | "hmds" | "secdef";

/** A farm status report: which farm (kind and name after the colon) and whether it is usable. */
export interface FarmStatus {
  kind: FarmKind;
  name: string;
  ok: boolean;
}

const FARM_CODES: Readonly<Record<number, { kind: FarmKind; ok: boolean }>> = {
  [IbCode.MarketFarmDown]: { kind: "market", ok: false },
  [IbCode.MarketFarmOk]: { kind: "market", ok: true },
  [IbCode.MarketFarmInactive]: { kind: "market", ok: true },
  [IbCode.MarketFarmConnecting]: { kind: "market", ok: false },
  [IbCode.HmdsFarmDown]: { kind: "hmds", ok: false },
  [IbCode.HmdsFarmOk]: { kind: "hmds", ok: true },
  // "Inactive but should be available upon demand": not a fault.
  [IbCode.HmdsFarmInactive]: { kind: "hmds", ok: true },
  [IbCode.SecDefFarmDown]: { kind: "secdef", ok: false },
  [IbCode.SecDefFarmOk]: { kind: "secdef", ok: true },
};

/** Parses a farm status message ("Market data farm connection is OK:usfarm"); undefined for other codes. */
export function farmStatus(code: number, message: string): FarmStatus | undefined {
  const f = FARM_CODES[code];
  if (!f) return undefined;
  const colon = message.lastIndexOf(":");
  return { ...f, name: colon >= 0 ? message.slice(colon + 1).trim() : "" };
}

/** True for informational codes that do not fail the request they name (delayed data shown, farm notices). */
export function isWarning(code: number): boolean {
  return code === IbCode.DelayedDataShown || (code >= 2100 && code < 2200);
}

/** True for the codes that refuse live market data for lack of a subscription (354; 10089 "requires additional subscription for API", delayed available). */
export function isNotSubscribed(code: number): boolean {
  return code === IbCode.MarketDataNotSubscribed || code === IbCode.RequiresApiSubscription;
}
