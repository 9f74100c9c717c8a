// One NATS connection that never gives up: connects in the background (start-up does not wait
// for the bus), reconnects forever, and reports up/down to a listener. Core and edge share it.

import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.ts";

/** Reconnect pacing: NATS's client retries each server after this wait, forever. */
const RECONNECT_WAIT_MS = 250;

/** A connection to the bus that is up or down; see the file comment. */
export class NatsLink {
  /** The connection once first made (it then reconnects by itself); undefined before. */
  nc: NatsConnection | undefined;
  /** True while connected. */
  up = false;
  /** Times the connection was lost. */
  disconnects = 0;
  private stopped = false;
  private readonly listeners: ((up: boolean) => void)[] = [];

  constructor(private readonly servers: string[], private readonly name: string, private readonly log: Logger) {}

  /** Calls the listener on every change of `up` (after the connection's subscriptions are restored on reconnect). */
  onChange(listener: (up: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** Starts connecting; returns at once. `ready` is called once with the first connection, before any onChange. */
  start(ready: (nc: NatsConnection) => void): void {
    connect({
      servers: this.servers, name: this.name, waitOnFirstConnect: true, maxReconnectAttempts: -1,
      reconnectTimeWait: RECONNECT_WAIT_MS, pingInterval: 2000, maxPingOut: 2,
    }).then((nc) => {
      if (this.stopped) return void nc.close();
      this.nc = nc;
      ready(nc);
      this.set(true);
      this.log.info("connected to NATS", { server: nc.getServer() });
      void this.watch(nc);
    }, (err: unknown) => this.log.error("cannot connect to NATS", { servers: this.servers, err }));
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") {
        this.disconnects++;
        this.log.warn("NATS connection lost; reconnecting", { server: s.server });
        this.set(false);
      } else if (s.type === "reconnect") {
        this.log.info("NATS connection restored", { server: s.server });
        this.set(true);
      }
    }
  }

  private set(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    for (const l of this.listeners) l(up);
  }

  /** Closes the connection (after flushing what was published). */
  async stop(): Promise<void> {
    this.stopped = true;
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    await nc.drain().catch(() => nc.close());
  }
}
