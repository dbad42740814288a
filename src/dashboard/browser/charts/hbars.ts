import { h } from '../dom.js';
import type { El } from '../env.js';

export interface Bar {
  label: string;
  value: number;
  /** What the bar says in words (screen readers read this, not the bar). */
  text: string;
  kind?: 'good' | 'bad' | 'neutral';
}

/** A horizontal bar chart as a list: each row its label, a bar scaled to `max`, and its figure. */
export function hbars(caption: string, bars: readonly Bar[], max = Math.max(0, ...bars.map((b) => b.value))): El {
  return h('figure', { class: 'hbars' },
    h('figcaption', {}, caption),
    bars.length === 0 ? h('p', { class: 'muted' }, 'No data yet.') : h('ul', {}, ...bars.map((b) => {
      const bar = h('span', { class: `bar ${b.kind ?? 'neutral'}` });
      bar.style.setProperty('width', `${max > 0 ? Math.max(0.5, (b.value / max) * 100) : 0}%`);
      return h('li', {}, h('span', { class: 'bar-label' }, b.label), h('span', { class: 'bar-track', 'aria-hidden': 'true' }, bar), h('span', { class: 'bar-text' }, b.text));
    })));
}
