import { bytes, fmt, times } from '../lib/format.js';
import type { PartRun } from '../lib/child.js';
import { failed, rootOf, type PartSummary, type SummaryRow } from './types.js';

/** What bench/attribution.ts printed, read back from its text. */
export interface AttributionFigures {
  scale: { events: number; views: number | null; conversions: number | null } | null;
  runs: { label: string; seconds: number; eventsPerSec: number | null; peakRss: number | null }[];
  baselines: { label: string; seconds: number }[];
  /** DuckDB loading the data into its tables (the counterpart of closeloop's indexing), when printed. */
  duckLoad: { label: string; seconds: number } | null;
}

const num = (s: string) => Number(s.replace(/,/g, ''));
const UNIT: Record<string, number> = { KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30 };
/** "4.00 s" or "850 ms" → seconds. */
const DURATION = /([\d][\d,]*(?:\.\d+)?)\s*(ms|s)\b/;
const seconds = (m: RegExpExecArray) => num(m[1]!) / (m[2] === 'ms' ? 1000 : 1);

/**
 * Reads bench/attribution.ts's output (it has no JSON mode; see its main()): the "generated …"
 * line for the scale, each "<run label>: <time>, <n> events/s, peak RSS <size>; …" line for a
 * run, and each "baseline, <label>: <time> …" line for a baseline. Lines it does not recognise
 * are ignored, so added output does not break it; a changed format shows as missing figures.
 */
export function parseAttribution(text: string): AttributionFigures {
  const figures: AttributionFigures = { scale: null, runs: [], baselines: [], duckLoad: null };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const generated = /^generated ([\d,]+) events\b(.*)$/.exec(line);
    if (generated !== null) {
      const views = /([\d,]+) views/.exec(generated[2]!);
      const conversions = /([\d,]+) conversions/.exec(generated[2]!);
      figures.scale = { events: num(generated[1]!), views: views === null ? null : num(views[1]!), conversions: conversions === null ? null : num(conversions[1]!) };
      continue;
    }
    const colon = line.indexOf(': ');
    if (colon < 0) continue;
    const label = line.slice(0, colon);
    const rest = line.slice(colon + 2);
    const time = DURATION.exec(rest);
    if (time === null || time.index > 0) continue; // a figure line starts with its time
    if (/^DuckDB loading\b/.test(label)) {
      figures.duckLoad = { label: label.replace(/ \(.*$/, ''), seconds: seconds(time) };
      continue;
    }
    const baseline = /^baseline,\s*(.+)$/i.exec(label);
    if (baseline !== null) {
      figures.baselines.push({ label: baseline[1]!, seconds: seconds(time) });
      continue;
    }
    const rss = /peak RSS ([\d.,]+)\s*(KB|MB|GB)/.exec(rest);
    if (rss === null) continue;
    const rate = /([\d,]+) events\/s/.exec(rest);
    figures.runs.push({ label, seconds: seconds(time), eventsPerSec: rate === null ? null : num(rate[1]!), peakRss: num(rss[1]!) * UNIT[rss[2]!]! });
  }
  return figures;
}

/** bench/attribution.ts: each timed run against the plain last-touch joins of the same run. */
export function attributionSummary(run: PartRun): PartSummary {
  const f = parseAttribution(run.stdout);
  if (run.code !== 0) return failed('Attribution', run, 'bench/attribution.ts failed');
  if (f.runs.length === 0 || f.baselines.length === 0) return failed('Attribution', run, 'could not read run and baseline times in bench/attribution.ts\'s output (has its format changed? see bench/summary/attribution.ts)');
  const scale = f.scale === null ? ''
    : f.scale.views !== null && f.scale.conversions !== null ? ` at ${compact(f.scale.views)} views / ${compact(f.scale.conversions)} conversions`
      : ` over ${compact(f.scale.events)} events`;
  const root = rootOf(run);
  // Indexing is weighed against DuckDB's load of the same rows into its tables (its counterpart), not against a join.
  const against = (r: AttributionFigures['runs'][number]) => (/^indexing\b/.test(r.label) && f.duckLoad !== null ? [f.duckLoad] : f.baselines);
  const rows: SummaryRow[] = f.runs.map((r) => ({
    benchmark: `Attribution${scale}: ${r.label}`,
    closeloop: `${r.seconds.toFixed(1)} s${r.eventsPerSec === null ? '' : ` (${fmt(r.eventsPerSec)} events/s)`}`,
    baseline: against(r).map((b) => `${b.label}: ${b.seconds.toFixed(2)} s`).join('; '),
    ratio: against(r).map((b) => `${times(r.seconds / b.seconds)} ${shortName(b.label)}'s time`).join(', '),
    p99: '–',
    peakRss: `run ${bytes(r.peakRss)}; bench process ${bytes(root?.peak ?? null)}`,
  }));
  return {
    rows,
    notes: ['Attribution: each run in a process of its own over a generated SQLite store (each timed three times on fresh copies of the store, the median shown; so are the baselines\' joins); the baselines compute only the plain last-touch join (no sessions, identity history, goal history, reasons or restatements), their load and index build not timed. The bench process generates the data and runs the baselines (DuckDB in-process).'],
    problems: [],
  };
}

/** 10M, 1.2M, 100k. */
function compact(n: number): string {
  if (n >= 1e6) return `${Number((n / 1e6).toFixed(1))}M`;
  if (n >= 1e3) return `${Number((n / 1e3).toFixed(1))}k`;
  return String(n);
}

/** "DuckDB ASOF last-touch join" → "DuckDB". */
const shortName = (label: string): string => label.split(/\s+/)[0]!;
