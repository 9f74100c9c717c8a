// The built-in alert rules over what the process already measures: quote staleness of
// subscribed instruments, the feed's rejected-tick rate, the IB session, order rejects,
// tick-to-publish latency, slow clients, and execution slippage. Each factory returns an
// AlertRule for AlertEngine.addRule (and a stop() where it listens to something). Rates over
// a window come from samples taken at each evaluation, so nothing here runs on the hot path.

import type { Engine } from "../engine/engine.ts";
import { histogramQuantile, type CumulativeBucket } from "../analytics/histogram.ts";
import type { OmsUpdate } from "../oms/manager.ts";
import type { Fill } from "../domain/order.ts";
import { fromUnits } from "../domain/price.ts";
import type { AlertRule, Reading } from "./alerts.ts";
import { defaultsOf } from "./alert-catalog.ts";
import type { LaneDrops } from "./webhooks.ts";

/** Thresholds of one rule as configured; the factory's defaults fill the gaps. */
export type Thresholds = Pick<AlertRule, "warning" | "critical" | "clear" | "holdMs">;

/** A bounded series of (time, value) samples, oldest first, trimmed to a time window. */
export class SampleWindow<T> {
  private readonly items: { ts: number; v: T }[] = [];
  constructor(private readonly windowMs: number, private readonly cap: number) {}
  /** Adds a sample; past the cap the oldest goes, whatever its age. */
  push(ts: number, v: T): void {
    this.items.push({ ts, v });
    if (this.items.length > this.cap) this.items.shift();
  }
  /** The samples not older than the window at `nowMs`. */
  within(nowMs: number): { ts: number; v: T }[] {
    let i = 0;
    while (i < this.items.length && this.items[i]!.ts < nowMs - this.windowMs) i++;
    if (i > 0) this.items.splice(0, i);
    return this.items;
  }
}

/**
 * Age of the last accepted tick of every subscribed instrument (rows never quoted are skipped).
 * `quotesExpected` says when silence means trouble: a real market is quiet outside its session,
 * so the app passes the exchange calendar for IBKR data; without it quotes are always expected.
 */
export function quoteStalenessRule(engine: Engine, subscribedRows: () => Iterable<number>, t: Thresholds = {},
  quotesExpected: (nowMs: number) => boolean = () => true): AlertRule {
  return {
    name: "feed.quote_stale", description: "Quote of a subscribed instrument is stale", unit: " ms",
    ...defaultsOf("feed.quote_stale"), ...pick(t),
    *read(nowMs): Iterable<Reading> {
      if (!quotesExpected(nowMs)) return;
      const TS = engine.layout.Q_EXCH_TS;
      for (const row of subscribedRows()) {
        const ts = engine.field(row, TS);
        if (ts > 0) yield { key: engine.instruments[row]!.symbol, value: Math.max(0, nowMs - ts) };
      }
    },
  };
}

/** Rejected ticks as a percentage of ticks over the last windowMs, once minTicks arrived in it. */
export function feedRejectRateRule(engine: Engine, o: Thresholds & { windowMs?: number; minTicks?: number } = {}): AlertRule {
  const windowMs = o.windowMs ?? 60_000;
  const samples = new SampleWindow<{ ticks: number; rejected: number }>(windowMs, 3600);
  return {
    name: "feed.reject_rate", description: "Feed ticks rejected by validation", unit: "%",
    ...defaultsOf("feed.reject_rate"), ...pick(o),
    read(nowMs) {
      const c = engine.counters();
      samples.push(nowMs, { ticks: c.ticks, rejected: c.rejected });
      const w = samples.within(nowMs);
      const ticks = c.ticks - w[0]!.v.ticks;
      return ticks >= (o.minTicks ?? 1000) ? [{ key: "", value: (100 * (c.rejected - w[0]!.v.rejected)) / ticks }] : [];
    },
  };
}

/** Session states with a live, logged-in socket, as far as the connection rule is concerned. */
const CONNECTED_STATES: ReadonlySet<string> = new Set(["connected", "competing", "not_ready"]);

/**
 * IB session state as a level: 0 connected, 1 degraded, 2 anything else (down or reconnecting).
 * `competing` and `not_ready` have a live socket and are broker.session's to report, with the
 * reason and what to do; counted here too they would raise a second, vaguer critical alert.
 */
export function brokerConnectionRule(session: { readonly state: string }, t: Thresholds = {}): AlertRule {
  return {
    name: "broker.connection", description: "IB session is not connected (1 degraded, 2 down)",
    ...defaultsOf("broker.connection"), ...pick(t),
    read: () => [{ key: "ib", value: CONNECTED_STATES.has(session.state) ? 0 : session.state === "degraded" ? 1 : 2 }],
  };
}

/** Orders rejected by the broker or denied by checks per account over the last windowMs (a count). */
export function orderRejectRule(onUpdate: (l: (u: OmsUpdate) => void) => () => void, accounts: () => string[],
  o: Thresholds & { windowMs?: number } = {}): { rule: AlertRule; stop(): void } {
  const windowMs = o.windowMs ?? 60_000;
  // Rejects are counted as they arrive and filed under the next evaluation's time, so the
  // window runs on the alert engine's clock whatever clock the order manager uses.
  const fresh = new Map<string, number>();
  const byAccount = new Map<string, SampleWindow<number>>();
  const stop = onUpdate((u) => {
    if (u.type === "order" && (u.order.status === "rejected" || u.order.status === "denied")) fresh.set(u.account, (fresh.get(u.account) ?? 0) + 1);
  });
  const rule: AlertRule = {
    name: "orders.rejects", description: `Orders rejected or denied in ${windowMs / 1000} s`,
    ...defaultsOf("orders.rejects"), ...pick(o),
    read: (nowMs) => accounts().map((a) => {
      let w = byAccount.get(a);
      if (!w) byAccount.set(a, (w = new SampleWindow(windowMs, 3600)));
      w.push(nowMs, fresh.get(a) ?? 0);
      fresh.delete(a);
      let n = 0;
      for (const { v } of w.within(nowMs)) n += v;
      return { key: a, value: n };
    }),
  };
  return { rule, stop };
}

/** Snapshot source of a histogram: upper bounds and per-bucket (not cumulative) counts, +Inf last. */
export interface HistogramSource {
  readonly bounds: Float64Array;
  counts(): Float64Array;
}

/** A quantile (default p99) of tick-to-publish latency over the last windowMs, in ms. */
export function latencySloRule(h: HistogramSource, o: Thresholds & { windowMs?: number; quantile?: number; minSamples?: number } = {}): AlertRule {
  const windowMs = o.windowMs ?? 60_000;
  const q = o.quantile ?? 0.99;
  const samples = new SampleWindow<CumulativeBucket[]>(windowMs, 3600);
  return {
    name: "latency.tick_to_publish", description: `Tick-to-publish latency p${Math.round(q * 1000) / 10}`, unit: " ms",
    ...defaultsOf("latency.tick_to_publish"), ...pick(o),
    read(nowMs) {
      const now = cumulative(h);
      samples.push(nowMs, now);
      const first = samples.within(nowMs)[0]!.v;
      const delta = now.map((b, i) => ({ le: b.le, count: b.count - first[i]!.count }));
      if (delta.at(-1)!.count < (o.minSamples ?? 100)) return [];
      const seconds = histogramQuantile(q, delta);
      return seconds === null ? [] : [{ key: "", value: seconds * 1000 }];
    },
  };
}

function cumulative(h: HistogramSource): CumulativeBucket[] {
  const counts = h.counts();
  let sum = 0;
  const out: CumulativeBucket[] = [];
  for (let i = 0; i < counts.length; i++) out.push({ le: i < h.bounds.length ? h.bounds[i]! : Infinity, count: (sum += counts[i]!) });
  return out;
}

/** Connections in conflated delivery now (held for holdMs: a short burst is normal under load). */
export function slowClientsRule(stats: () => { slowClients: number }, t: Thresholds = {}): AlertRule {
  return {
    name: "ws.slow_clients", description: "WebSocket clients in conflated delivery",
    ...defaultsOf("ws.slow_clients"), ...pick(t),
    read: () => [{ key: "", value: stats().slowClients }],
  };
}

/** Connections closed as slow consumers over the last windowMs. */
export function slowDisconnectsRule(stats: () => { slowDisconnects: number }, o: Thresholds & { windowMs?: number } = {}): AlertRule {
  const samples = new SampleWindow<number>(o.windowMs ?? 300_000, 3600);
  return {
    name: "ws.slow_disconnects", description: "WebSocket clients disconnected as slow consumers",
    ...defaultsOf("ws.slow_disconnects"), ...pick(o),
    read(nowMs) {
      const now = stats().slowDisconnects;
      samples.push(nowMs, now);
      return [{ key: "", value: now - samples.within(nowMs)[0]!.v }];
    },
  };
}

/** Alert notices each webhook URL lost (receiver down past the retries, or queue full) over the last windowMs. */
export function webhookDropsRule(drops: () => LaneDrops[], o: Thresholds & { windowMs?: number } = {}): AlertRule {
  const windows = new Map<string, SampleWindow<number>>();
  const windowMs = o.windowMs ?? 300_000;
  return {
    name: "alerts.webhook_drops", description: `Alert notices a webhook receiver lost in ${windowMs / 60_000} min`,
    ...defaultsOf("alerts.webhook_drops"), ...pick(o),
    read: (nowMs) => drops().map(({ key, dropped }) => {
      let w = windows.get(key);
      if (!w) {
        // Counts start at 0 with the sender, so drops before the first evaluation count too.
        windows.set(key, (w = new SampleWindow(windowMs, 3600)));
        w.push(nowMs, 0);
      }
      w.push(nowMs, dropped);
      return { key, value: dropped - w.within(nowMs)[0]!.v };
    }),
  };
}

/**
 * Quantity-weighted slippage of fills against the order's arrival mid, per account over
 * windowMs, in basis points (positive = paid more than mid on a buy, got less on a sell).
 * Orders carry no arrival price; `arrivalMid` supplies it (the app's ArrivalMids: the clean mid
 * when the order's "submitted" record was committed). Fills are filed at the next evaluation,
 * so the mid is looked up after the commit that carried both; fills of orders without one
 * are left out.
 */
export function slippageRule(onUpdate: (l: (u: OmsUpdate) => void) => () => void, arrivalMid: (orderId: string) => number | undefined,
  o: Thresholds & { windowMs?: number } = {}): { rule: AlertRule; stop(): void } {
  const windowMs = o.windowMs ?? 900_000;
  // Fills since the last evaluation: 10,000 is far more than one second of trading; beyond it the oldest go.
  const fresh: Fill[] = [];
  const windows = new Map<string, SampleWindow<{ num: number; qty: number }>>();
  const stop = onUpdate((u) => {
    if (u.type !== "fill" || u.fill.kind !== "trade" || u.fill.orderId === undefined) return;
    fresh.push(u.fill);
    if (fresh.length > 10_000) fresh.shift();
  });
  const file = (nowMs: number) => {
    const byAccount = new Map<string, { num: number; qty: number }>();
    for (const f of fresh.splice(0)) {
      const mid = arrivalMid(f.orderId!);
      if (mid === undefined || !(mid > 0)) continue;
      const bps = ((f.side === "buy" ? 1 : -1) * (fromUnits(f.priceUnits) - mid) / mid) * 10_000;
      const acc = byAccount.get(f.account) ?? { num: 0, qty: 0 };
      acc.num += bps * f.qty;
      acc.qty += f.qty;
      byAccount.set(f.account, acc);
    }
    for (const [account, acc] of byAccount) {
      let w = windows.get(account);
      if (!w) windows.set(account, (w = new SampleWindow(windowMs, 3600)));
      w.push(nowMs, acc);
    }
  };
  const rule: AlertRule = {
    name: "execution.slippage", description: "Fill slippage vs arrival mid", unit: " bps",
    ...defaultsOf("execution.slippage"), ...pick(o),
    *read(nowMs) {
      file(nowMs);
      for (const [account, w] of windows) {
        let num = 0, qty = 0;
        for (const { v } of w.within(nowMs)) (num += v.num, qty += v.qty);
        if (qty > 0) yield { key: account, value: num / qty };
      }
    },
  };
  return { rule, stop };
}

/** What an operator does about each IB session state that needs one (the alert's key). */
export const SESSION_ATTENTION: Readonly<Record<string, string>> = {
  competing: "10197: a competing live session of the same login took the market data; log the other session (TWS, IBKR Mobile, Client Portal) out",
  not_ready: "connected, but contracts or market data subscriptions failed to load; see the log for TWS's error",
  reauth: "1100 and nothing since: the login waits for re-authentication (weekly token reset); log in to TWS / IB Gateway again",
};

/** The IB session in a state that needs an operator (SESSION_ATTENTION): 2 (critical) while in it, keyed by the state. */
export function brokerSessionRule(session: { readonly state: string }, t: Thresholds = {}): AlertRule {
  return {
    name: "broker.session", description: "IB session needs attention (competing, not_ready or reauth; see docs/operations.md)", 
    ...defaultsOf("broker.session"), ...pick(t),
    read: () => (session.state in SESSION_ATTENTION ? [{ key: session.state, value: 2 }] : []),
  };
}

/**
 * Broker messages refused or set right over the last windowMs (a count of a monotonic total):
 * fills with unusable fields, fill ids another order had used, overfills, execution
 * corrections not applied, journal rows the database refused. Duplicates are not counted:
 * every reconnect repeats the day's executions, and dropping those is normal work.
 */
export function brokerAnomalyRule(total: () => number, o: Thresholds & { windowMs?: number } = {}): AlertRule {
  const samples = new SampleWindow<number>(o.windowMs ?? 900_000, 3600);
  let first = true;
  return {
    name: "broker.anomalies", description: "Broker messages refused or set right (see the anomaly metrics and the log)", 
    ...defaultsOf("broker.anomalies"), ...pick(o),
    read(nowMs) {
      // Anomalies before the first evaluation (a burst at start-up) count too.
      if (first) (samples.push(nowMs, 0), first = false);
      const now = total();
      samples.push(nowMs, now);
      return [{ key: "", value: now - samples.within(nowMs)[0]!.v }];
    },
  };
}

/**
 * The journal's checkpointer thread failed (src/store/checkpointer.ts): the journal keeps
 * committing, but the writer now checkpoints by itself at its backstop, so a commit pauses for a
 * checkpoint now and then. Value: the failures since start (the thread is not restarted), so the
 * alert stays open until the server restarts.
 */
export function checkpointerRule(failures: () => number, o: Thresholds = {}): AlertRule {
  return {
    name: "store.checkpointer", description: "The journal's WAL checkpointer thread failed: the writer checkpoints at its backstop (restart at a quiet moment)",
    ...defaultsOf("store.checkpointer"), ...pick(o),
    read: () => [{ key: "", value: failures() }],
  };
}

/** The threshold fields of an options object, leaving the factory's other options out. */
function pick(o: Thresholds): Thresholds {
  const out: Thresholds = {};
  for (const k of ["warning", "critical", "clear", "holdMs"] as const) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
