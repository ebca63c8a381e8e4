import { IpwardError } from "./errors.ts";

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;

/** Parses "500ms", "30s", "15m", "4h", "90d", "1w" (or compound "1h30m") into milliseconds. */
export function parseDuration(text: string, what = "duration"): number {
  const trimmed = text.trim().toLowerCase();
  const parts = trimmed.match(/\d+(?:\.\d+)?(?:ms|s|m|h|d|w)/g);
  if (!trimmed || !parts || parts.join("") !== trimmed) {
    throw new IpwardError("invalid_input", `invalid ${what} "${text}": use a number and a unit, e.g. 30s, 15m, 4h, 90d`);
  }
  let total = 0;
  for (const part of parts) {
    const [, amount, unit] = DURATION.exec(part)!;
    total += Number(amount) * UNIT_MS[unit];
  }
  if (total <= 0) throw new IpwardError("invalid_input", `invalid ${what} "${text}": must be greater than zero`);
  return Math.round(total);
}

/** Formats milliseconds as the largest exact unit ("4h", "90d", "1500ms"). */
export function formatDuration(ms: number): string {
  for (const unit of ["w", "d", "h", "m", "s"]) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
