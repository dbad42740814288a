import { AttributionRunner, optimizationResults, ResultsError } from '../attribution/index.js';
import { conversionAnswer, findConversion } from '../server/attribution-routes.js';
import { configFrom, iso, parse, pickWorkspace, table, UsageError, withAdmin, type Io } from './context.js';

export const ATTRIBUTE_HELP = `Usage: closeloop attribute [--workspace ID] [--until TIME] [--data ./data] [--json]

Runs attribution now over the events received up to --until (epoch ms or ISO 8601; default now)
and prints the run summary: conversions processed, attributed, not attributed, and what changed.`;

export const RESULTS_HELP = `Usage: closeloop results OPTIMIZATION [--workspace ID] [--goal NAME] [--from TIME] [--to TIME] [--json]

Prints the per-variation results of an optimization for a goal (default: its primary goal), from
the last attribution run: visitors, converters, conversion rate, value, lift with its 95 % interval,
p-value, chance to beat control, and the always-valid (sequential) p-value. Add --json for JSON.`;

export const EXPLAIN_HELP = `Usage: closeloop explain IDEMPOTENCY_KEY [--workspace ID] [--json]

Says why the conversion with that idempotency key (actionId, order_id, idempotencyKey) was or was
not attributed, in words and with its reason code.`;

/**
 * Progress of long work on stderr: a bar redrawn in place on a terminal, a plain line per step
 * otherwise (logs, CI). Small runs (under 10,000 items) stay quiet.
 */
function progressReporter(io: Io, label: string): ((done: number, total: number) => void) & { done: () => void } {
  let drawn = false;
  const report = (done: number, total: number): void => {
    if (total < 10_000) return;
    const pct = Math.floor((done / total) * 100);
    if (io.errIsTty) {
      const width = 30;
      const fill = Math.round((done / total) * width);
      io.errRaw(`\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${pct}% (${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} conversions)`);
      drawn = true;
    } else {
      io.err(`${label}: ${done}/${total} conversions (${pct}%)`);
    }
  };
  return Object.assign(report, { done: () => { if (drawn) io.errRaw('\n'); } });
}

function instant(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(n)) throw new UsageError(`${flag} must be epoch milliseconds or an ISO 8601 time such as 2026-01-15T00:00:00Z, got "${raw}".`);
  return n;
}

export async function attribute(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { workspace: { type: 'string', short: 'w' }, until: { type: 'string' } });
  if (values.help === true) {
    io.out(ATTRIBUTE_HELP);
    return 0;
  }
  const until = instant('--until', values.until);
  return withAdmin(configFrom(io, values), async (admin, store, clock) => {
    const ws = await pickWorkspace(admin, values.workspace);
    const progress = progressReporter(io, `attributing workspace ${ws}`);
    const summary = await new AttributionRunner(store, clock).run(ws, { ...(until === undefined ? {} : { until }), onProgress: progress });
    progress.done();
    if (values.json === true) io.out(JSON.stringify(summary, null, 2));
    else {
      io.out(`Run ${summary.runId} of workspace ${ws}: ${summary.conversionsProcessed} conversions, ${summary.attributed} attributed, ${summary.notAttributed} not attributed (${summary.durationMs} ms).`);
      io.out(`Changed since the last run: ${summary.changed} (${summary.newlyAttributed} newly attributed, ${summary.unattributed} no longer attributed).`);
    }
    return 0;
  });
}

const pct = (x: number | null | undefined, digits = 2): string => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(digits)}%`);
const num = (x: number | null | undefined, digits = 4): string => (x === null || x === undefined ? '-' : x.toFixed(digits));

export async function results(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { workspace: { type: 'string', short: 'w' }, goal: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } });
  const [key] = positionals;
  if (values.help === true || key === undefined) {
    io.out(RESULTS_HELP);
    return values.help === true ? 0 : 2;
  }
  const from = instant('--from', values.from);
  const to = instant('--to', values.to);
  return withAdmin(configFrom(io, values), async (admin, store) => {
    const ws = await pickWorkspace(admin, values.workspace);
    const o = await admin.optimization(ws, key);
    let r;
    try {
      r = await optimizationResults(store, o, { ...(values.goal !== undefined ? { goal: values.goal } : {}), ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
    } catch (err) {
      if (err instanceof ResultsError) throw new UsageError(err.message, 1);
      throw err;
    }
    if (values.json === true || !io.isTty) {
      io.out(JSON.stringify(r, null, 2));
      return 0;
    }
    io.out(`${r.optimization} — goal ${r.goal}${r.computedAt === null ? ' — no attribution run yet (closeloop attribute)' : `, as of the run at ${iso(r.computedAt)}`}`);
    io.out(table(['VARIATION', 'VISITORS', 'CONVERTERS', 'RATE', 'VALUE', 'LIFT', '95% CI', 'P-VALUE', 'P(BEAT CTRL)', 'SEQ. P'], r.variations.map((v) => [
      v.key, v.visitors, v.converters, pct(v.conversionRate), v.value.toFixed(2),
      v.lift === undefined ? '(control)' : pct(v.lift.relative, 1),
      v.lift?.ci95 === undefined || v.lift.ci95 === null ? '-' : `[${pct(v.lift.ci95[0])}, ${pct(v.lift.ci95[1])}]`,
      num(v.pValue), pct(v.chanceToBeatControl, 1), num(v.sequential?.pValue),
    ])));
    io.out(r.srm.flagged ? `Sample ratio mismatch: visitors do not match the configured weights (p = ${num(r.srm.pValue, 6)}); check the assignment before trusting these results.` : `Sample ratio check: p = ${num(r.srm.pValue)} (fine).`);
    return 0;
  });
}

export async function explainCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { workspace: { type: 'string', short: 'w' } });
  const [key] = positionals;
  if (values.help === true || key === undefined) {
    io.out(EXPLAIN_HELP);
    return values.help === true ? 0 : 2;
  }
  return withAdmin(configFrom(io, values), async (admin, store) => {
    const ws = await pickWorkspace(admin, values.workspace);
    const a = await conversionAnswer(store, ws, await findConversion(store, ws, key));
    if (values.json === true) io.out(JSON.stringify(a, null, 2));
    else io.out(`${key}: ${a.outcome}${a.reason === null ? '' : ` (${a.reason})`}\n${a.explanation}`);
    return 0;
  });
}
