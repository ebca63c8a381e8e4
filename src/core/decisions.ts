/**
 * Block and allow rules in memory (SPEC §2 steps 2–3): parsing rule targets, a matcher whose cost
 * does not grow with the number of rules, and a RuleSet that follows the DecisionStore.
 */
import { IpwardError } from "./errors.ts";
import { formatIpBytes, parseCidr, parseIp, type ParsedIp, v4Mask } from "./ip.ts";
import { type Clock, type DecisionRule, type DecisionStore, type RuleKind, type RuleList, systemClock } from "./ports.ts";
import { BackgroundInterval } from "./time.ts";

/** A validated block/allow target in canonical form. */
export interface RuleTarget {
  kind: RuleKind;
  target: string;
}

const COUNTRY = /^[A-Za-z]{2}$/;

/**
 * Parses what a user typed as a block/allow target: an IP (canonical text), a CIDR (network
 * address; /32 and /128 become plain IPs) or a two-letter country code (upper-cased).
 * Surrounding whitespace is ignored. Throws IpwardError("invalid_ip") naming the value.
 */
export function parseRuleTarget(text: string): RuleTarget {
  const trimmed = typeof text === "string" ? text.trim() : "";
  if (COUNTRY.test(trimmed)) return { kind: "country", target: trimmed.toUpperCase() };
  if (trimmed.includes("/")) {
    const cidr = parseCidr(trimmed);
    if (cidr === null) {
      throw new IpwardError(
        "invalid_ip",
        `invalid CIDR "${text}": expected an address and a prefix length (0-32 for IPv4, 0-128 for IPv6), e.g. 192.0.2.0/24 or 2001:db8::/32`,
        { value: text },
      );
    }
    const hostPrefix = cidr.family === 4 ? 32 : 128;
    if (cidr.prefix === hostPrefix) return { kind: "ip", target: formatIpBytes(cidr.family, cidr.bytes) };
    return { kind: "cidr", target: cidr.text };
  }
  const ip = parseIp(trimmed);
  if (ip === null) {
    throw new IpwardError(
      "invalid_ip",
      `invalid IP, CIDR or country code "${text}": expected an IPv4 or IPv6 address (192.0.2.1, 2001:db8::1), a CIDR (192.0.2.0/24) or a two-letter country code (US)`,
      { value: text },
    );
  }
  return { kind: "ip", target: ip.text };
}

/** True when a rule has not expired at `now`. */
export function isRuleLive(rule: DecisionRule, now: number): boolean {
  return rule.expires_at === null || rule.expires_at > now;
}

/** Whether `candidate` stays live at least as long as `current` (null = never expires). */
function outlives(candidate: DecisionRule, current: DecisionRule): boolean {
  if (current.expires_at === null) return false;
  return candidate.expires_at === null || candidate.expires_at > current.expires_at;
}

/** IPv4 rules of one prefix length, keyed by network address as a signed 32-bit number. */
interface V4Level {
  prefix: number;
  mask: number;
  rules: Map<number, DecisionRule>;
}

/**
 * IPv6 networks of one prefix length as nested maps, one level per 32-bit word of the prefix:
 * measured ~20x faster than BigInt keys and ~40x faster than string keys, and allocation-free.
 */
interface WordNode extends Map<number, WordNode | DecisionRule> {}

interface V6Level {
  prefix: number;
  /** How many 32-bit words the prefix spans (at least 1). */
  words: number;
  /** Mask of the last word. */
  lastMask: number;
  root: WordNode;
}

/** Scratch words of the IPv6 address being matched; matching is synchronous. */
const words = new Int32Array(4);

function loadWords(bytes: Uint8Array): void {
  for (let k = 0; k < 4; k++) {
    words[k] = (bytes[4 * k] << 24) | (bytes[4 * k + 1] << 16) | (bytes[4 * k + 2] << 8) | bytes[4 * k + 3];
  }
}

/**
 * One list of rules (allow or block) indexed for matching in time independent of the number of
 * rules: one hash map per distinct prefix length, probed longest prefix first, then countries.
 * Rules whose target does not parse are skipped (counted in `skipped`); two rules for the same
 * target keep the one that expires last.
 */
export class RuleMatcher {
  private readonly v4Levels: V4Level[];
  private readonly v6Levels: V6Level[];
  private readonly countries = new Map<string, DecisionRule>();
  private count = 0;
  private invalid = 0;

  constructor(rules: readonly DecisionRule[]) {
    const v4ByPrefix = new Map<number, V4Level>();
    const v6ByPrefix = new Map<number, V6Level>();
    for (const rule of rules) {
      if (rule.kind === "country") {
        if (COUNTRY.test(rule.target)) this.keep(this.countries, rule.target.toUpperCase(), rule);
        else this.invalid++;
        continue;
      }
      const cidr = parseCidr(rule.target);
      if (cidr === null) {
        this.invalid++;
      } else if (cidr.family === 4) {
        let level = v4ByPrefix.get(cidr.prefix);
        if (level === undefined) {
          level = { prefix: cidr.prefix, mask: v4Mask(cidr.prefix), rules: new Map() };
          v4ByPrefix.set(cidr.prefix, level);
        }
        const b = cidr.bytes;
        this.keep(level.rules, ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) & level.mask, rule);
      } else {
        let level = v6ByPrefix.get(cidr.prefix);
        if (level === undefined) {
          const span = Math.max(1, Math.ceil(cidr.prefix / 32));
          level = { prefix: cidr.prefix, words: span, lastMask: v4Mask(cidr.prefix - 32 * (span - 1)), root: new Map() };
          v6ByPrefix.set(cidr.prefix, level);
        }
        loadWords(cidr.bytes);
        let node = level.root;
        for (let k = 0; k < level.words - 1; k++) {
          let next = node.get(words[k]) as WordNode | undefined;
          if (next === undefined) {
            next = new Map();
            node.set(words[k], next);
          }
          node = next;
        }
        this.keep(node as Map<number, DecisionRule>, words[level.words - 1] & level.lastMask, rule);
      }
    }
    this.v4Levels = [...v4ByPrefix.values()].sort((a, b) => b.prefix - a.prefix);
    this.v6Levels = [...v6ByPrefix.values()].sort((a, b) => b.prefix - a.prefix);
  }

  private keep<K>(map: Map<K, DecisionRule>, key: K, rule: DecisionRule): void {
    const current = map.get(key);
    if (current === undefined) this.count++;
    if (current === undefined || outlives(rule, current)) map.set(key, rule);
  }

  /** How many distinct targets are indexed. */
  get size(): number {
    return this.count;
  }

  /** How many rules were ignored because their target does not parse. */
  get skipped(): number {
    return this.invalid;
  }

  /** The live rule for `ip`, the most specific first (exact IP, then longest prefix); then its country's. */
  match(ip: ParsedIp, countryCode: string | null, now: number): DecisionRule | null {
    const byAddress = this.matchIp(ip, now);
    if (byAddress !== null || countryCode === null || this.countries.size === 0) return byAddress;
    const byCountry = this.countries.get(countryCode);
    return byCountry !== undefined && isRuleLive(byCountry, now) ? byCountry : null;
  }

  /** The most specific live IP or CIDR rule containing `ip`, ignoring country rules. */
  matchIp(ip: ParsedIp, now: number): DecisionRule | null {
    if (ip.family === 4) {
      const levels = this.v4Levels;
      for (let k = 0; k < levels.length; k++) {
        const level = levels[k];
        const rule = level.rules.get(ip.v4 & level.mask);
        if (rule !== undefined && isRuleLive(rule, now)) return rule;
      }
      return null;
    }
    const levels = this.v6Levels;
    if (levels.length === 0) return null;
    loadWords(ip.bytes);
    for (let k = 0; k < levels.length; k++) {
      const level = levels[k];
      let node: WordNode | undefined = level.root;
      for (let w = 0; w < level.words - 1 && node !== undefined; w++) node = node.get(words[w]) as WordNode | undefined;
      if (node === undefined) continue;
      const rule = node.get(words[level.words - 1] & level.lastMask) as DecisionRule | undefined;
      if (rule !== undefined && isRuleLive(rule, now)) return rule;
    }
    return null;
  }
}

/** Which list decided about an address, and by which rule. */
export interface ListedDecision {
  list: RuleList;
  rule: DecisionRule;
}

export interface RuleSetOptions {
  /** Time passed to DecisionStore.listRules when loading. */
  clock?: Clock;
  /** Told when a periodic refresh fails; the previous rules stay in force. */
  onError?: (error: unknown) => void;
}

function reportRefreshError(error: unknown): void {
  console.error("ipward: reloading block/allow rules failed; keeping the previous rules:", error);
}

/**
 * The allow and block matchers, loaded from a DecisionStore at construction and reloaded whenever
 * the store's change marker moves (checked by `refreshIfChanged`, or every `intervalMs` after
 * `start`). Rules changed by another process (the CLI) are picked up within one interval.
 */
export class RuleSet {
  private allowMatcher: RuleMatcher;
  private blockMatcher: RuleMatcher;
  private marker: number;
  private readonly poller = new BackgroundInterval(() => this.poll());
  private readonly clock: Clock;
  private readonly onError: (error: unknown) => void;

  constructor(
    private readonly store: DecisionStore,
    options: RuleSetOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.onError = options.onError ?? reportRefreshError;
    this.marker = store.changeMarker();
    const now = this.clock.now();
    this.allowMatcher = new RuleMatcher(store.listRules("allow", now));
    this.blockMatcher = new RuleMatcher(store.listRules("block", now));
  }

  /** The allowlist matcher currently in force. */
  get allow(): RuleMatcher {
    return this.allowMatcher;
  }

  /** The blocklist matcher currently in force. */
  get block(): RuleMatcher {
    return this.blockMatcher;
  }

  /** Reloads both lists now. Throws what the store throws, keeping the previous rules. */
  reload(): void {
    this.load(this.store.changeMarker());
  }

  /** Reloads when the store's change marker moved; true when it did. Throws what the store throws. */
  refreshIfChanged(): boolean {
    const marker = this.store.changeMarker();
    if (Object.is(marker, this.marker)) return false;
    this.load(marker);
    return true;
  }

  private load(marker: number): void {
    const now = this.clock.now();
    const allow = new RuleMatcher(this.store.listRules("allow", now));
    const block = new RuleMatcher(this.store.listRules("block", now));
    this.allowMatcher = allow;
    this.blockMatcher = block;
    this.marker = marker;
  }

  /** Polls the store every `intervalMs` (restarting if already started); the timer does not keep the process alive. */
  start(intervalMs = 250): void {
    this.poller.start(intervalMs);
  }

  /** Stops polling. */
  stop(): void {
    this.poller.stop();
  }

  private poll(): void {
    try {
      this.refreshIfChanged();
    } catch (error) {
      this.onError(error);
    }
  }

  /** Whether `ip` (from `countryCode`) is allowlisted or blocked at `now`; the allowlist wins. */
  decide(ip: ParsedIp, countryCode: string | null, now: number): ListedDecision | null {
    const allowed = this.allowMatcher.match(ip, countryCode, now);
    if (allowed !== null) return { list: "allow", rule: allowed };
    const blocked = this.blockMatcher.match(ip, countryCode, now);
    if (blocked !== null) return { list: "block", rule: blocked };
    return null;
  }
}
