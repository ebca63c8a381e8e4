import { type CommandParser, createClient, defineScript } from "redis";
import { IpwardError } from "../core/errors.ts";
import type { CounterStore } from "../core/ports.ts";
import type { ReservingHitResult } from "./sliding-window.ts";

/** One counter check: the arguments of CounterStore.hit. */
export interface HitRequest {
  key: string;
  limit: number;
  windowMs: number;
  now: number;
  /** Requests to count at once, this one included, as hitWindow's `want` (default 1). */
  want?: number;
}

/**
 * The sliding-window algorithm of sliding-window.ts, line for line, as one atomic Lua script that
 * checks a batch of hits in order: KEYS[i] is the i-th hit's key, ARGV[4i-3..4i] its limit, window,
 * now and want, and the reply holds five integers per hit (allowed, remaining, retry after, reset,
 * granted). Each check sees the ones before it, exactly as successive calls would. Consecutive hits
 * on one key (a client hammering a route) share one read and one write of its state: `start, prev,
 * curr` hold what Redis would hold after each hit, and only allowed hits change them.
 *
 * Batching is what makes Redis cheap here: redis-server pays its per-command overhead (read,
 * dispatch, Lua entry) once per batch, and the three inner calls once per run of one key.
 *
 * The state of a key is a hash {s: window start, p: previous count, c: current count}; it expires
 * when the next window ends, after which it would weigh nothing anyway, so Redis memory is bounded.
 * `now` comes from the caller (not Redis TIME) so the clock stays injectable and both stores agree;
 * instances sharing a Redis therefore need roughly synchronised clocks (NTP): a skew of d ms shifts
 * window edges by d ms, and a clock behind the stored window counts as the window's start.
 * All keys of a batch go to one server, so this needs a single Redis, not a cluster.
 */
const SLIDING_WINDOW_BATCH_LUA = `
local results = {}
local count = #KEYS
local i = 1
while i <= count do
  local key = KEYS[i]
  local stored = redis.call('HMGET', key, 's', 'p', 'c')
  local start = tonumber(stored[1]) or 0
  local prev = tonumber(stored[2]) or 0
  local curr = tonumber(stored[3]) or 0
  local ttl = nil
  repeat
    local limit = tonumber(ARGV[4 * i - 3])
    local window = tonumber(ARGV[4 * i - 2])
    local now = tonumber(ARGV[4 * i - 1])
    local want = tonumber(ARGV[4 * i])
    local current = math.floor(now / window) * window
    local s, p, c = start, prev, curr
    if s < current then
      if s == current - window then p = c else p = 0 end
      c = 0
      s = current
    elseif s > current then
      current = s
      now = s
    end
    local elapsed = now - current
    local weighted = p * (window - elapsed) + c * window
    local capacity = limit * window
    local base = 5 * i - 5
    if weighted + window <= capacity then
      local granted = 1
      if want > 1 then granted = math.min(want, math.floor((capacity - weighted) / window)) end
      start, prev, curr, ttl = s, p, c + granted, 2 * window - elapsed
      results[base + 1] = 1
      results[base + 2] = math.floor((capacity - weighted - granted * window) / window)
      results[base + 3] = 0
      results[base + 4] = 2 * window - elapsed
      results[base + 5] = granted
    else
      local need = limit - 1 - c
      local retry
      if need >= 0 then
        retry = window - math.floor(need * window / p) - elapsed
      else
        retry = 2 * window - math.floor((limit - 1) * window / c) - elapsed
      end
      local reset = window - elapsed
      if c > 0 then reset = 2 * window - elapsed end
      results[base + 1] = 0
      results[base + 2] = 0
      results[base + 3] = retry
      results[base + 4] = reset
      results[base + 5] = 0
    end
    i = i + 1
  until KEYS[i] ~= key
  if ttl then
    redis.call('HSET', key, 's', string.format('%d', start), 'p', string.format('%d', prev), 'c', string.format('%d', curr))
    redis.call('PEXPIRE', key, ttl)
  end
end
return results
`;

const slidingWindowBatch = defineScript({
  SCRIPT: SLIDING_WINDOW_BATCH_LUA,
  parseCommand(parser: CommandParser, counterPrefix: string, hits: readonly HitRequest[]) {
    parser.push(String(hits.length));
    for (const hit of hits) parser.pushKey(counterPrefix + hit.key);
    for (const hit of hits) parser.push(String(hit.limit), String(hit.windowMs), String(Math.floor(hit.now)), String(hit.want ?? 1));
  },
  transformReply: (reply: unknown) => reply as number[],
});

export interface RedisStoreOptions {
  /** redis:// or rediss:// URL (config redis.url). */
  url: string;
  /** Prepended to every key (config redis.key_prefix); counters live under `${keyPrefix}rl:`. */
  keyPrefix?: string;
  /** Told about connection errors; without it they are swallowed (they are also visible as failed hits). */
  onError?: (error: Error) => void;
}

/** Longest pause between reconnection attempts while Redis is down. */
const MAX_RECONNECT_DELAY_MS = 1_000;
/** Bound on commands waiting in the client so a stalled Redis cannot grow memory without limit. */
const MAX_QUEUED_COMMANDS = 10_000;
/** How long close() lets commands in flight finish. */
const CLOSE_GRACE_MS = 1_000;

function createLimiterClient(options: RedisStoreOptions) {
  return createClient({
    url: options.url,
    // Fail commands at once while disconnected instead of queueing them until Redis returns.
    disableOfflineQueue: true,
    commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
    // No per-command timeout (node-redis defaults to 5 s: an AbortSignal and two listeners per
    // command): FallbackStore bounds every wait with one timer per batch, and the client's timeout
    // only covers commands not yet written.
    commandOptions: { timeout: 0 },
    scripts: { slidingWindowBatch },
    socket: {
      connectTimeout: 2_000,
      // Keep trying for ever (the fallback store answers meanwhile), backing off up to one second.
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 5), MAX_RECONNECT_DELAY_MS),
    },
  });
}

type LimiterClient = ReturnType<typeof createLimiterClient>;

/**
 * Sliding-window counters in Redis, shared by every instance pointing at the same server and
 * prefix. One EVALSHA per batch of hits (node-redis falls back to EVAL once if the script cache was
 * flushed). Commands fail fast while disconnected; the client reconnects by itself in the background.
 */
export class RedisStore implements CounterStore {
  private readonly client: LimiterClient;
  private readonly counterPrefix: string;
  private connecting: Promise<void> | null = null;

  constructor(options: RedisStoreOptions) {
    this.counterPrefix = `${options.keyPrefix ?? "ipward:"}rl:`;
    try {
      this.client = createLimiterClient(options);
    } catch (error) {
      // The message names the problem, never the URL (it may carry a password).
      throw new IpwardError("invalid_config", `redis.url: ${error instanceof Error ? error.message : String(error)}`);
    }
    const onError = options.onError;
    // An 'error' event without a listener would crash the process; reconnection errors land here.
    this.client.on("error", (error: Error) => onError?.(error));
  }

  /**
   * Opens the connection. Resolves once connected; while Redis is unreachable it keeps retrying in
   * the background and the promise stays pending, so callers that must not wait race it against a timer.
   */
  connect(): Promise<void> {
    this.connecting ??= this.client.connect().then(
      () => undefined,
      // Rejected only when the store is closed before Redis ever answered.
      () => undefined,
    );
    return this.connecting;
  }

  /** True while the connection is established and commands can be sent. */
  get ready(): boolean {
    return this.client.isReady;
  }

  /** One hit, as a batch of one (FallbackStore sends whole batches through hitMany). */
  async hit(key: string, limit: number, windowMs: number, now: number): Promise<ReservingHitResult> {
    const [result] = await this.hitMany([{ key, limit, windowMs, now }]);
    return result;
  }

  /** Counts `hits` in order in one atomic script call; the i-th result answers the i-th hit. */
  async hitMany(hits: readonly HitRequest[]): Promise<ReservingHitResult[]> {
    const reply = await this.client.slidingWindowBatch(this.counterPrefix, hits);
    const results: ReservingHitResult[] = new Array(hits.length);
    for (let i = 0, at = 0; i < hits.length; i++, at += 5) {
      results[i] = { allowed: reply[at] === 1, remaining: reply[at + 1], retryAfterMs: reply[at + 2], resetMs: reply[at + 3], granted: reply[at + 4] };
    }
    return results;
  }

  /** Round trip to the server; rejects when Redis is unreachable. */
  async ping(): Promise<void> {
    await this.client.ping();
  }

  /**
   * Closes the connection, letting commands in flight finish for up to a second (a stalled Redis
   * must not hold up shutdown); safe to call more than once.
   */
  async close(): Promise<void> {
    const { client } = this;
    if (!client.isOpen) return;
    if (client.isReady) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_GRACE_MS);
      });
      await Promise.race([client.close().catch(() => undefined), deadline]);
      clearTimeout(timer);
    }
    if (client.isOpen) client.destroy();
  }
}
