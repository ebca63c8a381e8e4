import { Elysia, t } from "elysia";
import { formatDuration, parseDuration } from "../../core/duration.ts";
import { IpwardError } from "../../core/errors.ts";
import { parseTimeOrAgo } from "../../core/time.ts";
import { isoTime } from "../../store/json.ts";
import type { AdminDeps } from "./deps.ts";
import { Int } from "./schemas.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MAX_BUCKETS = 1000;

/** Automatic bucket size by span: per minute up to 2 h, 5 min up to 12 h, hourly up to 2 d, 6 h up to 14 d, then daily. */
const AUTO_BUCKETS: [maxSpan: number, bucket: number][] = [
  [2 * HOUR, MINUTE],
  [12 * HOUR, 5 * MINUTE],
  [2 * DAY, HOUR],
  [14 * DAY, 6 * HOUR],
];

/** The bucket size for a span: `requested` when given (at least 1 min, at most 1000 buckets), else by AUTO_BUCKETS. */
export function bucketFor(spanMs: number, requested?: string): number {
  if (requested === undefined) return AUTO_BUCKETS.find(([maxSpan]) => spanMs <= maxSpan)?.[1] ?? DAY;
  const bucket = parseDuration(requested, "bucket");
  if (bucket < MINUTE) throw new IpwardError("invalid_input", `invalid bucket "${requested}": at least 1m`);
  if (spanMs / bucket > MAX_BUCKETS) {
    throw new IpwardError("invalid_input", `invalid bucket "${requested}": the range would have more than ${MAX_BUCKETS} buckets`);
  }
  return bucket;
}

const Count = Int({ minimum: 0 });

const StatsJson = t.Object({
  since: t.String({ format: "date-time" }),
  until: t.String({ format: "date-time" }),
  bucket: t.String({ description: "Series bucket size, e.g. 1m, 1h" }),
  totals: t.Object({ requests: Count, blocked: Count, limited: Count, unique_ips: Count }),
  series: t.Array(t.Object({ ts: t.String({ format: "date-time", description: "Bucket start" }), requests: Count, blocked: Count, limited: Count })),
  decisions: t.Object({ allow: Count, block: Count, limit: Count }),
  top_countries: t.Array(t.Object({ country_code: t.String(), country: t.Union([t.String(), t.Null()]), requests: Count })),
  top_ips: t.Array(t.Object({ ip: t.String(), requests: Count, country_code: t.Union([t.String(), t.Null()]) })),
  top_paths: t.Array(t.Object({ path: t.String(), requests: Count })),
  status_mix: t.Array(t.Object({ status_class: t.String({ examples: ["2xx"] }), requests: Count })),
});

/** GET /stats: the dashboard's figures for a time range. */
export function statsRoutes({ stats, clock }: AdminDeps) {
  return new Elysia().get(
    "/stats",
    function trafficStats({ query }) {
      const now = clock.now();
      const since = parseTimeOrAgo(query.since ?? "24h", now, "since");
      const until = query.until === undefined ? now : parseTimeOrAgo(query.until, now, "until");
      if (since >= until) throw new IpwardError("invalid_input", `invalid range: since (${isoTime(since)}) must be before until (${isoTime(until)})`);
      const bucket = bucketFor(until - since, query.bucket);
      const figures = stats.trafficStats({ since, until }, bucket);
      const { requests, blocked, limited } = figures.totals;
      return {
        since: isoTime(since),
        until: isoTime(until),
        bucket: formatDuration(bucket),
        ...figures,
        series: figures.series.map((point) => ({ ...point, ts: isoTime(point.ts) })),
        decisions: { allow: requests - blocked - limited, block: blocked, limit: limited },
      };
    },
    {
      query: t.Object({
        since: t.Optional(t.String({ default: "24h", description: "ISO 8601 time, or a duration back from now (1h, 24h, 7d)" })),
        until: t.Optional(t.String({ description: "ISO 8601 time, or a duration back from now; default now" })),
        bucket: t.Optional(t.String({ description: "Series bucket size (default by span: 1m up to 2h, 5m up to 12h, 1h up to 2d, 6h up to 14d, else 1d)" })),
      }),
      response: { 200: StatsJson },
      detail: { tags: ["stats"], summary: "Totals, requests over time, decisions, top countries/IPs/paths and status classes" },
    },
  );
}
