// zod mirrors of the wire types in protocol.ts, for the generated API documents (OpenAPI for
// REST, AsyncAPI for /ws) and for tests that parse real replies and frames with them. The
// compile-time checks at the end make each mirror equal to its TypeScript type, so the documents
// cannot drift from what the server encodes. Kept apart from protocol.ts so that the client
// library does not pull in zod.

import { z } from "zod";
import type {
  AccountView, AlertView, ErrorFrame, FillView, OrderView, PositionRiskView, PositionView, Quote, QuoteFrame, RestErrorBody, RiskView,
  WelcomeFrame, ChainLeg, AckFrame, PongFrame, HeartbeatFrame, AuthedFrame, WatchingFrame, OrderFrame, FillFrame, PositionFrame,
  AccountFrame, RiskFrame, AlertsFrame, AlertFrame, SessionFrame, PreviewFrame, ChainFrame, ChainsFrame, ServerFrame, ChainRow, CalcResult, OrderPreview, PreviewFigures, ChainExpiries,
  Chain, ChainIv, CandidatesReply, UnderlyingBasisView, PositionsReply,
} from "./protocol.ts";
import { REST_ERROR_CODES, WS_ERROR_CODES } from "./protocol.ts";

const num = z.number();
const numOrNull = z.number().nullable();

/** GET /v1/quotes/{symbol}: one instrument's state in descriptive names. */
export const quoteSchema = z.object({
  symbol: z.string(), seq: z.number().int(), bid: numOrNull, bidSize: num, ask: numOrNull, askSize: num, last: numOrNull, lastSize: num,
  volume: num, vwap: numOrNull, open: numOrNull, high: numOrNull, low: numOrNull, prevClose: numOrNull, volatility: numOrNull,
  exchangeTs: num, ingestTs: num, flags: z.number().int().describe("QualityFlag bits"),
}).meta({ id: "Quote" });

/** An instrument as REST shows it. */
export const instrumentSchema = z.object({
  symbol: z.string(), kind: z.enum(["stock", "option"]), tickSize: num, multiplier: num, currency: z.string(),
  underlying: z.string().optional(), expiry: z.string().optional().describe("YYYYMMDD"), strike: num.optional(), right: z.enum(["C", "P"]).optional(),
}).meta({ id: "Instrument" });

/** One one-minute bar. */
export const barSchema = z.object({ start: num, open: num, high: num, low: num, close: num, volume: num }).meta({ id: "Bar" });

/** The page fields of a bounded list. */
export const pageFields = { total: z.number().int(), offset: z.number().int(), next: z.number().int().nullable() };

/** Body of every REST error reply. */
export const restErrorSchema = z.object({
  error: z.object({ code: z.enum(REST_ERROR_CODES), message: z.string(), field: z.string().optional() }),
}).meta({ id: "Error" });

/** An order on the wire. */
export const orderViewSchema = z.object({
  id: z.string(), account: z.string(), clientOrderId: z.string(), symbol: z.string(), side: z.enum(["buy", "sell"]),
  type: z.enum(["market", "limit", "stop", "stop_limit"]), tif: z.enum(["DAY", "GTC", "IOC", "FOK"]), qty: num,
  limitPrice: numOrNull, stopPrice: numOrNull, outsideRth: z.boolean(),
  triggerMethod: z.enum(["default", "double_bid_ask", "last", "double_last", "bid_ask", "last_or_bid_ask", "mid_point"]).nullable(),
  status: z.enum(["initialized", "denied", "submitted", "accepted", "rejected", "partially_filled", "filled", "pending_cancel", "canceled", "expired", "pending_replace"]),
  filledQty: num, avgFillPrice: numOrNull, triggered: z.boolean(), brokerOrderId: z.string().nullable(), reason: z.string().nullable(),
  createdTs: num, updatedTs: num, version: z.number().int(),
}).meta({ id: "Order" });

/** A fill on the wire. */
export const fillViewSchema = z.object({
  fillId: z.string(), orderId: z.string().nullable(), account: z.string(), symbol: z.string(), side: z.enum(["buy", "sell"]), qty: num,
  price: num, multiplier: num, commission: num, ts: num, kind: z.enum(["trade", "exercise", "assignment", "expiry", "lapse"]),
}).meta({ id: "Fill" });

/** A position with its mark. */
export const positionViewSchema = z.object({
  account: z.string(), symbol: z.string(), qty: num, multiplier: num, avgCost: num, costBasis: num, mark: numOrNull, marketValue: num,
  unrealizedPnl: num, realizedPnl: num, commissions: num,
}).meta({ id: "Position" });

/** The wheel's adjusted cost basis of one underlying. */
export const underlyingBasisSchema = z.object({
  underlying: z.string(), shares: num.describe("Shares held, signed; 0 when flat"),
  costBasis: num.describe("Cost basis of the shares, as the stock position's (commissions and assigned options' premium included)"),
  premiumCollected: num.describe("Net realised P&L of the underlying's options closed, expired or lapsed since the shares were last flat"),
  adjustedCostBasis: numOrNull.describe("(costBasis − premiumCollected) / shares, per share; null with no shares"),
}).meta({ id: "UnderlyingBasis" });

/** GET /v1/accounts/{id}/positions. */
export const positionsReplySchema = z.object({
  account: z.string(), positions: z.array(positionViewSchema), underlyings: z.array(underlyingBasisSchema),
}).meta({ id: "Positions" });

/** An account: cash, equity, P&L, buying power. */
export const accountViewSchema = z.object({
  id: z.string(), mode: z.enum(["cash", "regT"]), cash: num, deposits: num, marketValue: num, equity: num, realizedPnl: num,
  unrealizedPnl: num, commissions: num, netPnl: num, buyingPower: num, openOrders: z.number().int(), positions: z.number().int(),
}).meta({ id: "Account" });

const positionRiskSchema = z.object({
  symbol: z.string(), qty: num, workingBuy: num, workingSell: num, mark: numOrNull, marketValue: num, unrealizedPnl: num,
  delta: numOrNull, gamma: numOrNull, vega: numOrNull, theta: numOrNull, iv: numOrNull, dollarDelta: num,
  status: z.enum(["ok", "no_mark", "no_greeks", "stale", "not_valued"]),
}).meta({ id: "PositionRisk" });

const utilisationKeys = ["gross", "net", "delta", "concentration", "dailyLoss", "var", "buyingPower", "openOrders", "max"] as const;

/** One account's published risk. */
export const riskViewSchema = z.object({
  account: z.string(), ts: num, state: z.enum(["active", "reducing", "halted"]), stateReason: z.string(), equity: num, cash: num,
  marketValue: num, grossExposure: num, netExposure: num, dollarDelta: num, dollarGamma: num, vega: num, theta: num, unrealizedPnl: num,
  dailyPnl: num, sessionOpenEquity: numOrNull, peakEquity: numOrNull, valuation: z.enum(["marked", "waiting_for_marks", "stale"]),
  unmarked: z.array(z.string()), var95: num, var99: num,
  stress: z.object({ down10: num, down20: num, down40: num, up10: num, vol50: num }),
  concentration: z.object({ largestUnderlying: z.string().nullable(), shareOfEquity: num, hhi: num }),
  buyingPower: z.object({ required: num, available: num }), openOrders: num, unpriced: num, score: num,
  utilisation: z.object(Object.fromEntries(utilisationKeys.map((k) => [k, num])) as Record<(typeof utilisationKeys)[number], typeof num>),
  limits: z.record(z.string(), z.union([num, z.object({ lo: num, hi: num, mode: z.enum(["off", "warn", "deny"]) })])),
  positions: z.array(positionRiskSchema),
}).meta({ id: "Risk" });

/** One alert. */
export const alertViewSchema = z.object({
  id: z.number().int(), rule: z.string(), key: z.string(), state: z.enum(["open", "acknowledged", "resolved"]),
  severity: z.enum(["warning", "critical"]), value: numOrNull, threshold: numOrNull, message: z.string(), raisedTs: num, updatedTs: num,
  ackedTs: numOrNull, ackedBy: z.string().nullable(), resolvedTs: numOrNull,
}).meta({ id: "Alert" });

const greeksStatus = z.enum(["ok", "bad_input", "no_time", "below_bound", "above_bound", "no_convergence"]);
const chainLegSchema = z.object({
  symbol: z.string(), bid: numOrNull, ask: numOrNull, mid: numOrNull, last: numOrNull, iv: numOrNull, delta: numOrNull,
  gamma: numOrNull, vega: numOrNull, theta: numOrNull, status: z.union([greeksStatus, z.literal("no_quote")]),
  ibDelta: numOrNull.describe("IBKR's model delta (--feed ib, once TWS sent it); null otherwise"),
  ibIv: numOrNull.describe("IBKR's model implied vol (--feed ib, once TWS sent it); null otherwise"),
}).meta({ id: "ChainLeg" });

/** One strike of a chain. */
export const chainRowSchema = z.object({ strike: num, call: chainLegSchema.nullable(), put: chainLegSchema.nullable() }).meta({ id: "ChainRow" });

/** GET /v1/chains/{underlying}/{expiry}. */
export const chainSchema = z.object({
  underlying: z.string(), expiry: z.string().describe("YYYY-MM-DD"), spot: numOrNull, tYears: num, rows: z.array(chainRowSchema),
}).meta({ id: "Chain" });

/** IV rank and percentile of the underlying, in both chain replies. */
const chainIvFields = {
  ivRank: numOrNull.describe("0-100 over the window; null without history or on a flat series"),
  ivPercentile: numOrNull.describe("0-100: share of recorded days below today's IV"),
  ivWindowDays: numOrNull.describe("Days in the window; null when the server keeps no IV history"),
  ivHistoryDays: num.describe("Recorded days before today inside the window"),
};

/** GET /v1/chains/{underlying}/{expiry}: the chain and the underlying's IV rank. */
export const chainReplySchema = chainSchema.extend(chainIvFields).meta({ id: "ChainReply" });

/** GET /v1/chains/{underlying}. */
export const chainExpiriesSchema = z.object({ underlying: z.string(), spot: numOrNull, expiries: z.array(z.string()), ...chainIvFields }).meta({ id: "ChainExpiries" });

/** A row answered by POST /v1/greeks/calc. */
export const calcResultSchema = z.object({
  status: greeksStatus, tYears: num, iv: numOrNull, price: numOrNull, delta: numOrNull, gamma: numOrNull, vega: numOrNull,
  theta: numOrNull, rho: numOrNull,
}).meta({ id: "CalcResult" });

const previewFiguresSchema = z.object({
  cash: num, equity: num, buyingPower: z.object({ required: num, available: num, remaining: num }), dollarDelta: num, gross: num, net: num,
  concentration: z.object({ largestUnderlying: z.string().nullable(), shareOfEquity: num }), var99: num, score: num,
  position: z.object({ symbol: z.string(), qty: num }),
}).meta({ id: "PreviewFigures" });
const previewNoteSchema = z.object({ code: z.string(), message: z.string() }).meta({ id: "PreviewNote" });

/** GET /v1/strategy/candidates. */
export const candidatesReplySchema = z.object({
  account: z.string(), underlying: z.string(), expiry: z.string().describe("YYYY-MM-DD"), right: z.enum(["put", "call"]),
  band: z.object({ lo: num, hi: num }), spot: numOrNull, tYears: num, daysToExpiry: num, buyingPower: num, freeShares: num,
  ivRank: numOrNull, ivPercentile: numOrNull, ivWindowDays: numOrNull,
  candidates: z.array(z.object({
    symbol: z.string(), right: z.enum(["put", "call"]), strike: num, delta: num, iv: num, bid: num, ask: num, mid: num, premium: num,
    contracts: num, collateral: num, annualizedYield: num, probItm: num, breakeven: num,
    order: z.object({ symbol: z.string(), side: z.literal("sell"), type: z.literal("limit"), limitPrice: num, qty: num, tif: z.literal("DAY") }),
    preview: z.object({ allowed: z.boolean(), denials: z.array(previewNoteSchema), warnings: z.array(previewNoteSchema) }),
  }).meta({ id: "Candidate" })),
  note: z.string().optional(),
}).meta({ id: "CandidatesReply" });

/** POST /v1/orders/preview and the preview frame. */
export const orderPreviewSchema = z.object({
  allowed: z.boolean(), denials: z.array(previewNoteSchema), warnings: z.array(previewNoteSchema), priceRef: numOrNull,
  before: previewFiguresSchema.nullable(), after: previewFiguresSchema.nullable(),
}).meta({ id: "OrderPreview" });

/** A WebSocket error frame. */
export const errorFrameSchema = z.object({
  t: z.literal("error"), code: z.enum(WS_ERROR_CODES), message: z.string(), field: z.string().optional(), id: z.number().int().optional(),
}).meta({ id: "ErrorFrame" });

/** The compact quote frame. */
export const quoteFrameSchema = z.object({
  t: z.literal("q"), s: z.string(), seq: z.number().int(), b: numOrNull, bs: num, a: numOrNull, as: num, l: numOrNull, ls: num, v: num,
  vw: numOrNull, o: numOrNull, h: numOrNull, lo: numOrNull, pc: numOrNull, vol: numOrNull, ts: num, its: num, f: z.number().int(),
  snap: z.literal(true).optional(),
}).meta({ id: "QuoteFrame" });

/** The first frame on every connection. */
export const welcomeFrameSchema = z.object({
  t: z.literal("welcome"), v: z.number().int(), format: z.enum(["json", "msgpack"]), heartbeatMs: num, ts: num,
  limits: z.object({
    maxSubscriptions: num, maxPayloadBytes: num, inboundRatePerS: num, inboundBurst: num, slowClientBytes: num, slowClientTimeoutMs: num,
  }),
}).meta({ id: "WelcomeFrame" });

const reqId = z.number().int().optional();

/** Reply to subscribe / unsubscribe. */
export const ackFrameSchema = z.object({ t: z.literal("ack"), id: reqId, op: z.enum(["subscribe", "unsubscribe"]), symbols: z.array(z.string()) }).meta({ id: "AckFrame" });
/** Reply to ping. */
export const pongFrameSchema = z.object({ t: z.literal("pong"), id: reqId, ts: num }).meta({ id: "PongFrame" });
/** Liveness frame every heartbeatMs. */
export const heartbeatFrameSchema = z.object({ t: z.literal("hb"), ts: num }).meta({ id: "HeartbeatFrame" });
/** Reply to auth. */
export const authedFrameSchema = z.object({ t: z.literal("authed"), id: reqId, scopes: z.array(z.string()), accounts: z.array(z.string()) }).meta({ id: "AuthedFrame" });
/** Reply to watch / unwatch. */
export const watchingFrameSchema = z.object({ t: z.literal("watching"), id: reqId, accounts: z.array(z.string()) }).meta({ id: "WatchingFrame" });
/** An order: reply to submit / cancel / modify, or a push on a watched account. */
export const orderFrameSchema = z.object({ t: z.literal("order"), id: reqId, order: orderViewSchema }).meta({ id: "OrderFrame" });
/** A fill on a watched account. */
export const fillFrameSchema = z.object({ t: z.literal("fill"), fill: fillViewSchema }).meta({ id: "FillFrame" });
/** A position after a fill on a watched account. */
export const positionFrameSchema = z.object({ t: z.literal("position"), position: positionViewSchema }).meta({ id: "PositionFrame" });
/** A watched account's cash, P&L and buying power. */
export const accountFrameSchema = z.object({ t: z.literal("account"), account: accountViewSchema }).meta({ id: "AccountFrame" });
/** A watched account's risk. */
export const riskFrameSchema = z.object({ t: z.literal("risk"), risk: riskViewSchema }).meta({ id: "RiskFrame" });
/** Reply to alerts.subscribe / alerts.unsubscribe. */
export const alertsFrameSchema = z.object({ t: z.literal("alerts"), id: reqId, subscribed: z.boolean(), alerts: z.array(alertViewSchema) }).meta({ id: "AlertsFrame" });
/** An alert transition (with event), or the reply to alerts.ack (with id). */
export const alertFrameSchema = z.object({
  t: z.literal("alert"), id: reqId, event: z.enum(["raised", "escalated", "deescalated", "acknowledged", "resolved"]).optional(), ts: num.optional(),
  alert: alertViewSchema,
}).meta({ id: "AlertFrame" });
const sessionFarmSchema = z.object({ kind: z.enum(["market", "hmds", "secdef"]), name: z.string(), ok: z.boolean() }).meta({ id: "SessionFarm" });
/** The broker session topic: the reply, a state change, or a farm change. */
export const sessionFrameSchema = z.union([
  z.object({
    t: z.literal("session"), id: reqId, subscribed: z.boolean(),
    connection: z.object({ name: z.literal("ib"), state: z.string(), reason: z.string(), since: num }).nullable(), farms: z.array(sessionFarmSchema),
  }),
  z.object({ t: z.literal("session"), event: z.literal("state"), from: z.string(), to: z.string(), reason: z.string(), ts: num }),
  z.object({ t: z.literal("session"), event: z.literal("farm"), farm: sessionFarmSchema, ts: num }),
]).meta({ id: "SessionFrame" });
/** Reply to preview. */
export const previewFrameSchema = z.object({ t: z.literal("preview"), id: reqId, preview: orderPreviewSchema }).meta({ id: "PreviewFrame" });
/** A live chain: the snapshot (reply to chain.subscribe), then changed rows. */
export const chainFrameSchema = z.object({
  t: z.literal("chain"), id: reqId, snapshot: z.boolean(), underlying: z.string(), expiry: z.string(), spot: numOrNull, tYears: num,
  rows: z.array(chainRowSchema),
}).meta({ id: "ChainFrame" });
/** Reply to chain.unsubscribe. */
export const chainsFrameSchema = z.object({
  t: z.literal("chains"), id: reqId, chains: z.array(z.object({ underlying: z.string(), expiry: z.string() })),
}).meta({ id: "ChainsFrame" });

/** Every server frame, by its `t`. */
export const SERVER_FRAME_SCHEMAS = {
  welcome: welcomeFrameSchema, ack: ackFrameSchema, q: quoteFrameSchema, pong: pongFrameSchema, hb: heartbeatFrameSchema, error: errorFrameSchema,
  authed: authedFrameSchema, watching: watchingFrameSchema, order: orderFrameSchema, fill: fillFrameSchema, position: positionFrameSchema,
  account: accountFrameSchema, risk: riskFrameSchema, alerts: alertsFrameSchema, alert: alertFrameSchema, session: sessionFrameSchema,
  preview: previewFrameSchema, chain: chainFrameSchema, chains: chainsFrameSchema,
} as const;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Check<T extends true> = T;
/** Compile-time: each mirror is exactly its protocol type (both directions), so neither can change alone. */
export type _MirrorsMatch = [
  Check<Same<z.infer<typeof quoteSchema>, Quote>>,
  Check<Same<z.infer<typeof orderViewSchema>, OrderView>>,
  Check<Same<z.infer<typeof fillViewSchema>, FillView>>,
  Check<Same<z.infer<typeof positionViewSchema>, PositionView>>,
  Check<Same<z.infer<typeof underlyingBasisSchema>, UnderlyingBasisView>>,
  Check<Same<z.infer<typeof positionsReplySchema>, PositionsReply>>,
  Check<Same<z.infer<typeof accountViewSchema>, AccountView>>,
  Check<Same<z.infer<typeof positionRiskSchema>, PositionRiskView>>,
  Check<Same<z.infer<typeof riskViewSchema>, RiskView>>,
  Check<Same<z.infer<typeof alertViewSchema>, AlertView>>,
  Check<Same<z.infer<typeof chainLegSchema>, ChainLeg>>,
  Check<Same<z.infer<typeof chainRowSchema>, ChainRow>>,
  Check<Same<z.infer<typeof chainExpiriesSchema>, ChainExpiries>>,
  Check<Same<z.infer<typeof chainReplySchema>, Chain & ChainIv>>,
  Check<Same<z.infer<typeof candidatesReplySchema>, CandidatesReply>>,
  Check<Same<z.infer<typeof calcResultSchema>, CalcResult>>,
  Check<Same<z.infer<typeof previewFiguresSchema>, PreviewFigures>>,
  Check<Same<z.infer<typeof orderPreviewSchema>, OrderPreview>>,
  Check<Same<z.infer<typeof restErrorSchema>, RestErrorBody>>,
  Check<Same<z.infer<typeof errorFrameSchema>, ErrorFrame>>,
  Check<Same<z.infer<typeof quoteFrameSchema>, QuoteFrame>>,
  Check<Same<z.infer<typeof welcomeFrameSchema>, WelcomeFrame>>,
  Check<Same<z.infer<typeof ackFrameSchema>, AckFrame>>,
  Check<Same<z.infer<typeof pongFrameSchema>, PongFrame>>,
  Check<Same<z.infer<typeof heartbeatFrameSchema>, HeartbeatFrame>>,
  Check<Same<z.infer<typeof authedFrameSchema>, AuthedFrame>>,
  Check<Same<z.infer<typeof watchingFrameSchema>, WatchingFrame>>,
  Check<Same<z.infer<typeof orderFrameSchema>, OrderFrame>>,
  Check<Same<z.infer<typeof fillFrameSchema>, FillFrame>>,
  Check<Same<z.infer<typeof positionFrameSchema>, PositionFrame>>,
  Check<Same<z.infer<typeof accountFrameSchema>, AccountFrame>>,
  Check<Same<z.infer<typeof riskFrameSchema>, RiskFrame>>,
  Check<Same<z.infer<typeof alertsFrameSchema>, AlertsFrame>>,
  Check<Same<z.infer<typeof alertFrameSchema>, AlertFrame>>,
  Check<Same<z.infer<typeof sessionFrameSchema>, SessionFrame>>,
  Check<Same<z.infer<typeof previewFrameSchema>, PreviewFrame>>,
  Check<Same<z.infer<typeof chainFrameSchema>, ChainFrame>>,
  Check<Same<z.infer<typeof chainsFrameSchema>, ChainsFrame>>,
  Check<Same<z.infer<(typeof SERVER_FRAME_SCHEMAS)[keyof typeof SERVER_FRAME_SCHEMAS]>, ServerFrame>>,
];
