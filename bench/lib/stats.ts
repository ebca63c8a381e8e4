import type { RunResult } from "./scenario-run.ts";

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Medians over the measured rounds of one server. */
export interface ServerFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Null when /proc could not be read. */
  cpuMicrosPerRequest: number | null;
}

/** Each figure is the median of that figure over the rounds (not the figures of the median round). */
export function medians(rounds: RunResult[]): ServerFigures {
  const cpu = rounds.map((r) => r.cpuMicrosPerRequest).filter((us): us is number => us !== null);
  return {
    cpuMicrosPerRequest: cpu.length === rounds.length ? median(cpu) : null,
    requestsPerSecond: median(rounds.map((r) => r.requestsPerSecond)),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
  };
}
