import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { MemoryStore } from "../../src/limiter/memory-store.ts";
import { RedisStore } from "../../src/limiter/redis-store.ts";
import { emptyCounter, hitWindow, type WindowCounter } from "../../src/limiter/sliding-window.ts";

let redis: RedisStore;
beforeAll(async () => {
  redis = new RedisStore({ url: "redis://127.0.0.1:6379", keyPrefix: `ipward-test:${randomUUID()}:` });
  await redis.connect();
});
afterAll(async () => {
  await redis.close();
});

/** A run of hits on a few keys with a clock that moves forward (and now and then a little back). */
const scenario = fc.record({
  limit: fc.integer({ min: 1, max: 12 }),
  windowMs: fc.constantFrom(1_000, 7_000, 60_000, 3_600_000),
  steps: fc.array(fc.record({ key: fc.integer({ min: 0, max: 2 }), advance: fc.integer({ min: -500, max: 40_000 }) }), {
    minLength: 1,
    maxLength: 40,
  }),
});

test("memory and Redis give identical results for the same sequence of hits", async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(scenario, async ({ limit, windowMs, steps }) => {
      run++;
      const memory = new MemoryStore();
      let now = 1_767_225_600_000;
      for (const step of steps) {
        now += step.advance;
        const key = `run${run}:k${step.key}`;
        const fromMemory = await memory.hit(key, limit, windowMs, now);
        const fromRedis = await redis.hit(key, limit, windowMs, now);
        expect(fromRedis).toEqual(fromMemory);
      }
    }),
    { numRuns: 150 },
  );
});

test("a batch checked in one script call answers exactly as the same hits one by one", async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(scenario, fc.integer({ min: 1, max: 40 }), async ({ limit, windowMs, steps }, batchSize) => {
      run++;
      const memory = new MemoryStore();
      let now = 1_767_225_600_000;
      // Runs of one key, keys interleaved, and refusals inside a run all occur with three keys.
      const hits = steps.map((step) => ({ key: `batch${run}:k${step.key}`, limit, windowMs, now: (now += step.advance) }));
      for (let at = 0; at < hits.length; at += batchSize) {
        const batch = hits.slice(at, at + batchSize);
        const fromMemory = batch.map((hit) => memory.hitNow(hit.key, hit.limit, hit.windowMs, hit.now));
        expect(await redis.hitMany(batch)).toEqual(fromMemory);
      }
    }),
    { numRuns: 150 },
  );
});

test("reserving several requests at once: the script grants, counts and answers as hitWindow does", async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(scenario, fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 40, maxLength: 40 }), async ({ limit, windowMs, steps }, wants) => {
      run++;
      const counters = new Map<string, WindowCounter>();
      let now = 1_767_225_600_000;
      const hits = steps.map((step, i) => ({ key: `reserve${run}:k${step.key}`, limit: limit * 10, windowMs, now: (now += step.advance), want: wants[i] }));
      const expected = hits.map((hit) => {
        if (!counters.has(hit.key)) counters.set(hit.key, emptyCounter());
        return hitWindow(counters.get(hit.key)!, hit.limit, hit.windowMs, hit.now, hit.want);
      });
      // A refusal inside a run of one key, and partial grants near the limit, both occur.
      expect(await redis.hitMany(hits)).toEqual(expected);
    }),
    { numRuns: 150 },
  );
});

test("a reservation is granted whole, in part near the limit, or not at all", () => {
  const counter = emptyCounter();
  expect(hitWindow(counter, 10, 60_000, 0, 4)).toEqual({ allowed: true, remaining: 6, retryAfterMs: 0, resetMs: 120_000, granted: 4 });
  expect(hitWindow(counter, 10, 60_000, 0, 8)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 120_000, granted: 6 });
  expect(hitWindow(counter, 10, 60_000, 0, 8)).toMatchObject({ allowed: false, granted: 0 });
  expect(counter.curr).toBe(10);
});

test("retryAfter is exact: refused one millisecond before it, allowed at it", async () => {
  await fc.assert(
    fc.property(scenario, ({ limit, windowMs, steps }) => {
      const store = new MemoryStore();
      let now = 1_767_225_600_000;
      for (const step of steps) {
        now += Math.max(0, step.advance);
        const result = store.hitNow(`k${step.key}`, limit, windowMs, now);
        if (result.allowed) continue;
        // Refused hits are not counted, so probing just before retryAfter leaves the state as it was.
        expect(store.hitNow(`k${step.key}`, limit, windowMs, now + result.retryAfterMs - 1).allowed).toBe(false);
        expect(store.hitNow(`k${step.key}`, limit, windowMs, now + result.retryAfterMs).allowed).toBe(true);
        return;
      }
    }),
    { numRuns: 500 },
  );
});
