import type { RuleSet } from "./decisions.ts";
import { clientBehind, maskIp, type ParsedIp, parseIp, type TrustFn } from "./ip.ts";
import type { Clock, Decision, GeoInfo, GeoReader, LogRow, LogSink } from "./ports.ts";
import { type Problem, problem } from "./problem.ts";
import { type LimitOutcome, problemForLimit, type RateLimiter } from "./rate-limit.ts";

/** What the pipeline needs to know about an incoming request; adapters fill it from their runtime. */
export interface RequestFacts {
  socketAddress: string;
  forwardedFor: string | null;
  method: string;
  /** Path without the query string. */
  path: string;
  /** Query string without "?" (empty when none); stored only when log.query_string is on. */
  query: string;
  /** The Authorization header; adapters may leave it null when `Pipeline.readsAuthorization` is false. */
  authorization: string | null;
  userAgent: string | null;
  referer: string | null;
}

/** The pipeline's answer for one request, before the application runs. */
export interface Verdict {
  ip: string;
  parsedIp: ParsedIp | null;
  geo: GeoInfo | null;
  decision: Decision;
  /** Block/allow target or rate-limit rule name that decided. */
  rule: string | null;
  allowlisted: boolean;
  user: string | null;
  /** RateLimit headers to add to the response (limited routes only). */
  headers: Record<string, string> | null;
  /** Set when the request must be refused (403 or 429). */
  refusal: Problem | null;
  /** When the request was evaluated (ms); its log row carries this time. */
  time: number;
}

export type IdentityResolver = (authorization: string | null) => Promise<{ sub: string; tier: string | null } | null>;

/**
 * Something that wants to see every finished request (real-time detection, metrics). `row` is what
 * was logged (IP possibly anonymised); `verdict.ip` is the real client IP; `facts.query` the raw query.
 */
export type RequestObserver = (row: LogRow, verdict: Verdict, facts: RequestFacts) => void;

export interface PipelineOptions {
  trust: TrustFn;
  rules: RuleSet;
  geo: GeoReader | null;
  limiter: RateLimiter | null;
  /** Resolves the JWT subject; null when no secret is configured. */
  identity: IdentityResolver | null;
  log: LogSink;
  clock: Clock;
  storeQueryString: boolean;
  storeUserAgent: boolean;
  anonymizeIp: boolean;
  observers?: RequestObserver[];
}

/** Parsed socket addresses remembered before the memo is emptied. */
const SOCKET_MEMO_SIZE = 1024;

/** The request pipeline of SPEC §2: client IP → allowlist → blocklist → geolocation → rate limit → log. */
export class Pipeline {
  private readonly observers: RequestObserver[];
  /**
   * Socket addresses already parsed. A server sees the same few peers again and again (its reverse
   * proxy, clients on keep-alive connections); the memo saves parsing and allocating per request.
   */
  private readonly sockets = new Map<string, ParsedIp | null>();

  constructor(private readonly options: PipelineOptions) {
    this.observers = options.observers ?? [];
  }

  /** Whether requests' Authorization header matters (a JWT secret is configured); adapters can skip reading it otherwise. */
  get readsAuthorization(): boolean {
    return this.options.identity !== null;
  }

  /** Registers an observer of finished requests. */
  observe(observer: RequestObserver): void {
    this.observers.push(observer);
  }

  /** Decides about a request. Synchronous unless a JWT must be verified or the limiter must wait for Redis. */
  evaluate(facts: RequestFacts): Verdict | Promise<Verdict> {
    const { trust, rules, geo, limiter, clock } = this.options;
    const socket = this.parseSocket(facts.socketAddress);
    const parsedIp = socket && clientBehind(socket, facts.forwardedFor, trust);
    const ip = parsedIp?.text ?? facts.socketAddress;
    const location = parsedIp && geo ? geo.lookup(parsedIp) : null;
    const now = clock.now();
    const verdict: Verdict = {
      ip,
      parsedIp,
      geo: location,
      decision: "allow",
      rule: null,
      allowlisted: false,
      user: null,
      headers: null,
      refusal: null,
      time: now,
    };
    if (!parsedIp) return verdict;

    const listed = rules.decide(parsedIp, location?.country_code ?? null, now);
    if (listed) {
      verdict.rule = listed.rule.target;
      if (listed.list === "allow") {
        verdict.allowlisted = true;
        return verdict;
      }
      verdict.decision = "block";
      verdict.refusal = problem(403, "blocked", "Forbidden", `Requests from ${ip} are blocked.`);
      return verdict;
    }

    const limitRule = limiter?.matchRule(facts.method, facts.path) ?? null;
    // The subject is resolved for every authenticated request, not only limited routes, so that
    // detection sees which user came from where.
    const identify = facts.authorization !== null && this.options.identity !== null;
    if (!limitRule && !identify) return verdict;
    if (!identify) {
      // A limited route without a user to resolve: synchronous when the limiter's store is (memory).
      const outcome = limiter!.check({ rule: limitRule!, ip: parsedIp, user: null, tier: null, now });
      return outcome instanceof Promise
        ? outcome.then((answered) => applyLimit(verdict, answered, facts))
        : applyLimit(verdict, outcome, facts);
    }
    return this.identifyAndLimit(verdict, facts, limitRule, now);
  }

  private parseSocket(address: string): ParsedIp | null {
    let parsed = this.sockets.get(address);
    if (parsed === undefined) {
      parsed = parseIp(address);
      if (this.sockets.size >= SOCKET_MEMO_SIZE) this.sockets.clear();
      this.sockets.set(address, parsed);
    }
    return parsed;
  }

  private async identifyAndLimit(
    verdict: Verdict,
    facts: RequestFacts,
    limitRule: ReturnType<RateLimiter["matchRule"]>,
    now: number,
  ): Promise<Verdict> {
    const identity = facts.authorization && this.options.identity ? await this.options.identity(facts.authorization) : null;
    verdict.user = identity?.sub ?? null;
    if (!limitRule) return verdict;
    const outcome = await this.options.limiter!.check({
      rule: limitRule,
      ip: verdict.parsedIp!,
      user: verdict.user,
      tier: identity?.tier ?? null,
      now,
    });
    return applyLimit(verdict, outcome, facts);
  }

  /** Writes the log row of a finished request and tells the observers. */
  record(verdict: Verdict, facts: RequestFacts, status: number, durationMs: number): void {
    const { options } = this;
    const storedIp =
      options.anonymizeIp && verdict.parsedIp
        ? maskIp(verdict.parsedIp, verdict.parsedIp.family === 4 ? 24 : 48)
        : verdict.ip;
    const row: LogRow = {
      ts: verdict.time,
      ip: storedIp,
      method: facts.method,
      path: options.storeQueryString && facts.query ? `${facts.path}?${facts.query}` : facts.path,
      status,
      duration_ms: durationMs,
      user_agent: options.storeUserAgent ? facts.userAgent : null,
      referer: facts.referer,
      country_code: verdict.geo?.country_code ?? null,
      country: verdict.geo?.country ?? null,
      city: verdict.geo?.city ?? null,
      decision: verdict.decision,
      rule: verdict.rule,
      user: verdict.user,
    };
    options.log.write(row);
    for (const observer of this.observers) observer(row, verdict, facts);
  }
}

/** Puts a rate-limit outcome on the verdict: its headers, and the refusal when it is over the limit. */
function applyLimit(verdict: Verdict, outcome: LimitOutcome, facts: RequestFacts): Verdict {
  verdict.headers = outcome.headers;
  if (!outcome.allowed) {
    verdict.decision = "limit";
    verdict.rule = outcome.rule.name;
    verdict.refusal = problemForLimit(outcome, facts.path);
  }
  return verdict;
}
