// MarketClient's frame encoding (split out of client.ts): requests encoded and server frames
// decoded in the wire format chosen at connect, JSON text or MessagePack binary.

import { Packr, Unpackr } from "msgpackr";
import type { ClientRequest, ServerFrame, WireFormat } from "./protocol.ts";

/** Encodes requests and decodes server frames in one wire format. */
export class FrameCodec {
  private readonly packr = new Packr({ useRecords: false });
  private readonly unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

  constructor(private readonly format: WireFormat) {}

  /** The request as a text frame (json) or a binary frame (msgpack). */
  encode(body: ClientRequest): string | Uint8Array<ArrayBuffer> {
    // WebSocket.send() copies its argument, so msgpackr's shared working buffer may be reused after.
    if (this.format === "msgpack") return this.packr.pack(body) as Uint8Array<ArrayBuffer>;
    return JSON.stringify(body);
  }

  /** A received message (text, or an ArrayBuffer of MessagePack) as a server frame. */
  decode(data: unknown): ServerFrame {
    return (typeof data === "string" ? JSON.parse(data) : this.unpackr.unpack(new Uint8Array(data as ArrayBuffer))) as ServerFrame;
  }
}
