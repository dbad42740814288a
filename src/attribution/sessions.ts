/**
 * A visitor's browser activity cut into sessions (spec/attribution.md rule 4): a new session
 * starts when more than `timeoutMs` passed since the previous activity, or when the next activity
 * would fall more than `maxMs` after the session's start. A session covers
 * [start, end) with end = min(lastActivity + timeoutMs, start + maxMs).
 */
export interface Sessions {
  starts: number[];
  ends: number[];
  /** Per session: true when its end is the maximum duration, not inactivity. */
  capped: boolean[];
}

export interface SessionRules {
  timeoutMs: number;
  maxMs: number;
}

/** @param times activity times, sorted ascending */
export function sessionize(times: ArrayLike<number>, rules: SessionRules): Sessions {
  const out: Sessions = { starts: [], ends: [], capped: [] };
  if (times.length === 0) return out;
  let start = times[0]!;
  let last = start;
  const close = () => {
    const idle = last + rules.timeoutMs;
    const cap = start + rules.maxMs;
    out.starts.push(start);
    out.ends.push(Math.min(idle, cap));
    out.capped.push(cap < idle);
  };
  for (let i = 1; i < times.length; i++) {
    const t = times[i]!;
    if (t - last > rules.timeoutMs || t - start > rules.maxMs) {
      close();
      start = t;
    }
    last = t;
  }
  close();
  return out;
}

/** Index of the last element ≤ x in a sorted array, or -1. */
export function lastAtOrBefore(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** The session that holds time t (an activity time), by index. */
export function sessionOf(s: Sessions, t: number): number {
  return lastAtOrBefore(s.starts, t);
}
