import type { Finding } from "./ports.ts";
import type { RuleContext, ScheduledRule } from "./scheduled.ts";

/** "high_volume": more than `threshold` requests from one IP in the window (the seed's first rule). */
export function highVolumeRule(data: { threshold: number }): ScheduledRule & { threshold: number } {
  return {
    name: "high_volume",
    threshold: data.threshold,
    evaluate({ window, windowText }: RuleContext): Finding[] {
      const counts = window.requestCounts(data.threshold);
      return counts.map(({ ip, count }) => ({
        ip,
        rule: "high_volume",
        count,
        reason: `${count} requests in ${windowText} (threshold ${data.threshold})`,
      }));
    },
  };
}

/**
 * "sensitive_paths": more than `threshold` requests to sensitive paths in the window (the seed's
 * second rule). A path is sensitive when it equals a configured one or lies below it.
 */
export function sensitivePathsRule(data: {
  threshold: number;
  paths: readonly string[];
}): ScheduledRule & { threshold: number; paths: readonly string[] } {
  return {
    name: "sensitive_paths",
    threshold: data.threshold,
    paths: data.paths,
    evaluate({ window, windowText }: RuleContext): Finding[] {
      const counts = window.sensitiveCounts(data.threshold);
      const listed = data.paths.map((path) => path || "/").join(", ");
      return counts.map(({ ip, count }) => ({
        ip,
        rule: "sensitive_paths",
        count,
        reason: `${count} requests to sensitive paths (${listed}) in ${windowText} (threshold ${data.threshold})`,
      }));
    },
  };
}
