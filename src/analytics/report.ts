// Per-symbol analytics over a window of the engine's closed 1-minute bars: the computations of
// this folder applied to one instrument, in the shapes the REST API returns. Bars exist only for
// minutes with trades, so a window of N bars may span more than N minutes (`window` says which).

import type { Instrument } from "../domain/instrument.ts";
import type { Bar, Engine } from "../engine/engine.ts";
import { DEFAULT_Z_THRESHOLD, flagAnomalies } from "./anomaly.ts";
import { backtestHolt, fitHolt, holtForecast, type Backtest, type ForecastPoint, type HoltParams } from "./forecast.ts";
import type { SpreadSampler, SpreadStats } from "./spread.ts";
import { summarize, type Summary } from "./stats.ts";
import { detectTrend, emaCrossover, type Crossover, type Trend } from "./trend.ts";
import { atr, barsPerYear, closeToCloseVol, logReturns, parkinsonVol } from "./volatility.ts";

/** Period of the ATR the summary reports. */
export const ATR_PERIOD = 5;

/** The bars a report covers. */
export interface Window {
  bars: number;
  barMs: number;
  /** Start of the first bar and end of the last, epoch ms; null without bars. */
  from: number | null;
  to: number | null;
}

/** GET /v1/analytics/{symbol}. */
export interface SymbolSummary {
  symbol: string;
  window: Window;
  /** Log returns from close to close, per bar. */
  returns: Summary;
  volatility: {
    /** Annualised (252 × 6.5 h trading year), from the window's bars. */
    closeToClose: number | null;
    parkinson: number | null;
    /** The quote's live EWMA volatility, for comparison. */
    ewma: number | null;
  };
  atr: { period: number; oneMinute: number | null; daily: number | null; dailyNote: string };
  vwap: { vwap: number | null; last: number | null; deviation: number | null; deviationBps: number | null };
  /** Null when the instrument is beyond the sampled rows. */
  spread: SpreadStats | null;
  trend: Trend | null;
  ema: Crossover | null;
}

function windowOf(closed: readonly Bar[], barMs: number): Window {
  return { bars: closed.length, barMs, from: closed[0]?.start ?? null, to: closed.length ? closed[closed.length - 1]!.start + barMs : null };
}

/** Statistics, volatility, ATR, VWAP deviation, spreads and trend of one instrument over its last `bars` closed bars. */
export function symbolSummary(engine: Engine, inst: Instrument, bars: number, spreads?: SpreadSampler): SymbolSummary {
  const { closed } = engine.bars(inst.index, bars);
  const barMs = engine.layout.BAR_MS;
  const ppy = barsPerYear(barMs);
  const closes = closed.map((b) => b.close);
  const q = engine.quote(inst.index);
  const deviation = q.vwap !== null && q.last !== null ? q.last / q.vwap - 1 : null;
  return {
    symbol: inst.symbol,
    window: windowOf(closed, barMs),
    returns: summarize(closes.length >= 2 ? logReturns(closes) : []),
    volatility: { closeToClose: closeToCloseVol(closes, ppy), parkinson: closed.length ? parkinsonVol(closed, ppy) : null, ewma: q.volatility },
    atr: { period: ATR_PERIOD, oneMinute: atr(closed, ATR_PERIOD), daily: null, dailyNote: "daily bars need historical data, which no feed provides yet" },
    vwap: { vwap: q.vwap, last: q.last, deviation, deviationBps: deviation === null ? null : deviation * 1e4 },
    spread: spreads?.stats(inst.index) ?? null,
    trend: detectTrend(closes),
    ema: emaCrossover(closes),
  };
}

/** GET /v1/analytics/{symbol}/forecast. */
export interface SymbolForecast {
  symbol: string;
  window: Window;
  params: HoltParams | null;
  level: number;
  /** Forecast closes of the next bars; `start` is the bar's expected start if bars stay one a minute. */
  points: (ForecastPoint & { start: number })[];
  backtest: Backtest | null;
}

/** Holt forecast of the next `horizon` closes with `level` intervals, and a one-step backtest over the last `testBars`. */
export function symbolForecast(engine: Engine, inst: Instrument, o: { bars: number; horizon: number; level: number; testBars: number }): SymbolForecast {
  const { closed } = engine.bars(inst.index, o.bars);
  const barMs = engine.layout.BAR_MS;
  const closes = closed.map((b) => b.close);
  const base = { symbol: inst.symbol, window: windowOf(closed, barMs), level: o.level };
  if (closes.length < 3) return { ...base, params: null, points: [], backtest: null };
  const state = fitHolt(closes);
  const lastStart = closed[closed.length - 1]!.start;
  return {
    ...base,
    params: { alpha: state.alpha, beta: state.beta },
    points: holtForecast(state, o.horizon, o.level).map((p) => ({ ...p, start: lastStart + p.h * barMs })),
    backtest: backtestHolt(closes, Math.min(o.testBars, Math.floor(closes.length / 3))),
  };
}

/** A flagged bar (returns, volume) or spread sample. */
export interface AnomalyPoint {
  /** Bar start (epoch ms) for bar series; for spreads, samples ago (0 = the latest). */
  at: number;
  value: number;
  z: number;
}

/** GET /v1/analytics/{symbol}/anomalies. */
export interface SymbolAnomalies {
  symbol: string;
  window: Window;
  threshold: number;
  returns: AnomalyPoint[];
  volume: AnomalyPoint[];
  /** Relative spreads in bps; null when the instrument is not sampled. */
  spreadBps: AnomalyPoint[] | null;
}

/** Robust z-score anomalies of returns, volume and spreads over the window. */
export function symbolAnomalies(engine: Engine, inst: Instrument, o: { bars: number; threshold?: number }, spreads?: SpreadSampler): SymbolAnomalies {
  const threshold = o.threshold ?? DEFAULT_Z_THRESHOLD;
  const { closed } = engine.bars(inst.index, o.bars);
  const closes = closed.map((b) => b.close);
  const returns = closes.length >= 2 ? logReturns(closes) : [];
  const spreadSeries = spreads?.covers(inst.index) ? spreads.recentBps(inst.index) : null;
  return {
    symbol: inst.symbol,
    window: windowOf(closed, engine.layout.BAR_MS),
    threshold,
    // Return i is from bar i to bar i + 1: it belongs to the later bar.
    returns: flagAnomalies(returns, threshold).map((f) => ({ at: closed[f.index + 1]!.start, value: f.value, z: f.z })),
    volume: flagAnomalies(closed.map((b) => b.volume), threshold).map((f) => ({ at: closed[f.index]!.start, value: f.value, z: f.z })),
    spreadBps: spreadSeries === null ? null
      : flagAnomalies(spreadSeries, threshold).map((f) => ({ at: spreadSeries.length - 1 - f.index, value: f.value, z: f.z })),
  };
}
