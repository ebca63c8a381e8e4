/**
 * The interfaces the core needs from the outside world. Adapters live in store/, limiter/, geo/.
 * Times are milliseconds since the Unix epoch unless a name says otherwise.
 */
import type { ParsedIp } from "./ip.ts";

/** Source of the current time; tests inject a fake one. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export type Decision = "allow" | "block" | "limit";

/** One request as stored in the request log. */
export interface LogRow {
  ts: number;
  ip: string;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  user_agent: string | null;
  referer: string | null;
  country_code: string | null;
  country: string | null;
  city: string | null;
  decision: Decision;
  /** Name of the block/allow/limit rule that decided, if any. */
  rule: string | null;
  /** Authenticated subject (JWT `sub`) when known; used by geographic-anomaly detection. */
  user: string | null;
}

/** Where the pipeline hands finished requests; must never block the request path. */
export interface LogSink {
  write(row: LogRow): void;
  /** Resolves when every row written so far is durable. */
  flush(): Promise<void>;
  /** Flushes, then releases resources. */
  close(): Promise<void>;
  stats(): LogSinkStats;
}

export interface LogSinkStats {
  buffered: number;
  written: number;
  dropped: number;
}

export type RuleList = "block" | "allow";
export type RuleKind = "ip" | "cidr" | "country";
export type RuleSource = "cli" | "admin" | "api" | "detection" | "import";

/** A block or allow rule as stored. `target` is canonical (normalised IP, network CIDR, upper-case country). */
export interface DecisionRule {
  id: number;
  list: RuleList;
  target: string;
  kind: RuleKind;
  reason: string | null;
  created_at: number;
  expires_at: number | null;
  source: RuleSource;
}

export type NewDecisionRule = Omit<DecisionRule, "id" | "created_at"> & { created_at?: number };

/** Persistent block/allow rules. Adding an existing target replaces its reason/expiry. */
export interface DecisionStore {
  listRules(list: RuleList, now: number): DecisionRule[];
  addRule(rule: NewDecisionRule): DecisionRule;
  /** Returns how many rules were removed. */
  removeRule(list: RuleList, target: string): number;
  /** A number that changes whenever any process changes the rules (cheap to poll). */
  changeMarker(): number;
}

export interface GeoInfo {
  country_code: string | null;
  country: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
}

/** Geolocation of an address; null for private/reserved or unknown addresses. */
export interface GeoReader {
  /** Takes the address as text or, cheaper when the caller has it, already parsed. */
  lookup(ip: string | ParsedIp): GeoInfo | null;
}

/** Result of counting one request against a sliding-window limit. */
export interface HitResult {
  allowed: boolean;
  /** Requests left in the window after this one (0 when refused). */
  remaining: number;
  /** Milliseconds until a request would be allowed again (0 when allowed). */
  retryAfterMs: number;
  /** Milliseconds until the window fully resets. */
  resetMs: number;
}

/**
 * Atomic sliding-window counters. `hit` counts the request only when it is allowed.
 * Implementations: memory (bounded) and Redis (Lua script); one contract suite covers both.
 */
export interface CounterStore {
  hit(key: string, limit: number, windowMs: number, now: number): Promise<HitResult>;
  /**
   * The same hit answered at once, when the store can (memory); undefined when it must wait
   * (Redis), and then nothing was counted: call `hit`. Spares the request a promise round.
   */
  hitNow?(key: string, limit: number, windowMs: number, now: number): HitResult | undefined;
  close(): Promise<void>;
}
