import { enc } from '../api.js';
import { hbars, type Bar } from '../charts/hbars.js';
import type { Page } from '../context.js';
import { h, table } from '../dom.js';
import { fmtDuration, fmtInt, fmtPct, fmtTime } from '../format.js';
import type { DataQuality, Match } from '../types.js';

/** Match rates as bars: green from 90 %, red under 50 %. */
const matchBars = (m: Record<string, Match>): Bar[] => Object.entries(m)
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([label, x]) => ({
    label, value: x.matchRate ?? 0, text: `${fmtPct(x.matchRate, 1)} (${fmtInt(x.matched)} of ${fmtInt(x.conversions)})`,
    kind: x.matchRate === null ? 'neutral' : x.matchRate >= 0.9 ? 'good' : x.matchRate < 0.5 ? 'bad' : 'neutral',
  }));

/** Match rate per userDomain and dialect, ingestion lag, rejections by reason. */
export const qualityPage: Page = async ({ api, ws }) => {
  const q = await api.get<DataQuality>(`/workspaces/${enc(ws)}/data-quality`);
  const lag = Object.entries(q.ingestionLagMs).sort(([a], [b]) => a.localeCompare(b));
  const rejections = Object.entries(q.rejections).sort(([, a], [, b]) => b - a);
  const overall = q.matchRate.overall;
  return h('section', { class: 'quality' },
    h('h1', {}, 'Data quality'),
    h('p', { class: 'muted' }, `Computed at ${fmtTime(q.computedAt)}. A conversion matches when attribution can tie it to a visitor (rule 2 of the attribution rules).`),
    h('p', { class: 'big-figure' }, h('strong', {}, fmtPct(overall.matchRate, 1)), ` of ${fmtInt(overall.conversions)} conversions match a visitor.`),
    h('div', { class: 'chart-grid' },
      hbars('Match rate by userDomain', matchBars(q.matchRate.byUserDomain), 1),
      hbars('Match rate by dialect', matchBars(q.matchRate.byDialect), 1),
      hbars('Ingestion lag by dialect (90th percentile: received − happened)', lag.map(([d, l]) => ({ label: d, value: l.p90 ?? 0, text: fmtDuration(l.p90) }))),
      hbars('Rejections by reason', rejections.map(([code, n]) => ({ label: code, value: n, text: fmtInt(n), kind: 'bad' })))),
    lag.length === 0 ? null : table('Ingestion lag by dialect', ['Dialect', 'Median', '90th percentile', '99th percentile', 'Longest'],
      lag.map(([d, l]) => [d, fmtDuration(l.p50), fmtDuration(l.p90), fmtDuration(l.p99), fmtDuration(l.max)]), [1, 2, 3, 4]));
};
