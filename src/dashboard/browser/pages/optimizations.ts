import type { Page } from '../context.js';
import { badge, h, link, table } from '../dom.js';
import { fmtTime } from '../format.js';
import { href } from '../router.js';
import type { Optimization } from '../types.js';

/** Every optimization with its status; each links to its results. */
export const optimizationsPage: Page = async ({ api, ws }) => {
  const { optimizations } = await api.get<{ optimizations: Optimization[] }>(`/workspaces/${encodeURIComponent(ws)}/optimizations`);
  const heading = h('h1', {}, 'Optimizations');
  if (optimizations.length === 0) {
    return h('section', {}, heading, h('p', {}, 'No optimizations yet. ', link(href(ws, 'settings', ['optimizations']), 'Create one in Settings'), ' once its goals exist.'));
  }
  const order = { running: 0, paused: 1, ended: 2 } as const;
  const sorted = [...optimizations].sort((a, b) => order[a.status] - order[b.status] || b.createdAt - a.createdAt);
  return h('section', {}, heading,
    table('Optimizations', ['Optimization', 'Status', 'Variations', 'Goals', 'Created'], sorted.map((o) => [
      link(href(ws, 'optimizations', [o.key]), o.name, o.name !== o.key ? h('span', { class: 'muted' }, ` (${o.key})`) : null),
      badge(o.status),
      o.variations.map((v) => (v.key === o.control ? `${v.key} (control)` : v.key)).join(', '),
      o.goals.map((g) => (g === o.primaryGoal ? `${g} (primary)` : g)).join(', '),
      fmtTime(o.createdAt),
    ])));
};
