import { parseDuration } from "./duration.ts";
import { IpwardError } from "./errors.ts";

/**
 * Reads a point in time given either as a duration back from `now` ("1h", "7d") or as an ISO 8601
 * time ("2026-01-01T00:00:00Z"). `what` names the value in the error message.
 */
export function parseTimeOrAgo(text: string, now: number, what: string): number {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const time = Date.parse(text);
    if (Number.isNaN(time)) throw new IpwardError("invalid_input", `invalid ${what} "${text}": not a valid ISO 8601 time`);
    return time;
  }
  return now - parseDuration(text, what);
}

/** Minimal view of the value setInterval returns, so that core stays runtime-agnostic. */
interface IntervalHandle {
  unref?: () => unknown;
}

/** A repeating timer that never keeps the process alive; `start` restarts it. */
export class BackgroundInterval {
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly task: () => void) {}

  start(intervalMs: number): void {
    this.stop();
    const timer = setInterval(this.task, intervalMs);
    const handle = timer as IntervalHandle;
    if (typeof handle.unref === "function") handle.unref();
    this.timer = timer;
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
