import type { Finding } from "./ports.ts";
import type { RuleContext, ScheduledRule } from "./scheduled.ts";

/** A chain of ids requested under one path pattern. */
export interface SequentialRun {
  /** The path with the varying segment replaced by "{n}": "/items/{n}". */
  pattern: string;
  first: number;
  last: number;
  /** How many distinct ids the run holds. */
  length: number;
}

/** Largest gap between neighbouring ids that keeps a run going (a few missing ids do not break it). */
export const SCRAPE_MAX_GAP = 2;

const MAX_ID_DIGITS = 15;

/**
 * Calls `visit` with each (pattern, id) of a path: one per all-digit segment (up to 15 digits),
 * the pattern being the path with that segment replaced by "{n}" ("/items/7" → "/items/{n}", 7;
 * "/users/5/posts/7" → "/users/{n}/posts/7", 5 and "/users/5/posts/{n}", 7). The query string is
 * ignored. Allocates nothing for paths without such a segment.
 *
 * For an id in the last segment the pattern is passed without its "{n}" ("/items/"), which saves
 * building a string per request on the hot path; `patternText` restores it.
 */
export function forEachId(path: string, visit: (pattern: string, id: number) => void): void {
  const mark = path.indexOf("?");
  const end = mark === -1 ? path.length : mark;
  let start = 0;
  let digits = true;
  for (let i = 0; i <= end; i++) {
    const code = i < end ? path.charCodeAt(i) : 47;
    if (code === 47) {
      if (digits && i > start && i - start <= MAX_ID_DIGITS) {
        visit(i === end ? path.slice(0, start) : `${path.slice(0, start)}{n}${path.slice(i, end)}`, Number(path.slice(start, i)));
      }
      start = i + 1;
      digits = true;
    } else if (code < 48 || code > 57) {
      digits = false;
    }
  }
}

/** The pattern as people read it: "/items/" (as `forEachId` passes a last-segment id) → "/items/{n}". */
export function patternText(pattern: string): string {
  return pattern.includes("{n}") ? pattern : `${pattern}{n}`;
}

/**
 * The longest run among ids grouped by pattern: under each pattern the distinct ids are sorted and
 * cut wherever two neighbours differ by more than `maxGap`; each piece is a run. Ties go to the
 * pattern listed first.
 */
export function longestRun(idsByPattern: Iterable<[string, Iterable<number>]>, maxGap = SCRAPE_MAX_GAP): SequentialRun | null {
  let best: SequentialRun | null = null;
  for (const [pattern, ids] of idsByPattern) {
    const sorted = [...new Set(ids)].sort((a, b) => a - b);
    let start = 0;
    for (let i = 1; i <= sorted.length; i++) {
      if (i < sorted.length && sorted[i] - sorted[i - 1] <= maxGap) continue;
      const length = i - start;
      if (length > 0 && (!best || length > best.length)) best = { pattern, first: sorted[start], last: sorted[i - 1], length };
      start = i;
    }
  }
  return best;
}

/**
 * "scraping": one IP requested at least `sequence` sequential ids under one path pattern in the
 * window, neighbouring ids at most `maxGap` apart (see `longestRun`): /items/1, /items/2, …
 */
export function scrapingRule(data: { sequence: number; maxGap?: number }): ScheduledRule & { sequence: number; maxGap: number } {
  const maxGap = data.maxGap ?? SCRAPE_MAX_GAP;
  return {
    name: "scraping",
    sequence: data.sequence,
    maxGap,
    evaluate({ window, windowText }: RuleContext): Finding[] {
      const findings: Finding[] = [];
      for (const { ip, idsByPattern } of window.idCandidates(data.sequence)) {
        const run = longestRun(idsByPattern, maxGap);
        if (!run || run.length < data.sequence) continue;
        findings.push({
          ip,
          rule: "scraping",
          count: run.length,
          reason: `${run.length} sequential ids under ${run.pattern} (${run.first}–${run.last}) in ${windowText} (threshold ${data.sequence})`,
        });
      }
      return findings;
    },
  };
}
