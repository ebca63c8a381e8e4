import { describe, expect, test } from "bun:test";
import { MemoryStore } from "../../src/limiter/memory-store.ts";
import { counterStoreContract } from "./counter-store.contract.ts";

counterStoreContract("memory", async () => new MemoryStore({ maxKeys: 1_000 }));

describe("MemoryStore bounds", () => {
  test("a million distinct clients never hold more than maxKeys", () => {
    const store = new MemoryStore({ maxKeys: 10_000 });
    let largest = 0;
    for (let i = 0; i < 1_000_000; i++) {
      store.hitNow(`login:ip:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:${i}`, 5, 60_000, 1_000);
      if ((i & 1023) === 0) largest = Math.max(largest, store.size);
    }
    expect(largest).toBeLessThanOrEqual(10_000);
    expect(store.size).toBe(10_000);
  });

  test("evicts the least recently used key, not the busiest one", () => {
    const store = new MemoryStore({ maxKeys: 3 });
    store.hitNow("busy", 2, 60_000, 0);
    store.hitNow("b", 2, 60_000, 0);
    store.hitNow("c", 2, 60_000, 0);
    store.hitNow("busy", 2, 60_000, 0);
    store.hitNow("d", 2, 60_000, 0);
    // "b" was the least recently used and is gone; "busy" kept its count of 2.
    expect(store.hitNow("busy", 2, 60_000, 0).allowed).toBe(false);
    expect(store.size).toBe(3);
  });

  test("close empties the store", async () => {
    const store = new MemoryStore();
    await store.hit("x", 1, 1_000, 0);
    await store.close();
    expect(store.size).toBe(0);
  });
});
