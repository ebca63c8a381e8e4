import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CounterStore } from "../../src/core/ports.ts";

/** Opens a store whose keys cannot collide with any other test's. */
export type StoreFactory = () => Promise<CounterStore>;

const MINUTE = 60_000;

/** The behaviour every CounterStore adapter must show (ports.ts), run against each adapter. */
export function counterStoreContract(name: string, openStore: StoreFactory): void {
  describe(`CounterStore contract: ${name}`, () => {
    let store: CounterStore;
    beforeAll(async () => {
      store = await openStore();
    });
    afterAll(async () => {
      await store.close();
    });

    test("allows the first `limit` hits, counting down, then refuses", async () => {
      const results = [];
      for (let i = 0; i < 6; i++) results.push(await store.hit("countdown", 5, MINUTE, 1_000));
      expect(results.map((r) => r.allowed)).toEqual([true, true, true, true, true, false]);
      expect(results.map((r) => r.remaining)).toEqual([4, 3, 2, 1, 0, 0]);
      expect(results.slice(0, 5).every((r) => r.retryAfterMs === 0)).toBe(true);
      expect(results[5].retryAfterMs).toBeGreaterThan(0);
      expect(results[5].resetMs).toBeGreaterThan(0);
    });

    test("refused hits are not counted: the refusal lifts at retryAfter however many were refused", async () => {
      for (let i = 0; i < 3; i++) await store.hit("hammer", 3, MINUTE, 10_000);
      let refused = await store.hit("hammer", 3, MINUTE, 10_000);
      for (let i = 0; i < 50; i++) refused = await store.hit("hammer", 3, MINUTE, 10_000);
      expect(refused.allowed).toBe(false);
      // Counted 3 at t=10s: in the next window they weigh 3*(60-e)/60; one more fits once that is <= 2,
      // i.e. at e = 20s: t = 80s, so retryAfter = 70s.
      expect(refused.retryAfterMs).toBe(70_000);
      expect((await store.hit("hammer", 3, MINUTE, 79_999)).allowed).toBe(false);
      expect((await store.hit("hammer", 3, MINUTE, 80_000)).allowed).toBe(true);
    });

    test("slides: a full previous window still weighs at the start of the next (no double burst)", async () => {
      for (let i = 0; i < 5; i++) expect((await store.hit("edge", 5, MINUTE, 59_000)).allowed).toBe(true);
      // A fixed window would reset at 60s; here the previous window still weighs 59/60.
      const atEdge = await store.hit("edge", 5, MINUTE, 61_000);
      expect(atEdge.allowed).toBe(false);
      // 5*(60-e)/60 + 1 <= 5 once e >= 12s, i.e. at t = 72s.
      expect(atEdge.retryAfterMs).toBe(11_000);
      expect((await store.hit("edge", 5, MINUTE, 71_999)).allowed).toBe(false);
      const later = await store.hit("edge", 5, MINUTE, 72_000);
      expect(later).toMatchObject({ allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 108_000 });
    });

    test("forgets everything two windows later", async () => {
      for (let i = 0; i < 5; i++) await store.hit("forget", 5, MINUTE, 59_000);
      expect((await store.hit("forget", 5, MINUTE, 121_000)).remaining).toBe(4);
    });

    test("keys are independent", async () => {
      expect((await store.hit("solo-a", 1, MINUTE, 5_000)).allowed).toBe(true);
      expect((await store.hit("solo-a", 1, MINUTE, 5_000)).allowed).toBe(false);
      expect((await store.hit("solo-b", 1, MINUTE, 5_000)).allowed).toBe(true);
    });

    test("limit 1 refused until the previous window has fully passed", async () => {
      await store.hit("single", 1, MINUTE, 30_000);
      const refused = await store.hit("single", 1, MINUTE, 30_000);
      // Counted in [0, 60s): any weight of it blocks a limit of 1 until 120s.
      expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 90_000, resetMs: 90_000 });
      expect((await store.hit("single", 1, MINUTE, 119_999)).allowed).toBe(false);
      expect((await store.hit("single", 1, MINUTE, 120_000)).allowed).toBe(true);
    });

    test("a clock behind the stored window counts as the window's start", async () => {
      await store.hit("skew", 2, MINUTE, 125_000);
      const behind = await store.hit("skew", 2, MINUTE, 119_000);
      expect(behind.allowed).toBe(true);
      expect(behind.resetMs).toBe(120_000);
      expect((await store.hit("skew", 2, MINUTE, 125_000)).allowed).toBe(false);
    });

    test("real epoch times and long windows", async () => {
      const now = Date.UTC(2026, 0, 1, 12, 0, 30);
      const day = 86_400_000;
      const first = await store.hit("epoch", 1_000, day, now);
      expect(first).toMatchObject({ allowed: true, remaining: 999, retryAfterMs: 0, resetMs: 2 * day - (12 * 3_600_000 + 30_000) });
    });
  });
}
