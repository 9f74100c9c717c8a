// What can be wrong with an open IB connection, and the session state it makes. TWS reports
// most of it as id −1 "errors"; the feed reports what only it can see (subscriptions refused,
// market data flowing again). The state of an open connection is, most serious first:
//   reauth     1100 and no 1101 / 1102 for reauthAfterMs: after IBKR's weekly token reset
//              (Sundays, 01:00 New York) the login waits for someone to authenticate again,
//              and TWS stays silent until then.
//   degraded   1100 (recent), 2110, or a data farm down: data may pause; TWS restores it itself.
//   not_ready  the socket is up but contracts or subscriptions failed to load (200 and other
//              refusals of a market data request).
//   competing  10197: a competing live session of the same login holds the market data.
//   connected  nothing wrong.

import type { FarmStatus } from "./codes.ts";

/** The state of an open connection (see the file comment). */
export type OpenState = "connected" | "degraded" | "not_ready" | "competing" | "reauth";

/** Farm reports kept at once: a gateway reports a handful; names come from TWS, so the map is bounded. */
export const MAX_FARMS = 64;

/** The conditions of one open connection; reset when the socket goes. */
export class SessionConditions {
  /** Farm reports since the connection opened, by kind and name. */
  private readonly farms = new Map<string, FarmStatus>();
  private connectivityLostAtMs = 0;
  private serverBroken = false;
  /** Why market data is held by a competing session, or "". */
  competing = "";
  /** Why the connection is not ready, or "". */
  notReady = "";

  /** Forgets everything (a new or lost connection). */
  reset(): void {
    this.farms.clear();
    this.connectivityLostAtMs = 0;
    this.serverBroken = false;
    this.competing = this.notReady = "";
  }

  /** A farm report; an OK also means the TWS–server link works again. */
  farm(f: FarmStatus): void {
    const key = `${f.kind}:${f.name}`;
    if (this.farms.size < MAX_FARMS || this.farms.has(key)) this.farms.set(key, { ...f });
    if (f.ok) this.serverBroken = false;
  }

  /** The farms as last reported on this connection. */
  farmList(): FarmStatus[] {
    return [...this.farms.values()].map((f) => ({ ...f }));
  }

  /** 1100 at `nowMs` (a repeat keeps the first time). */
  connectivityLost(nowMs: number): void {
    if (this.connectivityLostAtMs === 0) this.connectivityLostAtMs = nowMs;
  }

  /** 1101 / 1102: IB is reachable again. */
  restored(): void {
    this.connectivityLostAtMs = 0;
    this.serverBroken = false;
  }

  /** 2110. */
  serverConnectivityBroken(): void {
    this.serverBroken = true;
  }

  /** When 1100 arrived without a restore since, epoch ms (0: not lost). */
  get lostSinceMs(): number {
    return this.connectivityLostAtMs;
  }

  /** The state these conditions make at `nowMs`. */
  state(nowMs: number, reauthAfterMs: number): OpenState {
    if (this.connectivityLostAtMs > 0 && nowMs - this.connectivityLostAtMs >= reauthAfterMs) return "reauth";
    if (this.connectivityLostAtMs > 0 || this.serverBroken) return "degraded";
    for (const f of this.farms.values()) if (!f.ok) return "degraded";
    if (this.notReady) return "not_ready";
    if (this.competing) return "competing";
    return "connected";
  }
}
