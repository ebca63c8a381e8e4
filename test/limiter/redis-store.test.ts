import { afterAll, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { createClient } from "redis";
import { isIpwardError } from "../../src/core/errors.ts";
import { RedisStore } from "../../src/limiter/redis-store.ts";
import { counterStoreContract } from "./counter-store.contract.ts";

const REDIS_URL = "redis://127.0.0.1:6379";

/** A connected store under a key prefix no other test uses. */
export async function openRedisStore(keyPrefix = `ipward-test:${randomUUID()}:`): Promise<RedisStore> {
  const store = new RedisStore({ url: REDIS_URL, keyPrefix });
  await store.connect();
  return store;
}

counterStoreContract("redis", () => openRedisStore());

describe("RedisStore", () => {
  const opened: RedisStore[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((store) => store.close()));
  });

  test("two instances on one Redis share one limit", async () => {
    const prefix = `ipward-test:${randomUUID()}:`;
    const first = await openRedisStore(prefix);
    const second = await openRedisStore(prefix);
    opened.push(first, second);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await (i % 2 ? second : first).hit("login:ip:192.0.2.1", 5, 60_000, 1_000));
    expect(answers.map((a) => a.allowed)).toEqual([true, true, true, true, true, false]);
    expect(answers.map((a) => a.remaining)).toEqual([4, 3, 2, 1, 0, 0]);
  });

  test("keys live under the prefix and expire when they would weigh nothing", async () => {
    const prefix = `ipward-test:${randomUUID()}:`;
    const store = await openRedisStore(prefix);
    opened.push(store);
    await store.hit("login:ip:192.0.2.2", 5, 60_000, 59_000);
    const inspector = createClient({ url: REDIS_URL });
    await inspector.connect();
    try {
      const key = `${prefix}rl:login:ip:192.0.2.2`;
      expect(await inspector.hGetAll(key)).toEqual({ s: "0", p: "0", c: "1" });
      // The window [0, 60s) stops counting at 120s: 61s after the hit at 59s.
      expect(await inspector.pTTL(key)).toBeGreaterThan(60_000);
      expect(await inspector.pTTL(key)).toBeLessThanOrEqual(61_000);
    } finally {
      inspector.destroy();
    }
  });

  test("a bad URL is a config error that does not echo the URL", () => {
    let thrown: unknown;
    try {
      new RedisStore({ url: "http://user:hunter2@example.com" });
    } catch (error) {
      thrown = error;
    }
    expect(isIpwardError(thrown, "invalid_config")).toBe(true);
    expect(String((thrown as Error).message)).not.toContain("hunter2");
  });

  test("close is idempotent", async () => {
    const store = await openRedisStore();
    await store.close();
    await store.close();
    expect(store.ready).toBe(false);
  });
});
