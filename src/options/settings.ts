// The "chains" section of the configuration: how live option chains stream over /ws.

import { z } from "zod";

/** The chains section. */
export const chainsSchema = z.strictObject({
  /** Chain frames per second per chain at most: changes in between are conflated (latest state). */
  publishHz: z.number().min(0.1).max(50).default(4),
  /** Chains one connection may stream at once; one more is refused with TOO_MANY_SUBSCRIPTIONS. */
  maxChainsPerConnection: z.number().int().min(1).max(64).default(8),
  /** Strikes a streamed chain may have; a larger chain is refused with TOO_MANY_ROWS (a frame stays well under 100 KB). */
  maxRowsPerChain: z.number().int().min(1).max(1000).default(200),
});

/** The validated chains section. */
export type ChainsConfig = z.infer<typeof chainsSchema>;

/** The defaults, for servers built without a configuration (tests). */
export const CHAINS_DEFAULTS: ChainsConfig = chainsSchema.parse({});
