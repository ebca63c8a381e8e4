import { pathPrefixMatcher, stripQuery } from "./paths.ts";
import type { DetectionLogRow, IpCount, UserSighting } from "./ports.ts";
import { forEachId, patternText } from "./scraping.ts";
import { MINUTE_MS } from "./settings.ts";

/**
 * Caps on the detail kept per address and per user, against floods: past them new client-error
 * paths, path patterns, countries and IPs are not recorded (counts stop at the cap), while ids
 * under a pattern keep the latest.
 */
export interface LogWindowLimits {
  errorPathsPerIp: number;
  patternsPerIp: number;
  idsPerPattern: number;
  countriesPerUser: number;
  ipsPerUserCountry: number;
}

export const DEFAULT_LOG_WINDOW_LIMITS: LogWindowLimits = {
  errorPathsPerIp: 4096,
  patternsPerIp: 64,
  idsPerPattern: 1024,
  countriesPerUser: 64,
  ipsPerUserCountry: 64,
};

/** What the window knows about one address. */
interface IpActivity {
  /** Flat [minute, requests, sensitive] triples, by minute, from index `head` on. */
  minutes: number[];
  head: number;
  requests: number;
  sensitive: number;
  /** Distinct client-error paths (query removed) → last minute seen. */
  errorPaths: Map<string, number> | null;
  /** Path pattern → ids requested under it; see `forEachId`. */
  patterns: Map<string, IdList> | null;
}

/**
 * Ids in arrival order with their minutes, from index `head` on. Repeats are kept (they are
 * removed when a candidate is examined), so the count is an upper bound of the distinct ids.
 */
interface IdList {
  ids: number[];
  minutes: number[];
  head: number;
}

/** An address whose ids under some pattern are numerous enough to hold a run. */
export interface IdCandidate {
  ip: string;
  idsByPattern: [pattern: string, ids: Iterable<number>][];
}

/** Records that `key` was seen in `minute` (keeping its latest minute); new keys beyond `cap` are not kept. */
function remember<K>(map: Map<K, number>, key: K, minute: number, cap: number): void {
  const seen = map.get(key);
  if (seen === undefined) {
    if (map.size < cap) map.set(key, minute);
  } else if (minute > seen) {
    map.set(key, minute);
  }
}

/** Drops the entries last seen before `minute`. */
function forgetBefore<K>(map: Map<K, number>, minute: number): void {
  for (const [key, seen] of map) if (seen < minute) map.delete(key);
}

/**
 * The scheduled rules' view of the request log: per-address counts by minute and the detail the
 * rules need (distinct client-error paths, ids under numeric path patterns, user/country/IP
 * sightings), for rows logged from `fromMinute` on. Rows are folded in as they are read; `expire`
 * moves the start forward. Memory grows with the addresses active in the window, not with rows.
 *
 * "Client error" means 4xx except 429 on a request ipward let through (decision 'allow'), so
 * that ipward's own 403 and 429 refusals never count as probing.
 */
export class LogWindow {
  private readonly ips = new Map<string, IpActivity>();
  /** user → country → ip → last minute seen. */
  private readonly users = new Map<string, Map<string, Map<string, number>>>();
  private readonly isSensitive: ((path: string) => boolean) | null;
  private start: number;
  /** The address and minute `visitId` files ids under (set by `add`; avoids a closure per row). */
  private visiting: IpActivity | null = null;
  private visitingMinute = 0;
  private readonly visitId = (pattern: string, id: number): void => {
    addId(this.visiting!, pattern, id, this.visitingMinute, this.limits);
  };

  constructor(
    fromMinute: number,
    sensitivePaths: readonly string[],
    private readonly limits: LogWindowLimits = DEFAULT_LOG_WINDOW_LIMITS,
  ) {
    this.start = fromMinute;
    this.isSensitive = pathPrefixMatcher(sensitivePaths);
  }

  /** First minute (ms / 60,000) the window covers. */
  get fromMinute(): number {
    return this.start;
  }

  /** Addresses and users currently held. */
  get size(): { ips: number; users: number } {
    return { ips: this.ips.size, users: this.users.size };
  }

  /** Folds in one logged request; rows from before the window are ignored. */
  add(row: DetectionLogRow): void {
    const minute = Math.floor(row.ts / MINUTE_MS);
    if (minute < this.start) return;
    let activity = this.ips.get(row.ip);
    if (!activity) {
      activity = { minutes: [], head: 0, requests: 0, sensitive: 0, errorPaths: null, patterns: null };
      this.ips.set(row.ip, activity);
    }
    const sensitive = this.isSensitive?.(row.path) ? 1 : 0;
    countMinute(activity, minute, sensitive);
    const { limits } = this;
    if (row.status >= 400 && row.status < 500 && row.status !== 429 && row.decision === "allow") {
      activity.errorPaths ??= new Map();
      remember(activity.errorPaths, stripQuery(row.path), minute, limits.errorPathsPerIp);
    }
    this.visiting = activity;
    this.visitingMinute = minute;
    forEachId(row.path, this.visitId);
    if (row.user !== null && row.country_code !== null) {
      let countries = this.users.get(row.user);
      if (!countries) this.users.set(row.user, (countries = new Map()));
      let ips = countries.get(row.country_code);
      if (!ips) {
        if (countries.size >= limits.countriesPerUser) return;
        countries.set(row.country_code, (ips = new Map()));
      }
      remember(ips, row.ip, minute, limits.ipsPerUserCountry);
    }
  }

  /** Moves the start of the window forward to `fromMinute`, forgetting what is older. */
  expire(fromMinute: number): void {
    if (fromMinute <= this.start) return;
    this.start = fromMinute;
    for (const [ip, activity] of this.ips) {
      const { minutes } = activity;
      while (activity.head < minutes.length && minutes[activity.head] < fromMinute) {
        activity.requests -= minutes[activity.head + 1];
        activity.sensitive -= minutes[activity.head + 2];
        activity.head += 3;
      }
      if (activity.head > 96 && activity.head * 2 > minutes.length) {
        minutes.splice(0, activity.head);
        activity.head = 0;
      }
      if (activity.errorPaths) {
        forgetBefore(activity.errorPaths, fromMinute);
        if (activity.errorPaths.size === 0) activity.errorPaths = null;
      }
      if (activity.patterns) {
        for (const [pattern, list] of activity.patterns) {
          while (list.head < list.ids.length && list.minutes[list.head] < fromMinute) list.head++;
          if (list.head === list.ids.length) activity.patterns.delete(pattern);
          else compactIds(list);
        }
        if (activity.patterns.size === 0) activity.patterns = null;
      }
      if (activity.head >= minutes.length) this.ips.delete(ip);
    }
    for (const [user, countries] of this.users) {
      for (const [country, ips] of countries) {
        forgetBefore(ips, fromMinute);
        if (ips.size === 0) countries.delete(country);
      }
      if (countries.size === 0) this.users.delete(user);
    }
  }

  /** Erases an address (GDPR erasure in this process). */
  forget(ip: string): void {
    this.ips.delete(ip);
    for (const [user, countries] of this.users) {
      for (const [country, ips] of countries) {
        ips.delete(ip);
        if (ips.size === 0) countries.delete(country);
      }
      if (countries.size === 0) this.users.delete(user);
    }
  }

  /** Addresses with more than `moreThan` requests. */
  requestCounts(moreThan: number): IpCount[] {
    const out: IpCount[] = [];
    for (const [ip, activity] of this.ips) if (activity.requests > moreThan) out.push({ ip, count: activity.requests });
    return out;
  }

  /** Addresses with more than `moreThan` requests to the sensitive paths. */
  sensitiveCounts(moreThan: number): IpCount[] {
    const out: IpCount[] = [];
    for (const [ip, activity] of this.ips) if (activity.sensitive > moreThan) out.push({ ip, count: activity.sensitive });
    return out;
  }

  /** Addresses with at least `atLeast` distinct client-error paths. */
  clientErrorPathCounts(atLeast: number): IpCount[] {
    const out: IpCount[] = [];
    for (const [ip, activity] of this.ips) {
      const count = activity.errorPaths?.size ?? 0;
      if (count >= atLeast) out.push({ ip, count });
    }
    return out;
  }

  /** Addresses with at least `atLeast` ids (repeats included) under one pattern, with their ids by pattern. */
  idCandidates(atLeast: number): IdCandidate[] {
    const out: IdCandidate[] = [];
    for (const [ip, activity] of this.ips) {
      if (!activity.patterns) continue;
      const idsByPattern: [string, Iterable<number>][] = [];
      for (const [pattern, list] of activity.patterns) {
        if (list.ids.length - list.head >= atLeast) idsByPattern.push([patternText(pattern), list.ids.slice(list.head)]);
      }
      if (idsByPattern.length > 0) out.push({ ip, idsByPattern });
    }
    return out;
  }

  /** Every sighting of the users seen from at least `atLeast` distinct countries. */
  multiCountryUsers(atLeast: number): UserSighting[] {
    const out: UserSighting[] = [];
    for (const [user, countries] of this.users) {
      if (countries.size < atLeast) continue;
      for (const [country_code, ips] of countries) for (const ip of ips.keys()) out.push({ user, country_code, ip });
    }
    return out;
  }
}

/** Adds a request in `minute` to the address's triples, kept in minute order. */
function countMinute(activity: IpActivity, minute: number, sensitive: number): void {
  const { minutes } = activity;
  activity.requests++;
  activity.sensitive += sensitive;
  let at = minutes.length - 3;
  while (at >= activity.head && minutes[at] > minute) at -= 3;
  if (at >= activity.head && minutes[at] === minute) {
    minutes[at + 1]++;
    minutes[at + 2] += sensitive;
  } else if (at + 3 === minutes.length) {
    minutes.push(minute, 1, sensitive);
  } else {
    minutes.splice(at + 3, 0, minute, 1, sensitive);
  }
}

/** Records an id under a pattern, keeping the latest `limits.idsPerPattern` under at most `limits.patternsPerIp` patterns. */
function addId(activity: IpActivity, pattern: string, id: number, minute: number, limits: LogWindowLimits): void {
  activity.patterns ??= new Map();
  let list = activity.patterns.get(pattern);
  if (!list) {
    // Past the cap, new patterns are not followed: scraping shows as many ids under few patterns.
    if (activity.patterns.size >= limits.patternsPerIp) return;
    list = { ids: [], minutes: [], head: 0 };
    activity.patterns.set(pattern, list);
  }
  list.ids.push(id);
  list.minutes.push(minute);
  if (list.ids.length - list.head > limits.idsPerPattern) {
    list.head = list.ids.length - limits.idsPerPattern;
    compactIds(list);
  }
}

/** Reclaims the space before `head` once it is most of the list. */
function compactIds(list: IdList): void {
  if (list.head > 64 && list.head * 2 > list.ids.length) {
    list.ids.splice(0, list.head);
    list.minutes.splice(0, list.head);
    list.head = 0;
  }
}
