import type { Clock } from '../core/index.js';
import type { RateLimitState } from './types.js';

const WINDOW_MS = 60_000;

/**
 * Per-key request limit as a GCRA token bucket (the generic cell rate algorithm): a bucket of
 * `limit` requests that refills evenly over a minute. One number per key (its theoretical
 * arrival time), exact under any clock, including the injected one the tests drive.
 *
 * A hand-written 30 lines rather than @fastify/rate-limit: that plugin reads the wall clock and
 * answers in its own shape, while this limit is a dialect-blind pipeline step whose 429 each
 * dialect words its own way.
 */
export class RateLimiter {
  readonly #tat = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  take(key: string, limit: number): RateLimitState {
    const now = this.clock.now();
    const interval = WINDOW_MS / limit;
    const tat = Math.max(this.#tat.get(key) ?? now, now);
    const next = tat + interval;
    const allowAt = next - WINDOW_MS;
    if (now < allowAt) {
      return {
        limit,
        remaining: 0,
        resetSeconds: Math.ceil((tat - now) / 1000),
        retryAfterSeconds: Math.max(1, Math.ceil((allowAt - now) / 1000)),
      };
    }
    this.#tat.set(key, next);
    if (this.#tat.size > 100_000) this.#sweep(now);
    return {
      limit,
      remaining: Math.max(0, Math.floor((WINDOW_MS - (next - now)) / interval)),
      resetSeconds: Math.ceil((next - now) / 1000),
      retryAfterSeconds: null,
    };
  }

  /** Drops keys whose bucket is full again: they hold no information. */
  #sweep(now: number): void {
    for (const [k, t] of this.#tat) if (t <= now) this.#tat.delete(k);
  }
}
