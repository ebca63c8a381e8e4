/**
 * Rate-limit rules: which requests they cover, whose counter a request counts against, and the
 * headers that tell clients about it. Counting itself is a CounterStore's job (limiter/): a sliding
 * window counter, so there is no double burst at window edges.
 *
 * Decisions worth knowing:
 * - Paths are compared in a canonical form: percent-decoded, `//`, `.` and `..` segments resolved,
 *   lower-cased, trailing slash dropped. "/API/Login/", "/api//login" and "/api/%6Cogin" all meet the
 *   "/api/login" rule, so a case-insensitive or lenient upstream cannot be used to dodge a limit.
 * - Patterns: exact ("/api/login"), prefix ("/api/*": "/api" and everything below it) and globs
 *   where each `*` stands for any run of characters inside one path segment ("/files/*.json", or a
 *   `*` segment between "/api/" and "/login"); a trailing "/*" keeps its prefix meaning. The first
 *   rule in config order that matches wins.
 * - Keys: `<rule>:ip:<address>`, IPv6 clients by their network (`<rule>:ip:2001:db8:1:2::/64`, see
 *   rate_limit.ipv6_prefix) since one host usually owns a whole /64; `<rule>:user:<sub>` for `user`
 *   and `user_or_ip` rules when the request carries a valid token. A `user` rule without a user
 *   falls back to the IP key — anonymous requests must not escape the limit — so `user` and
 *   `user_or_ip` behave the same.
 * - Headers follow draft-ietf-httpapi-ratelimit-headers-10 (structured fields, syntax unchanged
 *   since -08): `RateLimit-Policy: "login";q=5;w=60` and `RateLimit: "login";r=0;t=37` on every
 *   response of a limited route, plus `Retry-After` on 429. `w` is the window in whole seconds;
 *   `t` is, on a 429, the seconds until a retry can succeed (= Retry-After), otherwise the seconds
 *   until the sliding window holds none of the client's requests (quota fully back).
 */
import { formatDuration, parseDuration } from "./duration.ts";
import { IpwardError } from "./errors.ts";
import { maskIp, type ParsedIp } from "./ip.ts";
import type { CounterStore, HitResult } from "./ports.ts";
import { type Problem, problem } from "./problem.ts";

export type RateLimitKeyKind = "ip" | "user" | "user_or_ip";

/** A rule as written in the configuration (config's RateLimitRuleConfig has this shape). */
export interface RateLimitRuleSpec {
  name: string;
  /** HTTP method, or "*" (the default) for any. */
  method?: string;
  path: string;
  limit: number;
  /** Duration string: "1m", "30s", "1h". */
  window: string;
  key?: RateLimitKeyKind;
  /** Larger (or smaller) limits selected by the JWT `tier` claim. */
  tiers?: Record<string, number>;
}

/** A compiled rule, as returned by matchRule and passed back to check. */
export interface LimitRule {
  readonly name: string;
  /** Upper-case method, or null for any. */
  readonly method: string | null;
  /** The path pattern as configured. */
  readonly path: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly key: RateLimitKeyKind;
  readonly tiers: ReadonlyMap<string, number>;
}

/** What check needs to know about a request that matched `rule`. */
export interface LimitCheck {
  rule: LimitRule;
  ip: ParsedIp;
  /** JWT subject of a verified token, if any. */
  user: string | null;
  /** JWT `tier` claim of a verified token, if any. */
  tier: string | null;
  now: number;
}

/** The verdict on one request, with the response headers to send either way. */
export interface LimitOutcome {
  allowed: boolean;
  rule: LimitRule;
  /** Counter key the request counted against. */
  key: string;
  /** The limit applied (the tier's when one matched). */
  limit: number;
  remaining: number;
  /** Whole seconds (at least 1) before a retry can succeed; 0 when allowed. */
  retryAfter: number;
  /** `RateLimit-Policy`, `RateLimit`, and `Retry-After` when refused. */
  headers: Record<string, string>;
}

export interface RateLimiterOptions {
  /** Prefix length that groups IPv6 clients (config rate_limit.ipv6_prefix, default 64). */
  ipv6Prefix?: number;
}

interface CompiledRule extends LimitRule {
  readonly order: number;
  /** `RateLimit-Policy` value per applicable limit. */
  readonly policies: ReadonlyMap<number, string>;
  /** The quoted policy name, ready for `RateLimit`. */
  readonly quotedName: string;
  /** Present for prefix and glob rules; exact rules are looked up by path. */
  readonly matches: ((path: string) => boolean) | null;
  /** Canonical exact path (exact rules only). */
  readonly exactPath: string | null;
}

/** Applies the configured rate-limit rules against a CounterStore. */
export class RateLimiter {
  readonly rules: readonly LimitRule[];
  private readonly exact = new Map<string, CompiledRule[]>();
  private readonly patterns: CompiledRule[] = [];
  private readonly ipv6Prefix: number;

  constructor(
    rules: readonly RateLimitRuleSpec[],
    private readonly store: CounterStore,
    options: RateLimiterOptions = {},
  ) {
    const ipv6Prefix = options.ipv6Prefix ?? 64;
    if (!Number.isInteger(ipv6Prefix) || ipv6Prefix < 1 || ipv6Prefix > 128) {
      throw new IpwardError("invalid_config", `rate_limit.ipv6_prefix: must be an integer from 1 to 128, got ${ipv6Prefix}`);
    }
    this.ipv6Prefix = ipv6Prefix;
    const compiled = compileRules(rules);
    for (const rule of compiled) {
      if (rule.exactPath === null) {
        this.patterns.push(rule);
        continue;
      }
      const sharing = this.exact.get(rule.exactPath);
      if (sharing) sharing.push(rule);
      else this.exact.set(rule.exactPath, [rule]);
    }
    this.rules = compiled;
  }

  /** The first rule (in config order) covering this request, or null — the common, cheap case. */
  matchRule(method: string, path: string): LimitRule | null {
    const canonical = canonicalPath(path);
    let found: CompiledRule | null = null;
    const sameExact = this.exact.get(canonical);
    if (sameExact !== undefined) {
      for (const rule of sameExact) {
        if (methodMatches(rule, method)) {
          found = rule;
          break;
        }
      }
    }
    for (const rule of this.patterns) {
      if (found !== null && rule.order > found.order) break;
      if (methodMatches(rule, method) && rule.matches!(canonical)) {
        found = rule;
        break;
      }
    }
    return found;
  }

  /**
   * Counts the request against its key and says whether it may proceed. `rule` must come from this
   * limiter's matchRule. Synchronous when the store can answer at once (memory); a rejected promise
   * only if the store rejects (the fallback store never does).
   */
  check({ rule, ip, user, tier, now }: LimitCheck): LimitOutcome | Promise<LimitOutcome> {
    const key =
      rule.key === "ip" || user === null ? `${rule.name}:ip:${this.ipKey(ip)}` : `${rule.name}:user:${user}`;
    const limit = (tier !== null ? rule.tiers.get(tier) : undefined) ?? rule.limit;
    const answered = this.store.hitNow?.(key, limit, rule.windowMs, now);
    if (answered !== undefined) return this.outcome(rule, key, limit, answered);
    return this.store.hit(key, limit, rule.windowMs, now).then((hit) => this.outcome(rule, key, limit, hit));
  }

  private outcome(rule: LimitRule, key: string, limit: number, hit: HitResult): LimitOutcome {
    const compiled = rule as CompiledRule;
    const retryAfter = hit.allowed ? 0 : Math.max(1, Math.ceil(hit.retryAfterMs / 1_000));
    const reset = hit.allowed ? Math.ceil(hit.resetMs / 1_000) : retryAfter;
    const headers: Record<string, string> = {
      "RateLimit-Policy": compiled.policies.get(limit) ?? policyHeader(compiled.quotedName, limit, rule.windowMs),
      RateLimit: `${compiled.quotedName};r=${hit.remaining};t=${reset}`,
    };
    if (!hit.allowed) headers["Retry-After"] = String(retryAfter);
    return { allowed: hit.allowed, rule, key, limit, remaining: hit.remaining, retryAfter, headers };
  }

  /** The address, or for IPv6 its network of `ipv6Prefix` bits written as a CIDR. */
  private ipKey(ip: ParsedIp): string {
    if (ip.family === 4 || this.ipv6Prefix === 128) return ip.text;
    return `${maskIp(ip, this.ipv6Prefix)}/${this.ipv6Prefix}`;
  }
}

/** The RFC 9457 body of a 429 for `outcome`; `instance` is usually the request path. */
export function problemForLimit(outcome: LimitOutcome, instance: string): Problem {
  const { rule } = outcome;
  return problem(
    429,
    "rate-limited",
    "Too Many Requests",
    `Rate limit "${rule.name}" (${outcome.limit} requests per ${formatDuration(rule.windowMs)}) exceeded; retry in ${outcome.retryAfter} s.`,
    { instance },
  );
}

/**
 * The form paths are compared in (see the module comment). Costs two `indexOf` and a lower-casing
 * on ordinary paths; decoding and segment resolution only happen when the path needs them.
 */
export function canonicalPath(path: string): string {
  let canonical = path;
  if (canonical.indexOf("%") !== -1) {
    try {
      canonical = decodeURIComponent(canonical);
    } catch {
      // Malformed escapes stay as they are; such a path matches only rules written the same way.
    }
  }
  if (canonical.indexOf("//") !== -1 || canonical.indexOf("/.") !== -1 || canonical.charCodeAt(0) !== 47) {
    canonical = resolveSegments(canonical);
  }
  canonical = canonical.toLowerCase();
  if (canonical.length > 1 && canonical.charCodeAt(canonical.length - 1) === 47 /* / */) {
    canonical = canonical.slice(0, -1);
  }
  return canonical;
}

function resolveSegments(path: string): string {
  const kept: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") kept.pop();
    else kept.push(segment);
  }
  return `/${kept.join("/")}`;
}

function methodMatches(rule: CompiledRule, method: string): boolean {
  return rule.method === null || rule.method === method || rule.method === method.toUpperCase();
}

function compileRules(specs: readonly RateLimitRuleSpec[]): CompiledRule[] {
  const names = new Set<string>();
  return specs.map((spec, order) => {
    const where = `rate_limit.rules[${order}]`;
    const invalid = (field: string, message: string) => new IpwardError("invalid_config", `${where}.${field}: ${message}`);
    if (!spec.name) throw invalid("name", "must not be empty");
    if (!/^[\x20-\x7e]+$/.test(spec.name)) throw invalid("name", `"${spec.name}" must be printable ASCII (it is sent in headers)`);
    if (names.has(spec.name)) throw invalid("name", `"${spec.name}" is used by another rule; names key the counters`);
    names.add(spec.name);
    if (!Number.isInteger(spec.limit) || spec.limit < 1) throw invalid("limit", `must be an integer of at least 1, got ${spec.limit}`);
    let windowMs: number;
    try {
      windowMs = parseDuration(spec.window, "window");
    } catch (error) {
      throw invalid("window", (error as Error).message);
    }
    const tiers = new Map<string, number>();
    for (const [tier, limit] of Object.entries(spec.tiers ?? {})) {
      if (!Number.isInteger(limit) || limit < 1) throw invalid(`tiers.${tier}`, `must be an integer of at least 1, got ${limit}`);
      tiers.set(tier, limit);
    }
    const method = !spec.method || spec.method === "*" ? null : spec.method.toUpperCase();
    if (method !== null && !/^[A-Z]+$/.test(method)) throw invalid("method", `"${spec.method}" is not an HTTP method or "*"`);
    if (!spec.path.startsWith("/")) throw invalid("path", `"${spec.path}" must start with /`);

    const quotedName = `"${spec.name.replace(/[\\"]/g, "\\$&")}"`;
    const policies = new Map<number, string>();
    for (const limit of [spec.limit, ...tiers.values()]) policies.set(limit, policyHeader(quotedName, limit, windowMs));
    const { exactPath, matches } = compilePath(spec.path);
    return {
      name: spec.name,
      method,
      path: spec.path,
      limit: spec.limit,
      windowMs,
      key: spec.key ?? "ip",
      tiers,
      order,
      policies,
      quotedName,
      matches,
      exactPath,
    };
  });
}

function policyHeader(quotedName: string, limit: number, windowMs: number): string {
  return `${quotedName};q=${limit};w=${Math.max(1, Math.round(windowMs / 1_000))}`;
}

function compilePath(pattern: string): Pick<CompiledRule, "exactPath" | "matches"> {
  const trailingStar = pattern.endsWith("/*");
  const body = canonicalPath(trailingStar ? pattern.slice(0, -2) || "/" : pattern);
  if (!body.includes("*")) {
    if (!trailingStar) return { exactPath: body, matches: null };
    if (body === "/") return { exactPath: null, matches: () => true };
    const below = `${body}/`;
    return { exactPath: null, matches: (path) => path === body || path.startsWith(below) };
  }
  const source = body
    .split("*")
    .map((literal) => literal.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join("[^/]*");
  const regex = new RegExp(`^${source}${trailingStar ? "(?:/.*)?" : ""}$`);
  return { exactPath: null, matches: (path) => regex.test(path) };
}
