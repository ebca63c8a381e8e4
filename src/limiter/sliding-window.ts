import type { HitResult } from "../core/ports.ts";

/**
 * The sliding-window counter shared by every CounterStore (this file in TypeScript, redis-store.ts
 * in Lua; the contract tests prove they agree).
 *
 * Algorithm — weighted two-window counter (the "sliding window counter" of Cloudflare/NGINX):
 * time is cut into fixed windows aligned on multiples of `windowMs` since the epoch; a key keeps
 * the number of allowed requests of the current window (`curr`) and of the one before (`prev`).
 * At `elapsed` ms into the current window the estimated count over the last `windowMs` is
 *
 *     count = prev * (windowMs - elapsed) / windowMs + curr
 *
 * and a request is allowed when `count + 1 <= limit`; only allowed requests are counted. Unlike a
 * fixed window there is no double burst at the edge: `limit` requests at the end of one window
 * still weigh almost fully at the start of the next.
 *
 * Everything is computed on integers scaled by `windowMs` (`prev * (windowMs - elapsed) + curr *
 * windowMs` against `limit * windowMs`), so there is no rounding to disagree about; the few divisions
 * are IEEE double divisions followed by floor in both languages, which give identical results.
 *
 * A `now` earlier than the stored window (another instance's clock running behind) is treated as
 * the start of the stored window: counters never move backwards.
 */
export interface WindowCounter {
  /** Start of the current window (ms since the epoch, a multiple of the window length). */
  start: number;
  /** Allowed requests in the window before `start`. */
  prev: number;
  /** Allowed requests in the window starting at `start`. */
  curr: number;
}

/** A hit that may have reserved further requests of the window for its caller (see hitWindow). */
export interface ReservingHitResult extends HitResult {
  /** Requests counted: this one and the ones reserved with it (0 when refused). */
  granted: number;
}

/**
 * Counts one request against `counter` (mutated in place) and says whether it is allowed.
 *
 * With `want` > 1 the caller asks to count `want` requests at once: this one and `want - 1` it will
 * allow later in the same window without asking again (RedisStore's reservations). As many as fit
 * are granted, at least one or none; `remaining` is what is left after all of them. With `want` 1
 * (the default) this is the plain sliding window above.
 */
export function hitWindow(counter: WindowCounter, limit: number, windowMs: number, now: number, want = 1): ReservingHitResult {
  let current = windowStart(now, windowMs);
  if (counter.start < current) {
    counter.prev = counter.start === current - windowMs ? counter.curr : 0;
    counter.curr = 0;
    counter.start = current;
  } else if (counter.start > current) {
    current = counter.start;
    now = current;
  }
  const elapsed = now - current;
  const { prev, curr } = counter;
  const weighted = prev * (windowMs - elapsed) + curr * windowMs;
  const capacity = limit * windowMs;

  if (weighted + windowMs <= capacity) {
    const granted = want > 1 ? Math.min(want, Math.floor((capacity - weighted) / windowMs)) : 1;
    counter.curr = curr + granted;
    return {
      allowed: true,
      remaining: Math.floor((capacity - weighted - granted * windowMs) / windowMs),
      retryAfterMs: 0,
      resetMs: 2 * windowMs - elapsed,
      granted,
    };
  }

  const need = limit - 1 - curr;
  const retryAfterMs =
    need >= 0
      ? windowMs - Math.floor((need * windowMs) / prev) - elapsed
      : 2 * windowMs - Math.floor(((limit - 1) * windowMs) / curr) - elapsed;
  return {
    allowed: false,
    remaining: 0,
    retryAfterMs,
    resetMs: (curr > 0 ? 2 * windowMs : windowMs) - elapsed,
    granted: 0,
  };
}

/** Start of the window of length `windowMs` that `now` falls in (windows are aligned on the epoch). */
export function windowStart(now: number, windowMs: number): number {
  return Math.floor(now / windowMs) * windowMs;
}

/** A counter that has never been hit. */
export function emptyCounter(): WindowCounter {
  return { start: 0, prev: 0, curr: 0 };
}
