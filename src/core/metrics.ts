import type { RequestObserver } from "./pipeline.ts";
import type { Decision, LogSinkStats } from "./ports.ts";

/** Upper bounds (seconds) of the request-duration histogram buckets; +Inf is implied. */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

const DECISIONS: readonly Decision[] = ["allow", "block", "limit"];
const STATUS_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;
const DECISION_INDEX: Record<Decision, number> = { allow: 0, block: 1, limit: 2 };

/** What the registry reads when it is scraped; each source is asked at scrape time only. */
export interface MetricsSources {
  /** Unix ms at which the process (or plugin) started. */
  startedAt: number;
  now(): number;
  logStats(): LogSinkStats;
  limiterStats(): { state: "redis" | "memory"; fallbacks: number; reserved: number };
  ruleCounts(): { block: number; allow: number };
}

/**
 * Prometheus counters of ipward. Counting is a handful of array increments per request (label keys
 * are precomputed indexes); text is built only when scraped.
 */
export class Metrics {
  /** requests by decision × status class, indexed decision * 5 + class. */
  private readonly requests = new Float64Array(DECISIONS.length * STATUS_CLASSES.length);
  /** Non-cumulative bucket counts; the last slot is +Inf. Made cumulative when rendered. */
  private readonly buckets = new Float64Array(DURATION_BUCKETS.length + 1);
  private durationSum = 0;
  private durationCount = 0;
  private readonly detections = new Map<string, number>();

  /** The pipeline observer that counts every finished request; pass it to Pipeline.observe. */
  readonly observer: RequestObserver = (row, verdict) => {
    this.count(verdict.decision, row.status, row.duration_ms / 1000);
  };

  /** Counts one finished request. */
  count(decision: Decision, status: number, seconds: number): void {
    const statusClass = status >= 100 && status < 600 ? ((status / 100) | 0) - 1 : 4;
    this.requests[DECISION_INDEX[decision] * 5 + statusClass]++;
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[bucket]) bucket++;
    this.buckets[bucket]++;
    this.durationSum += seconds;
    this.durationCount++;
  }

  /** Counts one detection by a real-time scenario or scheduled rule. */
  detection(rule: string): void {
    this.detections.set(rule, (this.detections.get(rule) ?? 0) + 1);
  }

  /** Renders every metric in the Prometheus text exposition format 0.0.4. */
  render(sources: MetricsSources): string {
    const lines: string[] = [];
    const family = (name: string, type: string, help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

    family("ipward_requests_total", "counter", "Requests that went through the pipeline, by decision and status class.");
    for (let d = 0; d < DECISIONS.length; d++) {
      for (let c = 0; c < STATUS_CLASSES.length; c++) {
        lines.push(`ipward_requests_total{decision="${DECISIONS[d]}",status_class="${STATUS_CLASSES[c]}"} ${this.requests[d * 5 + c]}`);
      }
    }

    family("ipward_request_duration_seconds", "histogram", "Time from arrival to response, including the application or upstream.");
    let cumulative = 0;
    for (let b = 0; b < DURATION_BUCKETS.length; b++) {
      cumulative += this.buckets[b];
      lines.push(`ipward_request_duration_seconds_bucket{le="${DURATION_BUCKETS[b]}"} ${cumulative}`);
    }
    lines.push(`ipward_request_duration_seconds_bucket{le="+Inf"} ${this.durationCount}`);
    lines.push(`ipward_request_duration_seconds_sum ${this.durationSum}`);
    lines.push(`ipward_request_duration_seconds_count ${this.durationCount}`);

    const log = sources.logStats();
    family("ipward_log_buffer_rows", "gauge", "Request-log rows waiting to be written.");
    lines.push(`ipward_log_buffer_rows ${log.buffered}`);
    family("ipward_log_rows_written_total", "counter", "Request-log rows committed to the database.");
    lines.push(`ipward_log_rows_written_total ${log.written}`);
    family("ipward_log_rows_dropped_total", "counter", "Request-log rows dropped because the buffer was full or a batch failed.");
    lines.push(`ipward_log_rows_dropped_total ${log.dropped}`);

    const limiter = sources.limiterStats();
    family("ipward_limiter_store", "gauge", "Which store answers rate-limit hits right now (1) and which does not (0).");
    lines.push(`ipward_limiter_store{store="redis"} ${limiter.state === "redis" ? 1 : 0}`);
    lines.push(`ipward_limiter_store{store="memory"} ${limiter.state === "memory" ? 1 : 0}`);
    family("ipward_limiter_fallbacks_total", "counter", "Rate-limit hits answered from memory because Redis failed or was down.");
    lines.push(`ipward_limiter_fallbacks_total ${limiter.fallbacks}`);
    family("ipward_limiter_reserved_total", "counter", "Rate-limit hits answered from requests reserved in Redis by an earlier call.");
    lines.push(`ipward_limiter_reserved_total ${limiter.reserved}`);

    family("ipward_detections_total", "counter", "Detections, by rule or real-time scenario.");
    for (const [rule, count] of [...this.detections].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      lines.push(`ipward_detections_total{rule="${escapeLabel(rule)}"} ${count}`);
    }

    const rules = sources.ruleCounts();
    family("ipward_block_rules", "gauge", "Active block rules (IPs, CIDRs, countries).");
    lines.push(`ipward_block_rules ${rules.block}`);
    family("ipward_allow_rules", "gauge", "Active allow rules.");
    lines.push(`ipward_allow_rules ${rules.allow}`);

    family("ipward_uptime_seconds", "gauge", "Seconds since ipward started.");
    lines.push(`ipward_uptime_seconds ${Math.max(0, (sources.now() - sources.startedAt) / 1000)}`);
    family("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.");
    lines.push(`process_start_time_seconds ${sources.startedAt / 1000}`);

    return `${lines.join("\n")}\n`;
  }
}

/** Escapes a label value as the exposition format requires (backslash, quote, newline). */
function escapeLabel(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}
