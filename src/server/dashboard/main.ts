// The dashboard's script: live quotes over /ws through the public MarketClient, bars and
// analytics from /v1, system charts from /metrics, and, with an API key, the trading panels
// (trading.ts). It uses nothing a third-party client could not.

import { MarketClient } from "../../client/client.ts";
import type { QuoteFrame } from "../../client/protocol.ts";
import type { SymbolForecast, SymbolSummary } from "../../analytics/report.ts";
import { drawCandles, drawLines, type Candle, type FanPoint } from "./charts.ts";
import { intervalQuantile, parseScrape, rate, Series, total, type Scrape } from "./metrics.ts";
import { QuoteTable } from "./quotes.ts";
import { $, fmt, keyValues } from "./dom.ts";
import { TradingPanels } from "./trading.ts";
import { ChainPanel } from "./chain.ts";

/** Most symbols in the table: the stocks of the feed, in server order. */
const MAX_SYMBOLS = 40;
const METRICS_EVERY_MS = 2000;
const READY_EVERY_MS = 5000;
const BARS_EVERY_MS = 10_000;
const BAR_MS = 60_000;

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/** The price panel: bars of the selected symbol, the live current bar and the forecast fan. */
class PricePanel {
  symbol = "";
  private closed: Candle[] = [];
  private current: Candle | null = null;
  private fan: FanPoint[] = [];
  private drawQueued = false;

  async load(symbol: string): Promise<void> {
    this.symbol = symbol;
    $("chart-title").textContent = `${symbol} · 1-minute bars`;
    const enc = encodeURIComponent(symbol);
    const [bars, summary, forecast] = await Promise.all([
      getJson<{ closed: Candle[]; current: Candle | null }>(`/v1/bars/${enc}?limit=90`),
      getJson<SymbolSummary>(`/v1/analytics/${enc}?bars=60`),
      getJson<SymbolForecast>(`/v1/analytics/${enc}/forecast?bars=60&horizon=10`),
    ]);
    if (symbol !== this.symbol) return;
    this.closed = bars.closed;
    this.current = bars.current;
    this.fan = forecast.points;
    this.draw();
    const t = summary.trend;
    keyValues($("analytics"), [
      ["trend", t ? `${t.direction} (t ${fmt(t.t, 1)}, R² ${fmt(t.r2, 2)})` : "—"],
      ["EMA 12/26", summary.ema ? summary.ema.state : "—"],
      ["vol c-c", fmt(summary.volatility.closeToClose === null ? null : summary.volatility.closeToClose * 100, 1, " %")],
      ["vol Parkinson", fmt(summary.volatility.parkinson === null ? null : summary.volatility.parkinson * 100, 1, " %")],
      ["vol EWMA", fmt(summary.volatility.ewma === null ? null : summary.volatility.ewma * 100, 1, " %")],
      ["ATR(5) 1m", fmt(summary.atr.oneMinute, 3)],
      ["VWAP dev", fmt(summary.vwap.deviationBps, 1, " bp")],
      ["spread", fmt(summary.spread?.relativeBps.mean, 2, " bp")],
      ["forecast MAE", forecast.backtest ? `${fmt(forecast.backtest.mae, 3)} (naive ${fmt(forecast.backtest.naiveMae, 3)})` : "—"],
      ["bars", String(summary.window.bars)],
    ]);
  }

  /** Folds a trade price into the open bar, as the engine does, until the next reload. */
  onQuote(q: QuoteFrame): void {
    if (q.s !== this.symbol || q.l === null) return;
    const start = Math.floor(q.ts / BAR_MS) * BAR_MS;
    const c = this.current;
    if (!c || start > c.start) {
      if (c) this.closed = [...this.closed.slice(-89), c];
      this.current = { start, open: q.l, high: q.l, low: q.l, close: q.l };
      this.fan = [];
    } else {
      c.close = q.l;
      c.high = Math.max(c.high, q.l);
      c.low = Math.min(c.low, q.l);
    }
    this.queueDraw();
  }

  queueDraw(): void {
    if (this.drawQueued) return;
    this.drawQueued = true;
    requestAnimationFrame(() => { this.drawQueued = false; this.draw(); });
  }

  draw(): void {
    const candles = this.current ? [...this.closed, this.current] : this.closed;
    drawCandles($<HTMLCanvasElement>("price-chart"), candles, this.fan);
  }
}

/** The system panel: rates and interval quantiles from two consecutive scrapes. */
class SystemPanel {
  private prev: Scrape | undefined;
  private readonly ticks = new Series();
  private readonly messages = new Series();
  private readonly p50 = new Series();
  private readonly p99 = new Series();
  private readonly lag = new Series();

  /** Points in the charts so far (the browser test waits on it). */
  get points(): number {
    return this.ticks.values.length;
  }

  async poll(): Promise<void> {
    const text = await (await fetch("/metrics")).text();
    const cur = parseScrape(text, performance.now());
    const prev = this.prev;
    this.prev = cur;
    if (!prev) return;
    this.ticks.push(rate(cur, prev, "alluse_engine_ticks_total"));
    this.messages.push(rate(cur, prev, "alluse_ws_messages_out_total"));
    this.p50.push(intervalQuantile(cur, prev, "alluse_tick_to_publish_seconds", 0.5) * 1000);
    this.p99.push(intervalQuantile(cur, prev, "alluse_tick_to_publish_seconds", 0.99) * 1000);
    this.lag.push(intervalQuantile(cur, prev, "alluse_event_loop_lag_seconds", 0.99) * 1000);
    this.draw();
    const ticks = total(cur, "alluse_engine_ticks_total");
    const rejected = total(cur, "alluse_engine_ticks_rejected_total");
    keyValues($("system"), [
      ["ticks in", `${fmt(this.ticks.values.at(-1), 0)}/s`],
      ["messages out", `${fmt(this.messages.values.at(-1), 0)}/s`],
      ["rejected", `${rejected} (${fmt(ticks > 0 ? (100 * rejected) / ticks : null, 2)} %)`],
      ["ingest p99", fmt(intervalQuantile(cur, prev, "alluse_engine_ingest_seconds", 0.99) * 1e6, 0, " µs")],
      ["fan-out p99", fmt(intervalQuantile(cur, prev, "alluse_fanout_seconds", 0.99) * 1e6, 0, " µs")],
      ["connections", String(total(cur, "alluse_ws_connections"))],
      ["subscriptions", String(total(cur, "alluse_ws_subscriptions"))],
      ["slow clients", String(total(cur, "alluse_ws_slow_clients"))],
      ["RSS", fmt(total(cur, "process_resident_memory_bytes") / 2 ** 20, 0, " MiB")],
      ["REST", `${fmt(rate(cur, prev, "alluse_http_requests_total"), 1)}/s`],
    ]);
  }

  draw(): void {
    drawLines($<HTMLCanvasElement>("throughput-chart"), [
      { values: this.ticks.values, color: "#2fbf71" }, { values: this.messages.values, color: "#4f9dde" },
    ], (v) => (v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0)));
    drawLines($<HTMLCanvasElement>("latency-chart"), [
      { values: this.p50.values, color: "#2fbf71" }, { values: this.p99.values, color: "#e5534b" }, { values: this.lag.values, color: "#d29922" },
    ], (v) => v.toFixed(v < 1 ? 2 : 1));
  }
}

function setPill(id: string, text: string, state: "ok" | "bad" | "") {
  const el = $(id);
  el.textContent = text;
  el.className = state ? `pill ${state}` : "pill";
}

async function pollReady(): Promise<void> {
  const res = await fetch("/readyz");
  const r = (await res.json()) as { ready: boolean; reasons: string[] };
  setPill("ready", r.ready ? "ready" : `not ready: ${r.reasons.join("; ")}`, r.ready ? "ok" : "bad");
}

/** Runs `task` now and every `ms`, showing a failure in the header instead of throwing. */
function every(ms: number, task: () => Promise<void>): void {
  const run = () => task().catch((err: Error) => setPill("ready", `error: ${err.message}`, "bad"));
  void run();
  setInterval(run, ms);
}

async function main(): Promise<void> {
  const price = new PricePanel();
  const system = new SystemPanel();
  const select = (s: string) => {
    table.select(s);
    price.load(s).catch((err: Error) => setPill("ready", `error: ${err.message}`, "bad"));
  };
  const table = new QuoteTable($<HTMLTableElement>("quotes").tBodies[0]!, select);
  const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
  // The keyed panels start at once: they do not wait for the market data.
  const chain = new ChainPanel();
  const trading = new TradingPanels(wsUrl, chain);
  (window as unknown as { dashboard: unknown }).dashboard = { table, system, trading, chain };

  const { instruments, total: count } = await getJson<{ instruments: { symbol: string }[]; total: number }>(`/v1/instruments?kind=stock&limit=${MAX_SYMBOLS}`);
  const symbols = instruments.map((i) => i.symbol);
  $("quotes-sub").textContent = count > symbols.length ? `${symbols.length} of ${count} stocks` : `${symbols.length} stocks`;
  table.setSymbols(symbols);
  trading.orders.setSymbols(symbols);

  const client = await MarketClient.connect(wsUrl, { format: "json" });
  setPill("conn", "live", "ok");
  client.onState((s) => setPill("conn", s === "open" ? "live" : s, s === "open" ? "ok" : "bad"));
  client.onQuote((q) => {
    table.push(q);
    price.onQuote(q);
  });
  if (symbols.length > 0) {
    await client.subscribe({ symbols });
    select(symbols[0]!);
  }
  chain.start(client, symbols).catch((err: Error) => setPill("ready", `error: ${err.message}`, "bad"));

  every(READY_EVERY_MS, pollReady);
  every(METRICS_EVERY_MS, () => system.poll());
  every(BARS_EVERY_MS, async () => { if (price.symbol) await price.load(price.symbol); });
  setInterval(() => { $("clock").textContent = new Date().toLocaleTimeString(); }, 1000);
  window.addEventListener("resize", () => { price.draw(); system.draw(); chain.redraw(); });
}

main().catch((err: Error) => setPill("conn", `failed: ${err.message}`, "bad"));
