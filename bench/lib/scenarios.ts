/** What ipward must reach against the baseline in a scenario (bench/RESULTS.md explains them). */
export interface Target {
  minRatio: number;
  maxAddedP99Ms: number | null;
}

/** One benchmark scenario: how wrk shapes the requests and how ipward is configured. */
export interface Scenario {
  name: string;
  title: string;
  /** Lua script in bench/wrk/ that generates the requests; null for a plain `GET /`. */
  wrkScript: string | null;
  /** TOML passed to ipward with --config; receives this run's unique Redis key prefix. */
  config: ((redisKeyPrefix: string) => string) | null;
  /** Whether ipward is started with --redis. */
  redis: boolean;
  target: Target | null;
  /** A request sent to ipward before measuring, to prove the scenario is really exercised. */
  probe: {
    headers: Record<string, string>;
    /** Returns a problem description, or null when the response is as the scenario expects. */
    verify: (response: Response, body: Record<string, unknown>) => string | null;
  };
}

const PIPELINE_TARGET: Target = { minRatio: 0.85, maxAddedP99Ms: 1 };

/** A rule on the benchmarked route with a limit so large that every request stays 200. */
const BENCH_RULE = `[rate_limit]
rules = [{ name = "bench", method = "GET", path = "/", limit = 1000000000, window = "1m", key = "ip" }]
`;

function expectIp(expected: string) {
  return (_response: Response, body: Record<string, unknown>) =>
    body.ip === expected ? null : `expected "ip":"${expected}" in the response, got ${JSON.stringify(body.ip)}`;
}

function expectRateLimitHeader(response: Response): string | null {
  return response.headers.has("ratelimit") ? null : "no RateLimit header: the bench rule is not applied to GET /";
}

export const SCENARIOS: Scenario[] = [
  {
    name: "same-ip",
    title: "GET / from 127.0.0.1, demo mode, full pipeline",
    wrkScript: null,
    config: null,
    redis: false,
    target: PIPELINE_TARGET,
    probe: { headers: {}, verify: expectIp("127.0.0.1") },
  },
  {
    name: "random-xff",
    title: "GET / with a random public IPv4/IPv6 client in X-Forwarded-For",
    wrkScript: "random-xff.lua",
    config: null,
    redis: false,
    target: PIPELINE_TARGET,
    probe: { headers: { "x-forwarded-for": "8.8.8.8" }, verify: expectIp("8.8.8.8") },
  },
  {
    name: "memory-limiter",
    title: "same-ip plus a GET / rate-limit rule, in-memory store",
    wrkScript: null,
    config: () => BENCH_RULE,
    redis: false,
    target: null,
    probe: { headers: {}, verify: expectRateLimitHeader },
  },
  {
    name: "redis-limiter",
    title: "same-ip plus a GET / rate-limit rule, Redis store",
    wrkScript: null,
    config: (redisKeyPrefix) => `${BENCH_RULE}\n[redis]\nkey_prefix = "${redisKeyPrefix}"\n`,
    redis: true,
    target: { minRatio: 0.6, maxAddedP99Ms: null },
    probe: { headers: {}, verify: expectRateLimitHeader },
  },
];
