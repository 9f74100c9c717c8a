// The "trading" section of the configuration: durability of the journal, accounts, the order
// manager's bounds, the paper broker's fill model and the exchange calendar. src/config.ts
// embeds it; defaults give the ALL-USE accounts on the paper broker with an fsynced journal.

import { z } from "zod";
import { US_EQUITY_CALENDAR } from "../domain/calendar.ts";
import { US_REGULATORY_FEES } from "../broker/commission.ts";
import { PAPER_DEFAULTS } from "../broker/paper.ts";
import { accountsSchema } from "./accounts.ts";
import { OMS_DEFAULTS } from "./manager.ts";

const positiveInt = z.number().int().positive();
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be YYYY-MM-DD");
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM");
const P = PAPER_DEFAULTS;
const F = US_REGULATORY_FEES;

/** The trading section. */
export const tradingSchema = z.strictObject({
  /** "full" fsyncs every commit, "normal" survives kill -9 but not power loss, "none" is for tests. */
  durability: z.enum(["none", "normal", "full"]).default("full"),
  /** SQLite file, relative to dataDir unless absolute. */
  dbFile: z.string().min(1).default("alluse.db"),
  /** Journal records waiting for disk at most; requests are refused (503) as it nears this. */
  journalMaxPending: positiveInt.max(1_000_000).default(65_536),
  maxOpenOrdersPerAccount: positiveInt.max(100_000).default(OMS_DEFAULTS.maxOpenOrdersPerAccount),
  /** Who executes every account's orders: the paper broker, or IBKR over the IB session (--broker ib). */
  broker: z.enum(["paper", "ib"]).default("paper"),
  /** With broker ib: our account id → IB account code; an account not listed trades in the login's default account. */
  ibAccounts: z.record(z.string(), z.string().min(1)).default({}),
  accounts: accountsSchema.prefault({}),
  /** Order API limits per API key (see src/server/orders.ts for the defaults' reasoning). */
  api: z.strictObject({
    keyRatePerS: z.number().positive().max(1_000_000).default(1000),
    keyBurst: positiveInt.max(1_000_000).default(2000),
    maxBodyBytes: positiveInt.min(1024).max(1024 * 1024).default(16 * 1024),
    /** Market data: "open" to all, "loopback" open to this host and keyed for others, "key" keyed for all. */
    marketData: z.enum(["open", "loopback", "key"]).default("loopback"),
  }).prefault({}),
  paper: z.strictObject({
    seed: z.number().int().default(P.seed),
    marketRemainder: z.enum(["slippage", "work"]).default(P.marketRemainder),
    slippageTicksPerLot: z.number().int().min(0).max(100).default(P.slippageTicksPerLot),
    lotShares: positiveInt.default(P.lotShares),
    lotContracts: positiveInt.default(P.lotContracts),
    maxSlippageLots: z.number().int().min(0).max(1000).default(P.maxSlippageLots),
    queue: z.enum(["touch", "through"]).default(P.queue),
    touchFillProbability: z.number().min(0).max(1).default(P.touchFillProbability),
    /** "exchange": orders work only in the calendar's sessions (and outsideRth stock limits in the extended window); "always": round the clock, for demos. */
    hours: z.enum(["exchange", "always"]).default(P.hours),
    maxQuoteAgeMs: positiveInt.default(P.maxQuoteAgeMs),
    maxOpenOrders: positiveInt.max(1_000_000).default(P.maxOpenOrders),
    /** Regulatory fees passed through on sales, dollars (docs/orders.md cites the rates); 0 turns one off. */
    fees: z.strictObject({
      /** SEC Section 31 fee per million dollars sold; changes every fiscal year. */
      secPerMillion: z.number().nonnegative().max(1000).default(F.secPerMillion),
      finraTafPerShare: z.number().nonnegative().max(1).default(F.tafPerShareMicros / 1e6),
      finraTafMaxPerTrade: z.number().nonnegative().max(1000).default(F.tafMaxPerTradeMicros / 1e6),
      finraTafPerContract: z.number().nonnegative().max(1).default(F.tafPerContractMicros / 1e6),
    }).prefault({}),
  }).prefault({}),
  calendar: z.strictObject({
    timeZone: z.string().min(1).default(US_EQUITY_CALENDAR.timeZone),
    open: hhmm.default(US_EQUITY_CALENDAR.open),
    close: hhmm.default(US_EQUITY_CALENDAR.close),
    earlyClose: hhmm.default(US_EQUITY_CALENDAR.earlyClose),
    preOpen: hhmm.default(US_EQUITY_CALENDAR.preOpen),
    afterClose: hhmm.default(US_EQUITY_CALENDAR.afterClose),
    earlyAfterClose: hhmm.default(US_EQUITY_CALENDAR.earlyAfterClose),
    extraHolidays: z.array(isoDate).max(1000).default([]),
    extraEarlyCloses: z.array(isoDate).max(1000).default([]),
  }).prefault({}),
});

/** The validated trading section. */
export type TradingConfig = z.infer<typeof tradingSchema>;
