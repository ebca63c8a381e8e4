import type { CounterStore, HitResult } from "../core/ports.ts";
import type { MemoryStore } from "./memory-store.ts";
import type { HitRequest } from "./redis-store.ts";
import { type ReservingHitResult, windowStart } from "./sliding-window.ts";

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
  /** Hits answered from requests reserved in Redis earlier (see FallbackStoreOptions.reservePercent). */
  reserved: number;
}

/** A CounterStore that can say which backend answers and how it has been going. */
export interface LimiterStore extends CounterStore {
  state(): LimiterState;
  stats(): LimiterStats;
}

/** The part of RedisStore the fallback needs (so tests and future backends can stand in). */
export interface RemoteCounterStore extends CounterStore {
  /** Counts `hits` in order, atomically; the i-th result answers the i-th hit. */
  hitMany(hits: readonly HitRequest[]): Promise<ReservingHitResult[]>;
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
  /**
   * Share of a rule's limit, in percent, that one Redis call may count ahead for this instance
   * (config redis.reserve_percent; default 0, every hit is a Redis call). See Reservation.
   */
  reservePercent?: number;
  /** Most keys holding a reservation at once (default 10 000); past it the oldest is dropped. */
  maxReservations?: number;
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
 * Requests of one key that Redis counted for this instance ahead of time, in one call with the hit
 * that asked: the next ones are allowed here, without a round trip, while the window lasts. They
 * count against the shared limit from the moment they are reserved, so the instances together never
 * allow more than the limit; what an instance reserved and did not use is refused to the others
 * (at most `reservePercent` of the limit per instance, until the window ends).
 */
interface Reservation {
  limit: number;
  windowMs: number;
  /** The window the requests were counted in (ms since the epoch); they are good only within it. */
  windowStart: number;
  /** Reserved requests not handed out yet. */
  left: number;
  /** What Redis had left once all of them were counted. */
  remaining: number;
  /** When the window fully resets (ms since the epoch). */
  resetAt: number;
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
  private reservedHits = 0;
  private readonly reservePercent: number;
  private readonly maxReservations: number;
  private readonly reservations = new Map<string, Reservation>();
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
    this.reservePercent = options.reservePercent ?? 0;
    this.maxReservations = options.maxReservations ?? 10_000;
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
      reserved: this.reservedHits,
    };
  }

  /**
   * Answers at once while degraded (memory counts) or from a reservation of the key's window;
   * undefined when Redis has to be asked.
   */
  hitNow(key: string, limit: number, windowMs: number, now: number): HitResult | undefined {
    if (this.mode === "memory") {
      this.fallbacks++;
      return this.memory.hitNow(key, limit, windowMs, now);
    }
    const reserved = this.reservations.get(key);
    if (reserved === undefined) return undefined;
    const at = Math.floor(now);
    if (reserved.left === 0 || reserved.limit !== limit || reserved.windowMs !== windowMs || windowStart(at, windowMs) !== reserved.windowStart) {
      this.reservations.delete(key);
      return undefined;
    }
    reserved.left--;
    this.reservedHits++;
    return { allowed: true, remaining: reserved.remaining + reserved.left, retryAfterMs: 0, resetMs: reserved.resetAt - at };
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
    this.reservations.clear();
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
    const reserving = this.reservePercent > 0 ? this.askReservations(batch) : false;
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      this.timeouts++;
      this.fallBack(batch, `Redis did not answer within ${this.timeoutMs}ms`);
    }, this.timeoutMs);
    let call: Promise<ReservingHitResult[]>;
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
        if (reserving && this.mode === "redis") this.keepReservations(batch, results);
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

  /**
   * Lets the first hit of each key in `batch` ask for a reservation, when the key's limit makes one
   * worth having (at least two requests); the other hits of the key count one each. Says whether
   * any hit asks.
   */
  private askReservations(batch: PendingHit[]): boolean {
    let asking = false;
    let seen: Set<string> | undefined;
    for (const hit of batch) {
      const want = Math.floor((hit.limit * this.reservePercent) / 100);
      if (want < 2) continue;
      seen ??= new Set();
      if (seen.has(hit.key)) continue;
      seen.add(hit.key);
      hit.want = want;
      asking = true;
    }
    return asking;
  }

  /**
   * Keeps what Redis granted beyond each asking hit itself. The asking hit's `remaining` then counts
   * the reserved requests as still available, as this instance will hand them out.
   */
  private keepReservations(batch: readonly PendingHit[], results: ReservingHitResult[]): void {
    for (let i = 0; i < batch.length; i++) {
      const hit = batch[i];
      const granted = results[i].granted;
      if (hit.want === undefined || granted < 2) continue;
      results[i].remaining += granted - 1;
      const at = Math.floor(hit.now);
      if (!this.reservations.has(hit.key) && this.reservations.size >= this.maxReservations) {
        // The oldest reservation goes: its requests stay counted, unused, until its window ends.
        this.reservations.delete(this.reservations.keys().next().value!);
      }
      this.reservations.set(hit.key, {
        limit: hit.limit,
        windowMs: hit.windowMs,
        windowStart: windowStart(at, hit.windowMs),
        left: granted - 1,
        remaining: results[i].remaining - (granted - 1),
        resetAt: at + results[i].resetMs,
      });
    }
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
    // Reserved requests stay counted in Redis; memory counts from zero meanwhile, as it always did.
    this.reservations.clear();
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
