// A small metrics registry that renders the Prometheus text exposition format (version 0.0.4).
//
// Two kinds of metric live here. Owned metrics (Counter, Gauge, Histogram) hold their own values
// in preallocated storage: an update is a few arithmetic operations, never an allocation, so they
// may sit on hot paths (one histogram observation per engine batch, per REST request). Scrape
// metrics hold nothing: a callback reads the real counters (the engine's counters in WASM memory,
// the fan-out's plain counters, process memory) when /metrics is requested, so they cost nothing
// between scrapes and can never drift from the source. Any part of the process may add either
// kind through register*(); nothing here knows the parts.
//
// Bounds: every labelled family has at most maxSeries label combinations (a CardinalityError
// beyond it: label values must come from closed sets such as route patterns, never raw input),
// and histogram buckets are fixed at creation.

import { renderFamily, type FamilySnapshot, type MetricType, type Labels } from "./exposition.ts";

export type { Labels, MetricType } from "./exposition.ts";

/** Default bound on label combinations per family. */
export const DEFAULT_MAX_SERIES = 200;

/** Metric and label names allowed by the exposition format; `__` prefixes are reserved. */
const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Raised when a family would exceed its label-combination bound. */
export class CardinalityError extends Error {
  constructor(readonly metric: string, readonly maxSeries: number) {
    super(`metric ${metric} would exceed ${maxSeries} label combinations; label values must come from a closed set`);
    this.name = "CardinalityError";
  }
}

/** What every metric declares. */
export interface MetricOptions {
  name: string;
  help: string;
  /** Label names, in the order values are given; none for a single series. */
  labelNames?: readonly string[];
  /** Bound on label combinations (default DEFAULT_MAX_SERIES). */
  maxSeries?: number;
}

/** Options of a histogram: upper bounds of the finite buckets, strictly increasing. */
export interface HistogramOptions extends MetricOptions {
  buckets: readonly number[];
}

/** Emits one sample from a scrape callback; `labelValues` in labelNames order. */
export type Emit = (value: number, ...labelValues: string[]) => void;

/** A family whose samples are read from their source at scrape time. */
export interface ScrapeOptions extends MetricOptions {
  type: "counter" | "gauge";
  /** Called once per scrape; emits each series' current value. */
  collect(emit: Emit): void;
}

/** Anything the registry can render: one metric family. */
interface Family {
  readonly name: string;
  snapshot(): FamilySnapshot;
}

function checkNames(o: MetricOptions): readonly string[] {
  if (!NAME_RE.test(o.name) || o.name.startsWith("__")) throw new Error(`invalid metric name ${JSON.stringify(o.name)}`);
  const labels = o.labelNames ?? [];
  for (const l of labels) {
    if (!LABEL_RE.test(l) || l.startsWith("__") || l === "le") throw new Error(`invalid label name ${JSON.stringify(l)} on ${o.name}`);
  }
  if (new Set(labels).size !== labels.length) throw new Error(`duplicate label name on ${o.name}`);
  return labels;
}

function labelsOf(names: readonly string[], values: readonly string[], metric: string): Labels {
  if (values.length !== names.length) throw new Error(`${metric} takes ${names.length} label values, got ${values.length}`);
  const out: Labels = {};
  for (let i = 0; i < names.length; i++) out[names[i]!] = values[i]!;
  return out;
}

/** Series storage shared by owned metrics: one child per label combination, created on first use. */
abstract class Owned<C> implements Family {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly maxSeries: number;
  protected readonly children = new Map<string, { labels: Labels; child: C }>();

  constructor(o: MetricOptions, readonly type: MetricType) {
    this.labelNames = checkNames(o);
    this.name = o.name;
    this.help = o.help;
    this.maxSeries = o.maxSeries ?? DEFAULT_MAX_SERIES;
  }

  protected abstract make(): C;

  /**
   * The series for these label values. Keep the result where the same series is updated often:
   * the lookup joins the values into a key, which allocates.
   */
  labels(...values: string[]): C {
    const key = values.join("\u0000");
    const found = this.children.get(key);
    if (found) return found.child;
    if (this.children.size >= this.maxSeries) throw new CardinalityError(this.name, this.maxSeries);
    const entry = { labels: labelsOf(this.labelNames, values, this.name), child: this.make() };
    this.children.set(key, entry);
    return entry.child;
  }

  abstract snapshot(): FamilySnapshot;
}

/** One counter series. */
export class CounterChild {
  value = 0;
  /** Adds `n` (default 1); a negative or non-finite increment is a bug. */
  inc(n = 1): void {
    if (!(n >= 0 && n !== Infinity)) throw new Error(`counter increment must be finite and >= 0, got ${n}`);
    this.value += n;
  }
}

/** A monotonically increasing count owned by the code that increments it. */
export class Counter extends Owned<CounterChild> {
  private readonly single: CounterChild | undefined;
  constructor(o: MetricOptions) {
    super(o, "counter");
    if (this.labelNames.length === 0) this.single = this.labels();
  }
  protected make(): CounterChild { return new CounterChild(); }
  /** Adds `n` to the unlabelled series. */
  inc(n = 1): void { this.single!.inc(n); }
  snapshot(): FamilySnapshot {
    return { name: this.name, help: this.help, type: "counter",
      samples: [...this.children.values()].map(({ labels, child }) => ({ labels, value: child.value })) };
  }
}

/** One gauge series. */
export class GaugeChild {
  value = 0;
  set(v: number): void { this.value = v; }
  inc(n = 1): void { this.value += n; }
  dec(n = 1): void { this.value -= n; }
}

/** A value that goes up and down, owned by the code that sets it. */
export class Gauge extends Owned<GaugeChild> {
  private readonly single: GaugeChild | undefined;
  constructor(o: MetricOptions) {
    super(o, "gauge");
    if (this.labelNames.length === 0) this.single = this.labels();
  }
  protected make(): GaugeChild { return new GaugeChild(); }
  /** Sets the unlabelled series. */
  set(v: number): void { this.single!.set(v); }
  snapshot(): FamilySnapshot {
    return { name: this.name, help: this.help, type: "gauge",
      samples: [...this.children.values()].map(({ labels, child }) => ({ labels, value: child.value })) };
  }
}

/** One histogram series: cumulative counts are computed at scrape, observe() only bumps one bucket. */
export class HistogramChild {
  /** Per-bucket (non-cumulative) counts; the last slot is the +Inf bucket. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly bounds: Float64Array) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  /** Records one value; NaN is a bug in the caller and is refused. */
  observe(v: number): void {
    if (v !== v) throw new Error("histogram observation is NaN");
    const b = this.bounds;
    let i = 0;
    // Buckets are few (≤ 32): a linear scan beats a binary search on short arrays.
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

/** A distribution over fixed buckets. */
export class Histogram extends Owned<HistogramChild> {
  readonly bounds: Float64Array;
  private readonly single: HistogramChild | undefined;
  constructor(o: HistogramOptions) {
    super(o, "histogram");
    const b = o.buckets;
    if (b.length === 0 || b.length > 32) throw new Error(`${o.name}: 1 to 32 buckets, got ${b.length}`);
    for (let i = 0; i < b.length; i++) {
      if (!Number.isFinite(b[i]!) || (i > 0 && b[i]! <= b[i - 1]!)) throw new Error(`${o.name}: buckets must be finite and increasing`);
    }
    this.bounds = Float64Array.from(b);
    if (this.labelNames.length === 0) this.single = this.labels();
  }
  protected make(): HistogramChild { return new HistogramChild(this.bounds); }
  /** Records one value in the unlabelled series. */
  observe(v: number): void { this.single!.observe(v); }
  snapshot(): FamilySnapshot {
    return { name: this.name, help: this.help, type: "histogram", bounds: this.bounds,
      series: [...this.children.values()].map(({ labels, child }) => ({ labels, counts: child.counts, sum: child.sum, count: child.count })) };
  }
}

/** A family read from its source at scrape time. */
class Scrape implements Family {
  readonly name: string;
  private readonly labelNames: readonly string[];
  private readonly maxSeries: number;
  constructor(private readonly o: ScrapeOptions) {
    this.labelNames = checkNames(o);
    this.name = o.name;
    this.maxSeries = o.maxSeries ?? DEFAULT_MAX_SERIES;
  }
  snapshot(): FamilySnapshot {
    const samples: { labels: Labels; value: number }[] = [];
    this.o.collect((value, ...values) => {
      if (samples.length >= this.maxSeries) throw new CardinalityError(this.name, this.maxSeries);
      samples.push({ labels: labelsOf(this.labelNames, values, this.name), value });
    });
    return { name: this.name, help: this.o.help, type: this.o.type, samples };
  }
}

/** The set of metric families served at /metrics. */
export class MetricsRegistry {
  private readonly families = new Map<string, Family>();

  private readonly hooks: (() => void)[] = [];

  /** Every sample name in use: family names, plus _bucket/_sum/_count of histograms. */
  private readonly sampleNames = new Set<string>();

  private add<F extends Family>(f: F): F {
    const names = f instanceof Histogram ? [f.name, `${f.name}_bucket`, `${f.name}_sum`, `${f.name}_count`] : [f.name];
    for (const n of names) if (this.sampleNames.has(n)) throw new Error(`metric ${f.name} collides with a registered metric (${n})`);
    for (const n of names) this.sampleNames.add(n);
    this.families.set(f.name, f);
    return f;
  }

  /** Registers a counter owned by the caller. */
  counter(o: MetricOptions): Counter { return this.add(new Counter(o)); }
  /** Registers a gauge owned by the caller. */
  gauge(o: MetricOptions): Gauge { return this.add(new Gauge(o)); }
  /** Registers a histogram owned by the caller. */
  histogram(o: HistogramOptions): Histogram { return this.add(new Histogram(o)); }
  /** Registers a family whose values `collect` reads from their source at each scrape. */
  scrape(o: ScrapeOptions): void { this.add(new Scrape(o)); }

  /**
   * Runs `hook` at the start of every render, before any family is read: a part whose families
   * share one snapshot of its state (a copy of its counters) takes it here, once per scrape.
   */
  beforeScrape(hook: () => void): void { this.hooks.push(hook); }

  /** Removes a family (a part that stops); unknown names are ignored. */
  unregister(name: string): void {
    const f = this.families.get(name);
    if (!f) return;
    this.families.delete(name);
    for (const n of f instanceof Histogram ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name]) this.sampleNames.delete(n);
  }

  /** Names of the registered families, in registration order. */
  names(): string[] { return [...this.families.keys()]; }

  /** The whole exposition, families in registration order. */
  render(): string {
    for (const h of this.hooks) h();
    const parts: string[] = [];
    for (const f of this.families.values()) parts.push(renderFamily(f.snapshot()));
    return parts.join("");
  }
}

/** Content type of the text exposition format. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
