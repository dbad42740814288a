import { bytes, fmt, times } from '../lib/format.js';
import type { PartRun } from '../lib/child.js';
import { failed, type PartSummary, type SummaryRow } from './types.js';

interface StoreResult { name: string; rows: number; rowsPerSec: number; rowsPerCommit: number | null; peakRss: number | null }
interface StoreFigures { rows: number; transaction: number; append: number; inFlight: number; results: StoreResult[] }

/** bench/store-append.ts --json: the store's append rate against plain INSERTs of the same rows. */
export function storeSummary(run: PartRun): PartSummary {
  const f = run.json as StoreFigures | null;
  if (f === null || !Array.isArray(f.results)) return failed('Store append', run, 'bench/store-append.ts printed no figures');
  const get = (name: string) => f.results.find((r) => r.name === name);
  const rows: SummaryRow[] = [];
  for (const [shape, what] of [['keyed', 'conversions, each with an idempotency key'], ['views', 'variation views, no key']] as const) {
    const store = get(`store-${shape}`);
    const base = get(`baseline-${shape}`);
    if (store === undefined || base === undefined) continue;
    rows.push({
      benchmark: `Store: \`store.events.append\`, ${what} (synchronous=FULL)`,
      closeloop: `${fmt(store.rowsPerSec)} rows/s (${fmt(store.rowsPerCommit ?? 0)} rows/commit)`,
      baseline: `plain better-sqlite3 INSERTs of the same rows, no index, ${fmt(f.transaction)} per transaction: ${fmt(base.rowsPerSec)} rows/s`,
      ratio: times(store.rowsPerSec / base.rowsPerSec),
      p99: '–',
      peakRss: `${bytes(store.peakRss)} (baseline ${bytes(base.peakRss)})`,
    });
  }
  if (rows.length === 0) return failed('Store append', run, 'bench/store-append.ts printed no store or baseline figure');
  return {
    rows,
    notes: [`Store: ${fmt(f.rows)} rows per measurement, the store in appends of ${f.append} with ${f.inFlight} in flight (its writer thread commits them in groups); each measurement in a process of its own.`],
    problems: [],
  };
}
