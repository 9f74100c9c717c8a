// A lean HTTP/1.1 load client for the order benchmark: keep-alive connections over Bun.connect,
// one request in flight per connection, requests written on the caller's turn (no client
// thread between the bench and the socket). fetch() hands each request to Bun's HTTP client
// thread and back, which on two shared cores cost the server as much CPU as its own order path
// and added its own wake-ups to every round trip; this client writes bytes and parses the
// status line and Content-Length, nothing else. Bench-only: it understands exactly the replies
// Bun.serve gives a JSON route (Content-Length bodies, no chunking) and fails loudly on others.

import type { Socket } from "bun";

/** One reply: its status, and when the request's bytes were handed to the kernel. */
export interface RawReply {
  status: number;
  /** performance.now() when the request was written (after any wait for a free connection). */
  sentAt: number;
}

interface Conn {
  socket: Socket<undefined>;
  buf: string;
  /** Resolves the request in flight on this connection. */
  pending?: { resolve: (r: RawReply) => void; reject: (e: Error) => void; sentAt: number };
}

/** A pool of keep-alive connections to one server; at most `max` open, requests beyond that wait in FIFO order. */
export class RawHttpPool {
  private readonly idle: Conn[] = [];
  private readonly waiting: (() => void)[] = [];
  private open = 0;
  private readonly host: string;
  private readonly port: number;

  constructor(url: string, private readonly headers: Record<string, string>, private readonly max = 64) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port);
  }

  /** POSTs `body` (JSON text) to `path`; resolves with the status once the whole reply arrived. */
  async post(path: string, body: string): Promise<RawReply> {
    const conn = await this.take();
    let head = `POST ${path} HTTP/1.1\r\nhost: ${this.host}:${this.port}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
    for (const [k, v] of Object.entries(this.headers)) head += `${k}: ${v}\r\n`;
    const { promise, resolve, reject } = Promise.withResolvers<RawReply>();
    conn.pending = { resolve, reject, sentAt: performance.now() };
    const text = `${head}\r\n${body}`;
    const wrote = conn.socket.write(text);
    // Loopback with an empty send buffer takes a ~300-byte request whole; anything else is a bench fault.
    if (wrote !== Buffer.byteLength(text)) throw new Error(`raw-http: short write (${wrote} bytes)`);
    try {
      return await promise;
    } finally {
      this.give(conn);
    }
  }

  /** Closes every connection. */
  close(): void {
    for (const c of this.idle) c.socket.end();
    this.idle.length = 0;
  }

  private async take(): Promise<Conn> {
    const c = this.idle.pop();
    if (c) return c;
    if (this.open < this.max) {
      this.open++;
      return this.connect();
    }
    await new Promise<void>((r) => this.waiting.push(r));
    return this.take();
  }

  private give(c: Conn): void {
    this.idle.push(c);
    this.waiting.shift()?.();
  }

  private async connect(): Promise<Conn> {
    const conn = { buf: "" } as Conn;
    conn.socket = await Bun.connect({
      hostname: this.host,
      port: this.port,
      socket: {
        data: (_s, data) => {
          conn.buf += data.toString("latin1");
          const end = conn.buf.indexOf("\r\n\r\n");
          if (end < 0) return;
          const head = conn.buf.slice(0, end);
          const length = /\r\ncontent-length: *(\d+)/i.exec(head);
          if (!length) return conn.pending?.reject(new Error(`raw-http: reply without Content-Length: ${head.slice(0, 200)}`));
          if (conn.buf.length < end + 4 + Number(length[1])) return;
          conn.buf = conn.buf.slice(end + 4 + Number(length[1]));
          const p = conn.pending;
          conn.pending = undefined;
          p?.resolve({ status: Number(head.slice(9, 12)), sentAt: p.sentAt });
        },
        close: () => conn.pending?.reject(new Error("raw-http: connection closed with a request in flight")),
        error: (_s, err) => conn.pending?.reject(err),
      },
    });
    return conn;
  }
}
