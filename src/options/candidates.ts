// Delta-band candidates (issue 13): the legs of one expiry that an account's preset would sell
// — puts for a cash-secured-put account, calls for a covered-call account — whose |delta| lies in
// the account's band, each sized from the account's buying power (puts) or free shares (calls)
// and the risk limits, and pre-checked with the order preview. Nothing is placed.
//
// Definitions (docs/protocol.md, "Candidates"), per leg, with m the multiplier (100), n the
// contracts, S the underlying's mid, K the strike, T the years to expiry (ACT/365, as the chain):
//   price         the bid: the order is a sell limit at the bid, so the premium shown is what a
//                 fill now pays (the paper broker fills a marketable limit at the touch) and the
//                 yield is not inflated by half a spread the seller may never get.
//   premium       = bid × m × n
//   collateral    = K × m × n for a put (the cash that secures it), S × m × n for a call (the
//                   shares that cover it, at today's price)
//   annualizedYield = bid / K (put) or bid / S (call) × 365 / (T × 365): premium / collateral per
//                   year, defined even when n is 0
//   probItm       = N(−d2) for a put, N(d2) for a call, d2 = (ln(S/K) + (r − q − σ²/2)T) / (σ√T)
//                   with σ the leg's implied vol: the risk-neutral chance of expiring in the money
//   breakeven     = K − bid for a put (the net price of shares put to the account), S − bid for a
//                   covered call (where shares held at today's price plus the premium are flat)
// Sizing: a put's n = floor(buying power / (K × m)) (the account's buying power as the orders
// API reports it; in a margin account at most the cash not already securing short puts); a call's n = floor(free shares / m), free shares = shares held − m × calls
// already short on the underlying − working sell orders for the shares or for calls on them.
// Both are capped by the account's maxQty and maxPositionQty; if the preview of n is then denied
// for a reason that depends on size (exposure, concentration, delta, notional), n is the largest
// size the preview allows (a bounded binary search). A put that no contract fits stays listed with
// n = 0 and the preview of one contract (why not even one); a call account without free shares
// gets no candidates.

import { normCdf } from "../domain/blackscholes.ts";
import type { Instrument } from "../domain/instrument.ts";
import { expiryMs } from "../domain/instrument.ts";
import type { Engine } from "../engine/engine.ts";
import type { OrderManager } from "../oms/manager.ts";
import type { PreviewNote } from "../oms/preview.ts";
import type { Scope } from "../oms/state.ts";
import type { AccountView, PositionView } from "../oms/valuation.ts";
import { fail, type Result } from "../oms/validate.ts";
import type { GreeksEngine } from "../risk/greeks.ts";
import type { RiskLimits } from "../risk/settings.ts";
import { compactDate, isoDate, priceChain, type ChainBook, type ChainLeg, type ChainMarket } from "./chains.ts";
import type { IvStats } from "./iv-history.ts";
import type { OrderPreview } from "./preview.ts";
import type { StrategyConfig } from "./strategy-settings.ts";

/** The order a candidate stands for (a POST /v1/orders body without account and clientOrderId). */
export interface CandidateOrder {
  symbol: string;
  side: "sell";
  type: "limit";
  limitPrice: number;
  qty: number;
  tif: "DAY";
}

/** One leg in the band, sized and pre-checked. */
export interface Candidate {
  symbol: string;
  right: "put" | "call";
  strike: number;
  delta: number;
  iv: number;
  bid: number;
  ask: number;
  mid: number;
  premium: number;
  contracts: number;
  collateral: number;
  annualizedYield: number;
  probItm: number;
  breakeven: number;
  /** The order previewed: `contracts` of it, or one when no contract fits. */
  order: CandidateOrder;
  preview: { allowed: boolean; denials: PreviewNote[]; warnings: PreviewNote[] };
}

/** The candidates reply. */
export interface CandidatesReply {
  account: string;
  underlying: string;
  /** YYYY-MM-DD. */
  expiry: string;
  right: "put" | "call";
  /** |delta| bounds as fractions (0.40-0.50 for Gen-Acc). */
  band: { lo: number; hi: number };
  spot: number | null;
  tYears: number;
  /** Calendar days to the expiry instant (T × 365). */
  daysToExpiry: number;
  /** What puts are sized against: buying power (a margin account: at most the cash not securing puts); a call account: its buying power, for reference. */
  buyingPower: number;
  /** Shares of the underlying free to cover new calls (0 for a put account). */
  freeShares: number;
  ivRank: number | null;
  ivPercentile: number | null;
  ivWindowDays: number | null;
  candidates: Candidate[];
  /** Why the list is empty when it is (no shares to cover, no legs in the band). */
  note?: string;
}

/** What the candidates read. */
export interface CandidateDeps {
  engine: Engine;
  book: ChainBook;
  greeks: () => Promise<Pick<GreeksEngine, "impliedVols">>;
  market: ChainMarket;
  oms: Pick<OrderManager, "account" | "positions" | "openOrders">;
  /** Previews an order body as POST /v1/orders/preview does. */
  preview: (body: unknown, scope: Scope) => Result<OrderPreview>;
  /** The account's effective risk limits (band, maxQty, maxPositionQty); undefined without the risk engine's. */
  limitsOf: (account: string) => Pick<RiskLimits, "deltaBand" | "maxQty" | "maxPositionQty"> | undefined;
  strategy: Pick<StrategyConfig, "accounts" | "maxCandidates">;
  /** IV rank and percentile of an underlying; absent: null figures. */
  ivStats?: (underlying: string, nowMs: number) => Promise<IvStats>;
  now: () => number;
}

/** The query: account and underlying, expiry YYYY-MM-DD or absent (the next expiry). */
export interface CandidateQuery {
  account: string;
  underlying: string;
  expiry?: string;
}

const YEAR_DAYS = 365;
/** Denials that a smaller order may pass: sizing searches below them. */
const SIZE_BOUND = new Set(["BUYING_POWER", "NOTIONAL", "POSITION_LIMIT", "GROSS_EXPOSURE", "NET_EXPOSURE", "CONCENTRATION", "DELTA_LIMIT", "BAD_QTY", "UNCOVERED_CALL"]);
/** Previews one candidate may take while sizing (1 + a binary search over up to 2^13 sizes). */
const MAX_PREVIEWS_PER_CANDIDATE = 14;

const cents = (x: number): number => Math.round(x * 100) / 100;

/** Risk-neutral probability of finishing in the money (N(d2) call, N(−d2) put). */
export function probItm(right: "put" | "call", spot: number, strike: number, tYears: number, vol: number, rate: number, divYield: number): number {
  if (!(tYears > 0) || !(vol > 0)) return right === "call" ? (spot > strike ? 1 : 0) : (spot < strike ? 1 : 0);
  const sd = vol * Math.sqrt(tYears);
  const d2 = (Math.log(spot / strike) + (rate - divYield - 0.5 * vol * vol) * tYears) / sd;
  return right === "call" ? normCdf(d2) : normCdf(-d2);
}

/** Premium per dollar of collateral, per year: bid / base × 365 / days (base: the strike for a put, the spot for a call). */
export function annualizedYield(bid: number, base: number, tYears: number): number {
  return bid / base / tYears;
}

/** Shares of `underlying` an account may still write calls against (see the header). */
export function freeShares(oms: CandidateDeps["oms"], engine: Engine, account: string, underlying: string): number {
  let shares = 0, shortCalls = 0;
  for (const p of oms.positions(account)) {
    if (p.symbol === underlying) shares += p.qty;
    else {
      const i = engine.instrument(p.symbol);
      if (i?.kind === "option" && i.right === "C" && i.underlying === underlying && p.qty < 0) shortCalls += -p.qty * p.multiplier;
    }
  }
  let workingSells = 0;
  for (const o of oms.openOrders(account)) {
    if (o.side !== "sell") continue;
    const leaves = o.qty - o.filledQty;
    if (o.symbol === underlying) workingSells += leaves;
    else {
      const i = engine.instrument(o.symbol);
      if (i?.kind === "option" && i.right === "C" && i.underlying === underlying) workingSells += leaves * o.multiplier;
    }
  }
  return Math.max(0, shares - shortCalls - workingSells);
}

/**
 * What new cash-secured puts may draw on: a cash account's buying power (cash less secured puts
 * and working orders' reserves); in a margin account the smaller of its buying power and the
 * cash not already securing short puts, since a cash-secured put is secured by cash, not margin.
 */
export function putCapacity(acct: Pick<AccountView, "mode" | "buyingPower" | "cash">, positions: readonly Pick<PositionView, "symbol" | "qty" | "multiplier">[], engine: Pick<Engine, "instrument">): number {
  if (acct.mode === "cash") return acct.buyingPower;
  let secured = 0;
  for (const p of positions) {
    const i = engine.instrument(p.symbol);
    if (p.qty < 0 && i?.kind === "option" && i.right === "P") secured += -p.qty * (i.strike ?? 0) * p.multiplier;
  }
  return Math.max(0, Math.min(acct.buyingPower, acct.cash - secured));
}

/** Contracts before the preview: buying power or free shares, then maxQty and maxPositionQty. */
export function sizeContracts(right: "put" | "call", strike: number, multiplier: number, buyingPower: number, shares: number,
  limits: Pick<RiskLimits, "maxQty" | "maxPositionQty"> | undefined, heldQty: number): number {
  let n = right === "put"
    ? Math.floor(Math.max(0, Math.round(buyingPower * 100)) / Math.round(strike * multiplier * 100))
    : Math.floor(Math.max(0, shares) / multiplier);
  if (limits) n = Math.min(n, limits.maxQty, Math.max(0, limits.maxPositionQty - Math.abs(heldQty)));
  return Math.max(0, n);
}

/** The band of an account as fractions, or undefined when neither the preset nor the risk limits give one. */
function bandOf(deps: CandidateDeps, account: string): { lo: number; hi: number } | undefined {
  const preset = deps.strategy.accounts[account];
  const b = preset?.band ?? deps.limitsOf(account)?.deltaBand;
  return b ? { lo: b.lo / 100, hi: b.hi / 100 } : undefined;
}

/** Finds, sizes and previews the candidates; a Result error is the REST error to answer. */
export async function findCandidates(deps: CandidateDeps, q: CandidateQuery, scope: Scope): Promise<Result<CandidatesReply>> {
  const { engine, book } = deps;
  const acct = deps.oms.account(q.account);
  if (!acct) return fail(404, "UNKNOWN_ACCOUNT", `no account ${JSON.stringify(q.account)}`, "account");
  if (!scope(q.account)) return fail(403, "FORBIDDEN", `this key may not trade account ${q.account}`, "account");
  const preset = deps.strategy.accounts[q.account];
  if (!preset) return fail(404, "NOT_FOUND", `account ${q.account} has no strategy preset (configure strategy.accounts.${q.account})`, "account");
  const band = bandOf(deps, q.account);
  if (!band) return fail(400, "BAD_REQUEST", `account ${q.account} has no delta band (set risk.accounts.${q.account}.deltaBand or strategy.accounts.${q.account}.band)`, "account");
  const expiries = book.expiries(q.underlying);
  if (!expiries) return fail(404, "NOT_FOUND", `unknown underlying ${JSON.stringify(q.underlying)}`, "underlying");
  const nowMs = deps.now();
  let expiry: string | undefined;
  if (q.expiry !== undefined) {
    expiry = compactDate(q.expiry);
    if (!expiry) return fail(400, "BAD_REQUEST", `expiry ${JSON.stringify(q.expiry)} is not a date YYYY-MM-DD`, "expiry");
    if (!book.strikes(q.underlying, expiry)) {
      return fail(404, "NOT_FOUND", `${q.underlying} has no options expiring ${q.expiry}; expiries: ${expiries.map(isoDate).join(", ") || "none"}`, "expiry");
    }
  } else {
    expiry = expiries.find((e) => expiryMs(e) > nowMs);
    if (!expiry) return fail(404, "NOT_FOUND", `${q.underlying} has no expiry ahead; expiries: ${expiries.map(isoDate).join(", ") || "none"}`, "expiry");
  }
  const right = preset.right;
  const chain = priceChain(engine, await deps.greeks(), deps.market, q.underlying, expiry, book.strikes(q.underlying, expiry)!, nowMs,
    { right, minDelta: band.lo, maxDelta: band.hi });
  const iv = deps.ivStats ? await deps.ivStats(q.underlying, nowMs) : undefined;
  const shares = right === "call" ? freeShares(deps.oms, engine, q.account, q.underlying) : 0;
  const limits = deps.limitsOf(q.account);
  const positions = deps.oms.positions(q.account);
  const securing = right === "put" ? putCapacity(acct, positions, engine) : acct.buyingPower;
  const reply: CandidatesReply = {
    account: q.account, underlying: q.underlying, expiry: chain.expiry, right, band, spot: chain.spot, tYears: chain.tYears,
    daysToExpiry: chain.tYears * YEAR_DAYS, buyingPower: securing, freeShares: shares,
    ivRank: iv?.ivRank ?? null, ivPercentile: iv?.ivPercentile ?? null, ivWindowDays: iv?.ivWindowDays ?? null, candidates: [],
  };
  if (right === "call" && shares < 100) {
    reply.note = `${q.account} holds ${shares} free shares of ${q.underlying}: covered calls need ${100} per contract`;
    return { ok: true, value: reply };
  }
  const held = new Map(positions.map((p) => [p.symbol, p.qty]));
  for (const row of chain.rows) {
    const leg = right === "put" ? row.put : row.call;
    if (!leg || leg.status !== "ok" || chain.spot === null || chain.tYears <= 0) continue;
    const inst = engine.instrument(leg.symbol)!;
    const c = candidate(deps, q.account, right, row.strike, leg, inst, chain.spot, chain.tYears, securing, shares, limits, held.get(leg.symbol) ?? 0, scope);
    if (c) reply.candidates.push(c);
    if (reply.candidates.length >= deps.strategy.maxCandidates) break;
  }
  if (reply.candidates.length === 0) reply.note ??= `no ${right} of ${q.underlying} ${chain.expiry} with a two-sided quote has |delta| in ${band.lo}-${band.hi}`;
  return { ok: true, value: reply };
}

/** Sizes, prices and previews one leg; undefined for a leg without a bid. */
function candidate(deps: CandidateDeps, account: string, right: "put" | "call", strike: number, leg: ChainLeg, inst: Instrument,
  spot: number, tYears: number, buyingPower: number, shares: number, limits: ReturnType<CandidateDeps["limitsOf"]>, heldQty: number, scope: Scope): Candidate | undefined {
  const bid = leg.bid!, ask = leg.ask!, mid = leg.mid!;
  if (!(bid > 0)) return undefined;
  const m = inst.multiplier;
  let n = sizeContracts(right, strike, m, buyingPower, shares, limits, heldQty);
  const order = (qty: number): CandidateOrder => ({ symbol: leg.symbol, side: "sell", type: "limit", limitPrice: bid, qty, tif: "DAY" });
  const look = (qty: number) => {
    // A fresh id per preview: a reused one would make the preview answer for an earlier order instead.
    const r = deps.preview({ account, clientOrderId: `candidate-${crypto.randomUUID()}`, ...order(qty) }, scope);
    return r.ok
      ? { allowed: r.value.allowed, denials: r.value.denials, warnings: r.value.warnings }
      : { allowed: false, denials: [{ code: r.error.code, message: r.error.message }], warnings: [] };
  };
  let preview = look(Math.max(n, 1));
  if (n > 1 && !preview.allowed && preview.denials.every((d) => SIZE_BOUND.has(d.code))) {
    // Largest allowed size below n: lo allowed (or 0), hi denied.
    let lo = 0, hi = n, best: ReturnType<typeof look> | undefined;
    for (let i = 0; i < MAX_PREVIEWS_PER_CANDIDATE && hi - lo > 1; i++) {
      const k = Math.floor((lo + hi) / 2);
      const p = look(k);
      if (p.allowed) { lo = k; best = p; } else hi = k;
    }
    if (best) { n = lo; preview = best; } else { n = 0; preview = look(1); }
  }
  const perShareBase = right === "put" ? strike : spot;
  return {
    symbol: leg.symbol, right, strike, delta: leg.delta!, iv: leg.iv!, bid, ask, mid,
    premium: cents(bid * m * n), contracts: n, collateral: cents(perShareBase * m * n),
    annualizedYield: annualizedYield(bid, perShareBase, tYears),
    probItm: probItm(right, spot, strike, tYears, leg.iv!, deps.market.rate, deps.market.divYield),
    breakeven: cents(perShareBase - bid),
    order: order(Math.max(n, 1)), preview,
  };
}
