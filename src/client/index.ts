// Public entry of the client library: the client and every protocol type.

export * from "./client.ts";
export * from "./protocol.ts";
