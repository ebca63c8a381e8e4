/**
 * A size-bounded cache in two generations: new entries go into `young`; when it holds half the
 * capacity, it becomes `old` and the previous old generation is dropped whole. A hit in `old` is
 * copied into `young`, so hot keys survive. Every operation is O(1) with no per-entry deletes —
 * deleting the oldest key of a Map one by one made each eviction walk the Map's tombstones
 * (16 µs per lookup with 131k distinct clients). Capacity 0 disables caching.
 */
export class BoundedCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly generationSize: number;

  constructor(readonly capacity: number) {
    this.generationSize = Math.max(1, Math.floor(capacity / 2));
  }

  /** The cached value, or undefined when absent. */
  get(key: K): V | undefined {
    const value = this.young.get(key);
    if (value !== undefined || this.old.size === 0) return value;
    const promoted = this.old.get(key);
    if (promoted !== undefined) this.set(key, promoted);
    return promoted;
  }

  /** Stores a value; the oldest generation is dropped when the young one is full. */
  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    if (this.young.size >= this.generationSize && !this.young.has(key)) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  /** Forgets every entry. */
  clear(): void {
    this.young = new Map();
    this.old = new Map();
  }

  /** Entries held (a key present in both generations counts once per generation). */
  get size(): number {
    return this.young.size + this.old.size;
  }
}
