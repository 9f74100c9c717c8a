// The order flood of the crash campaign: REST workers and WebSocket order connections placing,
// modifying and cancelling orders on two accounts, plus one WebSocket connection watching every
// account. What the client learns is recorded as "known": every order state acknowledged to it
// (REST replies, WebSocket replies and pushes, which the server sends only once durable), every
// fill pushed to it, and the last trading state and cash pushed for each account. The flood
// SIGKILLs the server after a seeded number of acknowledgments and returns what it knew.

import { Rng } from "../../src/domain/random.ts";
import { isTerminal } from "../../src/domain/order.ts";
import type { OrderView } from "../../src/client/protocol.ts";
import type { ServerProc } from "./proc.ts";

/** Accounts the flood trades on; the third configured account (Com-Acc) is watched, never traded. */
export const TRADED = ["Gen-Acc", "Rev-Acc"] as const;
/** Every account watched and checked. */
export const ACCOUNTS = ["Gen-Acc", "Rev-Acc", "Com-Acc"] as const;
/** Stocks traded. */
export const SYMBOLS = ["AAPL", "MSFT"] as const;
const REST_WORKERS = 12;
const WS_CONNECTIONS = 2;
/** Requests one WebSocket order connection keeps in flight. */
const WS_IN_FLIGHT = 8;

/** What the client knows once the server is gone. */
export interface Known {
  /** Every order the client heard of, at the highest version it saw. */
  orders: Map<string, OrderView>;
  /** Fill ids pushed to the watcher. */
  fillIds: Set<string>;
  /** Last trading state pushed per account (risk frames). */
  states: Map<string, string>;
  /** The reason given with it. */
  reasons: Map<string, string>;
  /** Acknowledgments in this flood (REST and WebSocket replies). */
  acks: number;
}

/** Creates an empty record of what the client knows. */
export function emptyKnown(): Known {
  return { orders: new Map(), fillIds: new Set(), states: new Map(), reasons: new Map(), acks: 0 };
}

/** Keeps the highest version of an order the client saw. */
function learn(known: Known, o: OrderView): void {
  const prev = known.orders.get(o.id);
  if (!prev || o.version > prev.version) known.orders.set(o.id, o);
}

/** Flood parameters. */
export interface FloodPlan {
  /** Acknowledgments (replies to this flood's requests) after which the server is killed. */
  killAfterAcks: number;
  /** Prefix of client order ids, unique per flood. */
  tag: string;
  /** Mid price per symbol, to put limit orders inside the price band but away from the touch. */
  mids: Record<string, number>;
  /** Orders resting from earlier floods, candidates for cancel and modify. */
  resting: string[];
}

function tick(p: number): number {
  return Math.round(p * 100) / 100;
}

/** Runs one flood until the kill, then waits for the process to be gone. */
export async function flood(s: ServerProc, key: string, rng: Rng, plan: FloodPlan, known: Known): Promise<void> {
  let killed = false;
  let seq = 0;
  const resting = plan.resting;
  const net = new Map<string, number>();
  const acked = (o: OrderView) => {
    learn(known, o);
    known.acks++;
    if (o.type === "limit" && !isTerminal(o.status)) resting.push(o.id);
    if (o.type === "market" && o.filledQty > 0) {
      const k = `${o.account}/${o.symbol}`;
      net.set(k, (net.get(k) ?? 0) + (o.side === "buy" ? o.filledQty : -o.filledQty));
    }
    if (known.acks >= plan.killAfterAcks && !killed) {
      killed = true;
      s.proc.kill("SIGKILL");
    }
  };
  /** One random request: a cancel, a modify, a limit or a market order. */
  const nextRequest = (): { kind: "cancel"; id: string } | { kind: "modify"; id: string; changes: { limitPrice: number } } | { kind: "submit"; order: Record<string, unknown> } => {
    const roll = rng.next();
    if (roll < 0.15 && resting.length > 0) return { kind: "cancel", id: resting.splice(rng.int(resting.length), 1)[0]! };
    if (roll < 0.22 && resting.length > 0) {
      const id = resting[rng.int(resting.length)]!;
      const o = known.orders.get(id);
      const mid = plan.mids[o?.symbol ?? "AAPL"]!;
      return { kind: "modify", id, changes: { limitPrice: tick(o?.side === "sell" ? mid * (1.04 + rng.next() * 0.04) : mid * (0.92 + rng.next() * 0.04)) } };
    }
    const account = TRADED[rng.int(TRADED.length)]!;
    const symbol = SYMBOLS[rng.int(SYMBOLS.length)]!;
    const held = net.get(`${account}/${symbol}`) ?? 0;
    // Lean towards flat so that neither buying power nor short-sale rules deny the whole flood.
    const side = rng.next() < (held > 100 ? 0.25 : held < -100 ? 0.75 : 0.55) ? "buy" : "sell";
    const limit = roll < 0.45;
    const mid = plan.mids[symbol]!;
    const order: Record<string, unknown> = { account, clientOrderId: `${plan.tag}-${seq++}`, symbol, side, type: limit ? "limit" : "market", qty: 1 + rng.int(20), tif: limit ? "GTC" : "DAY" };
    if (limit) order.limitPrice = tick(side === "buy" ? mid * (0.92 + rng.next() * 0.04) : mid * (1.04 + rng.next() * 0.04));
    return { kind: "submit", order };
  };

  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const restWorker = async (): Promise<void> => {
    while (!killed) {
      const r = nextRequest();
      let res: Response;
      try {
        if (r.kind === "cancel") res = await fetch(`${s.url}/v1/orders/${r.id}`, { method: "DELETE", headers });
        else if (r.kind === "modify") res = await fetch(`${s.url}/v1/orders/${r.id}`, { method: "PATCH", headers, body: JSON.stringify(r.changes) });
        else res = await fetch(`${s.url}/v1/orders`, { method: "POST", headers, body: JSON.stringify(r.order) });
      } catch {
        return; // the server is gone: this request was never acknowledged
      }
      const body = (await res.json().catch(() => undefined)) as OrderView | undefined;
      if (res.status >= 500 && !killed) throw new Error(`HTTP ${res.status} from the server under flood: ${JSON.stringify(body)}`);
      if ((res.status === 200 || res.status === 201) && body && !killed) acked(body);
    }
  };

  const watcher = await openWs(s.wsUrl, key, (f) => {
    if (f.t === "order" && f.order) learn(known, f.order);
    else if (f.t === "fill" && f.fill) known.fillIds.add(f.fill.fillId);
    else if (f.t === "risk" && f.risk) (known.states.set(f.risk.account, f.risk.state), known.reasons.set(f.risk.account, f.risk.stateReason));
  });
  await watcher.request({ op: "watch", accounts: [...ACCOUNTS] });
  const wsWorker = async (): Promise<void> => {
    let conn: WsConn;
    try {
      conn = await openWs(s.wsUrl, key, () => undefined);
    } catch {
      return;
    }
    const lane = async (): Promise<void> => {
      while (!killed) {
        const r = nextRequest();
        const req = r.kind === "cancel" ? { op: "cancel", orderId: r.id } : r.kind === "modify" ? { op: "modify", orderId: r.id, changes: r.changes } : { op: "submit", order: r.order };
        const reply = await conn.request(req).catch(() => undefined);
        if (!reply) return;
        if (reply.t === "order" && reply.order && !killed) acked(reply.order);
      }
    };
    await Promise.all(Array.from({ length: WS_IN_FLIGHT }, lane));
  };
  await Promise.all([...Array.from({ length: REST_WORKERS }, restWorker), ...Array.from({ length: WS_CONNECTIONS }, wsWorker)]);
  await s.proc.exited;
  watcher.close();
}

/** A frame the flood reads. */
interface Frame {
  t: string;
  id?: number;
  order?: OrderView;
  fill?: { fillId: string };
  risk?: { account: string; state: string; stateReason: string };
  code?: string;
  message?: string;
}

/** An authenticated JSON WebSocket with request/reply by id. */
interface WsConn {
  request(req: Record<string, unknown>): Promise<Frame>;
  close(): void;
}

/** Opens a WebSocket, authenticates with `key`, and routes replies by id; other frames go to `onPush`. */
async function openWs(url: string, key: string, onPush: (f: Frame) => void): Promise<WsConn> {
  const ws = new WebSocket(`${url}?format=json`);
  const pending = new Map<number, PromiseWithResolvers<Frame>>();
  let nextId = 1;
  const opened = Promise.withResolvers<void>();
  const failAll = () => {
    for (const p of pending.values()) p.reject(new Error("connection closed"));
    pending.clear();
  };
  ws.onopen = () => opened.resolve();
  ws.onerror = () => opened.reject(new Error("websocket error"));
  ws.onclose = () => (opened.reject(new Error("closed")), failAll());
  ws.onmessage = (ev) => {
    const f = JSON.parse(ev.data as string) as Frame;
    const p = f.id !== undefined ? pending.get(f.id) : undefined;
    if (p) (pending.delete(f.id!), p.resolve(f));
    if (f.id === undefined) onPush(f);
  };
  await opened.promise;
  const conn: WsConn = {
    request(req) {
      if (ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error("not open"));
      const id = nextId++;
      const p = Promise.withResolvers<Frame>();
      pending.set(id, p);
      ws.send(JSON.stringify({ ...req, id }));
      return p.promise;
    },
    close: () => ws.close(),
  };
  const authed = await conn.request({ op: "auth", key });
  if (authed.t !== "authed") throw new Error(`auth refused: ${JSON.stringify(authed)}`);
  return conn;
}
