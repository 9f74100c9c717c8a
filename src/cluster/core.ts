// The core's side of the bus (role core): after each engine batch every changed row is published
// once, as the MessagePack quote frame, on its symbol's subject; the instrument table and
// snapshots are answered by request/reply. While NATS is down nothing is published or queued:
// edges resnapshot when the bus returns, so a backlog would only be stale.

import type { Msg, NatsConnection } from "@nats-io/transport-node";
import type { Engine } from "../engine/engine.ts";
import type { Logger } from "../log.ts";
import type { MetricsRegistry } from "../monitor/registry.ts";
import { quoteMsgpack } from "../server/quote-codec.ts";
import { serveForwardedHttp, type CoreFetch, type CoreHttpStats } from "./core-http.ts";
import { CoreWs, type CoreWsTarget } from "./core-ws.ts";
import { NatsLink } from "./nats.ts";
import { INSTRUMENT_PAGE, quoteSubject, RPC_INSTRUMENTS, RPC_SNAPSHOT, SNAPSHOT_BATCH, type InstrumentsReply, type SnapshotReply } from "./wire.ts";

/** Counters of the core's publishing. */
export interface CoreLinkStats {
  published: number;
  requests: number;
  badRequests: number;
}

/** The core's publisher and responder; see the file comment. */
export class CoreLink {
  readonly stats: CoreLinkStats = { published: 0, requests: 0, badRequests: 0 };
  /** Counters of the REST requests edges forwarded. */
  readonly http: CoreHttpStats = { forwarded: 0, refused: 0 };
  readonly link: NatsLink;
  private readonly subjects: string[] = [];
  private detach: (() => void) | undefined;

  /** Edge clients' WebSocket sessions, when the core serves them. */
  readonly ws: CoreWs | undefined;
  private readonly fetch: CoreFetch | undefined;
  private readonly bootId = crypto.randomUUID();
  private sweep: ReturnType<typeof setInterval> | undefined;

  /**
   * `serve.fetch` (the core's REST routes) answers the edges' forwarded REST requests and
   * `serve.ws` (its hub and extensions) their clients' WebSocket ops; without them those get no responder.
   */
  constructor(private readonly engine: Engine, servers: string[], private readonly coreUrl: string, private readonly log: Logger,
    serve: { fetch?: CoreFetch; ws?: CoreWsTarget } = {}) {
    this.link = new NatsLink(servers, "alluse-core", log);
    this.fetch = serve.fetch;
    this.ws = serve.ws ? new CoreWs(serve.ws, log) : undefined;
  }

  /** Starts connecting and publishing; returns at once. */
  start(): void {
    this.link.start((nc) => this.serve(nc));
    this.detach = this.engine.onBatch(this.onBatch);
    if (this.ws) this.sweep = setInterval(() => this.ws!.sweep(), 1000);
  }

  /** Engine batch listener: one publish per changed row, nothing while the bus is down. */
  private readonly onBatch = (changed: Uint32Array): void => {
    const nc = this.link.nc;
    if (!nc || !this.link.up) return;
    const engine = this.engine;
    for (let i = 0; i < changed.length; i++) {
      const row = changed[i]!;
      const subject = (this.subjects[row] ??= quoteSubject(engine.instruments[row]!.symbol));
      nc.publish(subject, quoteMsgpack(engine.quote(row), false));
    }
    this.stats.published += changed.length;
  };

  private serve(nc: NatsConnection): void {
    nc.subscribe(RPC_INSTRUMENTS, { callback: (err, msg) => err ? undefined : this.answer(msg, () => this.instruments(msg)) });
    nc.subscribe(RPC_SNAPSHOT, { callback: (err, msg) => err ? undefined : this.answer(msg, () => this.snapshot(msg)) });
    if (this.fetch) serveForwardedHttp(nc, this.fetch, this.http, this.log);
    this.ws?.serve(nc);
  }

  /** Replies with the handler's body, or with {error} for a request it cannot read; never throws. */
  private answer(msg: Msg, handle: () => unknown): void {
    this.stats.requests++;
    let body: unknown;
    try {
      body = handle();
    } catch (err) {
      this.stats.badRequests++;
      this.log.warn("refused a bad request from an edge", { subject: msg.subject, reason: (err as Error).message });
      body = { error: (err as Error).message };
    }
    msg.respond(JSON.stringify(body));
  }

  private instruments(msg: Msg): InstrumentsReply {
    const req = msg.data.length > 0 ? (msg.json() as { offset?: unknown; edge?: unknown }) : {};
    const offset = req.offset ?? 0;
    if (typeof req.edge === "string" && req.edge.length <= 64) this.ws?.seen(req.edge);
    if (typeof offset !== "number" || !Number.isInteger(offset) || offset < 0) throw new Error("offset must be a non-negative integer");
    const all = this.engine.instruments;
    const instruments = all.slice(offset, offset + INSTRUMENT_PAGE);
    const end = offset + instruments.length;
    return { instruments, total: all.length, next: end < all.length ? end : null, coreUrl: this.coreUrl, bootId: this.bootId };
  }

  private snapshot(msg: Msg): SnapshotReply {
    const req = msg.json() as { symbols?: unknown };
    const symbols = req.symbols;
    if (!Array.isArray(symbols) || symbols.length > SNAPSHOT_BATCH || !symbols.every((s) => typeof s === "string")) {
      throw new Error(`symbols must be a list of at most ${SNAPSHOT_BATCH} symbols`);
    }
    const quotes = [];
    for (const s of symbols as string[]) {
      const inst = this.engine.instrument(s);
      if (inst) quotes.push(this.engine.quote(inst.index));
    }
    return { quotes };
  }

  /** Registers the core's bus metrics. */
  registerMetrics(registry: MetricsRegistry): void {
    registry.scrape({ name: "alluse_nats_connected", help: "1 while this node is connected to NATS.", type: "gauge", collect: (e) => e(this.link.up ? 1 : 0) });
    registry.scrape({ name: "alluse_nats_quotes_published_total", help: "Quote messages the core published on NATS.", type: "counter", collect: (e) => e(this.stats.published) });
    registry.scrape({ name: "alluse_nats_requests_total", help: "Requests from edges the core answered (instruments, snapshots).", type: "counter", collect: (e) => e(this.stats.requests) });
    registry.scrape({ name: "alluse_nats_edge_sessions", help: "Edge clients' WebSocket sessions the core holds (stand-in connections).", type: "gauge", collect: (e) => e(this.ws?.connections ?? 0) });
    registry.scrape({ name: "alluse_nats_http_forwarded_total", help: "REST requests edges forwarded that the core answered.", type: "counter", collect: (e) => e(this.http.forwarded) });
  }

  /** Stops publishing and closes the connection. */
  async stop(): Promise<void> {
    this.detach?.();
    clearInterval(this.sweep);
    this.ws?.stop();
    await this.link.stop();
  }
}
