/**
 * A Map with a size bound that evicts the oldest insertion first. A hit does not reorder entries,
 * so a hit costs exactly one Map.get; a hot key that gets evicted is simply looked up again.
 * Capacity 0 disables caching.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly capacity: number) {}

  /** The cached value, or undefined when absent. */
  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  /** Stores a value, evicting the oldest entry when full. */
  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    if (this.entries.size >= this.capacity && !this.entries.has(key)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
  }

  /** Forgets every entry. */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
