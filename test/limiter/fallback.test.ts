import { afterAll, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import type { HitResult } from "../../src/core/ports.ts";
import { createCounterStore, FallbackStore, type LimiterStore, MemoryStore } from "../../src/limiter/index.ts";
import { RedisStore } from "../../src/limiter/redis-store.ts";

const TIMEOUT_MS = 50;
/** Timer and scheduling slack on a busy test machine. */
const SLACK_MS = 100;

function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

/** A throw-away redis-server on `port`: no persistence, killed by the test. */
class RedisProcess {
  private process: ReturnType<typeof Bun.spawn> | null = null;

  constructor(readonly port: number) {}

  async start(): Promise<void> {
    this.process = Bun.spawn(
      ["redis-server", "--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdout: "ignore", stderr: "ignore" },
    );
    await waitUntil(() => this.answers(), 5_000, `redis-server on port ${this.port} to start`);
  }

  async kill(): Promise<void> {
    this.process?.kill("SIGKILL");
    await this.process?.exited;
    this.process = null;
  }

  pause(): void {
    this.process?.kill("SIGSTOP");
  }

  resume(): void {
    this.process?.kill("SIGCONT");
  }

  private answers(): boolean {
    const ping = Bun.spawnSync(["redis-cli", "-p", String(this.port), "ping"], { stdout: "pipe", stderr: "ignore" });
    return ping.stdout.toString().trim() === "PONG";
  }
}

/** Polls `condition` until true or `limitMs` passed (waiting for a process or a probe, not for a rate-limit window). */
async function waitUntil(condition: () => boolean, limitMs: number, what: string): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

interface TimedHit {
  result: HitResult;
  ms: number;
}

/** Fires `count` hits at once; every one must resolve (a rejection fails the test). */
async function burst(store: LimiterStore, key: string, count: number, now: number): Promise<TimedHit[]> {
  const settled = await Promise.allSettled(
    Array.from({ length: count }, async () => {
      const started = performance.now();
      const result = await store.hit(key, 3, 60_000, now);
      return { result, ms: performance.now() - started };
    }),
  );
  expect(settled.filter((outcome) => outcome.status === "rejected")).toEqual([]);
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<TimedHit>).value);
}

describe("FallbackStore against a Redis that dies, stalls and comes back", () => {
  const redis = new RedisProcess(freePort());
  const logs: string[] = [];
  let store: LimiterStore;

  afterAll(async () => {
    redis.resume();
    await store?.close();
    await redis.kill();
  });

  test("starts degraded when Redis is unreachable, then switches to Redis when it appears", async () => {
    store = await createCounterStore({
      redisUrl: `redis://127.0.0.1:${redis.port}`,
      keyPrefix: `ipward-test:${randomUUID()}:`,
      timeoutMs: TIMEOUT_MS,
      maxKeys: 1_000,
      log: (message) => logs.push(message),
    });
    expect(store.state()).toBe("memory");
    expect(logs).toHaveLength(1);
    expect((await store.hit("boot", 1, 60_000, 1_000)).allowed).toBe(true);
    expect((await store.hit("boot", 1, 60_000, 1_000)).allowed).toBe(false);

    await redis.start();
    await waitUntil(() => store.state() === "redis", 5_000, "state redis");
    expect(logs).toHaveLength(2);
    expect(logs[1]).toContain("Redis answers again");
    const before = store.stats().fallbacks;
    expect((await store.hit("shared", 3, 60_000, 1_000)).remaining).toBe(2);
    expect(store.stats().fallbacks).toBe(before);
  });

  test("Redis killed: every hit resolves within the timeout, limits hold from memory, one log line", async () => {
    await redis.kill();
    const hits = await burst(store, "after-kill", 20, 2_000);
    expect(hits.filter((hit) => hit.result.allowed)).toHaveLength(3);
    expect(Math.max(...hits.map((hit) => hit.ms))).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    expect(store.state()).toBe("memory");
    for (let i = 0; i < 10; i++) expect((await store.hit("after-kill", 3, 60_000, 2_000)).allowed).toBe(false);
    expect(logs).toHaveLength(3);
    expect(store.stats().fallbacks).toBeGreaterThanOrEqual(30);
  });

  test("Redis restarted on the same port: back to Redis by itself", async () => {
    await redis.start();
    await waitUntil(() => store.state() === "redis", 5_000, "state redis");
    expect(logs).toHaveLength(4);
    expect((await store.hit("restarted", 3, 60_000, 3_000)).remaining).toBe(2);
    expect(store.state()).toBe("redis");
  });

  test("Redis stalled (SIGSTOP): hits time out into memory after timeout_ms, recover on SIGCONT", async () => {
    redis.pause();
    const timeoutsBefore = store.stats().timeouts;
    const hits = await burst(store, "stalled", 5, 4_000);
    expect(hits.map((hit) => hit.result.allowed)).toEqual([true, true, true, false, false]);
    for (const hit of hits) {
      expect(hit.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
      expect(hit.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    }
    expect(store.state()).toBe("memory");
    expect(store.stats().timeouts).toBeGreaterThan(timeoutsBefore);

    redis.resume();
    await waitUntil(() => store.state() === "redis", 5_000, "state redis");
    expect(logs).toHaveLength(6);
  });
});

/** The real RedisStore, noting the size of every batch it is asked to check. */
class BatchRecordingRedisStore extends RedisStore {
  readonly batchSizes: number[] = [];

  override hitMany(hits: Parameters<RedisStore["hitMany"]>[0]): ReturnType<RedisStore["hitMany"]> {
    this.batchSizes.push(hits.length);
    return super.hitMany(hits);
  }
}

describe("FallbackStore coalescing on the shared Redis", () => {
  test("hits made in one turn go to Redis together, 1,000 per call, and answer as one-by-one hits would", async () => {
    const redis = new BatchRecordingRedisStore({ url: "redis://127.0.0.1:6379", keyPrefix: `ipward-test:${randomUUID()}:` });
    await redis.connect();
    // A generous timeout: this test is about batching, not about a slow machine falling back.
    const store = new FallbackStore(redis, new MemoryStore(), { timeoutMs: 2_000, log: () => {} });
    const reference = new MemoryStore();
    const hits = Array.from({ length: 2_500 }, (_, i) => ({ key: `k${i % 3}`, now: 1_000 + i * 40 }));
    const expected = hits.map((hit) => reference.hitNow(hit.key, 300, 60_000, hit.now));

    const answers = await Promise.all(hits.map((hit) => store.hit(hit.key, 300, 60_000, hit.now)));

    expect(answers).toEqual(expected);
    expect(answers.filter((answer) => !answer.allowed).length).toBeGreaterThan(0);
    expect(redis.batchSizes).toEqual([1_000, 1_000, 500]);
    expect(store.stats()).toMatchObject({ state: "redis", fallbacks: 0, errors: 0, timeouts: 0 });
    await store.close();
  });
});

describe("FallbackStore reservations on the shared Redis", () => {
  const MINUTE = 60_000;
  const opened: FallbackStore[] = [];
  const open = async (prefix: string, reservePercent: number) => {
    const redis = new BatchRecordingRedisStore({ url: "redis://127.0.0.1:6379", keyPrefix: prefix });
    await redis.connect();
    const store = new FallbackStore(redis, new MemoryStore(), { timeoutMs: 2_000, log: () => {}, reservePercent });
    opened.push(store);
    return { store, calls: () => redis.batchSizes.length };
  };
  afterAll(async () => {
    await Promise.all(opened.map((store) => store.close()));
  });

  test("one Redis call counts 1% of a large limit ahead: the next hits are answered at once, counting down", async () => {
    const { store, calls } = await open(`ipward-test:${randomUUID()}:`, 1);
    const answers: HitResult[] = [];
    for (let i = 0; i < 1_000; i++) answers.push(await store.hit("client", 1_000, MINUTE, 5_000));
    expect(answers.every((answer) => answer.allowed)).toBe(true);
    expect(answers.map((answer) => answer.remaining)).toEqual(Array.from({ length: 1_000 }, (_, i) => 999 - i));
    // Ten requests per call (1% of 1,000): a hundred calls instead of a thousand.
    expect(calls()).toBe(100);
    expect(store.hitNow("client", 1_000, MINUTE, 5_000)).toBeUndefined();
    expect(await store.hit("client", 1_000, MINUTE, 5_000)).toMatchObject({ allowed: false, remaining: 0 });
    expect(store.stats()).toMatchObject({ state: "redis", reserved: 900, fallbacks: 0 });
  });

  test("instances reserving on one key never allow more than the limit together, and waste at most their reservations", async () => {
    const prefix = `ipward-test:${randomUUID()}:`;
    const instances = await Promise.all([open(prefix, 1), open(prefix, 1), open(prefix, 1)]);
    let allowed = 0;
    for (let i = 0; i < 3_000; i++) {
      const { store } = instances[i % 3];
      if ((await store.hit("shared", 1_000, MINUTE, 7_000)).allowed) allowed++;
    }
    // Each instance may hold up to 9 reserved requests it never got to hand out.
    expect(allowed).toBeLessThanOrEqual(1_000);
    expect(allowed).toBeGreaterThanOrEqual(1_000 - 3 * 9);
  });

  test("a reservation is good for its window only, and for the rule it was made for", async () => {
    const { store, calls } = await open(`ipward-test:${randomUUID()}:`, 1);
    expect((await store.hit("edge", 1_000, MINUTE, 59_000)).remaining).toBe(999);
    expect(store.hitNow("edge", 1_000, MINUTE, 59_999)).toMatchObject({ allowed: true, remaining: 998, resetMs: 60_001 });
    // The next window asks Redis again (the unused reservations weigh in the previous window's count).
    expect(store.hitNow("edge", 1_000, MINUTE, 60_000)).toBeUndefined();
    const before = calls();
    expect((await store.hit("edge", 1_000, MINUTE, 60_000)).allowed).toBe(true);
    expect(calls()).toBe(before + 1);
    // The same key under another limit or window is another rule's count.
    expect(store.hitNow("edge", 2_000, MINUTE, 60_001)).toBeUndefined();
  });

  test("small limits, and reserve_percent 0, ask Redis on every hit", async () => {
    for (const [percent, limit] of [
      [1, 100],
      [0, 1_000],
    ]) {
      const { store, calls } = await open(`ipward-test:${randomUUID()}:`, percent);
      for (let i = 0; i < 20; i++) await store.hit("small", limit, MINUTE, 1_000);
      expect(calls()).toBe(20);
      expect(store.stats().reserved).toBe(0);
    }
  });
});

describe("createCounterStore", () => {
  test("without a Redis URL it is memory only", async () => {
    const store = await createCounterStore({ maxKeys: 100 });
    expect(store.state()).toBe("memory");
    expect((await store.hit("k", 1, 1_000, 0)).allowed).toBe(true);
    expect(store.stats()).toEqual({ state: "memory", fallbacks: 0, errors: 0, timeouts: 0, memoryKeys: 1, reserved: 0 });
    await store.close();
  });
});

describe("FallbackStore edge cases", () => {
  test("a logger that throws breaks neither the factory nor a hit", async () => {
    const throwingLog = () => {
      throw new Error("log sink down");
    };
    const atStart = await createCounterStore({ redisUrl: `redis://127.0.0.1:${freePort()}`, timeoutMs: TIMEOUT_MS, log: throwingLog });
    expect((await atStart.hit("k", 1, 60_000, 0)).allowed).toBe(true);
    await atStart.close();

    // A Redis client that was never connected fails every command at once: the first hit degrades.
    const unconnected = new RedisStore({ url: `redis://127.0.0.1:${freePort()}` });
    const store = new FallbackStore(unconnected, new MemoryStore(), { timeoutMs: TIMEOUT_MS, log: throwingLog });
    expect(store.state()).toBe("redis");
    expect((await store.hit("k", 1, 60_000, 0)).allowed).toBe(true);
    expect((await store.hit("k", 1, 60_000, 0)).allowed).toBe(false);
    expect(store.state()).toBe("memory");
    expect(store.stats()).toMatchObject({ state: "memory", errors: 1, fallbacks: 2 });
    await store.close();
  });
});
