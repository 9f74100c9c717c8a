// What the crash campaign compares: a snapshot of everything the server reports (orders, fills,
// positions, cash, trading state of every account), read while the orders did not change, and
// the comparisons of a snapshot with what the client knew before the kill, and with the
// snapshot taken before a kill of a quiet server.

import { isTerminal, type OrderStatus } from "../../src/domain/order.ts";
import type { FillView, OrderView, PositionView } from "../../src/client/protocol.ts";
import { ACCOUNTS, type Known } from "./crash-flood.ts";

/** Everything the server reports about the accounts. */
export interface Snapshot {
  orders: Map<string, OrderView>;
  fills: FillView[];
  /** Non-flat positions by account, symbol → qty. */
  positions: Map<string, Map<string, number>>;
  cash: Map<string, number>;
  deposits: Map<string, number>;
  states: Map<string, string>;
  /** Why each account is in its state. */
  reasons: Map<string, string>;
}

/** Differences found by one comparison; every count must be 0. */
export interface Diffs {
  /** Orders the client knew that are missing or went back (status, filled quantity, version). */
  lost: number;
  /** Fills the client was told of that are missing, plus fill quantity missing under an order's filled quantity. */
  fillsLost: number;
  /** Duplicated fill ids, orders with more fill quantity than filled, duplicated client order ids. */
  doubled: number;
  /** Accounts whose trading state differs from what it was. */
  stateChanges: number;
  /** Accounts whose cash differs from deposits plus fills, or from what it was. */
  cashDiffs: number;
  /** Positions that differ from the sum of the fills, or from what they were. */
  positionDiffs: number;
  /** A few lines describing the first differences. */
  notes: string[];
}

/** No differences. */
export function noDiffs(): Diffs {
  return { lost: 0, fillsLost: 0, doubled: 0, stateChanges: 0, cashDiffs: 0, positionDiffs: 0, notes: [] };
}

/** Adds `b` into `a`. */
export function addDiffs(a: Diffs, b: Diffs): void {
  a.lost += b.lost; a.fillsLost += b.fillsLost; a.doubled += b.doubled;
  a.stateChanges += b.stateChanges; a.cashDiffs += b.cashDiffs; a.positionDiffs += b.positionDiffs;
  for (const n of b.notes) if (a.notes.length < 20) a.notes.push(n);
}

const MAX_NOTES = 10;
function note(d: Diffs, text: string): void {
  if (d.notes.length < MAX_NOTES) d.notes.push(text);
}

/** Reads every page of a paged list. */
async function getAll<T>(url: string, key: string, field: string): Promise<T[]> {
  const out: T[] = [];
  for (let offset: number | null = 0; offset !== null;) {
    const r = await fetch(`${url}${url.includes("?") ? "&" : "?"}limit=1000&offset=${offset}`, { headers: { authorization: `Bearer ${key}` } });
    if (!r.ok) throw new Error(`GET ${url}: HTTP ${r.status} ${await r.text()}`);
    const page = (await r.json()) as Record<string, unknown> & { next: number | null };
    out.push(...(page[field] as T[]));
    offset = page.next;
  }
  return out;
}

async function getJson<T>(url: string, key: string): Promise<T> {
  const r = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  if (!r.ok) throw new Error(`GET ${url}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

/** Attempts at a snapshot during which the orders did not change, before giving up. */
const SNAPSHOT_ATTEMPTS = 100;

/** A snapshot read while the orders did not change (equal before and after reading the rest). */
export async function stableSnapshot(url: string, key: string): Promise<Snapshot> {
  const readOrders = async () => JSON.stringify(await getAll<OrderView>(`${url}/v1/orders`, key, "orders"));
  for (let attempt = 0; attempt < SNAPSHOT_ATTEMPTS; attempt++) {
    const before = await readOrders();
    const fills: FillView[] = [];
    const positions = new Map<string, Map<string, number>>();
    const cash = new Map<string, number>(), deposits = new Map<string, number>(), states = new Map<string, string>(), reasons = new Map<string, string>();
    for (const a of ACCOUNTS) {
      fills.push(...(await getAll<FillView>(`${url}/v1/accounts/${a}/fills`, key, "fills")));
      const p = await getJson<{ positions: PositionView[] }>(`${url}/v1/accounts/${a}/positions`, key);
      positions.set(a, new Map(p.positions.filter((x) => x.qty !== 0).map((x) => [x.symbol, x.qty])));
      const acct = await getJson<{ cash: number; deposits: number }>(`${url}/v1/accounts/${a}`, key);
      cash.set(a, acct.cash);
      deposits.set(a, acct.deposits);
      const risk = await getJson<{ state: string; stateReason: string }>(`${url}/v1/risk/${a}`, key);
      states.set(a, risk.state);
      reasons.set(a, risk.stateReason);
    }
    if (before === (await readOrders())) {
      return { orders: new Map((JSON.parse(before) as OrderView[]).map((o) => [o.id, o])), fills, positions, cash, deposits, states, reasons };
    }
  }
  throw new Error(`orders kept changing for ${SNAPSHOT_ATTEMPTS} snapshots`);
}

const RANK: Partial<Record<OrderStatus, number>> = { submitted: 1, accepted: 2, pending_cancel: 3, pending_replace: 3, partially_filled: 3 };

/** Checks a snapshot taken after a kill under flood against what the client knew, and against itself. */
export function checkAgainstKnown(known: Known, s: Snapshot): Diffs {
  const d = noDiffs();
  for (const [id, k] of known.orders) {
    const o = s.orders.get(id);
    let bad = "";
    if (!o) bad = "missing";
    else if (o.version < k.version) bad = `version ${k.version} → ${o.version}`;
    else if (o.filledQty < k.filledQty) bad = `filledQty ${k.filledQty} → ${o.filledQty}`;
    else if (isTerminal(k.status) && o.status !== k.status) bad = `status ${k.status} → ${o.status}`;
    else if (!isTerminal(o.status) && (RANK[o.status] ?? 0) < (RANK[k.status] ?? 0)) bad = `status ${k.status} → ${o.status}`;
    if (bad) (d.lost++, note(d, `order ${id} (${k.clientOrderId}): ${bad}`));
  }
  const fillIds = new Set(s.fills.map((f) => f.fillId));
  for (const id of known.fillIds) if (!fillIds.has(id)) (d.fillsLost++, note(d, `fill ${id} missing`));
  d.doubled += s.fills.length - fillIds.size;
  if (s.fills.length !== fillIds.size) note(d, `${s.fills.length - fillIds.size} duplicated fill ids`);
  const filledByOrder = new Map<string, number>();
  for (const f of s.fills) if (f.orderId) filledByOrder.set(f.orderId, (filledByOrder.get(f.orderId) ?? 0) + f.qty);
  const clientIds = new Set<string>();
  for (const o of s.orders.values()) {
    const sum = filledByOrder.get(o.id) ?? 0;
    if (sum < o.filledQty) (d.fillsLost++, note(d, `order ${o.id}: fills ${sum} < filled ${o.filledQty}`));
    if (sum > o.filledQty) (d.doubled++, note(d, `order ${o.id}: fills ${sum} > filled ${o.filledQty}`));
    const cid = `${o.account}/${o.clientOrderId}`;
    if (clientIds.has(cid)) (d.doubled++, note(d, `client order id ${cid} twice`));
    clientIds.add(cid);
  }
  for (const a of ACCOUNTS) {
    const net = new Map<string, number>();
    let flows = 0;
    for (const f of s.fills) {
      if (f.account !== a) continue;
      const sign = f.side === "buy" ? 1 : -1;
      net.set(f.symbol, (net.get(f.symbol) ?? 0) + sign * f.qty);
      flows -= sign * f.price * f.qty * f.multiplier + f.commission;
    }
    const held = s.positions.get(a)!;
    for (const sym of new Set([...net.keys(), ...held.keys()])) {
      if ((net.get(sym) ?? 0) !== (held.get(sym) ?? 0)) (d.positionDiffs++, note(d, `${a} ${sym}: position ${held.get(sym) ?? 0} ≠ fills ${net.get(sym) ?? 0}`));
    }
    const expected = s.deposits.get(a)! + flows;
    if (Math.abs(s.cash.get(a)! - expected) > 1e-4) (d.cashDiffs++, note(d, `${a}: cash ${s.cash.get(a)} ≠ deposits + fills ${expected}`));
    const before = known.states.get(a);
    if (before !== undefined && before !== s.states.get(a)) (d.stateChanges++, note(d, `${a}: state ${before} (${known.reasons.get(a)}) → ${s.states.get(a)} (${s.reasons.get(a)}) across the kill`));
  }
  return d;
}

/** Compares the snapshots before and after killing a quiet server: everything must be equal. */
export function checkUnchanged(before: Snapshot, after: Snapshot): Diffs {
  const d = noDiffs();
  for (const [id, b] of before.orders) {
    const a = after.orders.get(id);
    if (!a || a.status !== b.status || a.filledQty !== b.filledQty || a.version !== b.version) {
      d.lost++;
      note(d, `quiet restart: order ${id} ${b.status}/${b.filledQty}/v${b.version} → ${a ? `${a.status}/${a.filledQty}/v${a.version}` : "missing"}`);
    }
  }
  const ids = new Set(after.fills.map((f) => f.fillId));
  for (const f of before.fills) if (!ids.has(f.fillId)) (d.fillsLost++, note(d, `quiet restart: fill ${f.fillId} missing`));
  if (after.fills.length > before.fills.length) (d.doubled += after.fills.length - before.fills.length, note(d, `quiet restart: ${after.fills.length - before.fills.length} new fills`));
  for (const a of ACCOUNTS) {
    if (before.states.get(a) !== after.states.get(a)) (d.stateChanges++, note(d, `quiet restart: ${a} state ${before.states.get(a)} (${before.reasons.get(a)}) → ${after.states.get(a)} (${after.reasons.get(a)})`));
    if (Math.abs(before.cash.get(a)! - after.cash.get(a)!) > 1e-6) (d.cashDiffs++, note(d, `quiet restart: ${a} cash ${before.cash.get(a)} → ${after.cash.get(a)}`));
    const pb = before.positions.get(a)!, pa = after.positions.get(a)!;
    for (const sym of new Set([...pb.keys(), ...pa.keys()])) {
      if ((pb.get(sym) ?? 0) !== (pa.get(sym) ?? 0)) (d.positionDiffs++, note(d, `quiet restart: ${a} ${sym} ${pb.get(sym) ?? 0} → ${pa.get(sym) ?? 0}`));
    }
  }
  return d;
}
