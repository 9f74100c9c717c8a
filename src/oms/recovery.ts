// Start-up and settlement: rebuild the state from the store (accounts, cash, every fill through
// the same Portfolio code, open orders with their fills so far), expire DAY orders whose day —
// fixed by when they were placed — ended while down, revert interrupted modifies, restore and
// reconcile each broker, and settle options that expired. settleExpired also runs at every
// session close.

import type { Broker, BrokerOrder, RestoredOrder } from "../broker/broker.ts";
import { windowOf } from "../broker/paper-session.ts";
import type { CostedFill } from "../broker/commission.ts";
import { notionalMicros, toMicros } from "../domain/money.ts";
import { isTerminal } from "../domain/order.ts";
import { onBrokerEvent, onFill } from "./broker-events.ts";
import type { Instrument } from "../domain/instrument.ts";
import { settlementFills, settlementRank } from "./expiry.ts";
import type { Position } from "./portfolio.ts";
import { clientKey, toBrokerOrder, type Live, type OmsState } from "./state.ts";
import { optionExpired } from "./validate.ts";

/** Builds the state from the store, subscribes to the brokers, restores and reconciles them. */
export async function recover(s: OmsState): Promise<void> {
  const { store, log } = s.deps;
  const j = s.journal;
  const known = new Set(store.accounts().map((a) => a.id));
  const now = s.clock();
  for (const a of s.deps.accounts.list) {
    if (known.has(a.id)) continue;
    j.append({ t: "account", id: a.id, mode: a.mode, ts: now }, true);
    j.append({ t: "cash", entry: { seq: 0, account: a.id, amountMicros: toMicros(s.deps.accounts.capital * a.share), ts: now, memo: "initial capital" } }, true);
  }
  await j.durable();
  for (const key of store.clientKeys()) s.clientIds.add(key);
  for (const a of store.accounts()) s.portfolio.addAccount(a.id);
  for (const c of store.cash()) s.portfolio.applyCash(c);
  const openOrders = store.openOrders();
  // A broker that charges per order (minimums, caps) needs each working order's fills so far.
  const fillsOf = new Map<string, CostedFill[]>(openOrders.map((o) => [o.id, []]));
  const fillSeqs = new Map<string, number[]>(openOrders.map((o) => [o.id, []]));
  for (const f of store.allFills()) {
    s.portfolio.applyFill(f);
    if (f.orderId !== undefined && fillsOf.has(f.orderId)) {
      fillsOf.get(f.orderId)!.push({ qty: f.qty, priceUnits: f.priceUnits, commissionMicros: f.commissionMicros, ts: f.ts });
      fillSeqs.get(f.orderId)!.push(f.seq);
    }
  }
  j.onCommit((records) => s.committed(records.at(-1)!.seq));

  const restore = new Map<Broker, RestoredOrder[]>();
  for (const o of openOrders) {
    const cfg = s.accountCfg.get(o.account);
    const inst = s.deps.market.instrument(o.symbol);
    if (!cfg || !inst) {
      log.error("open order of an unknown account or instrument left as it is", { orderId: o.id, account: o.account, symbol: o.symbol });
      continue;
    }
    const key = clientKey(o.account, o.clientOrderId);
    const live: Live = { order: o, snap: { ...o }, broker: s.deps.brokers[cfg.broker]!, sent: true, fillIds: new Set(store.fillIdsOf(o.id)), lastSeq: 0, key };
    s.live.set(o.id, live);
    s.byClient.set(key, live);
    s.openByAccount.get(o.account)!.add(live);
    const brokerOrder = toBrokerOrder(o, inst);
    if (o.tif === "DAY" && dayEndOf(s, live.broker, brokerOrder, o.createdTs) <= now) {
      s.apply(live, "expired", "expired", now, undefined, (x) => (x.reason = "session closed while the server was down"));
      continue;
    }
    if (o.status === "pending_replace") {
      s.apply(live, "modify_rejected", o.filledQty > 0 ? "partially_filled" : "accepted", now, undefined,
        (x) => (x.reason = "modify interrupted by a restart; send it again"));
    }
    const list = restore.get(live.broker) ?? [];
    const fills = fillsOf.get(o.id) ?? [];
    // A stock order modified after a fill is new for the commission minimum; only orders with fills need to know.
    const modifiedSeq = fills.length > 0 ? store.events(o.id).findLast((e) => e.kind === "replaced")?.seq ?? 0 : 0;
    const fillsBeforeModify = fillSeqs.get(o.id)?.filter((seq) => seq < modifiedSeq).length ?? 0;
    list.push({
      ...brokerOrder, placedMs: o.createdTs, fillsBeforeModify, filledQty: o.filledQty, triggered: o.triggered, brokerOrderId: o.brokerOrderId, fills,
      filledValueMicros: fills.reduce((sum, f) => sum + notionalMicros(f.priceUnits, f.qty, o.multiplier), 0),
      commissionMicros: fills.reduce((sum, f) => sum + f.commissionMicros, 0),
    });
    restore.set(live.broker, list);
  }
  for (const b of new Set(Object.values(s.deps.brokers))) {
    s.detach.push(b.onEvent((e) => onBrokerEvent(s, e)));
    await b.restore(restore.get(b) ?? []);
    await reconcile(s, b, store.lastFillTs());
  }
  for (const l of s.live.values()) if (l.order.status === "pending_cancel") l.broker.cancel(l.order.id);
  settleExpired(s, now);
  await j.durable();
}

/**
 * When a DAY order placed at `placedMs` ends: the broker's answer if it decides (paper), else
 * the calendar's close of the order's window — the regular close, or the after-hours close for
 * an order working outside regular hours (IBKR keeps such a DAY order until 20:00). Fixed by
 * when the order was placed, never by when the server restarted.
 */
function dayEndOf(s: OmsState, broker: Broker, o: BrokerOrder, placedMs: number): number {
  if (broker.dayEndMs) return broker.dayEndMs(o, placedMs);
  const window = windowOf(o);
  const session = s.deps.calendar.nextSession(placedMs, window);
  return window === "regular" ? session.closeMs : session.extendedCloseMs;
}

/** Applies executions the journal missed, then ends orders the broker no longer works. */
async function reconcile(s: OmsState, broker: Broker, lastFillTs: number): Promise<void> {
  // A minute of overlap: clocks differ, and fills already known are skipped by id.
  for (const f of await broker.executionsSince(Math.max(0, lastFillTs - 60_000))) onFill(s, f);
  const open = await broker.openOrders();
  const working = new Set(open.map((o) => o.orderId));
  // An order journaled as submitted just before a crash may never have had its accepted event
  // journaled; the broker working it is that acknowledgment.
  for (const b of open) {
    const l = s.live.get(b.orderId);
    if (l?.order.status === "submitted") {
      s.apply(l, "accepted", "accepted", s.clock(), { brokerOrderId: b.brokerOrderId }, (x) => (x.brokerOrderId = b.brokerOrderId));
    }
  }
  for (const l of [...s.live.values()]) {
    if (l.broker !== broker || isTerminal(l.order.status) || working.has(l.order.id)) continue;
    s.apply(l, "canceled", "canceled", s.clock(), undefined, (x) => (x.reason = "not working at the broker after a restart"));
  }
}

/**
 * Settles every held option that has expired at `nowMs` (skipping those whose underlying has no
 * mark). Assignments go first, then long puts, then long calls (settlementRank), so in a cash
 * account a long put delivers the shares held after assignments and a long call spends the cash
 * left after everything else; what they cannot deliver or pay for lapses.
 */
export function settleExpired(s: OmsState, nowMs: number): void {
  for (const account of s.portfolio.accounts()) {
    const expiring: [Position, Instrument][] = [];
    for (const p of s.portfolio.positionsOf(account)) {
      if (p.qty === 0) continue;
      const inst = s.deps.market.instrument(p.symbol);
      if (inst && inst.kind === "option" && optionExpired(inst, nowMs, s.deps.calendar)) expiring.push([p, inst]);
    }
    expiring.sort((a, b) => settlementRank(...a) - settlementRank(...b));
    const cashAccount = s.accountCfg.get(account)?.mode === "cash";
    for (const [p, inst] of expiring) {
      const u = inst.underlying ? s.marks(inst.underlying) : undefined;
      if (u === undefined) {
        s.deps.log.error("cannot settle an expired option: its underlying has no price", { account, symbol: p.symbol });
        continue;
      }
      for (const l of s.openByAccount.get(account) ?? []) if (l.order.symbol === p.symbol && l.sent) l.broker.cancel(l.order.id);
      const cash = cashAccount ? s.portfolio.ledger(account)!.cashMicros : undefined;
      const shares = cashAccount ? Math.max(0, s.portfolio.position(account, inst.underlying!)?.qty ?? 0) : undefined;
      const fills = settlementFills(p, inst, u, nowMs, { cashMicros: cash, sharesHeld: shares });
      const lapsed = fills.find((f) => f.kind === "lapse");
      if (lapsed && inst.right === "P") {
        s.deps.log.warn("in-the-money puts lapse: exercising them would leave the cash account short the stock",
          { account, symbol: p.symbol, contracts: p.qty, lapsed: lapsed.qty, shares, strike: inst.strike });
      } else if (lapsed) {
        s.deps.log.warn("in-the-money options lapse: exercising them would leave the cash account in deficit",
          { account, symbol: p.symbol, contracts: p.qty, lapsed: lapsed.qty, cash: (cash ?? 0) / 1e6, strike: inst.strike });
      }
      for (const f of fills) s.recordFill(f);
    }
  }
}
