import type { Clock } from '../core/index.js';
import type { RateLimitState } from './types.js';

const WINDOW_MS = 60_000;
/** How far ahead of its rate a key may run: one second's worth of requests (at least one). */
const BURST_MS = 1000;

/**
 * Per-key request limit as a GCRA token bucket (the generic cell rate algorithm): `limit`
 * requests a minute, evenly, from a bucket that holds one second's worth of them (at least one).
 * One number per key (its theoretical arrival time), exact under any clock, including the
 * injected one the tests drive.
 *
 * The bucket is small so that "per minute" holds for every minute: a key sending at its limit is
 * never refused, and a flooding key gets its limit plus one second's worth (+1.7 %), where a
 * bucket of a whole minute's requests let a fresh key send twice its limit in its first minute.
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
    const depth = Math.max(interval, BURST_MS);
    const tat = Math.max(this.#tat.get(key) ?? now, now);
    const next = tat + interval;
    const allowAt = next - depth;
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
      remaining: Math.max(0, Math.floor((depth - (next - now)) / interval)),
      resetSeconds: Math.ceil((next - now) / 1000),
      retryAfterSeconds: null,
    };
  }

  /** Drops keys whose bucket is full again: they hold no information. */
  #sweep(now: number): void {
    for (const [k, t] of this.#tat) if (t <= now) this.#tat.delete(k);
  }
}
