// The edge's fan-out: the same Hub, plus a count of connections per row so the edge's quote
// table subscribes a symbol's NATS subject when its first client arrives and drops it when the
// last leaves, and snapshots held back until a cold row has the core's state. Only subscribe,
// unsubscribe, close and snapshot paths are extended: batch publishing is the Hub's own.

import { Hub, type Socket } from "../server/hub.ts";
import type { ServerLimits } from "../server/limits.ts";
import type { EdgeQuotes } from "./edge-quotes.ts";

/** Hub with interest-based NATS subscriptions; see the file comment. */
export class EdgeHub extends Hub {
  private readonly holders: Uint32Array;
  /** Per cold row: connections whose snapshot waits for the row's first quote. */
  private readonly waiting = new Map<number, Set<Socket>>();

  constructor(private readonly quotes: EdgeQuotes, limits: ServerLimits) {
    super(quotes, limits);
    this.holders = new Uint32Array(quotes.options.maxInstruments);
    quotes.onWarm((row) => this.warmed(row));
  }

  /** Subscribes as the Hub does; a row's first holder makes the edge want it. */
  override subscribe(ws: Socket, rows: readonly number[]): number[] {
    const added = super.subscribe(ws, rows);
    for (const row of added) if (this.holders[row]!++ === 0) this.quotes.want(row);
    return added;
  }

  /** Unsubscribes as the Hub does; a row's last holder leaving releases it. */
  override unsubscribe(ws: Socket, rows: readonly number[]): void {
    const held = rows.filter((row) => ws.data.symbols.has(row));
    super.unsubscribe(ws, rows);
    this.drop(ws, held);
  }

  /** Forgets the socket as the Hub does, releasing the rows only it held. */
  override closed(ws: Socket): void {
    const held = [...ws.data.symbols];
    super.closed(ws);
    if (ws.data.symbols.size === 0) this.drop(ws, held);
  }

  private drop(ws: Socket, rows: readonly number[]): void {
    for (const row of rows) {
      this.waiting.get(row)?.delete(ws);
      if (--this.holders[row]! === 0) {
        this.waiting.delete(row);
        this.quotes.release(row);
      }
    }
  }

  /** Sends the snapshot now, or once a cold row has the core's state. */
  override sendSnapshot(ws: Socket, row: number): boolean {
    if (!this.quotes.isCold(row)) return super.sendSnapshot(ws, row);
    let set = this.waiting.get(row);
    if (!set) this.waiting.set(row, (set = new Set()));
    set.add(ws);
    return true;
  }

  private warmed(row: number): void {
    const set = this.waiting.get(row);
    if (!set) return;
    this.waiting.delete(row);
    for (const ws of set) if (!ws.data.closed && ws.data.symbols.has(row)) super.sendSnapshot(ws, row);
  }

  /** Connections holding a row now (tests and metrics). */
  holdersOf(row: number): number {
    return this.holders[row]!;
  }
}
