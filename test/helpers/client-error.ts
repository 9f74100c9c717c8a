// Asserting that a client call fails the way the protocol says.

import { expect } from "bun:test";
import { ClientError } from "../../src/client/client.ts";

/** Awaits `p`, expects it to reject with a ClientError, and returns that error. */
export async function rejection(p: Promise<unknown>): Promise<ClientError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ClientError);
    return e as ClientError;
  }
  throw new Error("expected a rejection");
}
