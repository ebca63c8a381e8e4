/**
 * Keys, each with the time (ms) until which it holds, at most `capacity` of them: the automatic
 * blocks the responder remembers, the sign-in keys admin-auth has locked. When an insert finds the
 * map full, the keys whose time has passed go, and then, while more than nine tenths of the capacity
 * is left, the oldest inserted keys. A full map so costs one sweep per tenth of its capacity in
 * inserts rather than one per insert (a sweep of 10,000 keys on every new key, before).
 */
export class Deadlines {
  private readonly until = new Map<string, number>();
  private readonly keepAfterSweep: number;

  constructor(private readonly capacity: number) {
    this.keepAfterSweep = Math.max(0, Math.floor(capacity * 0.9));
  }

  /** The time `key` holds until, or undefined when it is not (or no longer) remembered. */
  get(key: string): number | undefined {
    return this.until.get(key);
  }

  set(key: string, until: number, now: number): void {
    if (this.until.size >= this.capacity && !this.until.has(key)) this.makeRoom(now);
    this.until.set(key, until);
  }

  delete(key: string): void {
    this.until.delete(key);
  }

  get size(): number {
    return this.until.size;
  }

  private makeRoom(now: number): void {
    for (const [key, end] of this.until) if (end <= now) this.until.delete(key);
    for (const key of this.until.keys()) {
      if (this.until.size <= this.keepAfterSweep) break;
      this.until.delete(key);
    }
  }
}
