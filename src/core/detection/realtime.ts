import type { RequestFacts, Verdict } from "../pipeline.ts";
import type { LogRow } from "../ports.ts";
import { LeakyBuckets } from "./leaky-bucket.ts";
import type { Finding } from "./ports.ts";
import type { ObservedRequest, Scenario } from "./scenarios.ts";

export interface RealtimeDetectorOptions {
  scenarios: readonly Scenario[];
  /** Receives each triggered scenario; must not block (the Responder queues). */
  report: (finding: Finding) => void;
  /** Addresses tracked per scenario; the least recently seen are forgotten first. */
  maxTrackedIps: number;
}

/**
 * Real-time scenarios over finished requests: each scenario matches a request cheaply and pours
 * a hit into the client's leaky bucket; an overflow is reported as a finding. Allowlisted
 * requests, requests ipward blocked and requests without a valid client IP are ignored.
 */
export class RealtimeDetector {
  private readonly scenarios: readonly Scenario[];
  private readonly buckets: LeakyBuckets[];
  private readonly report: (finding: Finding) => void;

  constructor(options: RealtimeDetectorOptions) {
    this.scenarios = options.scenarios;
    this.report = options.report;
    this.buckets = options.scenarios.map(
      (scenario) => new LeakyBuckets(scenario.threshold, scenario.windowMs, options.maxTrackedIps),
    );
  }

  /**
   * The pipeline's RequestObserver. Uses the real client IP (`verdict.ip`, not the possibly
   * anonymised logged one), the raw query and user agent from `facts`, status and time from `row`.
   */
  readonly observe = (row: LogRow, verdict: Verdict, facts: Pick<RequestFacts, "path" | "query" | "userAgent">): void => {
    if (verdict.allowlisted || row.decision === "block" || verdict.parsedIp === null) return;
    this.inspect(verdict.ip, row.ts, {
      method: row.method,
      path: facts.path,
      query: facts.query,
      status: row.status,
      userAgent: facts.userAgent,
    });
  };

  /** Runs every scenario over one request from `ip` at `now`. */
  inspect(ip: string, now: number, request: ObservedRequest): void {
    const { scenarios } = this;
    for (let i = 0; i < scenarios.length; i++) {
      const evidence = scenarios[i].match(request);
      if (evidence === null) continue;
      const hits = this.buckets[i].pour(ip, now);
      if (hits > 0) {
        this.report({ ip, rule: scenarios[i].name, count: hits, reason: scenarios[i].describe(hits, evidence) });
      }
    }
  }

  /** Addresses currently tracked, per scenario name. */
  tracked(): Record<string, number> {
    return Object.fromEntries(this.scenarios.map((scenario, i) => [scenario.name, this.buckets[i].size]));
  }
}
