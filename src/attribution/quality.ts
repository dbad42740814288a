import { f64, type Column } from '../core/column.js';
import type { DataQualityFigures } from '../store/index.js';

interface Count { conversions: number; matched: number }

/** A tally as plain data another thread can send (QualityTally.parts): [key, conversions, matched] per userDomain and per dialect, and each dialect's lags. */
export interface QualityParts {
  byDomain: [string, number, number][];
  byDialect: [string, number, number][];
  lags: [string, Float64Array][];
}
const rate = (m: Count) => ({ ...m, matchRate: m.conversions === 0 ? null : m.matched / m.conversions });

/**
 * Moves the k-th smallest of a[from, to) to a[k], the smaller ones before it and the larger after
 * (quickselect, median-of-three pivots): a run's percentiles of a million lags without sorting them.
 */
function select(a: Float64Array, k: number, from = 0, to = a.length): void {
  let lo = from;
  let hi = to - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // Median of three to a[mid], then partition around it (Hoare).
    if (a[mid]! < a[lo]!) swap(a, mid, lo);
    if (a[hi]! < a[lo]!) swap(a, hi, lo);
    if (a[hi]! < a[mid]!) swap(a, hi, mid);
    const pivot = a[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) swap(a, i++, j--);
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

/** The values at quantiles `ps` (ascending) of `values` (nearest rank, rounded down), reordering them; nulls when there are none. */
export function percentiles(values: Float64Array, ps: readonly number[]): (number | null)[] {
  const n = values.length;
  let from = 0;
  return ps.map((p) => {
    if (n === 0) return null;
    const k = Math.min(n - 1, Math.floor(p * n));
    // Everything before an earlier quantile's rank is no larger: select in what is after it.
    select(values, k, Math.min(from, k), n);
    from = k;
    return values[k]!;
  });
}

/** The arrays' values, one after the other, in a new array. */
function concat(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One more conversion under `key` (a run tallies a million: no array or object per call). */
function count(map: Map<string, Count>, key: string, matched: boolean): void {
  const m = map.get(key);
  if (m === undefined) map.set(key, { conversions: 1, matched: matched ? 1 : 0 });
  else {
    m.conversions++;
    if (matched) m.matched++;
  }
}

/**
 * What GET …/data-quality reports of conversions, tallied one conversion at a time: how many
 * could be tied to a visitor, per userDomain (or how the conversion named its visitor, when it
 * named no user) and per dialect, and how late they arrived (received − occurred) per dialect.
 * A run tallies every conversion it judges (it resolves their visitors anyway) and stores the
 * figures, so that asking costs a read, not a load of the whole workspace.
 */
export class QualityTally {
  readonly #byDomain = new Map<string, Count>();
  readonly #byDialect = new Map<string, Count>();
  readonly #lags = new Map<string, Column<Float64Array>>();
  /** Per dialect, the lags of other tallies merged into this one (merge()). */
  readonly #moreLags = new Map<string, Float64Array[]>();

  /** `expected`: about how many conversions it tallies (a run knows: room made at once, each dialect's lags never copied to grow; pages not reached are not touched). */
  constructor(private readonly expected = 256) {}

  /** `domain`: the userDomain, else `(sessionId)`, `(visitorId)` or `(none)` (domainKey()). */
  add(domain: string, dialect: string, matched: boolean, lagMs: number): void {
    count(this.#byDomain, domain, matched);
    count(this.#byDialect, dialect, matched);
    let lags = this.#lags.get(dialect);
    if (lags === undefined) this.#lags.set(dialect, (lags = f64(this.expected)));
    lags.push(Math.max(0, lagMs));
  }

  /** What was tallied, as plain data (the lags as views: send them with their memory moved); merge() takes it. */
  parts(): QualityParts {
    const counts = (map: Map<string, Count>) => [...map].map(([k, m]): [string, number, number] => [k, m.conversions, m.matched]);
    const lags = [...this.#lags].flatMap(([k, list]): [string, Float64Array][] => [[k, list.view()], ...(this.#moreLags.get(k) ?? []).map((a): [string, Float64Array] => [k, a])]);
    return { byDomain: counts(this.#byDomain), byDialect: counts(this.#byDialect), lags };
  }

  /** Adds what another tally counted (its parts()), as if its conversions had been added here. */
  merge(p: QualityParts): void {
    const add = (map: Map<string, Count>, entries: QualityParts['byDomain']) => {
      for (const [k, conversions, matched] of entries) {
        const m = map.get(k);
        if (m === undefined) map.set(k, { conversions, matched });
        else {
          m.conversions += conversions;
          m.matched += matched;
        }
      }
    };
    add(this.#byDomain, p.byDomain);
    add(this.#byDialect, p.byDialect);
    // Kept as they are: figures() copies every dialect's lags into one array anyway.
    for (const [dialect, values] of p.lags) {
      const more = this.#moreLags.get(dialect);
      if (more === undefined) this.#moreLags.set(dialect, [values]);
      else more.push(values);
      if (!this.#lags.has(dialect)) this.#lags.set(dialect, f64(16));
    }
  }

  /** The figures, each map's keys in order (however the conversions were tallied: on one thread or two). */
  figures(): DataQualityFigures {
    const total = { conversions: 0, matched: 0 };
    for (const m of this.#byDialect.values()) {
      total.conversions += m.conversions;
      total.matched += m.matched;
    }
    const sorted = <T>(map: Map<string, T>) => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const ingestionLagMs = Object.fromEntries(sorted(this.#lags).map(([dialect, list]) => {
      const q = percentiles(concat([list.view(), ...(this.#moreLags.get(dialect) ?? [])]), [0.5, 0.9, 0.99, 1]);
      return [dialect, { p50: q[0] ?? null, p90: q[1] ?? null, p99: q[2] ?? null, max: q[3] ?? null }];
    }));
    return {
      matchRate: {
        overall: rate(total),
        byUserDomain: Object.fromEntries(sorted(this.#byDomain).map(([k, m]) => [k, rate(m)])),
        byDialect: Object.fromEntries(sorted(this.#byDialect).map(([k, m]) => [k, rate(m)])),
      },
      ingestionLagMs,
    };
  }
}

/** How data quality groups a conversion: by its userDomain, or, naming no user, by what it did name. */
export const domainKey = (userDomain: string | null, hasSession: boolean, hasVisitor: boolean): string =>
  userDomain ?? (hasSession ? '(sessionId)' : hasVisitor ? '(visitorId)' : '(none)');
