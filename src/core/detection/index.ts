/**
 * Detection (SPEC §3): scheduled rules over the request log, real-time scenarios over finished
 * requests, and the responder that turns findings into suspicious records and blocks.
 */
import type { RuleSet } from "../decisions.ts";
import { parseIp } from "../ip.ts";
import { type Clock, type DecisionStore, systemClock } from "../ports.ts";
import type { DetectionStore } from "./ports.ts";
import { RealtimeDetector } from "./realtime.ts";
import { type DetectionAction, type ResponsePolicy, Responder } from "./responder.ts";
import { realtimeScenarios } from "./scenarios.ts";
import { type ScheduledDetection, ScheduledDetector, type ScheduledRun, scheduledRules } from "./scheduled.ts";
import type { DetectionSettings } from "./settings.ts";

export * from "./ports.ts";
export { RealtimeDetector } from "./realtime.ts";
export { blockDuration, type DetectionAction, Responder, type ResponsePolicy } from "./responder.ts";
export { realtimeScenarios, type Scenario } from "./scenarios.ts";
export { type ScheduledDetection, type ScheduledRule, ScheduledDetector, type ScheduledRun, scheduledRules } from "./scheduled.ts";
export { type DetectionSettings, detectionSettings, describeWindow, windowStart } from "./settings.ts";

export interface DetectionOptions {
  settings: DetectionSettings;
  store: DetectionStore;
  decisions: Pick<DecisionStore, "addRule">;
  /** Both answered by `listedBy(ruleSet)` in a process that has the rule set. */
  isAllowlisted: (ip: string) => boolean;
  isBlocked: (ip: string) => boolean;
  clock?: Clock;
  /** Overrides settings.dryRun (`ipward detect --dry-run`). */
  dryRun?: boolean;
  onAction?: (action: DetectionAction) => void;
  onError?: (error: unknown) => void;
  /**
   * Runs the scheduled rules somewhere else (the server's detection thread); default: a
   * `ScheduledDetector` over `store` on this thread.
   */
  scheduled?: ScheduledDetection;
}

/** Everything detection needs, wired from the configuration. */
export interface Detection {
  scheduled: ScheduledDetection;
  /** Null when `detection.realtime` (or `detection.enabled`) is off. */
  realtime: RealtimeDetector | null;
  responder: Responder;
  /** One scheduled pass: detect, then apply the policy. */
  runScheduled(now?: number): Promise<ScheduledRun & { actions: DetectionAction[] }>;
}

/** Builds the scheduled detector, the real-time detector and the responder from the settings. */
export function createDetection(options: DetectionOptions): Detection {
  const { settings, store, clock = systemClock } = options;
  const policy: ResponsePolicy = {
    autoBlock: settings.autoBlock,
    dryRun: options.dryRun ?? settings.dryRun,
    blockDurationMs: settings.blockDurationMs,
    maxBlockDurationMs: settings.maxBlockDurationMs,
  };
  const responder = new Responder({
    store,
    decisions: options.decisions,
    policy,
    isAllowlisted: options.isAllowlisted,
    isBlocked: options.isBlocked,
    clock,
    onAction: options.onAction,
    onError: options.onError,
  });
  const scheduled =
    options.scheduled ??
    new ScheduledDetector({
      store,
      rules: scheduledRules(settings),
      windowMs: settings.windowMs,
      sensitivePaths: settings.sensitivePaths,
      clock,
      onError: options.onError,
    });
  const realtime =
    settings.enabled && settings.realtime
      ? new RealtimeDetector({
          scenarios: realtimeScenarios(settings),
          report: (finding) => responder.report(finding),
          maxTrackedIps: settings.realtimeMaxIps,
        })
      : null;
  return {
    scheduled,
    realtime,
    responder,
    async runScheduled(now = clock.now()) {
      const run = await scheduled.detect(now);
      return { ...run, actions: await responder.handle(run.findings) };
    },
  };
}

/** `isAllowlisted` / `isBlocked` answered by the in-memory rule set (IP and CIDR rules). */
export function listedBy(rules: RuleSet, clock: Clock = systemClock): Pick<DetectionOptions, "isAllowlisted" | "isBlocked"> {
  const listed = (list: "allow" | "block", ip: string) => {
    const parsed = parseIp(ip);
    return parsed !== null && rules[list].match(parsed, null, clock.now()) !== null;
  };
  return { isAllowlisted: (ip) => listed("allow", ip), isBlocked: (ip) => listed("block", ip) };
}
