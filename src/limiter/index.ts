import { type LimiterState, type LimiterStats, type LimiterStore, FallbackStore } from "./fallback-store.ts";
import { DEFAULT_MAX_KEYS, MemoryStore } from "./memory-store.ts";

export { FallbackStore, type LimiterState, type LimiterStats, type LimiterStore } from "./fallback-store.ts";
export { MemoryStore } from "./memory-store.ts";

export interface CounterStoreOptions {
  /** config redis.url; null or empty for memory only. */
  redisUrl?: string | null;
  /** config redis.key_prefix. */
  keyPrefix?: string;
  /** config redis.timeout_ms. */
  timeoutMs?: number;
  /** config redis.reserve_percent (see FallbackStoreOptions.reservePercent). */
  reservePercent?: number;
  /** config rate_limit.memory_max_keys. */
  maxKeys?: number;
  /** Where state changes (Redis lost / back) are reported; never given secrets. */
  log?: (message: string) => void;
}

/** A memory store dressed as a LimiterStore for the no-Redis case. */
class MemoryOnlyStore implements LimiterStore {
  constructor(private readonly memory: MemoryStore) {}

  hit(key: string, limit: number, windowMs: number, now: number) {
    return this.memory.hit(key, limit, windowMs, now);
  }

  hitNow(key: string, limit: number, windowMs: number, now: number) {
    return this.memory.hitNow(key, limit, windowMs, now);
  }

  state(): LimiterState {
    return "memory";
  }

  stats(): LimiterStats {
    return { state: "memory", fallbacks: 0, errors: 0, timeouts: 0, memoryKeys: this.memory.size, reserved: 0 };
  }

  close(): Promise<void> {
    return this.memory.close();
  }
}

/**
 * Builds the rate-limit counter store from config: memory only without a Redis URL, otherwise Redis
 * with an in-memory fallback. Never fails because Redis is down: if it does not answer within
 * `timeoutMs` at start, the store starts degraded and switches to Redis once it answers.
 * Call `close()` on shutdown to end the Redis connection and the background probe.
 */
export async function createCounterStore(options: CounterStoreOptions = {}): Promise<LimiterStore> {
  const memory = new MemoryStore({ maxKeys: options.maxKeys ?? DEFAULT_MAX_KEYS });
  if (!options.redisUrl) return new MemoryOnlyStore(memory);

  const timeoutMs = options.timeoutMs ?? 50;
  const log = options.log ?? (() => {});
  // Loaded only when configured: evaluating the redis client costs ~10 ms of the binary's start-up.
  const { RedisStore } = await import("./redis-store.ts");
  const redis = new RedisStore({ url: options.redisUrl, keyPrefix: options.keyPrefix });
  const connected = await Promise.race([
    redis.connect().then(() => redis.ready),
    new Promise<false>((resolve) => setTimeout(resolve, Math.max(timeoutMs, 1_000), false).unref?.()),
  ]);
  return new FallbackStore(redis, memory, { timeoutMs, log, startDegraded: !connected, reservePercent: options.reservePercent });
}
