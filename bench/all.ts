/**
 * Every benchmark in one run, each against a baseline measured in the same run, ending with a
 * markdown summary for the README's "Performance" section: the machine, the command, and per
 * benchmark the absolute figure, the baseline, the ratio, p99 latency and peak RSS.
 *
 *   npm run bench                 full scale: ingest 10 s per scenario, 500k store rows,
 *                                 attribution at 10M views / 1M conversions (roughly a quarter of
 *                                 an hour on 2 cores; attribution needs ~2 GB of RAM)
 *   npm run bench -- --quick      small scale, to check the harness (a few minutes at most):
 *                                 ingest 1 s per scenario, 50k store rows, attribution at 1M views
 *
 * Options: --only=snippet,store,ingest,attribution (parts to run), --out=file (also write the
 * summary there), --data-dir=dir (where the stores are created; put it on the disk you mean to
 * measure). Each part is its own script, run as a child process (`npm run bench:<part>` runs one
 * alone); this process watches the peak RSS of each part's process tree.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runPart, type PartRun } from './lib/child.js';
import { markdownTable } from './lib/format.js';
import { describeMachine, machine } from './lib/machine.js';
import { attributionSummary } from './summary/attribution.js';
import { ingestSummary } from './summary/ingest.js';
import { snippetSummary } from './summary/snippet.js';
import { storeSummary } from './summary/store.js';
import type { PartSummary } from './summary/types.js';

const PARTS = ['snippet', 'store', 'ingest', 'attribution'] as const;
type Part = (typeof PARTS)[number];

const { values: argv } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, out: { type: 'string' }, 'data-dir': { type: 'string' } } });
const quick = argv.quick === true;
const parts = argv.only === undefined ? [...PARTS] : argv.only.split(',').map((p) => p.trim());
const unknown = parts.find((p) => !(PARTS as readonly string[]).includes(p));
if (unknown !== undefined) throw new Error(`--only takes ${PARTS.join(', ')}, got "${unknown}"`);
const dataDir = argv['data-dir'] === undefined ? [] : [`--data-dir=${path.resolve(argv['data-dir'])}`];

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
/** How each part runs, and how its output becomes summary rows. */
const PLAN: Record<Part, { script: string; args: string[]; env?: NodeJS.ProcessEnv; summarise: (run: PartRun) => PartSummary }> = {
  snippet: { script: here('./snippet-size.ts'), args: ['--json', '--no-fail'], summarise: snippetSummary },
  store: { script: here('./store-append.ts'), args: ['--json', ...(quick ? ['--quick'] : []), ...dataDir], summarise: storeSummary },
  ingest: { script: here('./ingest.ts'), args: ['--json', ...(quick ? ['--quick'] : []), ...dataDir], summarise: ingestSummary },
  // bench/attribution.ts creates its store under the system's temporary directory.
  attribution: {
    script: here('./attribution.ts'), args: quick ? [] : ['--full'], summarise: attributionSummary,
    ...(argv['data-dir'] === undefined ? {} : { env: { ...process.env, TMPDIR: path.resolve(argv['data-dir']) } }),
  },
};

const m = machine();
/** The command as the README should show it (without --out, which changes no figure). */
const flags = [...(quick ? ['--quick'] : []), ...(argv.only === undefined ? [] : [`--only=${argv.only}`]), ...(argv['data-dir'] === undefined ? [] : [`--data-dir=${argv['data-dir']}`])];
const command = `npm run bench${flags.length > 0 ? ` -- ${flags.join(' ')}` : ''}`;
const startedAt = new Date();
console.log(`closeloop benchmarks (${quick ? 'quick' : 'full'} scale) — ${describeMachine(m)}, load average ${m.loadavg.join(' ')}`);
const summaries: { part: Part; summary: PartSummary; seconds: number }[] = [];
for (const part of parts as Part[]) {
  const plan = PLAN[part];
  console.log(`\n=== ${part}: ${path.relative(process.cwd(), plan.script)} ${plan.args.join(' ')}`.trimEnd());
  const run = await runPart(plan.script, plan.args, plan.env);
  summaries.push({ part, summary: plan.summarise(run), seconds: run.seconds });
  console.log(`=== ${part}: ${run.seconds.toFixed(0)} s, exit ${run.code ?? run.signal}`);
}

const rows = summaries.flatMap((s) => s.summary.rows);
const problems = summaries.flatMap((s) => s.summary.problems);
const load = machine().loadavg;
const markdown = [
  `Measured with \`${command}\` on ${describeMachine(m)}, ${startedAt.toISOString().slice(0, 10)} `
  + `(load average ${m.loadavg[0]} at the start, ${load[0]} at the end; ${Math.round(summaries.reduce((n, s) => n + s.seconds, 0) / 60)} min in all). `
  + 'Every baseline was measured in the same run on the same machine; a ratio is closeloop ÷ baseline.'
  + (quick ? ' **Quick scale: a check of the harness, not figures to publish.**' : ''),
  '',
  ...markdownTable(['Benchmark', 'closeloop', 'Baseline (same run)', 'Ratio', 'p99 latency', 'Peak RSS'],
    rows.map((r) => [r.benchmark, r.closeloop, r.baseline, r.ratio, r.p99, r.peakRss])),
  ...summaries.flatMap((s) => s.summary.notes.flatMap((note) => ['', note])),
  ...(problems.length === 0 ? [] : ['', 'Problems in this run (its figures do not stand):', ...problems.map((p) => `- ${p}`)]),
];
const text = `${markdown.join('\n')}\n`;
console.log('\n=== summary (markdown, for the README\'s "Performance" section)\n');
process.stdout.write(text);
if (argv.out !== undefined) {
  fs.writeFileSync(argv.out, text);
  console.log(`\n(also written to ${argv.out})`);
}
process.exitCode = problems.length === 0 ? 0 : 1;
