/** How figures and times read in the UI: the browser's locale and time zone. */

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** 12345 → "12,345" (in the reader's locale). */
export function formatCount(value: number): string {
  return integer.format(value);
}

/** A request duration: "0.4 ms", "12 ms", "1.2 s". */
export function formatMs(value: number): string {
  return value >= 1000 ? `${decimal.format(value / 1000)} s` : `${decimal.format(value)} ms`;
}

/** Share of a total as "12.5 %" ("0 %" of nothing). */
export function formatShare(part: number, total: number): string {
  return `${decimal.format(total === 0 ? 0 : (part / total) * 100)} %`;
}

/** An ISO time as local date and time; "—" when absent. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

/** Clock time only, for "updated at". */
export function formatClock(date: Date): string {
  return timeOnly.format(date);
}

/** "in 3 hours", "5 minutes ago", relative to now; "never" when absent. */
export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const seconds = (new Date(iso).getTime() - now) / 1000;
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ["day", 86_400],
    ["hour", 3_600],
    ["minute", 60],
  ];
  for (const [unit, size] of units) {
    // 59.8 minutes reads as "1 hour", not "60 minutes".
    if (Math.abs(seconds) >= size * 0.995) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(Math.round(seconds), "second");
}

/** A datetime-local input's value (local time, minutes) as an ISO instant; "" stays "". */
export function localInputToIso(value: string): string {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}

/** An ISO instant as a datetime-local input's value. */
export function isoToLocalInput(iso: string | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
