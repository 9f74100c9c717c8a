// Validation of order requests at the edge: the shape with zod (a 400 naming the field), then
// the meaning against the instrument table, the tick grid, option expiry and the bounds. A
// request that fails here is never journaled and never reaches a broker.

import { z } from "zod";
import type { Instrument } from "../domain/instrument.ts";
import type { ExchangeCalendar } from "../domain/calendar.ts";
import { defaultTriggerMethod, hasLimit, hasStop, ORDER_TYPES, TIME_IN_FORCES, TRIGGER_METHODS, type OrderTerms, type OrderType, type TriggerMethod } from "../domain/order.ts";
import { toUnits } from "../domain/price.ts";
import { ACCOUNT_ID_PATTERN } from "./accounts.ts";

/** An error answered to a client: HTTP status, code, message and the offending field. */
export interface OmsError {
  status: number;
  code: string;
  message: string;
  field?: string;
}

/** Either a value or an OmsError. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: OmsError };

/** Builds a failed Result. */
export function fail<T>(status: number, code: string, message: string, field?: string): Result<T> {
  return { ok: false, error: field === undefined ? { status, code, message } : { status, code, message, field } };
}

/** Bounds on a single order: they keep every notional exact in micros (below 2^53). */
export interface OrderBounds {
  maxStockQty: number;
  maxOptionQty: number;
  /** Longest client order id. */
  maxClientOrderIdChars: number;
}

/** Defaults: 1 M shares or 10 k contracts; at $10,000 a share 1 M shares is 1e16 micros, still exact. */
export const DEFAULT_ORDER_BOUNDS: OrderBounds = { maxStockQty: 1_000_000, maxOptionQty: 10_000, maxClientOrderIdChars: 64 };

/** Client order ids: one shared pattern for the schema and the fast path. */
const CLIENT_ORDER_ID = /^[A-Za-z0-9._:-]+$/;
const price = z.number().finite().positive().max(1_000_000);

/** The body of POST /v1/orders. */
export const newOrderSchema = z.strictObject({
  account: z.string().regex(ACCOUNT_ID_PATTERN, "must be an account id"),
  clientOrderId: z.string().min(1).max(DEFAULT_ORDER_BOUNDS.maxClientOrderIdChars).regex(CLIENT_ORDER_ID, "may hold letters, digits, '.', '_', ':' and '-'"),
  symbol: z.string().min(1).max(32),
  side: z.enum(["buy", "sell"]),
  type: z.enum(ORDER_TYPES as [OrderType, ...OrderType[]]),
  tif: z.enum(TIME_IN_FORCES as [string, ...string[]]).default("DAY"),
  qty: z.number().finite(),
  limitPrice: price.optional(),
  stopPrice: price.optional(),
  /** IBKR outsideRth: may work in the extended session (stock limit and stop-limit orders). */
  outsideRth: z.boolean().optional(),
  /** IBKR triggerMethod, for stop and stop_limit; "default" is the instrument's. */
  triggerMethod: z.enum(TRIGGER_METHODS as [TriggerMethod, ...TriggerMethod[]]).optional(),
});

/** A parsed new-order request. */
export type NewOrderRequest = z.infer<typeof newOrderSchema>;

/** The body of PATCH /v1/orders/:id: at least one change. */
export const modifySchema = z.strictObject({
  qty: z.number().finite().optional(),
  limitPrice: price.optional(),
  stopPrice: price.optional(),
});

/** A parsed modify request. */
export type ModifyRequest = z.infer<typeof modifySchema>;

/** Formats a zod path like ["list", 1, "id"] as "list[1].id". */
function fieldPath(path: readonly PropertyKey[]): string | undefined {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? String(p) : `.${String(p)}`;
  return out === "" ? undefined : out;
}

/** Validates a value with a zod schema; the first issue becomes a 400 naming its field. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): Result<T> {
  const r = schema.safeParse(body);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]!;
  const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]!] : issue.path;
  const field = fieldPath(path);
  return fail(400, "BAD_REQUEST", field ? `${field}: ${issue.message}` : issue.message, field);
}

const NEW_ORDER_KEYS = new Set(Object.keys(newOrderSchema.shape));
const SIDES: ReadonlySet<unknown> = new Set(["buy", "sell"]);
const TYPES: ReadonlySet<unknown> = new Set(ORDER_TYPES);
const TIFS: ReadonlySet<unknown> = new Set(TIME_IN_FORCES);
const TRIGGERS: ReadonlySet<unknown> = new Set(TRIGGER_METHODS);
const isPrice = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v > 0 && v <= 1_000_000;

/**
 * Parses a new-order body. zod costs ~15 µs a body on the order path, so a plain-object body
 * that is certainly valid is accepted by hand-written checks first; anything else — every
 * invalid body included — goes to zod, so errors (code, message, field) stay zod's exactly.
 * The hand-written checks accept a strict subset of what the schema accepts and build the
 * same value (test/unit/validate.test.ts compares both on valid and invalid bodies).
 */
export function parseNewOrder(body: unknown): Result<NewOrderRequest> {
  return fastNewOrder(body) ?? parseBody(newOrderSchema, body);
}

function fastNewOrder(body: unknown): Result<NewOrderRequest> | undefined {
  if (typeof body !== "object" || body === null || Object.getPrototypeOf(body) !== Object.prototype) return undefined;
  const b = body as Record<string, unknown>;
  for (const k in b) if (!NEW_ORDER_KEYS.has(k) || b[k] === undefined) return undefined;
  const { account, clientOrderId, symbol, side, type, qty, limitPrice, stopPrice, outsideRth, triggerMethod } = b;
  const tif = b.tif === undefined ? "DAY" : b.tif;
  if (typeof account !== "string" || !ACCOUNT_ID_PATTERN.test(account)) return undefined;
  if (typeof clientOrderId !== "string" || clientOrderId.length > DEFAULT_ORDER_BOUNDS.maxClientOrderIdChars || !CLIENT_ORDER_ID.test(clientOrderId)) return undefined;
  if (typeof symbol !== "string" || symbol.length < 1 || symbol.length > 32) return undefined;
  if (!SIDES.has(side) || !TYPES.has(type) || !TIFS.has(tif)) return undefined;
  if (typeof qty !== "number" || !Number.isFinite(qty)) return undefined;
  if ((limitPrice !== undefined && !isPrice(limitPrice)) || (stopPrice !== undefined && !isPrice(stopPrice))) return undefined;
  if ((outsideRth !== undefined && typeof outsideRth !== "boolean") || (triggerMethod !== undefined && !TRIGGERS.has(triggerMethod))) return undefined;
  const value = { account, clientOrderId, symbol, side, type, tif, qty } as NewOrderRequest;
  if (limitPrice !== undefined) value.limitPrice = limitPrice as number;
  if (stopPrice !== undefined) value.stopPrice = stopPrice as number;
  if (outsideRth !== undefined) value.outsideRth = outsideRth as boolean;
  if (triggerMethod !== undefined) value.triggerMethod = triggerMethod as TriggerMethod;
  return { ok: true, value };
}

/** Checks a quantity for an instrument: positive, whole, within bounds, and above what is already filled. */
export function checkQty(qty: number, inst: Instrument, bounds: OrderBounds, filledQty = 0): Result<number> {
  const unit = inst.kind === "option" ? "contracts" : "shares";
  if (qty <= 0) return fail(400, "BAD_QUANTITY", `qty must be positive, got ${qty}`, "qty");
  if (!Number.isInteger(qty)) return fail(400, "BAD_QUANTITY", `qty must be a whole number of ${unit}, got ${qty}`, "qty");
  const max = inst.kind === "option" ? bounds.maxOptionQty : bounds.maxStockQty;
  if (qty > max) return fail(400, "BAD_QUANTITY", `qty ${qty} is above the limit of ${max} ${unit} per order`, "qty");
  if (qty <= filledQty) return fail(400, "BAD_QUANTITY", `qty ${qty} must be above the ${filledQty} already filled`, "qty");
  return { ok: true, value: qty };
}

/**
 * Converts a decimal price to units if it lies on the instrument's tick grid at one tick or
 * more. The schema only asks for a positive finite number, and a positive price too small for
 * the grid (1e-320) rounds to 0 units, which is a multiple of every tick: without the floor it
 * would be journaled and sent as a price of 0.
 */
export function checkPrice(value: number, inst: Instrument, field: string): Result<number> {
  const units = toUnits(value);
  const tick = toUnits(inst.tickSize);
  if (!Number.isFinite(value) || !(units >= tick)) {
    return fail(400, "PRICE_OFF_TICK", `${field} ${value} is below one tick (${inst.tickSize}) of ${inst.symbol}`, field);
  }
  if (Math.abs(value * 1e8 - units) > 1e-3 || units % tick !== 0) {
    return fail(400, "PRICE_OFF_TICK", `${field} ${value} is not a multiple of the tick size ${inst.tickSize} of ${inst.symbol}`, field);
  }
  return { ok: true, value: units };
}

/** True when an option has expired at `nowMs`: after the close of its expiry date (or the date is past). */
export function optionExpired(inst: Instrument, nowMs: number, calendar: ExchangeCalendar): boolean {
  if (inst.kind !== "option" || !inst.expiry) return false;
  const expiry = `${inst.expiry.slice(0, 4)}-${inst.expiry.slice(4, 6)}-${inst.expiry.slice(6, 8)}`;
  const today = calendar.dateOf(nowMs);
  if (expiry !== today) return expiry < today;
  const close = calendar.session(today)?.closeMs ?? calendar.localToUtc(today, calendar.options.close);
  return nowMs >= close;
}

/**
 * The terms a request asks for, unchecked: prices in units, outsideRth only when set, and a stop's
 * trigger method resolved from "default" to the instrument's (so an idempotent repeat that
 * leaves it out matches an original that named the default).
 */
export function requestTerms(req: NewOrderRequest, inst: Instrument): OrderTerms {
  const type = req.type as OrderType;
  const terms: OrderTerms = { symbol: inst.symbol, side: req.side, type, tif: req.tif as OrderTerms["tif"], qty: req.qty };
  if (req.limitPrice !== undefined) terms.limitPriceUnits = toUnits(req.limitPrice);
  if (req.stopPrice !== undefined) terms.stopPriceUnits = toUnits(req.stopPrice);
  if (req.outsideRth) terms.outsideRth = true;
  if (hasStop(type)) {
    const m = req.triggerMethod ?? "default";
    terms.triggerMethod = m === "default" ? defaultTriggerMethod(inst.kind) : m;
  }
  return terms;
}

/** Checks a new order's meaning against its instrument; returns its terms in units. */
export function checkNewOrder(req: NewOrderRequest, inst: Instrument | undefined, nowMs: number, calendar: ExchangeCalendar, bounds: OrderBounds): Result<OrderTerms> {
  if (!inst) return fail(400, "UNKNOWN_INSTRUMENT", `no instrument ${JSON.stringify(req.symbol)}`, "symbol");
  if (optionExpired(inst, nowMs, calendar)) return fail(400, "OPTION_EXPIRED", `${inst.symbol} expired on ${inst.expiry}`, "symbol");
  const qty = checkQty(req.qty, inst, bounds);
  if (!qty.ok) return qty as Result<never>;
  const type = req.type as OrderType;
  if (hasLimit(type) && req.limitPrice === undefined) return fail(400, "BAD_REQUEST", `limitPrice is required for a ${type} order`, "limitPrice");
  if (!hasLimit(type) && req.limitPrice !== undefined) return fail(400, "BAD_REQUEST", `a ${type} order takes no limitPrice`, "limitPrice");
  if (hasStop(type) && req.stopPrice === undefined) return fail(400, "BAD_REQUEST", `stopPrice is required for a ${type} order`, "stopPrice");
  if (!hasStop(type) && req.stopPrice !== undefined) return fail(400, "BAD_REQUEST", `a ${type} order takes no stopPrice`, "stopPrice");
  if (hasStop(type) && (req.tif === "IOC" || req.tif === "FOK")) return fail(400, "BAD_REQUEST", `tif ${req.tif} is not allowed for ${type} orders`, "tif");
  if (!hasStop(type) && req.triggerMethod !== undefined) return fail(400, "BAD_REQUEST", `a ${type} order takes no triggerMethod`, "triggerMethod");
  const terms = requestTerms(req, inst);
  if (req.limitPrice !== undefined) {
    const p = checkPrice(req.limitPrice, inst, "limitPrice");
    if (!p.ok) return p as Result<never>;
    terms.limitPriceUnits = p.value;
  }
  if (req.stopPrice !== undefined) {
    const p = checkPrice(req.stopPrice, inst, "stopPrice");
    if (!p.ok) return p as Result<never>;
    terms.stopPriceUnits = p.value;
  }
  return { ok: true, value: terms };
}
