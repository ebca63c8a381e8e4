import { describe, expect, test } from "bun:test";
import { isIpwardError } from "../../src/core/errors.ts";
import { type ParsedIp, parseIp } from "../../src/core/ip.ts";
import { canonicalPath, problemForLimit, RateLimiter, type RateLimitRuleSpec } from "../../src/core/rate-limit.ts";
import { MemoryStore } from "../../src/limiter/memory-store.ts";

/** The shipped defaults (config/schema.ts). */
const DEFAULT_RULES: RateLimitRuleSpec[] = [
  { name: "login", method: "POST", path: "/api/login", limit: 5, window: "1m", key: "ip" },
  { name: "action", method: "POST", path: "/api/action", limit: 10, window: "1m", key: "user_or_ip", tiers: { premium: 100 } },
];

function ip(text: string): ParsedIp {
  const parsed = parseIp(text);
  if (!parsed) throw new Error(`bad test address ${text}`);
  return parsed;
}

function limiterWith(rules: RateLimitRuleSpec[], ipv6Prefix?: number) {
  return new RateLimiter(rules, new MemoryStore(), ipv6Prefix === undefined ? {} : { ipv6Prefix });
}

function rule(path: string, extra: Partial<RateLimitRuleSpec> = {}): RateLimitRuleSpec {
  return { name: extra.name ?? path, path, limit: 1, window: "1m", ...extra };
}

describe("matchRule", () => {
  const limiter = limiterWith([
    rule("/api/login", { name: "login", method: "POST" }),
    rule("/admin/*", { name: "admin" }),
    rule("/api/*/login", { name: "versioned-login", method: "post" }),
    rule("/files/*.json", { name: "json", method: "GET" }),
    rule("/reports/*/export/*", { name: "export" }),
  ]);
  const cases: [method: string, path: string, expected: string | null][] = [
    ["POST", "/api/login", "login"],
    ["POST", "/api/login/", "login"],
    ["POST", "/API/Login", "login"],
    ["POST", "/api//login", "login"],
    ["POST", "/api/./login", "login"],
    ["POST", "/api/x/../login", "login"],
    ["POST", "/api/%6Cogin", "login"],
    ["post", "/api/login", "login"],
    ["GET", "/api/login", null],
    ["POST", "/api/login/extra", null],
    ["POST", "/api/loginx", null],
    ["DELETE", "/admin", "admin"],
    ["GET", "/admin/", "admin"],
    ["GET", "/admin/users/7", "admin"],
    ["GET", "/administrator", null],
    ["POST", "/api/v2/login", "versioned-login"],
    ["POST", "/api/v2/login/", "versioned-login"],
    ["POST", "/api/v2/v3/login", null],
    ["GET", "/files/report.json", "json"],
    ["GET", "/files/a/report.json", null],
    ["GET", "/files/report.json.bak", null],
    ["GET", "/reports/q3/export", "export"],
    ["GET", "/reports/q3/export/csv/all", "export"],
    ["GET", "/reports/q3/summary", null],
    ["GET", "/", null],
    ["GET", "", null],
    ["GET", "/api/%zz", null],
  ];
  for (const [method, path, expected] of cases) {
    test(`${method} ${JSON.stringify(path)} → ${expected ?? "no rule"}`, () => {
      expect(limiter.matchRule(method, path)?.name ?? null).toBe(expected);
    });
  }

  test("the first rule in config order wins, whatever its kind", () => {
    const ordered = limiterWith([rule("/api/*", { name: "everything" }), rule("/api/login", { name: "login" })]);
    expect(ordered.matchRule("POST", "/api/login")?.name).toBe("everything");
    const reversed = limiterWith([rule("/api/login", { name: "login" }), rule("/api/*", { name: "everything" })]);
    expect(reversed.matchRule("POST", "/api/login")?.name).toBe("login");
    expect(reversed.matchRule("POST", "/api/other")?.name).toBe("everything");
  });

  test("two exact rules on one path are told apart by method", () => {
    const byMethod = limiterWith([rule("/x", { name: "get", method: "GET" }), rule("/x", { name: "post", method: "POST" })]);
    expect(byMethod.matchRule("POST", "/x")?.name).toBe("post");
    expect(byMethod.matchRule("GET", "/x")?.name).toBe("get");
    expect(byMethod.matchRule("PUT", "/x")).toBeNull();
  });

  test('"/*" covers every path', () => {
    expect(limiterWith([rule("/*", { name: "all" })]).matchRule("GET", "/anything/at/all")?.name).toBe("all");
  });
});

describe("canonicalPath", () => {
  test("ordinary paths come back unchanged", () => {
    expect(canonicalPath("/api/login")).toBe("/api/login");
    expect(canonicalPath("/")).toBe("/");
  });
  test("dodges are undone", () => {
    expect(canonicalPath("//API/./v1/../Login//")).toBe("/api/login");
    expect(canonicalPath("api/login")).toBe("/api/login");
  });
});

describe("check: synchronous when the store can be", () => {
  const rule = { name: "r", method: "GET", path: "/", limit: 1, window: "1m", key: "ip" } as RateLimitRuleSpec;
  const ip = parseIp("192.0.2.1")!;

  test("a memory store answers at once: no promise, and the second hit is refused", () => {
    const limiter = new RateLimiter([rule], new MemoryStore());
    const matched = limiter.matchRule("GET", "/")!;
    const first = limiter.check({ rule: matched, ip, user: null, tier: null, now: 0 });
    expect(first).not.toBeInstanceOf(Promise);
    expect(first).toMatchObject({ allowed: true, remaining: 0 });
    expect(limiter.check({ rule: matched, ip, user: null, tier: null, now: 1 })).toMatchObject({ allowed: false });
  });

  test("a store without hitNow (one that must wait, like Redis) gives a promise of the same outcome", async () => {
    const memory = new MemoryStore();
    const waiting = { hit: memory.hit.bind(memory), close: () => memory.close() };
    const limiter = new RateLimiter([rule], waiting);
    const matched = limiter.matchRule("GET", "/")!;
    const first = limiter.check({ rule: matched, ip, user: null, tier: null, now: 0 });
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toMatchObject({ allowed: true, remaining: 0 });
    expect(await limiter.check({ rule: matched, ip, user: null, tier: null, now: 1 })).toMatchObject({ allowed: false });
  });
});

describe("check: keys", () => {
  test("IPv4 clients are keyed by address", async () => {
    const limiter = limiterWith(DEFAULT_RULES);
    const login = limiter.matchRule("POST", "/api/login")!;
    const outcome = await limiter.check({ rule: login, ip: ip("192.0.2.7"), user: null, tier: null, now: 0 });
    expect(outcome.key).toBe("login:ip:192.0.2.7");
  });

  test("IPv6 clients share their /64 by default", async () => {
    const limiter = limiterWith([rule("/api/login", { name: "login", limit: 2 })]);
    const login = limiter.matchRule("POST", "/api/login")!;
    const check = (address: string) => limiter.check({ rule: login, ip: ip(address), user: null, tier: null, now: 0 });
    const first = await check("2001:db8:1:2::1");
    expect(first.key).toBe("login:ip:2001:db8:1:2::/64");
    expect((await check("2001:db8:1:2:ffff:ffff:ffff:9")).allowed).toBe(true);
    expect((await check("2001:db8:1:2:abcd::1")).allowed).toBe(false);
    expect((await check("2001:db8:1:3::1")).allowed).toBe(true);
  });

  test("the IPv6 prefix is configurable, /128 meaning one address", async () => {
    const wide = limiterWith(DEFAULT_RULES, 48);
    const exact = limiterWith(DEFAULT_RULES, 128);
    const login = (limiter: RateLimiter) => limiter.matchRule("POST", "/api/login")!;
    const client = ip("2001:db8:1:2::1");
    expect((await wide.check({ rule: login(wide), ip: client, user: null, tier: null, now: 0 })).key).toBe("login:ip:2001:db8:1::/48");
    expect((await exact.check({ rule: login(exact), ip: client, user: null, tier: null, now: 0 })).key).toBe("login:ip:2001:db8:1:2::1");
  });

  test("IPv4-mapped IPv6 counts as the IPv4 address", async () => {
    const limiter = limiterWith(DEFAULT_RULES);
    const login = limiter.matchRule("POST", "/api/login")!;
    expect((await limiter.check({ rule: login, ip: ip("::ffff:192.0.2.7"), user: null, tier: null, now: 0 })).key).toBe(
      "login:ip:192.0.2.7",
    );
  });

  test("user and user_or_ip rules key by subject when there is one, else by IP", async () => {
    const limiter = limiterWith([...DEFAULT_RULES, rule("/api/user-only", { name: "user-only", key: "user" })]);
    const action = limiter.matchRule("POST", "/api/action")!;
    const userOnly = limiter.matchRule("POST", "/api/user-only")!;
    const client = ip("192.0.2.7");
    expect((await limiter.check({ rule: action, ip: client, user: "alice", tier: null, now: 0 })).key).toBe("action:user:alice");
    expect((await limiter.check({ rule: action, ip: client, user: null, tier: null, now: 0 })).key).toBe("action:ip:192.0.2.7");
    expect((await limiter.check({ rule: userOnly, ip: client, user: "alice", tier: null, now: 0 })).key).toBe("user-only:user:alice");
    expect((await limiter.check({ rule: userOnly, ip: client, user: null, tier: null, now: 0 })).key).toBe("user-only:ip:192.0.2.7");
  });

  test("a user keeps one counter across addresses; an ip rule ignores the user", async () => {
    const limiter = limiterWith([
      rule("/a", { name: "per-user", key: "user_or_ip", limit: 1 }),
      rule("/b", { name: "per-ip", key: "ip", limit: 1 }),
    ]);
    const perUser = limiter.matchRule("GET", "/a")!;
    const perIp = limiter.matchRule("GET", "/b")!;
    expect((await limiter.check({ rule: perUser, ip: ip("192.0.2.1"), user: "alice", tier: null, now: 0 })).allowed).toBe(true);
    expect((await limiter.check({ rule: perUser, ip: ip("198.51.100.1"), user: "alice", tier: null, now: 0 })).allowed).toBe(false);
    expect((await limiter.check({ rule: perIp, ip: ip("192.0.2.1"), user: "alice", tier: null, now: 0 })).key).toBe("per-ip:ip:192.0.2.1");
  });
});

describe("check: tiers", () => {
  test("a known tier selects its limit and policy; unknown tiers get the rule's", async () => {
    const limiter = limiterWith(DEFAULT_RULES);
    const action = limiter.matchRule("POST", "/api/action")!;
    const client = ip("192.0.2.7");
    const premium = await limiter.check({ rule: action, ip: client, user: "vip", tier: "premium", now: 0 });
    expect(premium.limit).toBe(100);
    expect(premium.remaining).toBe(99);
    expect(premium.headers["RateLimit-Policy"]).toBe('"action";q=100;w=60');
    for (const tier of ["gold", "__proto__", "constructor", null]) {
      const other = await limiter.check({ rule: action, ip: client, user: `u-${tier}`, tier, now: 0 });
      expect(other.limit).toBe(10);
      expect(other.headers["RateLimit-Policy"]).toBe('"action";q=10;w=60');
    }
  });

  test("the premium tier really gets 100 requests per minute", async () => {
    const limiter = limiterWith(DEFAULT_RULES);
    const action = limiter.matchRule("POST", "/api/action")!;
    const results = [];
    for (let i = 0; i < 101; i++) {
      results.push(await limiter.check({ rule: action, ip: ip("192.0.2.7"), user: "vip", tier: "premium", now: 5_000 }));
    }
    expect(results.filter((r) => r.allowed)).toHaveLength(100);
    expect(results[100].allowed).toBe(false);
  });
});

describe("check: headers", () => {
  test("allowed and limited responses carry RateLimit-Policy and RateLimit; 429 adds Retry-After", async () => {
    const limiter = limiterWith(DEFAULT_RULES);
    const login = limiter.matchRule("POST", "/api/login")!;
    const outcomes = [];
    for (let i = 0; i < 6; i++) outcomes.push(await limiter.check({ rule: login, ip: ip("203.0.113.5"), user: null, tier: null, now: 1_000 }));
    expect(outcomes[0].headers).toEqual({ "RateLimit-Policy": '"login";q=5;w=60', RateLimit: '"login";r=4;t=119' });
    expect(outcomes[4].headers.RateLimit).toBe('"login";r=0;t=119');
    // Five requests at 1s weigh 5*(60-e)/60 in the next window; a sixth fits at e = 12s, i.e. t = 72s.
    expect(outcomes[5]).toMatchObject({ allowed: false, remaining: 0, retryAfter: 71 });
    expect(outcomes[5].headers).toEqual({
      "RateLimit-Policy": '"login";q=5;w=60',
      RateLimit: '"login";r=0;t=71',
      "Retry-After": "71",
    });
  });

  test("Retry-After is a whole number of seconds, at least 1", async () => {
    const limiter = limiterWith([rule("/fast", { name: "fast", limit: 1, window: "500ms" })]);
    const fast = limiter.matchRule("GET", "/fast")!;
    await limiter.check({ rule: fast, ip: ip("192.0.2.1"), user: null, tier: null, now: 400 });
    const refused = await limiter.check({ rule: fast, ip: ip("192.0.2.1"), user: null, tier: null, now: 400 });
    expect(refused.headers["Retry-After"]).toBe("1");
    expect(refused.headers["RateLimit-Policy"]).toBe('"fast";q=1;w=1');
  });

  test("the sliding window holds across the edge (SPEC §2: no double burst)", async () => {
    const limiter = limiterWith(DEFAULT_RULES);
    const login = limiter.matchRule("POST", "/api/login")!;
    const at = (now: number) => limiter.check({ rule: login, ip: ip("203.0.113.9"), user: null, tier: null, now });
    for (let i = 0; i < 5; i++) expect((await at(59_000)).allowed).toBe(true);
    expect((await at(61_000)).allowed).toBe(false);
    expect((await at(121_000)).allowed).toBe(true);
  });

  test("policy names are structured-field strings", async () => {
    const limiter = limiterWith([rule("/q", { name: 'say "hi" \\o/' })]);
    const quoted = limiter.matchRule("GET", "/q")!;
    const outcome = await limiter.check({ rule: quoted, ip: ip("192.0.2.1"), user: null, tier: null, now: 0 });
    expect(outcome.headers["RateLimit-Policy"]).toBe('"say \\"hi\\" \\\\o/";q=1;w=60');
  });
});

describe("problemForLimit", () => {
  test("is the RFC 9457 body of a 429", async () => {
    const limiter = limiterWith(DEFAULT_RULES);
    const login = limiter.matchRule("POST", "/api/login")!;
    let outcome = await limiter.check({ rule: login, ip: ip("192.0.2.1"), user: null, tier: null, now: 0 });
    for (let i = 0; i < 5; i++) outcome = await limiter.check({ rule: login, ip: ip("192.0.2.1"), user: null, tier: null, now: 0 });
    expect(problemForLimit(outcome, "/api/login")).toEqual({
      type: "https://ipward.dev/problems/rate-limited",
      title: "Too Many Requests",
      status: 429,
      detail: `Rate limit "login" (5 requests per 1m) exceeded; retry in ${outcome.retryAfter} s.`,
      instance: "/api/login",
    });
  });
});

describe("configuration errors name the key", () => {
  const cases: [string, RateLimitRuleSpec[], string][] = [
    ["duplicate name", [rule("/a", { name: "x" }), rule("/b", { name: "x" })], "rate_limit.rules[1].name"],
    ["bad window", [rule("/a", { window: "soon" })], "rate_limit.rules[0].window"],
    ["relative path", [rule("api/login")], "rate_limit.rules[0].path"],
    ["bad method", [rule("/a", { method: "GET,POST" })], "rate_limit.rules[0].method"],
    ["non-ASCII name", [rule("/a", { name: "connexion-é" })], "rate_limit.rules[0].name"],
    ["zero limit", [rule("/a", { limit: 0 })], "rate_limit.rules[0].limit"],
    ["zero tier", [rule("/a", { tiers: { gold: 0 } })], "rate_limit.rules[0].tiers.gold"],
  ];
  for (const [what, rules, key] of cases) {
    test(what, () => {
      let thrown: unknown;
      try {
        limiterWith(rules);
      } catch (error) {
        thrown = error;
      }
      expect(isIpwardError(thrown, "invalid_config")).toBe(true);
      expect((thrown as Error).message).toStartWith(key);
    });
  }

  test("ipv6_prefix out of range", () => {
    expect(() => limiterWith(DEFAULT_RULES, 0)).toThrow("rate_limit.ipv6_prefix");
    expect(() => limiterWith(DEFAULT_RULES, 129)).toThrow("rate_limit.ipv6_prefix");
  });
});
