// Public entry of the client library: the market client, order entry over WebSocket and REST,
// and every protocol type.

export * from "./client.ts";
export * from "./protocol.ts";
export * from "./rest.ts";
export * from "./trading.ts";
