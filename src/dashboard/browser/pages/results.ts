import { ApiError, enc } from '../api.js';
import { ciBar, scaleFor } from '../charts/ci-bar.js';
import { rateChart } from '../charts/rate-chart.js';
import type { Ctx, Page } from '../context.js';
import { badge, button, field, h, link, notice, select, table } from '../dom.js';
import type { El } from '../env.js';
import { fmtInt, fmtMoney, fmtP, fmtPct, fmtPp, fmtTime } from '../format.js';
import { go, href } from '../router.js';
import type { Optimization, Results, RunDetail, RunSummary, Series } from '../types.js';
import { lastRunSection } from './last-run.js';

/** Relative lift as a signed percentage: 0.15 → "+15.0 %". */
const rel = (r: number | null | undefined) => (r === null || r === undefined ? null : h('span', { class: 'sub' }, `${r >= 0 ? '+' : '−'}${Math.abs(r * 100).toFixed(1)} %`));

function resultsTable(r: Results, control: string): El {
  const scale = scaleFor(r.variations.map((v) => v.lift?.ci95));
  return table(`Results for goal ${r.goal}`, ['Variation', 'Visitors', 'Converters', 'Conversion rate', 'Value', 'Lift', '95 % interval of the lift', 'p-value', 'Sequential p-value', 'Chance to beat control'],
    r.variations.map((v) => v.key === control
      ? [h('span', {}, v.key, ' ', badge('control', 'muted')), fmtInt(v.visitors), fmtInt(v.converters), fmtPct(v.conversionRate), fmtMoney(v.value), '—', '—', '—', '—', '—']
      : [v.key, fmtInt(v.visitors), fmtInt(v.converters), fmtPct(v.conversionRate), fmtMoney(v.value),
        h('span', {}, fmtPp(v.lift?.absolute), rel(v.lift?.relative)), ciBar(v.lift?.ci95, v.lift?.absolute, scale),
        fmtP(v.pValue), fmtP(v.sequential?.pValue), fmtPct(v.chanceToBeatControl, 1)]),
    [1, 2, 3, 4, 5, 7, 8, 9]);
}

function srmWarning(r: Results): El | null {
  if (!r.srm.flagged) return null;
  return notice('warn', h('strong', {}, 'Sample ratio mismatch. '),
    `Visitors are not split between the variations as their weights say (chi-square p = ${fmtP(r.srm.pValue)}). `,
    'Something assigns or records views unevenly; check that before trusting these results.');
}

/** One optimization's results for a goal: the table, the rate over time, and what the last run changed. */
export const resultsPage: Page = async (ctx: Ctx) => {
  const { api, ws, route } = ctx;
  const key = route.rest[0]!;
  const base = `/workspaces/${enc(ws)}/optimizations/${enc(key)}`;
  const goal = route.query.get('goal') ?? undefined;
  const [o, results, series, runs] = await Promise.all([
    api.get<Optimization>(base),
    api.get<Results>(`${base}/results`, { goal }),
    api.get<Series>(`${base}/results/series`, { goal }).catch((err: unknown) => (err instanceof ApiError ? err : Promise.reject(err))),
    api.get<{ runs: RunSummary[] }>(`/workspaces/${enc(ws)}/attribution/runs`, { limit: 1 }),
  ]);
  const last = runs.runs[0];
  // The changes that concern this optimization, the first 50 of them: a first run restates every conversion.
  const run = last === undefined ? null : await api.get<RunDetail>(`/workspaces/${enc(ws)}/attribution/runs/${last.id}`, { optimization: key, limit: 50 });

  const goalPick = select(o.goals.map((g) => [g, g === o.primaryGoal ? `${g} (primary)` : g] as const), results.goal);
  goalPick.addEventListener('change', () => go(href(ws, 'optimizations', [key], goalPick.value === o.primaryGoal ? {} : { goal: goalPick.value })));
  const runStatus = h('div', { 'aria-live': 'polite' });
  const runNow = button('Run attribution now', () => {
    runNow.disabled = true;
    runStatus.replaceChildren(h('span', { role: 'status' }, 'Running attribution…'));
    api.post(`/workspaces/${enc(ws)}/attribution/run`).then(() => ctx.reload(), (err: unknown) => {
      runNow.disabled = false;
      runStatus.replaceChildren(notice('error', err instanceof Error ? err.message : String(err)));
    });
  }, { class: 'secondary' });

  return h('section', { class: 'results' },
    h('p', { class: 'crumbs' }, link(href(ws, 'optimizations'), 'Optimizations'), ' / ', key),
    h('div', { class: 'title-row' }, h('h1', {}, o.name), badge(o.status)),
    h('div', { class: 'toolbar' }, field('Goal', goalPick), runNow),
    h('p', { class: 'muted' }, results.computedAt === null
      ? 'No attribution run has finished yet: these figures count views only. Run attribution to count conversions.'
      : `From the attribution run that finished at ${fmtTime(results.computedAt)}. Weights: ${o.variations.map((v) => `${v.key} ${v.weight}`).join(', ')}.`),
    runStatus,
    srmWarning(results),
    h('h2', {}, 'Per variation'),
    resultsTable(results, o.control),
    h('h2', {}, 'Conversion rate over time'),
    series instanceof ApiError ? notice('info', `No chart: ${series.message}`) : rateChart(series, ctx.onLeave),
    lastRunSection(run, key, ws));
};
