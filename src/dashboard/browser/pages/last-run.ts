import { h, link, table } from '../dom.js';
import type { El } from '../env.js';
import { fmtDuration, fmtInt, fmtTime } from '../format.js';
import { href } from '../router.js';
import type { OutcomeBrief, RunDetail } from '../types.js';

/** An outcome in words; `none` says what a missing one means on that side of the change. */
const brief = (o: OutcomeBrief | null, none: string): string => {
  if (o === null) return none;
  if (o.outcome === 'attributed') return `attributed to ${o.attributions.map((a) => `${a.optimization}/${a.variation}`).join(', ')}`;
  return `not attributed (${o.reason ?? '?'})`;
};

/** What the last attribution run changed (its restatement), for this optimization: `run` holds the first page of the changes that concern it. */
export function lastRunSection(run: RunDetail | null, key: string, ws: string): El {
  const heading = h('h2', {}, 'What the last attribution run changed');
  if (run === null) return h('section', {}, heading, h('p', {}, 'No attribution run yet.'));
  const deltas = run.deltas.filter((d) => d.optimization === key);
  return h('section', { class: 'last-run' }, heading,
    h('p', {}, `Run ${run.id} (${run.mode}) finished at ${fmtTime(run.finishedAt)} in ${fmtDuration(run.finishedAt - run.startedAt)}: `,
      `${fmtInt(run.conversionsProcessed)} conversions processed, ${fmtInt(run.attributed)} attributed, ${fmtInt(run.notAttributed)} not. `,
      `It changed ${fmtInt(run.changed)} outcomes: ${fmtInt(run.newlyAttributed)} newly attributed, ${fmtInt(run.unattributed)} no longer attributed.`),
    deltas.length === 0
      ? h('p', {}, 'It changed nothing in this optimization.')
      : h('ul', { class: 'deltas' }, ...deltas.map((d) => h('li', {}, h('strong', {}, d.variation), `: ${d.conversions > 0 ? '+' : '−'}${fmtInt(Math.abs(d.conversions))} attributed conversion${Math.abs(d.conversions) === 1 ? '' : 's'}`))),
    run.changes.length === 0 ? null : table('Conversions this run restated', ['Event', 'Before', 'After'],
      run.changes.map((c) => [String(c.eventId), brief(c.before, 'new: no run had seen it'), brief(c.after, 'no longer a conversion')])),
    run.changesTotal > run.changes.length ? h('p', { class: 'muted' }, `and ${fmtInt(run.changesTotal - run.changes.length)} more.`) : null,
    h('p', {}, link(href(ws, 'explain'), 'Explain a conversion'), ' to see why it was or was not attributed.'));
}
