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

/**
 * The detail of an address beyond its counts, held only for the few addresses that have some:
 * distinct client-error paths (query removed) → last minute seen, and path pattern → ids requested
 * under it (see `forEachId`).
 */
interface IpDetail {
  errorPaths: Map<string, number> | null;
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

/** Most requests one minute entry counts; a busier address-minute takes further entries. */
const ENTRY_MAX = 0xffff;

/**
 * The counts of one minute: an entry per address seen in it, two numbers each — the address's slot,
 * and its requests (high 16 bits) and sensitive requests (low 16 bits) in that minute. Eight bytes
 * per address and minute, in one array per minute: the window holds an entry for every address in
 * every minute it was active, so this is most of its memory.
 */
class MinuteEntries {
  data = new Uint32Array(128);
  length = 0;

  /** Adds an entry counting one request and returns its index. */
  append(slot: number, sensitive: number): number {
    if (2 * this.length === this.data.length) {
      const grown = new Uint32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    const at = this.length++;
    this.data[2 * at] = slot;
    this.data[2 * at + 1] = 0x10000 + sensitive;
    return at;
  }

  /** Counts one more request in entry `at`; false when the entry is full. */
  count(at: number, sensitive: number): boolean {
    const packed = this.data[2 * at + 1]!;
    if (packed >>> 16 === ENTRY_MAX) return false;
    this.data[2 * at + 1] = packed + 0x10000 + sensitive;
    return true;
  }

  /** Gives back the unused capacity (done when a newer minute starts; late rows grow it again). */
  trim(): void {
    if (2 * this.length < this.data.length) this.data = this.data.slice(0, 2 * this.length);
  }
}

/**
 * The scheduled rules' view of the request log: per-address counts by minute and the detail the
 * rules need (distinct client-error paths, ids under numeric path patterns, user/country/IP
 * sightings), for rows logged from `fromMinute` on. Rows are folded in as they are read; `expire`
 * moves the start forward. Memory grows with the addresses active in the window, not with rows.
 *
 * Each address has a slot: a row in typed arrays holding its totals over the window, rather than an
 * object and an array of its own. A flood of distinct clients (a botnet, or a benchmark walking
 * 131 072 addresses) then costs about 8 bytes per address and minute, where an array per address
 * cost 24 bytes plus growth slack and left the collector hundreds of thousands of objects to trace.
 *
 * "Client error" means 4xx except 429 on a request ipward let through (decision 'allow'), so
 * that ipward's own 403 and 429 refusals never count as probing.
 */
export class LogWindow {
  /** Address → its slot. */
  private readonly slots = new Map<string, number>();
  /** Per slot: the address (null once released or forgotten), requests and sensitive requests in the window. */
  private ipOf: (string | null)[] = [];
  private requests = new Int32Array(1024);
  private sensitive = new Int32Array(1024);
  /** Per slot: minute entries still naming it; the slot is released when the last one expires. */
  private entries = new Int32Array(1024);
  /** Per slot: the minute of its newest entry and that entry's index, where further rows of the minute count. */
  private lastMinute = new Int32Array(1024);
  private lastEntry = new Int32Array(1024);
  private readonly freeSlots: number[] = [];
  /** Slot → detail, for the addresses that have some. */
  private readonly details = new Map<number, IpDetail>();
  private readonly minutes = new Map<number, MinuteEntries>();
  private newestMinute = -1;
  /** user → country → ip → last minute seen. */
  private readonly users = new Map<string, Map<string, Map<string, number>>>();
  private readonly isSensitive: ((path: string) => boolean) | null;
  private start: number;
  /** The slot and minute `visitId` files ids under (set by `add`; avoids a closure per row). */
  private visitingSlot = 0;
  private visitingMinute = 0;
  private readonly visitId = (pattern: string, id: number): void => {
    addId(this.detailOf(this.visitingSlot), pattern, id, this.visitingMinute, this.limits);
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
    return { ips: this.slots.size, users: this.users.size };
  }

  /** Folds in one logged request; rows from before the window are ignored. */
  add(row: DetectionLogRow): void {
    const minute = Math.floor(row.ts / MINUTE_MS);
    if (minute < this.start) return;
    let slot = this.slots.get(row.ip);
    if (slot === undefined) slot = this.allocate(row.ip);
    const sensitive = this.isSensitive?.(row.path) ? 1 : 0;
    this.countMinute(slot, minute, sensitive);
    const { limits } = this;
    if (row.status >= 400 && row.status < 500 && row.status !== 429 && row.decision === "allow") {
      const detail = this.detailOf(slot);
      detail.errorPaths ??= new Map();
      remember(detail.errorPaths, stripQuery(row.path), minute, limits.errorPathsPerIp);
    }
    this.visitingSlot = slot;
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
    for (const [minute, counts] of this.minutes) {
      if (minute >= fromMinute) continue;
      const { data } = counts;
      for (let at = 0; at < 2 * counts.length; at += 2) {
        const slot = data[at]!;
        const packed = data[at + 1]!;
        this.requests[slot] -= packed >>> 16;
        this.sensitive[slot] -= packed & 0xffff;
        if (--this.entries[slot] === 0) this.release(slot);
      }
      this.minutes.delete(minute);
    }
    for (const [slot, detail] of this.details) {
      if (detail.errorPaths) {
        forgetBefore(detail.errorPaths, fromMinute);
        if (detail.errorPaths.size === 0) detail.errorPaths = null;
      }
      if (detail.patterns) {
        for (const [pattern, list] of detail.patterns) {
          while (list.head < list.ids.length && list.minutes[list.head] < fromMinute) list.head++;
          if (list.head === list.ids.length) detail.patterns.delete(pattern);
          else compactIds(list);
        }
        if (detail.patterns.size === 0) detail.patterns = null;
      }
      if (!detail.errorPaths && !detail.patterns) this.details.delete(slot);
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
    const slot = this.slots.get(ip);
    if (slot !== undefined) {
      // The slot's minute entries stay until they expire (then it is released): only the address goes.
      this.slots.delete(ip);
      this.ipOf[slot] = null;
      this.details.delete(slot);
    }
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
    for (const [ip, slot] of this.slots) if (this.requests[slot]! > moreThan) out.push({ ip, count: this.requests[slot]! });
    return out;
  }

  /** Addresses with more than `moreThan` requests to the sensitive paths. */
  sensitiveCounts(moreThan: number): IpCount[] {
    const out: IpCount[] = [];
    for (const [ip, slot] of this.slots) if (this.sensitive[slot]! > moreThan) out.push({ ip, count: this.sensitive[slot]! });
    return out;
  }

  /** Addresses with at least `atLeast` distinct client-error paths. */
  clientErrorPathCounts(atLeast: number): IpCount[] {
    const out: IpCount[] = [];
    for (const [slot, detail] of this.details) {
      const count = detail.errorPaths?.size ?? 0;
      if (count >= atLeast) out.push({ ip: this.ipOf[slot]!, count });
    }
    return out;
  }

  /** Addresses with at least `atLeast` ids (repeats included) under one pattern, with their ids by pattern. */
  idCandidates(atLeast: number): IdCandidate[] {
    const out: IdCandidate[] = [];
    for (const [slot, detail] of this.details) {
      if (!detail.patterns) continue;
      const idsByPattern: [string, Iterable<number>][] = [];
      for (const [pattern, list] of detail.patterns) {
        if (list.ids.length - list.head >= atLeast) idsByPattern.push([patternText(pattern), list.ids.slice(list.head)]);
      }
      if (idsByPattern.length > 0) out.push({ ip: this.ipOf[slot]!, idsByPattern });
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

  /** A slot for a new address: a released one, or the next, growing the arrays when full. */
  private allocate(ip: string): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.ipOf.length;
      if (slot === this.requests.length) this.grow();
      this.ipOf.push(ip);
    } else {
      this.ipOf[slot] = ip;
    }
    this.requests[slot] = 0;
    this.sensitive[slot] = 0;
    this.entries[slot] = 0;
    this.lastMinute[slot] = -1;
    this.slots.set(ip, slot);
    return slot;
  }

  private grow(): void {
    const size = this.requests.length * 2;
    const grown = (from: Int32Array) => {
      const to = new Int32Array(size);
      to.set(from);
      return to;
    };
    this.requests = grown(this.requests);
    this.sensitive = grown(this.sensitive);
    this.entries = grown(this.entries);
    this.lastMinute = grown(this.lastMinute);
    this.lastEntry = grown(this.lastEntry);
  }

  /** Frees a slot whose last minute entry expired (its address may already be forgotten). */
  private release(slot: number): void {
    const ip = this.ipOf[slot];
    if (ip !== null) this.slots.delete(ip);
    this.ipOf[slot] = null;
    this.details.delete(slot);
    this.freeSlots.push(slot);
  }

  private detailOf(slot: number): IpDetail {
    let detail = this.details.get(slot);
    if (detail === undefined) {
      detail = { errorPaths: null, patterns: null };
      this.details.set(slot, detail);
    }
    return detail;
  }

  /** Adds a request in `minute` to the slot's totals and to its entry for that minute. */
  private countMinute(slot: number, minute: number, sensitive: number): void {
    this.requests[slot]++;
    this.sensitive[slot] += sensitive;
    let counts = this.minutes.get(minute);
    if (minute === this.lastMinute[slot] && counts!.count(this.lastEntry[slot]!, sensitive)) return;
    if (counts === undefined) {
      counts = new MinuteEntries();
      this.minutes.set(minute, counts);
      if (minute > this.newestMinute) {
        this.minutes.get(this.newestMinute)?.trim();
        this.newestMinute = minute;
      }
    }
    const at = counts.append(slot, sensitive);
    this.entries[slot]++;
    // A late row (an older minute than the slot's newest) gets an entry of its own there.
    if (minute >= this.lastMinute[slot]!) {
      this.lastMinute[slot] = minute;
      this.lastEntry[slot] = at;
    }
  }
}

/** Records an id under a pattern, keeping the latest `limits.idsPerPattern` under at most `limits.patternsPerIp` patterns. */
function addId(detail: IpDetail, pattern: string, id: number, minute: number, limits: LogWindowLimits): void {
  detail.patterns ??= new Map();
  let list = detail.patterns.get(pattern);
  if (!list) {
    // Past the cap, new patterns are not followed: scraping shows as many ids under few patterns.
    if (detail.patterns.size >= limits.patternsPerIp) return;
    list = { ids: [], minutes: [], head: 0 };
    detail.patterns.set(pattern, list);
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
