// Prometheus families of the IB session and feed, read from their counters at scrape time.

import type { IbFeed } from "../feed/ib.ts";
import type { MetricsRegistry } from "../monitor/registry.ts";
import { SESSION_STATES, type IbSession } from "./session.ts";

/** Registers the session's (and, when given, the IB feed's) families on `registry`. */
export function registerIbMetrics(registry: MetricsRegistry, session: IbSession, feed?: IbFeed): void {
  const s = session.stats, q = session.pacing.stats;
  const counter = (name: string, help: string, read: () => number) => registry.scrape({ name, help, type: "counter", collect: (e) => e(read()) });
  const gauge = (name: string, help: string, read: () => number) => registry.scrape({ name, help, type: "gauge", collect: (e) => e(read()) });
  registry.scrape({
    name: "alluse_ib_session_state", help: "1 for the IB session's current state, 0 for the others.", type: "gauge", labelNames: ["state"],
    collect: (e) => { for (const st of SESSION_STATES) e(session.state === st ? 1 : 0, st); },
  });
  counter("alluse_ib_session_state_changes_total", "IB session state changes.", () => s.stateChanges);
  counter("alluse_ib_connect_attempts_total", "Connection attempts to TWS / IB Gateway.", () => s.attempts);
  counter("alluse_ib_connects_total", "API connections that reached nextValidId.", () => s.connects);
  counter("alluse_ib_socket_losses_total", "Usable API connections lost.", () => s.socketLosses);
  counter("alluse_ib_client_id_refusals_total", "326 answers: client id in use.", () => s.clientIdRefusals);
  counter("alluse_ib_decode_errors_total", "Messages @stoqey/ib could not decode (505).", () => s.decodeErrors);
  counter("alluse_ib_pacing_violations_total", "Pacing violations reported by TWS (100).", () => s.pacingViolations);
  gauge("alluse_ib_pacing_queue_depth", "Requests waiting in the pacing queue.", () => session.pacing.depth);
  gauge("alluse_ib_pacing_sent_in_window", "Messages sent to TWS in the last pacing window.", () => session.pacing.sentInWindow());
  counter("alluse_ib_pacing_sent_total", "Messages sent to TWS through the pacing queue.", () => q.sent);
  counter("alluse_ib_pacing_refused_total", "Requests refused because the pacing queue was full.", () => q.refusedFull);
  counter("alluse_ib_pacing_abandoned_total", "Waiting requests rejected because the connection was lost or stopped.", () => q.abandoned);
  if (!feed) return;
  const f = feed.stats;
  counter("alluse_ib_feed_resubscriptions_total", "Times every market data subscription was renewed (reconnect or 1101).", () => f.resubscriptions);
  counter("alluse_ib_feed_delayed_fallbacks_total", "Instruments switched to delayed data after 354.", () => f.delayedFallbacks);
  counter("alluse_ib_feed_subscription_errors_total", "Market data requests TWS refused for good.", () => f.subscriptionErrors);
}
