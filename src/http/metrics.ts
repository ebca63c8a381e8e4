import type { Metrics, MetricsSources } from "../core/metrics.ts";

/** Content type of the Prometheus text exposition format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The `/_ipward/metrics` handler: the registry rendered at scrape time. No authentication (see README). */
export function createMetricsHandler(metrics: Metrics, sources: MetricsSources): (request: Request) => Response {
  return function metricsEndpoint(request) {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response(null, { status: 405, headers: { allow: "GET, HEAD" } });
    }
    return new Response(request.method === "HEAD" ? null : metrics.render(sources), {
      headers: { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" },
    });
  };
}
