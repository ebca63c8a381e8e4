interface Bucket {
  /** Hits currently in the bucket (fractional while leaking). */
  level: number;
  /** Hits poured since the bucket was last empty. */
  hits: number;
  last: number;
}

/**
 * Leaky buckets keyed by address, bounded to `maxKeys` (the least recently poured are forgotten
 * first). Each bucket leaks one hit per `windowMs` and overflows when its level exceeds
 * `threshold - 1`: so `threshold` hits within `windowMs` always overflow, and so does a sustained
 * rate above one hit per `windowMs`. Overflowing empties the bucket.
 */
export class LeakyBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly threshold: number,
    readonly windowMs: number,
    readonly maxKeys: number,
  ) {}

  /** Pours one hit for `key` at `now`: the hits since the bucket was last empty when it overflows, else 0. */
  pour(key: string, now: number): number {
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key);
      const level = bucket.level - Math.max(0, now - bucket.last) / this.windowMs;
      if (level <= 0) bucket.hits = 0;
      bucket.level = Math.max(0, level) + 1;
      bucket.hits++;
      bucket.last = Math.max(bucket.last, now);
    } else {
      bucket = { level: 1, hits: 1, last: now };
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    }
    if (bucket.level > this.threshold - 1) return bucket.hits;
    this.buckets.set(key, bucket);
    return 0;
  }

  /** Addresses currently tracked. */
  get size(): number {
    return this.buckets.size;
  }
}
