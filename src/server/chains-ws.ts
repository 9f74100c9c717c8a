// Live option chains over /ws (src/options/chain-stream.ts does the pricing). Market data: the
// same access rule as subscribe (a connection that needs a key sends auth first). A subscribe is
// answered by the chain's snapshot; then, at most chains.publishHz times a second per chain,
// a chain frame with the rows whose quote or greeks changed. A connection over slowClientBytes
// of unsent data gets nothing new until it drains: its changed rows wait (one entry per row,
// at most the chain's rows) and it is then sent each at its latest state.
//
//   → {"op":"chain.subscribe","id":1,"underlying":"TSLA","expiry":"2026-12-11"}
//   ← {"t":"chain","id":1,"snapshot":true,"underlying":"TSLA","expiry":"2026-12-11","spot":…,"tYears":…,"rows":[…]}
//   ← {"t":"chain","snapshot":false,"underlying":"TSLA","expiry":"2026-12-11","spot":…,"tYears":…,"rows":[changed rows]}
//   → {"op":"chain.unsubscribe","id":2,"underlying":"TSLA","expiry":"2026-12-11"}   ← {"t":"chains","id":2,"chains":[]}

import { z } from "zod";
import type { ChainFrame, ErrorFrame, WsErrorCode } from "../client/protocol.ts";
import type { Engine } from "../engine/engine.ts";
import type { Logger } from "../log.ts";
import { ChainStreams, type LiveChain } from "../options/chain-stream.ts";
import { ChainBook, compactDate, isoDate, type ChainMarket, type ModelGreeksFeed } from "../options/chains.ts";
import { CHAINS_DEFAULTS, type ChainsConfig } from "../options/settings.ts";
import { parseBody } from "../oms/validate.ts";
import { GreeksEngine } from "../risk/greeks.ts";
import { DEFAULT_GREEKS_CONFIG } from "./greeks.ts";
import type { Hub, Socket } from "./hub.ts";
import type { WsExtension } from "./orders-ws.ts";

const OPS = new Set(["chain.subscribe", "chain.unsubscribe"]);
/** The live chain requests. */
export const chainRequestSchema = z.strictObject({
  op: z.enum(["chain.subscribe", "chain.unsubscribe"]),
  id: z.number().int().min(0).max(0xffff_ffff).optional(),
  underlying: z.string().min(1).max(32),
  expiry: z.string().refine((s) => compactDate(s) !== undefined, "must be a date YYYY-MM-DD"),
});

/** One connection's stream of one chain, with the rows it has not been sent yet. */
interface Sub {
  chain: LiveChain;
  pending: Set<number>;
}

/** Counters of the chain streams. */
export interface ChainsWsStats {
  /** Chain frames sent (snapshots and updates). */
  frames: number;
  /** Row states a slow connection never saw because a newer state replaced them. */
  conflatedRows: number;
}

/** The chain topic; see the file comment. */
export class ChainsWs implements WsExtension {
  readonly stats: ChainsWsStats = { frames: 0, conflatedRows: 0 };
  private readonly subs = new Map<Socket, Map<string, Sub>>();
  private readonly cfg: ChainsConfig;
  private streams: Promise<ChainStreams> | undefined;
  private ready: ChainStreams | undefined;
  private stopped = false;
  private detachIb: (() => void) | undefined;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly hub: Hub, private readonly engine: Engine, cfg: Partial<ChainsConfig> = {},
    private readonly log?: Logger, private readonly market: ChainMarket = DEFAULT_GREEKS_CONFIG,
    /** IBKR's model greeks (--feed ib) for the legs' ibDelta / ibIv; new values mark their rows changed. */
    private readonly ib?: ModelGreeksFeed) {
    this.cfg = { ...CHAINS_DEFAULTS, ...cfg };
    this.timer = setInterval(() => {
      try {
        this.flush();
      } catch (err) {
        this.log?.error("chain publish failed", { err });
      }
    }, 1000 / this.cfg.publishHz);
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** The chain ops. */
  readonly ops: readonly string[] = [...OPS];

  /** Claims the chain ops. */
  handles(value: unknown): boolean {
    return typeof value === "object" && value !== null && OPS.has((value as { op?: unknown }).op as string);
  }

  /** Subscribes or unsubscribes one chain. */
  handle(ws: Socket, value: unknown): void {
    const parsed = parseBody(chainRequestSchema, value);
    const rawId = (value as { id?: unknown }).id;
    const rid = Number.isInteger(rawId) && (rawId as number) >= 0 && (rawId as number) <= 0xffff_ffff ? (rawId as number) : undefined;
    if (!parsed.ok) return this.error(ws, "BAD_REQUEST", parsed.error.message, parsed.error.field, rid);
    const req = parsed.value;
    const expiry = compactDate(req.expiry)!;
    if (req.op === "chain.unsubscribe") return this.unsubscribe(ws, req.underlying, expiry, req.id);
    if (ws.data.needsKey) {
      return this.error(ws, "UNAUTHORIZED", 'market data needs an API key from this address: send {"op":"auth","key":…} first', undefined, req.id);
    }
    void this.subscribe(ws, req.underlying, expiry, req.id).catch((err) => this.log?.error("chain subscribe failed", { err }));
  }

  /** Releases a closed connection's chains. */
  closed(ws: Socket): void {
    const mine = this.subs.get(ws);
    if (!mine) return;
    this.subs.delete(ws);
    for (const s of mine.values()) this.ready?.close(s.chain);
  }

  /** Stops the publish timer and the streams. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.detachIb?.();
    this.ready?.stop();
    this.subs.clear();
  }

  /** Chains open now (shared between the connections streaming them), legs repriced in WASM and the batch calls that did it. */
  pricing(): { openChains: number; legsPriced: number; batches: number } {
    const r = this.ready;
    return { openChains: r?.size ?? 0, legsPriced: r?.legsPriced ?? 0, batches: r?.batches ?? 0 };
  }

  /**
   * One publish: reprices what changed and sends each connection its changed rows, skipping
   * (and keeping for later) the rows of a connection that is behind. The timer calls this at
   * publishHz; tests call it directly.
   */
  flush(): void {
    const streams = this.ready;
    if (!streams) return;
    const changes = streams.collect();
    if (changes.length === 0 && !this.anyPending()) return;
    const byChain = new Map(changes.map((c) => [c.chain, c.rows]));
    const slowBytes = this.hub.limits.slowClientBytes;
    for (const [ws, mine] of this.subs) {
      const behind = ws.getBufferedAmount() > slowBytes;
      for (const s of mine.values()) {
        const rows = byChain.get(s.chain);
        if (rows) for (const r of rows) {
          if (s.pending.has(r)) this.stats.conflatedRows++;
          else s.pending.add(r);
        }
        if (behind || s.pending.size === 0) continue;
        const sorted = [...s.pending].sort((a, b) => a - b);
        s.pending.clear();
        this.send(ws, s.chain, sorted.map((r) => s.chain.rows[r]!), false, undefined);
      }
    }
  }

  private anyPending(): boolean {
    for (const mine of this.subs.values()) for (const s of mine.values()) if (s.pending.size > 0) return true;
    return false;
  }

  private async subscribe(ws: Socket, underlying: string, expiry: string, rid: number | undefined): Promise<void> {
    const streams = await this.getStreams();
    if (ws.data.closed || this.stopped) return;
    let mine = this.subs.get(ws);
    const key = `${underlying}|${expiry}`;
    const held = mine?.get(key);
    if (held) return this.send(ws, held.chain, held.chain.rows, true, rid);
    const max = this.cfg.maxChainsPerConnection;
    if ((mine?.size ?? 0) >= max) {
      return this.error(ws, "TOO_MANY_SUBSCRIPTIONS", `this connection streams ${max} chains, the limit (chains.maxChainsPerConnection)`, undefined, rid);
    }
    const opened = streams.open(underlying, expiry);
    if (!("key" in opened)) return this.error(ws, opened.code, opened.message, opened.field, rid);
    if (!mine) this.subs.set(ws, (mine = new Map()));
    mine.set(key, { chain: opened, pending: new Set() });
    this.send(ws, opened, opened.rows, true, rid);
  }

  private unsubscribe(ws: Socket, underlying: string, expiry: string, rid: number | undefined): void {
    const mine = this.subs.get(ws);
    const key = `${underlying}|${expiry}`;
    const s = mine?.get(key);
    if (s) {
      mine!.delete(key);
      this.ready?.close(s.chain);
    }
    const chains = [...(mine?.values() ?? [])].map((x) => ({ underlying: x.chain.underlying, expiry: isoDate(x.chain.expiry) }));
    this.hub.send(ws, { t: "chains", ...(rid === undefined ? {} : { id: rid }), chains });
  }

  private getStreams(): Promise<ChainStreams> {
    this.streams ??= GreeksEngine.create(this.engine).then((g) => {
      const streams = new ChainStreams(this.engine, g, new ChainBook(this.engine), this.market, this.cfg.maxRowsPerChain, Date.now, this.ib?.greeks);
      // Stopped while the WASM region was being bound: follow no engine batches.
      if (this.stopped) streams.stop();
      else {
        this.ready = streams;
        if (this.ib) this.detachIb = this.ib.onChange((row) => streams.touch(row));
      }
      return streams;
    });
    return this.streams;
  }

  private send(ws: Socket, chain: LiveChain, rows: ChainFrame["rows"], snapshot: boolean, rid: number | undefined): void {
    const frame: ChainFrame = {
      t: "chain", ...(rid === undefined ? {} : { id: rid }), snapshot, underlying: chain.underlying, expiry: isoDate(chain.expiry),
      spot: chain.spot, tYears: chain.tYears, rows,
    };
    this.stats.frames++;
    this.hub.send(ws, frame);
  }

  private error(ws: Socket, code: WsErrorCode, message: string, field: string | undefined, rid: number | undefined): void {
    const frame: ErrorFrame = { t: "error", code, message };
    if (field !== undefined) frame.field = field;
    if (rid !== undefined) frame.id = rid;
    this.hub.send(ws, frame);
  }
}
