import type { CounterStore } from "../core/ports.ts";
import { hitWindow, type ReservingHitResult, type WindowCounter } from "./sliding-window.ts";

export interface MemoryStoreOptions {
  /** Most keys kept; the least recently used key is evicted beyond it (config rate_limit.memory_max_keys). */
  maxKeys?: number;
}

export const DEFAULT_MAX_KEYS = 100_000;

const NONE = -1;
const INITIAL_SLOTS = 1_024;

/**
 * In-process sliding-window counters, bounded by `maxKeys` with least-recently-used eviction so
 * memory stays flat however many distinct clients appear. True LRU (rather than oldest-first)
 * means a client hammering a route is the last to be forgotten, so a flood of fresh keys cannot
 * cheaply reset one's own counter.
 *
 * Layout: a Map from key to slot number, and per-slot counters and LRU links in typed arrays
 * (grown by doubling up to `maxKeys`). A hit on a known key allocates nothing but its result; an
 * eviction is O(1). (Evicting the first entry of an insertion-ordered Map instead is O(n) in
 * JavaScriptCore once deletions pile up — a million distinct keys took seconds.)
 */
export class MemoryStore implements CounterStore {
  private readonly maxKeys: number;
  private readonly slotOf = new Map<string, number>();
  private keys: string[] = [];
  private starts = new Float64Array(0);
  private prevs = new Float64Array(0);
  private currs = new Float64Array(0);
  /** LRU links: `older[s]` is the slot used just before `s`, `newer[s]` the one just after. */
  private older = new Int32Array(0);
  private newer = new Int32Array(0);
  private used = 0;
  private oldest = NONE;
  private newest = NONE;
  /** Scratch counter handed to hitWindow so a hit allocates no counter object. */
  private readonly scratch: WindowCounter = { start: 0, prev: 0, curr: 0 };

  constructor(options: MemoryStoreOptions = {}) {
    this.maxKeys = Math.max(1, Math.floor(options.maxKeys ?? DEFAULT_MAX_KEYS));
  }

  hit(key: string, limit: number, windowMs: number, now: number): Promise<ReservingHitResult> {
    return Promise.resolve(this.hitNow(key, limit, windowMs, now));
  }

  /** CounterStore.hitNow: the same as `hit` without the promise; a memory store always answers at once. */
  hitNow(key: string, limit: number, windowMs: number, now: number): ReservingHitResult {
    let slot = this.slotOf.get(key);
    if (slot === undefined) {
      slot = this.claimSlot();
      this.keys[slot] = key;
      this.slotOf.set(key, slot);
      this.starts[slot] = 0;
      this.prevs[slot] = 0;
      this.currs[slot] = 0;
      this.append(slot);
    } else if (slot !== this.newest) {
      this.unlink(slot);
      this.append(slot);
    }
    const counter = this.scratch;
    counter.start = this.starts[slot];
    counter.prev = this.prevs[slot];
    counter.curr = this.currs[slot];
    const result = hitWindow(counter, limit, windowMs, Math.floor(now));
    this.starts[slot] = counter.start;
    this.prevs[slot] = counter.prev;
    this.currs[slot] = counter.curr;
    return result;
  }

  /** Number of keys currently held. */
  get size(): number {
    return this.slotOf.size;
  }

  close(): Promise<void> {
    this.slotOf.clear();
    this.keys = [];
    this.used = 0;
    this.oldest = NONE;
    this.newest = NONE;
    return Promise.resolve();
  }

  /** A free slot: a never-used one while below maxKeys, else the least recently used one. */
  private claimSlot(): number {
    if (this.used < this.maxKeys) {
      if (this.used === this.starts.length) this.grow();
      return this.used++;
    }
    const slot = this.oldest;
    this.slotOf.delete(this.keys[slot]);
    this.unlink(slot);
    return slot;
  }

  private grow(): void {
    const size = Math.min(this.maxKeys, Math.max(INITIAL_SLOTS, this.starts.length * 2));
    const widen = <T extends Float64Array | Int32Array>(old: T, fresh: T): T => {
      fresh.set(old);
      return fresh;
    };
    this.starts = widen(this.starts, new Float64Array(size));
    this.prevs = widen(this.prevs, new Float64Array(size));
    this.currs = widen(this.currs, new Float64Array(size));
    this.older = widen(this.older, new Int32Array(size));
    this.newer = widen(this.newer, new Int32Array(size));
  }

  private unlink(slot: number): void {
    const before = this.older[slot];
    const after = this.newer[slot];
    if (before === NONE) this.oldest = after;
    else this.newer[before] = after;
    if (after === NONE) this.newest = before;
    else this.older[after] = before;
  }

  private append(slot: number): void {
    this.older[slot] = this.newest;
    this.newer[slot] = NONE;
    if (this.newest === NONE) this.oldest = slot;
    else this.newer[this.newest] = slot;
    this.newest = slot;
  }
}
