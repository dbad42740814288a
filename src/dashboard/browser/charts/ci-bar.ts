import { h } from '../dom.js';
import type { El } from '../env.js';
import { fmtPp } from '../format.js';
import type { Interval } from '../types.js';

/** The common scale of a set of intervals: always shows 0, with a margin either side. */
export function scaleFor(intervals: readonly (Interval | null | undefined)[]): (x: number) => number {
  let lo = 0;
  let hi = 0;
  for (const i of intervals) {
    if (!i) continue;
    lo = Math.min(lo, i[0]);
    hi = Math.max(hi, i[1]);
  }
  const pad = (hi - lo) * 0.08 || 0.01;
  [lo, hi] = [lo - pad, hi + pad];
  return (x) => ((x - lo) / (hi - lo)) * 100;
}

const pct = (n: number) => `${n.toFixed(3)}%`;

/**
 * A 95 % interval of the lift drawn as a bar on the shared scale, with 0 marked: green when the
 * whole interval is above 0, red when below, grey when it spans 0. The text beside it says the
 * same for those who do not see the bar.
 */
export function ciBar(ci: Interval | null | undefined, estimate: number | null | undefined, scale: (x: number) => number): El {
  if (!ci || estimate === null || estimate === undefined) return h('span', { class: 'muted' }, 'not enough data');
  const kind = ci[0] > 0 ? 'up' : ci[1] < 0 ? 'down' : 'flat';
  const track = h('span', { class: `ci-track ${kind}`, 'aria-hidden': 'true' });
  const zero = h('span', { class: 'ci-zero' });
  const range = h('span', { class: 'ci-range' });
  const point = h('span', { class: 'ci-point' });
  zero.style.setProperty('left', pct(scale(0)));
  range.style.setProperty('left', pct(scale(ci[0])));
  range.style.setProperty('width', pct(Math.max(0.5, scale(ci[1]) - scale(ci[0]))));
  point.style.setProperty('left', pct(scale(estimate)));
  track.append(zero, range, point);
  return h('span', { class: 'ci' }, track, h('span', { class: 'ci-text' }, `${fmtPp(ci[0])} to ${fmtPp(ci[1])}`));
}
