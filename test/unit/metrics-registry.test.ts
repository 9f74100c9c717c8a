import { describe, expect, test } from "bun:test";
import { CardinalityError, MetricsRegistry } from "../../src/monitor/registry.ts";
import { parseExposition, promtoolCheck, sampleValue } from "../helpers/prom-parse.ts";

describe("exposition", () => {
  test("counters, gauges and a histogram render exactly as the text format spells them", () => {
    const r = new MetricsRegistry();
    const c = r.counter({ name: "demo_requests_total", help: "Requests.\nSecond line with a \\ backslash.", labelNames: ["route"] });
    c.labels("/a").inc();
    c.labels('/b"\n\\').inc(2);
    r.gauge({ name: "demo_temperature_celsius", help: "A gauge." }).set(-1.5);
    const h = r.histogram({ name: "demo_latency_seconds", help: "A histogram.", buckets: [0.1, 1] });
    for (const v of [0.05, 0.1, 0.5, 3]) h.observe(v);
    expect(r.render()).toBe([
      "# HELP demo_requests_total Requests.\\nSecond line with a \\\\ backslash.",
      "# TYPE demo_requests_total counter",
      'demo_requests_total{route="/a"} 1',
      'demo_requests_total{route="/b\\"\\n\\\\"} 2',
      "# HELP demo_temperature_celsius A gauge.",
      "# TYPE demo_temperature_celsius gauge",
      "demo_temperature_celsius -1.5",
      "# HELP demo_latency_seconds A histogram.",
      "# TYPE demo_latency_seconds histogram",
      // 0.1 falls in le="0.1": buckets are upper-inclusive.
      'demo_latency_seconds_bucket{le="0.1"} 2',
      'demo_latency_seconds_bucket{le="1"} 3',
      'demo_latency_seconds_bucket{le="+Inf"} 4',
      "demo_latency_seconds_sum 3.65",
      "demo_latency_seconds_count 4",
      "",
    ].join("\n"));
    const parsed = parseExposition(r.render());
    expect(sampleValue(parsed, "demo_requests_total", { route: '/b"\n\\' })).toBe(2);
    expect(parsed.get("demo_requests_total")!.help).toBe("Requests.\nSecond line with a \\ backslash.");
    const lint = promtoolCheck(r.render());
    if (lint) expect(lint.output).toBe("");
  });

  test("special values: +Inf, -Inf and NaN", () => {
    const r = new MetricsRegistry();
    const values = [Infinity, -Infinity, NaN];
    r.scrape({ name: "demo_values", help: "Special values.", type: "gauge", labelNames: ["k"], collect: (e) => values.forEach((v, i) => e(v, String(i))) });
    expect(r.render()).toContain('demo_values{k="0"} +Inf\ndemo_values{k="1"} -Inf\ndemo_values{k="2"} NaN\n');
    const parsed = parseExposition(r.render());
    expect(sampleValue(parsed, "demo_values", { k: "2" })).toBeNaN();
  });

  test("scrape families read their source at every render, and beforeScrape runs first", () => {
    const r = new MetricsRegistry();
    const source = { n: 1 };
    let snapshot = 0;
    r.beforeScrape(() => (snapshot = source.n * 10));
    r.scrape({ name: "demo_live_total", help: "Read at scrape.", type: "counter", collect: (e) => e(source.n) });
    r.scrape({ name: "demo_snap", help: "From the hook.", type: "gauge", collect: (e) => e(snapshot) });
    expect(sampleValue(parseExposition(r.render()), "demo_live_total")).toBe(1);
    source.n = 7;
    const p = parseExposition(r.render());
    expect(sampleValue(p, "demo_live_total")).toBe(7);
    expect(sampleValue(p, "demo_snap")).toBe(70);
  });

  test("label combinations are bounded per family", () => {
    const r = new MetricsRegistry();
    const c = r.counter({ name: "demo_bounded_total", help: "Bounded.", labelNames: ["k"], maxSeries: 3 });
    for (const k of ["a", "b", "c"]) c.labels(k).inc();
    c.labels("a").inc();
    expect(() => c.labels("d")).toThrow(CardinalityError);
    r.scrape({ name: "demo_scrape_bounded", help: "Bounded.", type: "gauge", labelNames: ["k"], maxSeries: 2, collect: (e) => { for (const k of "xyz") e(1, k); } });
    expect(() => r.render()).toThrow(CardinalityError);
  });

  test("names, labels and buckets are checked when a metric is registered", () => {
    const r = new MetricsRegistry();
    expect(() => r.counter({ name: "bad-name", help: "x" })).toThrow(/invalid metric name/);
    expect(() => r.counter({ name: "__reserved", help: "x" })).toThrow(/invalid metric name/);
    expect(() => r.counter({ name: "ok_total", help: "x", labelNames: ["le"] })).toThrow(/invalid label name/);
    expect(() => r.counter({ name: "ok_total", help: "x", labelNames: ["a", "a"] })).toThrow(/duplicate label/);
    expect(() => r.histogram({ name: "h_seconds", help: "x", buckets: [1, 1] })).toThrow(/increasing/);
    expect(() => r.histogram({ name: "h_seconds", help: "x", buckets: [] })).toThrow(/1 to 32 buckets/);
    expect(() => r.histogram({ name: "h_seconds", help: "x", buckets: [Infinity] })).toThrow(/finite/);
    r.histogram({ name: "h_seconds", help: "x", buckets: [1] });
    expect(() => r.gauge({ name: "h_seconds_count", help: "x" })).toThrow(/collides/);
    expect(() => r.gauge({ name: "h_seconds", help: "x" })).toThrow(/collides/);
    r.gauge({ name: "g_sum", help: "x" });
    expect(() => r.histogram({ name: "g", help: "x", buckets: [1] })).toThrow(/collides/);
    r.unregister("h_seconds");
    r.gauge({ name: "h_seconds_count", help: "now free" });
  });

  test("wrong label arity, negative increments and NaN observations are bugs, refused loudly", () => {
    const r = new MetricsRegistry();
    const c = r.counter({ name: "demo_total", help: "x", labelNames: ["a", "b"] });
    expect(() => c.labels("only-one")).toThrow(/takes 2 label values/);
    const plain = r.counter({ name: "plain_total", help: "x" });
    expect(() => plain.inc(-1)).toThrow(/>= 0/);
    expect(() => plain.inc(NaN)).toThrow(/>= 0/);
    const h = r.histogram({ name: "demo_seconds", help: "x", buckets: [1] });
    expect(() => h.observe(NaN)).toThrow(/NaN/);
  });

  test("observing never allocates a series: the same child is reused", () => {
    const r = new MetricsRegistry();
    const h = r.histogram({ name: "demo_seconds", help: "x", buckets: [0.001, 0.01], labelNames: ["route"] });
    const child = h.labels("/x");
    expect(h.labels("/x")).toBe(child);
    for (let i = 0; i < 10_000; i++) child.observe(i % 2 === 0 ? 0.0005 : 0.5);
    const p = parseExposition(r.render());
    expect(sampleValue(p, "demo_seconds_bucket", { route: "/x", le: "0.001" })).toBe(5000);
    expect(sampleValue(p, "demo_seconds_bucket", { route: "/x", le: "+Inf" })).toBe(10_000);
  });
});

describe("the strict test parser refuses what Prometheus would", () => {
  const bad: [string, string][] = [
    ["no trailing newline", "a 1"],
    ["a bad label escape", '# TYPE a gauge\na{x="\\t"} 1\n'],
    ["a repeated series", "# TYPE a gauge\na 1\na 2\n"],
    ["non-contiguous samples", "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"1\"} 2\n"],
    ["TYPE after samples", "a 1\n# TYPE a gauge\n"],
    ["a histogram without +Inf", '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ["a histogram whose +Inf differs from _count", '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n'],
    ["non-cumulative buckets", '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ["a negative counter", "# TYPE c counter\nc -1\n"],
    ["a bad value", "# TYPE a gauge\na one\n"],
  ];
  for (const [what, text] of bad) test(what, () => expect(() => parseExposition(text)).toThrow());
});
