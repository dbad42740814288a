import { fmt } from '../lib/format.js';
import type { PartRun } from '../lib/child.js';
import { failed, type PartSummary } from './types.js';

interface SnippetFigures { raw: number; gzip: number; brotli: number; target: number; met: boolean }

/** bench/snippet-size.ts --json: the gzipped size against its budget. */
export function snippetSummary(run: PartRun): PartSummary {
  const f = run.json as SnippetFigures | null;
  if (f === null || typeof f.gzip !== 'number') return failed('Browser snippet `/t.js`', run, 'bench/snippet-size.ts printed no figures');
  return {
    rows: [{
      benchmark: 'Browser snippet `/t.js`, gzip -9 (as served)',
      closeloop: `${fmt(f.gzip)} B (${fmt(f.raw)} B raw, ${fmt(f.brotli)} B brotli)`,
      baseline: `budget ${fmt(f.target)} B`,
      ratio: `${(f.gzip / f.target).toFixed(3)}× the budget${f.met ? '' : ' — **over**'}`,
      p99: '–',
      peakRss: '–',
    }],
    notes: [],
    problems: f.met ? [] : [`the snippet is ${f.gzip} B gzipped, over its ${f.target} B budget`],
  };
}
