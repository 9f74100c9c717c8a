// Prometheus families of the IBKR broker, read from its counters at scrape time: executions
// waiting for their commission, joins, repeats and evictions, reconciliations and what they
// found, and requests refused by the in-flight bound.

import type { MetricsRegistry } from "../monitor/registry.ts";
import type { IbBroker } from "./ib.ts";

/** Registers the IB broker's families on `registry`. */
export function registerIbBrokerMetrics(registry: MetricsRegistry, broker: IbBroker): void {
  const counter = (name: string, help: string, read: () => number) => registry.scrape({ name, help, type: "counter", collect: (e) => e(read()) });
  const s = broker.stats;
  registry.scrape({ name: "alluse_ib_broker_pending_executions", help: "Executions waiting for their commission report.", type: "gauge", collect: (e) => e(broker.pendingExecutions) });
  registry.scrape({ name: "alluse_ib_broker_position_differences", help: "Symbols whose IBKR position differed from the journal's at the last reconciliation.", type: "gauge", collect: (e) => e(broker.lastPositionDiffs.length) });
  counter("alluse_ib_broker_executions_joined_total", "Executions emitted as fills (joined with their commission, or evicted).", () => broker.joinStats.joined);
  counter("alluse_ib_broker_executions_repeated_total", "Executions TWS reported again (reconciliations) and that were not applied twice.", () => broker.joinStats.duplicates);
  counter("alluse_ib_broker_executions_evicted_total", "Executions emitted without their commission because too many were waiting.", () => broker.joinStats.evictedUnjoined);
  counter("alluse_ib_broker_execution_corrections_total", "Corrected executions (execId revised after its last period) not applied as fills; book by hand.", () => broker.joinStats.corrections);
  counter("alluse_ib_broker_filled_without_executions_total", "Reconciliations that found an order TWS reported Filled without all its executions.", () => s.filledWithoutExecutions);
  counter("alluse_ib_broker_unknown_executions_total", "Live executions of orders this broker does not know.", () => s.unknownExecutions);
  counter("alluse_ib_broker_reconciliations_total", "Completed reconciliations (executions, open orders, positions).", () => s.reconciliations);
  counter("alluse_ib_broker_reconcile_failures_total", "Reconciliations cut short (connection lost, timeout, limit).", () => s.reconcileFailures);
  counter("alluse_ib_broker_ended_while_away_total", "Orders found no longer working at a reconciliation.", () => s.endedWhileAway);
  counter("alluse_ib_broker_refused_requests_total", "Open-order, execution and account requests refused by the in-flight bound.", () => broker.refusedRequests);
}
