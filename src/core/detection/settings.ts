import type { Config } from "../../config/schema.ts";
import { formatDuration, parseDuration } from "../duration.ts";
import { normalizeSensitivePaths } from "./paths.ts";

/** The `detection` section of the configuration, as validated. */
export type DetectionConfig = Config["detection"];

/** Names of the real-time scenarios (keys of `detection.scenarios`). */
export type ScenarioName = keyof DetectionConfig["scenarios"];

export const SCENARIO_NAMES: readonly ScenarioName[] = [
  "sensitive_file",
  "path_traversal",
  "injection",
  "bad_user_agent",
  "login_bruteforce",
];

export interface ScenarioSettings {
  enabled: boolean;
  /** Matching requests within `windowMs` that trigger. */
  threshold: number;
  windowMs: number;
}

/** The detection configuration with durations in milliseconds and paths normalised. */
export interface DetectionSettings {
  enabled: boolean;
  windowMs: number;
  autoBlock: boolean;
  blockDurationMs: number;
  maxBlockDurationMs: number;
  dryRun: boolean;
  /** Normalised by `normalizeSensitivePaths` ("/admin/" → "/admin", "/" → ""). */
  sensitivePaths: string[];
  requestsPerWindow: number;
  sensitivePerWindow: number;
  probeDistinctPaths: number;
  scrapeSequence: number;
  geoCountries: number;
  realtime: boolean;
  realtimeMaxIps: number;
  loginPaths: string[];
  scenarios: Record<ScenarioName, ScenarioSettings>;
}

/** Reads the validated `detection` config section. */
export function detectionSettings(config: DetectionConfig): DetectionSettings {
  const scenarios = {} as Record<ScenarioName, ScenarioSettings>;
  for (const name of SCENARIO_NAMES) {
    const scenario = config.scenarios[name];
    scenarios[name] = {
      enabled: scenario.enabled,
      threshold: scenario.threshold,
      windowMs: parseDuration(scenario.window, `detection.scenarios.${name}.window`),
    };
  }
  return {
    enabled: config.enabled,
    windowMs: parseDuration(config.window, "detection.window"),
    autoBlock: config.auto_block,
    blockDurationMs: parseDuration(config.block_duration, "detection.block_duration"),
    maxBlockDurationMs: parseDuration(config.max_block_duration, "detection.max_block_duration"),
    dryRun: config.dry_run,
    sensitivePaths: normalizeSensitivePaths(config.sensitive_paths),
    requestsPerWindow: config.requests_per_window,
    sensitivePerWindow: config.sensitive_per_window,
    probeDistinctPaths: config.probe_distinct_paths,
    scrapeSequence: config.scrape_sequence,
    geoCountries: config.geo_countries,
    realtime: config.realtime,
    realtimeMaxIps: config.realtime_max_ips,
    loginPaths: normalizeSensitivePaths(config.login_paths),
    scenarios,
  };
}

export const MINUTE_MS = 60_000;

/**
 * Start of the scheduled window ending at `now`: `windowMs` back, rounded down to the minute, so
 * that adapters can keep per-minute summaries. The window is therefore up to 59.999 s longer than
 * configured, never shorter.
 */
export function windowStart(now: number, windowMs: number): number {
  return Math.floor((now - windowMs) / MINUTE_MS) * MINUTE_MS;
}

const NAMED_WINDOWS: Record<string, string> = { "1m": "minute", "1h": "hour", "1d": "day", "1w": "week" };

/** "the last hour", "the last 30m": how reasons name a window. */
export function describeWindow(windowMs: number): string {
  const text = formatDuration(windowMs);
  return `the last ${NAMED_WINDOWS[text] ?? text}`;
}
