// One client process of the soak campaign (bench/campaign/soak.ts): N WebSocket clients, each
// subscribed to a few symbols; some authenticate and watch an account (order, account and risk
// pushes). Each client churns at random on average every `churnMeanS` seconds: it re-subscribes
// to other symbols, reconnects (close, dial again, subscribe), or watches / unwatches. Quote
// frames are recognised without being decoded (like bench/e2e-client-fixture.ts); every other
// frame is decoded. Runs for `seconds`, closes everything and prints one JSON line of totals.
//
// usage: bun bench/campaign/soak-client-fixture.ts <wsUrl> <clients> <symbols,comma,separated> <seconds> <churnMeanS> <seed> <key|->

import { Unpackr } from "msgpackr";
import { Rng } from "../../src/domain/random.ts";

const [wsUrl, clientsArg, symArg, secondsArg, churnArg, seedArg, keyArg] = process.argv.slice(2);
const clients = Number(clientsArg);
const symbols = symArg!.split(",");
const seconds = Number(secondsArg);
const churnMeanS = Number(churnArg);
const key = keyArg && keyArg !== "-" ? keyArg : undefined;
const rng = new Rng(Number(seedArg));
const ACCOUNTS = ["Gen-Acc", "Rev-Acc", "Com-Acc"];
/** Symbols each client holds at a time. */
const PER_CLIENT = 3;
/** Share of clients that authenticate and watch an account. */
const WATCHERS = 0.1;
const CHURN_TICK_MS = 100;
/** Longest a dial may take before it counts as failed. */
const DIAL_TIMEOUT_MS = 15_000;
/** Pause before dialling again after the server closed a connection. */
const REDIAL_MS = 200;
let ending = false;

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const totals = {
  clients, quotes: 0, bytes: 0, other: 0, risk: 0, errors: {} as Record<string, number>, closes: {} as Record<string, number>,
  dials: 0, dialFailures: 0, dialFailureCauses: {} as Record<string, number>, redials: 0, resubscribes: 0, reconnects: 0, watchToggles: 0,
};

function count(m: Record<string, number>, k: string | number): void {
  m[k] = (m[k] ?? 0) + 1;
}

interface Client {
  ws: WebSocket | undefined;
  watcher: boolean;
  watching: string | undefined;
  symbols: string[];
  nextId: number;
  /** Closed by this process on purpose (churn or end), so its close is not unexpected. */
  leaving: boolean;
}

function pickSymbols(): string[] {
  const out = new Set<string>();
  while (out.size < PER_CLIENT) out.add(symbols[rng.int(symbols.length)]!);
  return [...out];
}

function send(c: Client, req: Record<string, unknown>): void {
  if (c.ws?.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify({ ...req, id: c.nextId++ }));
}

function onFrame(c: Client, data: string | ArrayBuffer): void {
  if (typeof data === "string") {
    if (data.startsWith('{"t":"q"')) return void (totals.quotes++, (totals.bytes += data.length));
    handleOther(c, JSON.parse(data) as { t: string; code?: string });
    return;
  }
  const b = new Uint8Array(data);
  if (b[0] === 0xde && b[3] === 0xa1 && b[4] === 0x74 && b[5] === 0xa1 && b[6] === 0x71) return void (totals.quotes++, (totals.bytes += b.length));
  handleOther(c, unpackr.unpack(b) as { t: string; code?: string });
}

function handleOther(c: Client, f: { t: string; code?: string }): void {
  totals.other++;
  if (f.t === "risk") totals.risk++;
  if (f.t === "error") count(totals.errors, f.code ?? "?");
  if (f.t === "authed" && c.watching) send(c, { op: "watch", accounts: [c.watching] });
}

/** Dials a client's connection and subscribes (and authenticates and watches, for a watcher). */
async function dial(c: Client): Promise<void> {
  totals.dials++;
  const ws = new WebSocket(`${wsUrl}?format=${rng.next() < 0.3 ? "msgpack" : "json"}`);
  ws.binaryType = "arraybuffer";
  c.ws = ws;
  c.leaving = false;
  const opened = Promise.withResolvers<boolean>();
  let cause = "timeout";
  const timer = setTimeout(() => opened.resolve(false), DIAL_TIMEOUT_MS);
  ws.onopen = () => opened.resolve(true);
  ws.onerror = () => void (cause = "error");
  ws.onmessage = (ev) => onFrame(c, ev.data as string | ArrayBuffer);
  ws.onclose = (ev) => {
    if (cause !== "open") {
      // Closed before it opened: a failed dial, which dial() counts and retries.
      cause = `closed ${ev.code}${ev.reason ? ` ${ev.reason}` : ""}`;
      return void opened.resolve(false);
    }
    if (c.ws !== ws || c.leaving) return;
    // Closed by the server (slow consumer, limit, restart): count it and dial again, as a real client would.
    count(totals.closes, ev.code);
    totals.redials++;
    setTimeout(() => void (ending || dial(c)), REDIAL_MS);
  };
  const ok = await opened.promise;
  clearTimeout(timer);
  if (!ok) {
    // Count why, and dial again as a real client would (the figure still counts the failure).
    totals.dialFailures++;
    count(totals.dialFailureCauses, cause);
    c.leaving = true;
    ws.close();
    if (!ending) setTimeout(() => void (ending || dial(c)), REDIAL_MS);
    return;
  }
  cause = "open";
  send(c, { op: "subscribe", symbols: c.symbols });
  if (c.watcher && key) send(c, { op: "auth", key });
}

function churn(c: Client): void {
  const r = rng.next();
  if (r < 0.4 || (!c.watcher && r < 0.7)) {
    totals.resubscribes++;
    send(c, { op: "unsubscribe", symbols: c.symbols });
    c.symbols = pickSymbols();
    send(c, { op: "subscribe", symbols: c.symbols });
  } else if (r < 0.7) {
    totals.watchToggles++;
    if (c.watching) (send(c, { op: "unwatch", accounts: [c.watching] }), (c.watching = undefined));
    else (c.watching = ACCOUNTS[rng.int(ACCOUNTS.length)]!, send(c, { op: "watch", accounts: [c.watching] }));
  } else {
    totals.reconnects++;
    c.leaving = true;
    c.ws?.close(1000);
    c.symbols = pickSymbols();
    void dial(c);
  }
}

const all: Client[] = Array.from({ length: clients }, () => {
  const watcher = key !== undefined && rng.next() < WATCHERS;
  return { ws: undefined, watcher, watching: watcher ? ACCOUNTS[rng.int(ACCOUNTS.length)] : undefined, symbols: pickSymbols(), nextId: 1, leaving: false };
});
// Dial in small groups so that 1,000 handshakes do not all land in the same millisecond.
for (let i = 0; i < all.length; i += 25) await Promise.all(all.slice(i, i + 25).map(dial));
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);

const started = performance.now();
const churnPerTick = (clients * CHURN_TICK_MS) / 1000 / churnMeanS;
let carry = 0;
const timer = setInterval(() => {
  carry += churnPerTick;
  for (; carry >= 1; carry--) churn(all[rng.int(all.length)]!);
}, CHURN_TICK_MS);
await Bun.sleep(seconds * 1000); // the soak window itself, not a wait for a condition
clearInterval(timer);
const elapsedS = (performance.now() - started) / 1000;
ending = true;
for (const c of all) (c.leaving = true, c.ws?.close(1000));
process.stdout.write(`${JSON.stringify({ ...totals, elapsedS })}\n`);
process.exit(0);
