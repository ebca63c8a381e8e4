import type { Finding } from "./ports.ts";
import type { RuleContext, ScheduledRule } from "./scheduled.ts";

/**
 * "probing": at least `distinctPaths` distinct paths answered with a client error (4xx except 429,
 * on requests ipward let through, so its own 403/429 refusals never count) in the window.
 */
export function probingRule(data: { distinctPaths: number }): ScheduledRule & { distinctPaths: number } {
  return {
    name: "probing",
    distinctPaths: data.distinctPaths,
    evaluate({ window, windowText }: RuleContext): Finding[] {
      const counts = window.clientErrorPathCounts(data.distinctPaths);
      return counts.map(({ ip, count }) => ({
        ip,
        rule: "probing",
        count,
        reason: `${count} distinct paths answered 4xx in ${windowText} (threshold ${data.distinctPaths})`,
      }));
    },
  };
}
