import type { CounterStore, HitResult } from "../core/ports.ts";
import type { MemoryStore } from "./memory-store.ts";

/** Which store answers rate-limit checks right now. */
export type LimiterState = "redis" | "memory";

/** Counters for metrics. */
export interface LimiterStats {
  state: LimiterState;
  /** Hits answered from memory because Redis failed, timed out or was known to be down. */
  fallbacks: number;
  /** Redis calls (hits and probes) that failed with an error. */
  errors: number;
  /** Redis calls (hits and probes) that took longer than the timeout. */
  timeouts: number;
  /** Keys held by the in-memory store. */
  memoryKeys: number;
}

/** A CounterStore that can say which backend answers and how it has been going. */
export interface LimiterStore extends CounterStore {
  state(): LimiterState;
  stats(): LimiterStats;
}

/** The part of RedisStore the fallback needs (so tests and future backends can stand in). */
export interface RemoteCounterStore extends CounterStore {
  ping(): Promise<void>;
}

export interface FallbackStoreOptions {
  /** Longest wait for Redis on any call (config redis.timeout_ms). */
  timeoutMs: number;
  /** Told once per transition between Redis and memory. */
  log: (message: string) => void;
  /** Pause between probes while degraded. */
  probeIntervalMs?: number;
  /** Begin degraded (Redis not reachable at start) and probe until it answers. */
  startDegraded?: boolean;
}

const TIMED_OUT = Symbol("timed out");

/**
 * Redis when it answers in time, memory otherwise. A hit never waits longer than `timeoutMs` for
 * Redis, never rejects and never throws: on an error or a timeout it is answered from the memory
 * store and the wrapper turns "degraded" — every hit goes to memory without touching Redis while a
 * background probe (PING every `probeIntervalMs`, unref'd timer) waits for Redis to come back, then
 * checks return to Redis. Counts made in memory during an outage are not copied to Redis: clients get
 * at most one extra allowance per outage, never a refusal caused by the outage itself.
 */
export class FallbackStore implements LimiterStore {
  private mode: LimiterState;
  private probeTimer: ReturnType<typeof setInterval> | null = null;
  private probing = false;
  private closed = false;
  private fallbacks = 0;
  private errors = 0;
  private timeouts = 0;
  private readonly timeoutMs: number;
  private readonly probeIntervalMs: number;
  private readonly log: (message: string) => void;

  constructor(
    private readonly redis: RemoteCounterStore,
    private readonly memory: MemoryStore,
    options: FallbackStoreOptions,
  ) {
    this.timeoutMs = options.timeoutMs;
    this.probeIntervalMs = options.probeIntervalMs ?? 1_000;
    this.log = options.log;
    this.mode = "redis";
    if (options.startDegraded) this.degrade("Redis not reachable at start");
  }

  state(): LimiterState {
    return this.mode;
  }

  stats(): LimiterStats {
    return {
      state: this.mode,
      fallbacks: this.fallbacks,
      errors: this.errors,
      timeouts: this.timeouts,
      memoryKeys: this.memory.size,
    };
  }

  hit(key: string, limit: number, windowMs: number, now: number): Promise<HitResult> {
    if (this.mode === "memory") {
      this.fallbacks++;
      return this.memory.hit(key, limit, windowMs, now);
    }
    return new Promise<HitResult>((resolve) => {
      let settled = false;
      const answerFromMemory = (reason: string): void => {
        settled = true;
        this.fallbacks++;
        this.degrade(reason);
        resolve(this.memory.hitSync(key, limit, windowMs, now));
      };
      const timer = setTimeout(() => {
        if (settled) return;
        this.timeouts++;
        answerFromMemory(`Redis did not answer within ${this.timeoutMs}ms`);
      }, this.timeoutMs);
      let call: Promise<HitResult>;
      try {
        call = this.redis.hit(key, limit, windowMs, now);
      } catch (error) {
        call = Promise.reject(error);
      }
      call.then(
        (result) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(result);
        },
        (error: unknown) => {
          if (settled) return;
          clearTimeout(timer);
          this.errors++;
          answerFromMemory(`Redis error: ${describe(error)}`);
        },
      );
    });
  }

  /** Stops probing and closes both stores. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopProbing();
    await Promise.allSettled([this.redis.close(), this.memory.close()]);
  }

  private degrade(reason: string): void {
    if (this.mode === "memory" && this.probeTimer) return;
    this.mode = "memory";
    this.report(`rate limit: ${reason}; counting in memory until Redis answers again`);
    if (this.closed) return;
    this.probeTimer = setInterval(() => void this.probe(), this.probeIntervalMs);
    this.probeTimer.unref?.();
  }

  private async probe(): Promise<void> {
    if (this.probing || this.closed) return;
    this.probing = true;
    try {
      const answer = await this.withTimeout(this.redis.ping());
      if (answer === TIMED_OUT) {
        this.timeouts++;
        return;
      }
      if (this.closed || this.mode === "redis") return;
      this.stopProbing();
      this.mode = "redis";
      this.report("rate limit: Redis answers again; counting in Redis");
    } catch {
      this.errors++;
    } finally {
      this.probing = false;
    }
  }

  /** Logs without letting a failing logger break a hit (which must always resolve). */
  private report(message: string): void {
    try {
      this.log(message);
    } catch {
      // Nothing sensible to do: the state change itself is visible through state() and stats().
    }
  }

  private withTimeout<T>(call: Promise<T>): Promise<T | typeof TIMED_OUT> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(resolve, this.timeoutMs, TIMED_OUT);
    });
    return Promise.race([call, deadline]).finally(() => clearTimeout(timer));
  }

  private stopProbing(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = null;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}
