import { bytes, fmt, times } from '../lib/format.js';
import type { PartRun } from '../lib/child.js';
import { failed, type PartSummary, type SummaryRow } from './types.js';

interface Scenario {
  title: string; server: 'bare' | 'closeloop'; kind: string; eventsPerRequest: number; reqPerSec: number; eventsPerSec: number;
  p99: number; serverPeakRss: number | null; benchPeakRss: number | null; peakReset: boolean; problems: string[]; ratioToBare: number | null;
  /** Absent in figures from before it was measured. */
  refusedShare?: number;
}
interface IngestFigures {
  options: { duration: number; warmup: number; connections: number; batchConnections: number; reuseServers: boolean };
  problems: string[];
  scenarios: Scenario[];
}

/** p99 in milliseconds, with a decimal below 10; none when no request completed in the measured run. */
const p99 = (s: Scenario) => (s.reqPerSec === 0 ? '–' : `${fmt(s.p99, s.p99 < 10 ? 1 : 0)} ms`);

/** bench/ingest.ts --json: each dialect scenario against the bare node:http server of the same run. */
export function ingestSummary(run: PartRun): PartSummary {
  const f = run.json as IngestFigures | null;
  if (f === null || !Array.isArray(f.scenarios)) return failed('Ingest', run, 'bench/ingest.ts printed no figures');
  const rate = (s: Scenario) => (s.eventsPerRequest === 1 ? `${fmt(s.reqPerSec)} req/s` : `${fmt(s.reqPerSec)} req/s = ${fmt(s.eventsPerSec)} events/s`);
  const rows: SummaryRow[] = f.scenarios.filter((s) => s.server === 'closeloop').map((s) => {
    const bare = f.scenarios.find((b) => b.server === 'bare' && b.kind === s.kind);
    const invalid = s.problems.length > 0 || (bare !== undefined && bare.problems.length > 0);
    return {
      benchmark: `Ingest: ${s.title}`,
      closeloop: `${rate(s)}${(s.refusedShare ?? 0) > 0 ? `; ${fmt(100 * s.refusedShare!, 1)} % of requests refused 503 + Retry-After (beyond what it commits)` : ''}`,
      baseline: bare === undefined ? '–' : `bare \`node:http\`: ${rate(bare)}`,
      ratio: invalid ? '**invalid** (see below)' : s.ratioToBare === null ? '–' : times(s.ratioToBare),
      p99: `${p99(s)}${bare === undefined ? '' : ` (bare ${p99(bare)})`}`,
      peakRss: `server ${bytes(s.serverPeakRss)}${bare === undefined ? '' : ` (bare ${bytes(bare.serverPeakRss)})`}; load generator ${bytes(s.benchPeakRss)}`,
    };
  });
  const o = f.options;
  const reset = f.scenarios.every((s) => s.peakReset);
  return {
    rows,
    notes: [
      `Ingest: autocannon on loopback, ${o.connections} connections for single events and ${o.batchConnections} for batches, ${o.duration} s per scenario after a ${o.warmup} s warm-up; `
      + `the bare server and closeloop (the real SQLite store, synchronous=FULL) each alone in a process of its own${o.reuseServers ? ', one per side for all scenarios' : ', a fresh one per scenario'}, the load generator in the bench process. `
      + `Peak RSS ${reset ? 'during each scenario' : 'since each process started'} (VmHWM).`,
    ],
    problems: f.problems,
  };
}
