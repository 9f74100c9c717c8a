// Trading accounts: named, each with a share of the configured capital, a margin mode and the
// broker that executes its orders. The default is the ALL-USE three (Gen-Acc 40 %, Rev-Acc
// 30 %, Com-Acc 30 %). An account's capital is deposited once, when the store first sees it;
// changing the configuration later does not move money in an existing account.

import { z } from "zod";

/** Cash account, or Reg-T margin. */
export type MarginMode = "cash" | "regT";

/** One configured account. */
export interface AccountConfig {
  id: string;
  /** Fraction of `capital` deposited at creation. */
  share: number;
  mode: MarginMode;
  /** Name of the broker that executes its orders. */
  broker: string;
}

/** Account ids: letters, digits, dot, dash, underscore; 1 to 32. */
export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

const accountSchema = z.strictObject({
  id: z.string().regex(ACCOUNT_ID_PATTERN, "must be 1-32 letters, digits, '.', '-' or '_'"),
  share: z.number().gt(0).max(1),
  mode: z.enum(["cash", "regT"]).default("cash"),
  broker: z.enum(["paper"]).default("paper"),
});

/** The accounts section of the configuration. */
export const accountsSchema = z.strictObject({
  /** Capital split between the accounts, in the account currency (USD). */
  capital: z.number().positive().max(1e9).default(300_000),
  list: z.array(accountSchema).min(1).max(64).default([
    { id: "Gen-Acc", share: 0.4, mode: "cash", broker: "paper" },
    { id: "Rev-Acc", share: 0.3, mode: "cash", broker: "paper" },
    { id: "Com-Acc", share: 0.3, mode: "cash", broker: "paper" },
  ]),
}).superRefine((a, ctx) => {
  const total = a.list.reduce((s, x) => s + x.share, 0);
  if (total > 1 + 1e-9) ctx.addIssue({ code: "custom", path: ["list"], message: `shares add up to ${total}; at most 1` });
  const seen = new Set<string>();
  a.list.forEach((x, i) => {
    if (seen.has(x.id)) ctx.addIssue({ code: "custom", path: ["list", i, "id"], message: `duplicate account id ${x.id}` });
    seen.add(x.id);
  });
});

/** The validated accounts section. */
export type AccountsConfig = z.infer<typeof accountsSchema>;

/** The ALL-USE default: $300,000 split 40/30/30 over three cash accounts on the paper broker. */
export const DEFAULT_ACCOUNTS: AccountsConfig = accountsSchema.parse({});
