import type { DataQualityFigures } from '../store/index.js';

interface Count { conversions: number; matched: number }
const rate = (m: Count) => ({ ...m, matchRate: m.conversions === 0 ? null : m.matched / m.conversions });

/** The element at quantile p of sorted values (nearest rank, rounded down), or null when there are none. */
function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
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
  readonly #lags = new Map<string, number[]>();

  /** `domain`: the userDomain, else `(sessionId)`, `(visitorId)` or `(none)` (domainKey()). */
  add(domain: string, dialect: string, matched: boolean, lagMs: number): void {
    count(this.#byDomain, domain, matched);
    count(this.#byDialect, dialect, matched);
    let lags = this.#lags.get(dialect);
    if (lags === undefined) this.#lags.set(dialect, (lags = []));
    lags.push(Math.max(0, lagMs));
  }

  figures(): DataQualityFigures {
    const total = { conversions: 0, matched: 0 };
    for (const m of this.#byDialect.values()) {
      total.conversions += m.conversions;
      total.matched += m.matched;
    }
    const ingestionLagMs = Object.fromEntries([...this.#lags].map(([dialect, list]) => {
      const sorted = Float64Array.from(list).sort();
      return [dialect, { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? null }];
    }));
    return {
      matchRate: {
        overall: rate(total),
        byUserDomain: Object.fromEntries([...this.#byDomain].map(([k, m]) => [k, rate(m)])),
        byDialect: Object.fromEntries([...this.#byDialect].map(([k, m]) => [k, rate(m)])),
      },
      ingestionLagMs,
    };
  }
}

/** How data quality groups a conversion: by its userDomain, or, naming no user, by what it did name. */
export const domainKey = (userDomain: string | null, hasSession: boolean, hasVisitor: boolean): string =>
  userDomain ?? (hasSession ? '(sessionId)' : hasVisitor ? '(visitorId)' : '(none)');
