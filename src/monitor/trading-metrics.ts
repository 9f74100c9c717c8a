// Prometheus families of trading: working orders by state (read from the order manager at
// scrape time), and counters of what the journal made durable — order events by kind, orders
// finished by state, fills and filled quantity by kind, pre-trade denials by reason code —
// plus broker connection state and reconnects. Counting happens once per journal commit (a
// few records per order, off the tick path), into plain objects that scrapes read.

import { isTerminal, ORDER_STATUSES, type OrderStatus } from "../domain/order.ts";
import type { OrderManager } from "../oms/manager.ts";
import type { JournalRecord } from "../store/journal.ts";
import type { MetricsRegistry } from "./registry.ts";

/** What metrics read of a broker connection; the paper broker is always connected. */
export interface BrokerHealth {
  /** Broker name as configured (label value). */
  name: string;
  connected(): boolean;
  /** Reconnections since start. */
  reconnects(): number;
}

/** The paper broker lives in the process: connected, never reconnecting. */
export const PAPER_BROKER_HEALTH: BrokerHealth = { name: "paper", connected: () => true, reconnects: () => 0 };

/**
 * The IBKR broker's connection, read from its IB session: up only in state "connected" (a
 * degraded session — 1100, a farm down — cannot be trusted with orders); every API connection
 * after the first is a reconnect.
 */
export function ibBrokerHealth(session: { readonly state: string; readonly stats: { readonly connects: number } }): BrokerHealth {
  return { name: "ib", connected: () => session.state === "connected", reconnects: () => Math.max(0, session.stats.connects - 1) };
}

/** What the trading families are read from. */
export interface TradingMetricsDeps {
  oms: Pick<OrderManager, "accountIds" | "openOrders" | "stats">;
  /** The store's journal: every durable record passes its commit listeners. */
  journal: { onCommit(listener: (records: readonly JournalRecord[]) => void): void };
  brokers: BrokerHealth[];
}

/** The plain counters behind the families, for tests and other readers. */
export interface TradingCounts {
  eventsByKind: Map<string, number>;
  finishedByState: Map<string, number>;
  fillsByKind: Map<string, number>;
  filledQtyByKind: Map<string, number>;
  deniedByCode: Map<string, number>;
}

/**
 * Distinct label values kept per counter; later ones count as "other". Event kinds and fill
 * kinds are a fixed set in code, but denial codes come from risk checks that may grow, and the
 * registry refuses a family past its series bound at scrape time.
 */
export const MAX_LABEL_VALUES = 64;

const WORKING = ORDER_STATUSES.filter((s) => s !== "initialized" && !isTerminal(s));
const FINISHED = ORDER_STATUSES.filter((s) => isTerminal(s));

function bump(m: Map<string, number>, key: string, n = 1): void {
  const k = m.has(key) || m.size < MAX_LABEL_VALUES - 1 ? key : "other";
  m.set(k, (m.get(k) ?? 0) + n);
}

/** The reason code of a denied order: the text before ": " in its reason ("RISK_LIMIT: …" → "RISK_LIMIT"). */
export function denialCode(reason: string | undefined): string {
  const code = reason?.split(": ", 1)[0]?.trim();
  return code && /^[A-Za-z0-9_.-]{1,64}$/.test(code) ? code : "unknown";
}

/** Registers the trading families on `registry`; returns the counters they read. */
export function registerTradingMetrics(registry: MetricsRegistry, deps: TradingMetricsDeps): TradingCounts {
  const c: TradingCounts = { eventsByKind: new Map(), finishedByState: new Map(), fillsByKind: new Map(), filledQtyByKind: new Map(), deniedByCode: new Map() };
  deps.journal.onCommit((records) => {
    for (const r of records) {
      if (r.t === "order") {
        bump(c.eventsByKind, r.kind);
        // A terminal status is reached by exactly one event per order.
        if (isTerminal(r.order.status)) bump(c.finishedByState, r.order.status);
        if (r.kind === "denied") bump(c.deniedByCode, denialCode(r.order.reason));
      } else if (r.t === "fill") {
        bump(c.fillsByKind, r.fill.kind);
        bump(c.filledQtyByKind, r.fill.kind, r.fill.qty);
      }
    }
  });
  const fromMap = (name: string, help: string, label: string, m: Map<string, number>, always: readonly string[] = []) =>
    registry.scrape({
      name, help, type: "counter", labelNames: [label],
      collect: (e) => {
        for (const k of always) if (!m.has(k)) e(0, k);
        for (const [k, v] of m) e(v, k);
      },
    });

  registry.scrape({
    name: "alluse_orders_working", help: "Working orders by state, read from the order manager.", type: "gauge", labelNames: ["state"],
    collect: (e) => {
      const n = new Map<OrderStatus, number>(WORKING.map((s) => [s, 0]));
      for (const a of deps.oms.accountIds()) for (const o of deps.oms.openOrders(a)) n.set(o.status, (n.get(o.status) ?? 0) + 1);
      for (const [s, v] of n) e(v, s);
    },
  });
  fromMap("alluse_orders_finished_total", "Orders that reached a final state since start, by state.", "state", c.finishedByState, FINISHED);
  fromMap("alluse_order_events_total", "Durable order events since start, by kind.", "kind", c.eventsByKind);
  fromMap("alluse_fills_total", "Durable fills since start, by kind (trade, exercise, assignment, expiry).", "kind", c.fillsByKind, ["trade"]);
  fromMap("alluse_filled_quantity_total", "Shares and contracts filled since start, by fill kind.", "kind", c.filledQtyByKind, ["trade"]);
  fromMap("alluse_pretrade_denials_total", "Orders denied by the pre-trade checks since start, by reason code.", "code", c.deniedByCode);
  registry.scrape({
    name: "alluse_oms_anomalies_total", help: "Broker events the order manager refused or set right: illegal transitions, duplicate fills, unknown orders, overfills, invalid messages, fill ids reused by another order.",
    type: "counter", labelNames: ["kind"],
    collect: (e) => {
      const s = deps.oms.stats;
      e(s.illegalTransitions, "illegal_transition");
      e(s.duplicateFills, "duplicate_fill");
      e(s.unknownOrderEvents, "unknown_order");
      e(s.overfills, "overfill");
      e(s.invalidBrokerMessages, "invalid_message");
      e(s.reusedFillIds, "reused_fill_id");
    },
  });
  registry.scrape({
    name: "alluse_broker_connected", help: "1 while the broker connection is up, else 0.", type: "gauge", labelNames: ["broker"],
    collect: (e) => { for (const b of deps.brokers) e(b.connected() ? 1 : 0, b.name); },
  });
  registry.scrape({
    name: "alluse_broker_reconnects_total", help: "Broker reconnections since start.", type: "counter", labelNames: ["broker"],
    collect: (e) => { for (const b of deps.brokers) e(b.reconnects(), b.name); },
  });
  return c;
}
