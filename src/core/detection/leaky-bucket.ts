interface Bucket {
  key: string;
  /** Hits currently in the bucket (fractional while leaking). */
  level: number;
  /** Hits poured since the bucket was last empty. */
  hits: number;
  last: number;
  /** Neighbours in pouring order, for forgetting the least recently poured first; null at the ends. */
  older: Bucket | null;
  newer: Bucket | null;
}

/**
 * Leaky buckets keyed by address, bounded to `maxKeys` (the least recently poured are forgotten
 * first). Each bucket leaks one hit per `windowMs` and overflows when its level exceeds
 * `threshold - 1`: so `threshold` hits within `windowMs` always overflow, and so does a sustained
 * rate above one hit per `windowMs`. Overflowing empties the bucket.
 *
 * Pouring order is a linked list through the buckets, so a pour is O(1) at any size. Finding the
 * oldest entry as the Map's first key instead (`keys().next()`) made JavaScriptCore skip every
 * deleted entry at the Map's head: 60–120 µs per pour once 100 000 addresses were tracked.
 */
export class LeakyBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private oldest: Bucket | null = null;
  private newest: Bucket | null = null;

  constructor(
    readonly threshold: number,
    readonly windowMs: number,
    readonly maxKeys: number,
  ) {}

  /** Pours one hit for `key` at `now`: the hits since the bucket was last empty when it overflows, else 0. */
  pour(key: string, now: number): number {
    let bucket = this.buckets.get(key);
    const tracked = bucket !== undefined;
    if (bucket) {
      this.unlink(bucket);
      const level = bucket.level - Math.max(0, now - bucket.last) / this.windowMs;
      if (level <= 0) bucket.hits = 0;
      bucket.level = Math.max(0, level) + 1;
      bucket.hits++;
      bucket.last = Math.max(bucket.last, now);
    } else {
      bucket = { key, level: 1, hits: 1, last: now, older: null, newer: null };
    }
    if (bucket.level > this.threshold - 1) {
      this.buckets.delete(key);
      return bucket.hits;
    }
    if (!tracked) {
      if (this.buckets.size >= this.maxKeys && this.oldest !== null) this.forget(this.oldest);
      this.buckets.set(key, bucket);
    }
    this.append(bucket);
    return 0;
  }

  /** Addresses currently tracked. */
  get size(): number {
    return this.buckets.size;
  }

  private forget(bucket: Bucket): void {
    this.unlink(bucket);
    this.buckets.delete(bucket.key);
  }

  private append(bucket: Bucket): void {
    bucket.older = this.newest;
    bucket.newer = null;
    if (this.newest !== null) this.newest.newer = bucket;
    else this.oldest = bucket;
    this.newest = bucket;
  }

  private unlink(bucket: Bucket): void {
    if (bucket.older !== null) bucket.older.newer = bucket.newer;
    else if (this.oldest === bucket) this.oldest = bucket.newer;
    if (bucket.newer !== null) bucket.newer.older = bucket.older;
    else if (this.newest === bucket) this.newest = bucket.older;
    bucket.older = null;
    bucket.newer = null;
  }
}
