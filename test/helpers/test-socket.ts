// A recording WebSocket client over the global WebSocket: sends requests in its format, keeps
// every decoded frame, and waits for frames by predicate with a bound.

import { Packr, Unpackr } from "msgpackr";
import type { QuoteFrame, ServerFrame, WireFormat } from "../../src/client/protocol.ts";
import { waitFor } from "./wait.ts";

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** A test connection to /ws. */
export class TestSocket {
  readonly frames: ServerFrame[] = [];
  /** Binary frames received by a JSON client, or text frames by a MessagePack one (should stay 0). */
  wrongKind = 0;
  close: { code: number; reason: string } | undefined;
  private cursor = 0;

  private constructor(readonly ws: WebSocket, readonly format: WireFormat) {
    ws.binaryType = "arraybuffer";
    ws.onmessage = (e) => {
      const text = typeof e.data === "string";
      if (text !== (format === "json")) this.wrongKind++;
      this.frames.push(text ? JSON.parse(e.data) : unpackr.unpack(new Uint8Array(e.data as ArrayBuffer)));
    };
    ws.onclose = (e) => (this.close = { code: e.code, reason: e.reason });
  }

  /** Connects and waits for the welcome frame. */
  static async open(wsUrl: string, format: WireFormat = "json", timeoutMs = 5000): Promise<TestSocket> {
    const s = new TestSocket(new WebSocket(`${wsUrl}?format=${format}`), format);
    await s.next((f) => f.t === "welcome", timeoutMs);
    return s;
  }

  /** Sends a request encoded in this socket's format. */
  send(body: unknown): void {
    if (this.format === "msgpack") this.ws.send(packr.pack(body) as Uint8Array<ArrayBuffer>);
    else this.ws.send(JSON.stringify(body));
  }

  /** The first frame after the previous match that satisfies `pred`; later calls continue after it. */
  async next<T extends ServerFrame = ServerFrame>(pred: (f: ServerFrame) => boolean, timeoutMs = 5000): Promise<T> {
    let found = -1;
    await waitFor(() => {
      for (let i = this.cursor; i < this.frames.length; i++) if (pred(this.frames[i]!)) return (found = i) >= 0;
      return false;
    }, timeoutMs, `a matching frame (have ${this.frames.length})`);
    this.cursor = found + 1;
    return this.frames[found] as T;
  }

  /** Reply frame (ack, pong or error) to request `id`. */
  reply<T extends ServerFrame = ServerFrame>(id: number, timeoutMs = 5000): Promise<T> {
    return this.next<T>((f) => (f.t === "ack" || f.t === "pong" || f.t === "error") && f.id === id, timeoutMs);
  }

  /** Every quote frame received so far, optionally for one symbol. */
  quotes(symbol?: string): QuoteFrame[] {
    return this.frames.filter((f): f is QuoteFrame => f.t === "q" && (symbol === undefined || f.s === symbol));
  }

  /** Waits for the server to close the connection. */
  async closed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    await waitFor(() => this.close !== undefined, timeoutMs, "the socket to close");
    return this.close!;
  }

  /** Closes the socket if still open. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.close) return;
    this.ws.close();
    await waitFor(() => this.close !== undefined, 2000, "the socket to close").catch(() => undefined);
  }
}
