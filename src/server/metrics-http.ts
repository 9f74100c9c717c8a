// HTTP observability: GET /metrics, and the middleware every REST request passes through first —
// a request id (the caller's X-Request-Id when it is safe to echo, else a new one), a count and a
// latency observation labelled by route pattern (never the raw path, so label values stay a
// closed set), and a log line carrying the request id. Query strings and headers are never
// logged: they are where API keys travel.

import type { Context, Hono, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { Logger } from "../log.ts";
import { isExpectedFailure, markRequestLogged } from "./rest.ts";
import { EXPOSITION_CONTENT_TYPE, type Counter, type Histogram, type MetricsRegistry } from "../monitor/registry.ts";
import type { RouteDoc } from "./openapi-registry.ts";

/** Buckets for REST latency, seconds: 50 µs to 5 s. */
export const HTTP_SECONDS_BUCKETS = [5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Methods counted by name; anything else is counted as OTHER. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** An incoming X-Request-Id is echoed only when it is short and plain, so it cannot forge log lines. */
const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

/** The readiness probe's route. */
const READINESS_ROUTE = "/readyz";

/** Route label of a request that matched no route (a 404). */
export const UNMATCHED_ROUTE = "unmatched";

/** The REST request families. */
export interface HttpMetrics {
  requests: Counter;
  seconds: Histogram;
}

/** Registers alluse_http_requests_total and alluse_http_request_duration_seconds. */
export function registerHttpMetrics(registry: MetricsRegistry): HttpMetrics {
  return {
    requests: registry.counter({ name: "alluse_http_requests_total", help: "REST requests, by route pattern, method and status.", labelNames: ["route", "method", "status"], maxSeries: 500 }),
    seconds: registry.histogram({ name: "alluse_http_request_duration_seconds", help: "REST request latency, by route pattern and method.", labelNames: ["route", "method"], buckets: HTTP_SECONDS_BUCKETS, maxSeries: 200 }),
  };
}

/** The pattern of the route that answered (e.g. /v1/quotes/:symbol), or "unmatched". */
function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  // The last match is the handler that answered; a match on "*" is this middleware (no route).
  for (let i = routes.length - 1; i >= 0; i--) {
    const r = routes[i]!;
    if (r.path !== "/*" && r.path !== "*") return r.path;
  }
  return UNMATCHED_ROUTE;
}

let nextRequest = 0;
const bootId = Date.now().toString(36);

/** A process-unique request id: boot time and a sequence number, cheap and sortable. */
function newRequestId(): string {
  return `${bootId}-${(++nextRequest).toString(36)}`;
}

/** Request id, metrics and logging for every REST request; install before any route. */
export function observeRequests(opts: { metrics?: HttpMetrics; log: Logger }): MiddlewareHandler {
  const { metrics, log } = opts;
  return async (c, next) => {
    const start = performance.now();
    const given = c.req.header("x-request-id");
    const requestId = given !== undefined && REQUEST_ID_RE.test(given) ? given : newRequestId();
    // This line carries a failure's error and request id: the app's error handler need not log it again.
    markRequestLogged(c.req.raw);
    await next();
    // Set after the handler: an error reply is built by onError as a new Response, which would
    // drop a header set on the context before it.
    try {
      c.res.headers.set("x-request-id", requestId);
    } catch {
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set("x-request-id", requestId);
    }
    const seconds = (performance.now() - start) / 1000;
    const route = routeOf(c);
    const method = METHODS.has(c.req.method) ? c.req.method : "OTHER";
    const status = c.res.status;
    if (metrics) {
      metrics.requests.labels(route, method, String(status)).inc();
      metrics.seconds.labels(route, method).observe(seconds);
    }
    const fields = { requestId, method: c.req.method, route, path: c.req.path, status, ms: Math.round(seconds * 1e4) / 10 };
    // A 503 from /readyz is its ordinary "not ready" answer to a probe, logged by the route when
    // readiness changes; an expected failure (an edge without its core) is reported the same way.
    if (status >= 500 && route !== READINESS_ROUTE && !isExpectedFailure(c.req.raw)) log.error("request failed", c.error ? { ...fields, err: c.error } : fields);
    else log.debug("request", fields);
  };
}

/** Adds GET /metrics serving the registry in the Prometheus text format. */
export function metricsRoutes(registry: MetricsRegistry): (app: Hono) => void {
  return (app) => {
    app.get("/metrics", () => new Response(registry.render(), { headers: { "content-type": EXPOSITION_CONTENT_TYPE } }));
  };
}

/** The route of this file, for the OpenAPI document. */
export const metricsRouteDocs: RouteDoc[] = [{
  method: "get", path: "/metrics", tag: "meta", auth: "public", summary: "Prometheus metrics (text exposition format)",
  replies: { 200: { description: "Every metric family", contentType: "text/plain" } },
}];
