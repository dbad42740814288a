import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h, table } from '../dom.js';
import { w, type El } from '../env.js';
import { fmtDay, fmtInt, fmtPct, fmtTime } from '../format.js';
import type { Series } from '../types.js';

/** Colours that stay apart for common colour-vision deficiencies (Okabe–Ito). */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

/**
 * The conversion rate of each variation over time, cumulated (uPlot), and the same figures as a
 * table for those who cannot see the chart. Drawn once the element is in the page (it needs a
 * width); `onLeave` stops following the window's size.
 */
export function rateChart(series: Series, onLeave: (fn: () => void) => void): El {
  const keys = series.points[0]?.variations.map((v) => v.key) ?? [];
  const plot = h('div', { class: 'chart', role: 'img', 'aria-label': `Cumulative conversion rate per variation by ${series.interval}; the figures are in the table below.` });
  const data: uPlot.AlignedData = [
    series.points.map((p) => p.at / 1000),
    ...keys.map((_, i) => series.points.map((p) => (p.variations[i]?.visitors ? p.variations[i]!.conversionRate * 100 : null))),
  ];
  w.requestAnimationFrame(() => {
    const width = () => Math.max(280, plot.clientWidth);
    const chart = new uPlot({
      width: width(),
      height: 260,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      // The legend names the lines; the figures are in the table below, not under a moving cursor.
      legend: { live: false },
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] } },
      axes: [{}, { label: 'conversion rate (%)', values: (_u, ticks) => ticks.map((t) => `${t.toFixed(1)} %`), size: 60 }],
      series: [{ label: 'UTC' }, ...keys.map((key, i) => ({ label: key, stroke: PALETTE[i % PALETTE.length]!, width: 2, points: { show: true, size: 5 }, value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${v.toFixed(2)} %`) }))],
    }, data, plot as unknown as ConstructorParameters<typeof uPlot>[2]);
    const resize = () => chart.setSize({ width: width(), height: 260 });
    w.addEventListener('resize', resize);
    onLeave(() => { w.removeEventListener('resize', resize); chart.destroy(); });
  });
  const label = (at: number) => (series.interval === 'day' ? fmtDay(at - 1) : fmtTime(at));
  return h('div', { class: 'rate-chart' }, plot,
    h('details', {}, h('summary', {}, 'Chart data'),
      table('Cumulative conversion rate over time', [series.interval === 'day' ? 'Day (UTC)' : 'Up to', ...keys],
        series.points.map((p) => [label(p.at), ...p.variations.map((v) => `${fmtPct(v.conversionRate)} (${fmtInt(v.converters)}/${fmtInt(v.visitors)})`)]), keys.map((_, i) => i + 1))));
}
