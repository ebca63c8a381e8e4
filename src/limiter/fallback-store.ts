import type { CounterStore, HitResult } from "../core/ports.ts";
import type { MemoryStore } from "./memory-store.ts";
import type { HitRequest } from "./redis-store.ts";

/** Which store answers rate-limit checks right now. */
export type LimiterState = "redis" | "memory";

/** Counters for metrics. */
export interface LimiterStats {
  state: LimiterState;
  /** Hits answered from memory because Redis failed, timed out or was known to be down. */
  fallbacks: number;
  /** Redis calls (batches of hits, and probes) that failed with an error. */
  errors: number;
  /** Redis calls (batches of hits, and probes) that took longer than the timeout. */
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
  /** Counts `hits` in order, atomically; the i-th result answers the i-th hit. */
  hitMany(hits: readonly HitRequest[]): Promise<HitResult[]>;
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
 * Most hits sent in one script call. A larger turn is split, so no single call keeps Redis busy
 * for more than a few milliseconds (about 4 µs per distinct key; other clients wait meanwhile) or
 * builds an outsized reply.
 */
const MAX_BATCH_HITS = 1_000;

/** A hit waiting for the end of the event-loop turn to be sent to Redis with the others. */
interface PendingHit extends HitRequest {
  resolve: (result: HitResult) => void;
}

/**
 * Redis when it answers in time, memory otherwise. A hit never waits longer than `timeoutMs` for
 * Redis, never rejects and never throws: on an error or a timeout it is answered from the memory
 * store and the wrapper turns "degraded" — every hit goes to memory without touching Redis while a
 * background probe (PING every `probeIntervalMs`, unref'd timer) waits for Redis to come back, then
 * checks return to Redis. Counts made in memory during an outage are not copied to Redis: clients get
 * at most one extra allowance per outage, never a refusal caused by the outage itself.
 *
 * Hits made during one event-loop turn are coalesced: they go to Redis as one script call (in the
 * order they were made, each seeing the ones before it) under one deadline timer, and if that call
 * fails or times out they are all answered from memory in the same order. Under load this turns
 * dozens of round trips, timers and Redis command dispatches into one; a lone hit waits only for the
 * end of the current turn.
 */
export class FallbackStore implements LimiterStore {
  private mode: LimiterState;
  private probeTimer: ReturnType<typeof setInterval> | null = null;
  private probing = false;
  private closed = false;
  private pending: PendingHit[] = [];
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

  /** Answers at once while degraded (memory counts); undefined while Redis answers. */
  hitNow(key: string, limit: number, windowMs: number, now: number): HitResult | undefined {
    if (this.mode !== "memory") return undefined;
    this.fallbacks++;
    return this.memory.hitNow(key, limit, windowMs, now);
  }

  hit(key: string, limit: number, windowMs: number, now: number): Promise<HitResult> {
    const answered = this.hitNow(key, limit, windowMs, now);
    if (answered !== undefined) return Promise.resolve(answered);
    return new Promise<HitResult>((resolve) => {
      if (this.pending.push({ key, limit, windowMs, now, resolve }) === 1) setImmediate(this.flush);
    });
  }

  /** Stops probing and closes both stores. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopProbing();
    await Promise.allSettled([this.redis.close(), this.memory.close()]);
  }

  /** Sends the hits gathered during the last event-loop turn to Redis, at most MAX_BATCH_HITS per call. */
  private readonly flush = (): void => {
    const gathered = this.pending;
    this.pending = [];
    if (gathered.length <= MAX_BATCH_HITS) {
      this.send(gathered);
      return;
    }
    for (let at = 0; at < gathered.length; at += MAX_BATCH_HITS) this.send(gathered.slice(at, at + MAX_BATCH_HITS));
  };

  /** One script call for `batch` under one deadline; on failure the whole batch is answered from memory. */
  private send(batch: PendingHit[]): void {
    // An earlier batch failed while these were gathered: Redis is left alone until a probe answers.
    if (this.mode === "memory") {
      this.answerFromMemory(batch);
      return;
    }
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      this.timeouts++;
      this.fallBack(batch, `Redis did not answer within ${this.timeoutMs}ms`);
    }, this.timeoutMs);
    let call: Promise<HitResult[]>;
    try {
      call = this.redis.hitMany(batch);
    } catch (error) {
      call = Promise.reject(error);
    }
    call.then(
      (results) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        for (let i = 0; i < batch.length; i++) batch[i].resolve(results[i]);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.errors++;
        this.fallBack(batch, `Redis error: ${describe(error)}`);
      },
    );
  }

  private fallBack(batch: readonly PendingHit[], reason: string): void {
    this.degrade(reason);
    this.answerFromMemory(batch);
  }

  private answerFromMemory(batch: readonly PendingHit[]): void {
    this.fallbacks += batch.length;
    for (const hit of batch) hit.resolve(this.memory.hitNow(hit.key, hit.limit, hit.windowMs, hit.now));
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
