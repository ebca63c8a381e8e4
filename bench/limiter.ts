/**
 * Rate limiter hot path, against baselines in the same run: a counter hit in the memory store
 * versus a bare Map get/set (the least any in-process counter costs), the same with a flood of new
 * clients forcing LRU evictions, matchRule on paths no rule covers (most requests) versus one
 * Map.get, and — when Redis answers on 127.0.0.1:6379 — a Redis hit versus a bare PING round trip.
 * Usage: `bun bench/limiter.ts`.
 */
import { randomUUID } from "node:crypto";
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { RateLimiter, type RateLimitRuleSpec } from "../src/core/rate-limit.ts";
import { MemoryStore } from "../src/limiter/memory-store.ts";
import { RedisStore } from "../src/limiter/redis-store.ts";

const WINDOW_MS = 60_000;
const HOT_KEYS = 4_096;
const hotKeys = Array.from({ length: HOT_KEYS }, (_, i) => `login:ip:10.0.${i >> 8}.${i & 255}`);
/** Ten distinct keys per maxKeys slot, so the flood evicts on almost every hit. */
const floodKeys = Array.from({ length: 100_000 }, (_, i) => `login:ip:flood-${i}`);

const now = 1_767_225_600_000;
let k = 0;
const nextHotKey = () => hotKeys[k++ & (HOT_KEYS - 1)]!;
let f = 0;
const nextFloodKey = () => floodKeys[f++ % floodKeys.length]!;

interface NaiveCounter {
  start: number;
  count: number;
}
const naive = new Map<string, NaiveCounter>();
/** Baseline: a fixed-window counter in a plain Map, no bound, no sliding. */
function naiveHit(key: string): boolean {
  let counter = naive.get(key);
  if (counter === undefined) naive.set(key, (counter = { start: now, count: 0 }));
  return ++counter.count <= 5;
}

const memory = new MemoryStore({ maxKeys: 100_000 });
const smallMemory = new MemoryStore({ maxKeys: 10_000 });

const DEFAULT_RULES: RateLimitRuleSpec[] = [
  { name: "login", method: "POST", path: "/api/login", limit: 5, window: "1m", key: "ip" },
  { name: "action", method: "POST", path: "/api/action", limit: 10, window: "1m", key: "user_or_ip", tiers: { premium: 100 } },
];
const limiter = new RateLimiter(DEFAULT_RULES, memory);
const withPatterns = new RateLimiter(
  [...DEFAULT_RULES, { name: "admin", path: "/admin/*", limit: 30, window: "1m" }, { name: "exports", path: "/reports/*/export", limit: 3, window: "1h" }],
  memory,
);
const otherPaths = ["/", "/static/app.3f9a1c.js", "/products/42", "/api/items", "/favicon.ico", "/about", "/api/users/7/orders", "/healthz"];
let p = 0;
const nextPath = () => otherPaths[p++ & 7]!;
const pathMap = new Map(DEFAULT_RULES.map((rule) => [rule.path, rule]));

summary(() => {
  group("counter hit, 4096 active clients", () => {
    bench("baseline: fixed window in a Map", () => do_not_optimize(naiveHit(nextHotKey()))).baseline(true);
    bench("MemoryStore.hitNow", () => do_not_optimize(memory.hitNow(nextHotKey(), 5, WINDOW_MS, now)));
    bench("MemoryStore.hit (promise)", () => do_not_optimize(memory.hit(nextHotKey(), 5, WINDOW_MS, now)));
  });
});

summary(() => {
  group("counter hit, flood of new clients (evicting, maxKeys 10k)", () => {
    bench("baseline: fixed window in a Map", () => do_not_optimize(naiveHit(nextFloodKey()))).baseline(true);
    bench("MemoryStore.hitNow", () => do_not_optimize(smallMemory.hitNow(nextFloodKey(), 5, WINDOW_MS, now)));
  });
});

summary(() => {
  group("matchRule, path no rule covers", () => {
    bench("baseline: Map.get(path)", () => do_not_optimize(pathMap.get(nextPath()))).baseline(true);
    bench("matchRule, default rules", () => do_not_optimize(limiter.matchRule("GET", nextPath())));
    bench("matchRule, + prefix and glob rules", () => do_not_optimize(withPatterns.matchRule("GET", nextPath())));
  });
});

summary(() => {
  group("matchRule, matching path", () => {
    bench("baseline: Map.get(path)", () => do_not_optimize(pathMap.get("/api/login"))).baseline(true);
    bench("matchRule POST /api/login", () => do_not_optimize(limiter.matchRule("POST", "/api/login")));
  });
});

const redis = new RedisStore({ url: "redis://127.0.0.1:6379", keyPrefix: `ipward-bench:${randomUUID()}:` });
const redisUp = await Promise.race([
  redis.connect().then(() => redis.ready),
  new Promise<false>((resolve) => setTimeout(resolve, 1_000, false)),
]);
if (redisUp) {
  summary(() => {
    group("Redis round trip (127.0.0.1:6379)", () => {
      bench("baseline: PING", async () => await redis.ping()).baseline(true);
      bench("RedisStore.hit (EVALSHA)", async () => do_not_optimize(await redis.hit(nextHotKey(), 5, WINDOW_MS, now)));
    });
  });
} else {
  console.log("Redis not reachable on 127.0.0.1:6379: Redis group skipped\n");
}

await run();
console.log(`\nmemory store after the run: ${memory.size} keys (max 100000), ${smallMemory.size} keys (max 10000)`);
await redis.close();
