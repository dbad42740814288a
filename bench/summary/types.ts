import type { PartRun } from '../lib/child.js';
import type { WatchedProcess } from '../lib/rss.js';

/** One line of the summary table. */
export interface SummaryRow {
  benchmark: string;
  closeloop: string;
  baseline: string;
  ratio: string;
  p99: string;
  peakRss: string;
}

/** What one part adds to the summary: its rows, sentences under the table, and what went wrong. */
export interface PartSummary {
  rows: SummaryRow[];
  notes: string[];
  problems: string[];
}

/** A part whose script failed or printed nothing usable: one row saying so, and why. */
export function failed(benchmark: string, run: PartRun, why: string): PartSummary {
  const how = run.code !== null ? `exit code ${run.code}` : `killed by ${run.signal ?? 'a signal'}`;
  return {
    rows: [{ benchmark, closeloop: `**failed** (${how})`, baseline: '–', ratio: '–', p99: '–', peakRss: '–' }],
    notes: [],
    problems: [`${benchmark}: ${why} (${how})`],
  };
}

/** The root of a part's process tree: the benchmark script's own process. */
export const rootOf = (run: PartRun): WatchedProcess | undefined => run.processes[0];
