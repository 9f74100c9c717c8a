// A WebSocket client written by hand over node:net, for what a well-behaved client library
// cannot do: stop reading (pause) so the server sees a slow consumer, count raw bytes, and
// send arbitrary frames.

import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

/** The server answered the upgrade with something other than 101. */
export class HandshakeRefused extends Error {
  readonly status: number;
  constructor(readonly head: string, readonly body: string) {
    super(`handshake refused: ${head.split("\r\n")[0]}`);
    this.status = Number(head.split(" ")[1]);
  }
}

/** One frame from the server. */
export interface RawFrame {
  opcode: number;
  payload: Buffer;
}

/** A raw WebSocket connection; frames are parsed as they arrive while not paused. */
export class RawWs {
  readonly frames: RawFrame[] = [];
  /** Close code from the server's close frame, once seen. */
  closeCode: number | undefined;
  closeReason = "";
  /** True once the TCP connection ended. */
  ended = false;
  bytesReceived = 0;
  private buf: Buffer = Buffer.alloc(0);

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("close", () => (this.ended = true));
    socket.on("error", () => (this.ended = true));
  }

  /** Connects and completes the opening handshake; `url` is a ws:// URL with path and query. */
  static async connect(url: string, timeoutMs = 5000): Promise<RawWs> {
    const u = new URL(url);
    const socket = connect({ host: u.hostname, port: Number(u.port) });
    const key = randomBytes(16).toString("base64");
    const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
    return await new Promise<RawWs>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("raw handshake timed out")), timeoutMs);
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        const text = head.subarray(0, end).toString("latin1");
        if (!text.startsWith("HTTP/1.1 101") || !text.includes(accept)) {
          const length = Number(/content-length: *(\d+)/i.exec(text)?.[1] ?? 0);
          if (head.length < end + 4 + length) return;
          socket.off("data", onData);
          clearTimeout(timer);
          socket.destroy();
          reject(new HandshakeRefused(text, head.subarray(end + 4, end + 4 + length).toString("utf8")));
          return;
        }
        socket.off("data", onData);
        clearTimeout(timer);
        const ws = new RawWs(socket);
        const rest = head.subarray(end + 4);
        if (rest.length > 0) ws.onData(rest);
        resolve(ws);
      };
      socket.on("data", onData);
      socket.once("error", (e) => { clearTimeout(timer); reject(e); });
      socket.once("connect", () => {
        socket.write(
          `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      });
    });
  }

  /** Stops reading from the socket: the kernel buffers fill and the server's sends back up. */
  pause(): void {
    this.socket.pause();
  }

  /** Reads again. */
  resume(): void {
    this.socket.resume();
  }

  /** Sends a masked text frame. */
  sendText(text: string): void {
    this.sendFrame(0x1, Buffer.from(text));
  }

  /** Sends a masked binary frame. */
  sendBinary(bytes: Uint8Array): void {
    this.sendFrame(0x2, Buffer.from(bytes));
  }

  /** Sends one masked frame with FIN set. */
  sendFrame(opcode: number, payload: Buffer): void {
    const n = payload.length;
    const header = n < 126 ? Buffer.from([0x80 | opcode, 0x80 | n])
      : n < 65536 ? Buffer.from([0x80 | opcode, 0x80 | 126, n >> 8, n & 0xff])
      : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), u64(n)]);
    const mask = randomBytes(4);
    const body = Buffer.alloc(n);
    for (let i = 0; i < n; i++) body[i] = payload[i]! ^ mask[i & 3]!;
    this.socket.write(Buffer.concat([header, mask, body]));
  }

  /** Text frames decoded as JSON. */
  json(): Array<Record<string, unknown>> {
    return this.frames.filter((f) => f.opcode === 0x1).map((f) => JSON.parse(f.payload.toString("utf8")));
  }

  /** Drops the TCP connection without a close handshake. */
  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.buf.length < 2) return;
      const opcode = this.buf[0]! & 0x0f;
      let len = this.buf[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        at = 10;
      }
      if (this.buf.length < at + len) return;
      const payload = this.buf.subarray(at, at + len);
      this.buf = this.buf.subarray(at + len);
      if (opcode === 0x8) {
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.closeReason = payload.subarray(2).toString("utf8");
      }
      this.frames.push({ opcode, payload: Buffer.from(payload) });
    }
  }
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}
