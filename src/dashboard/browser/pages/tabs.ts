import { h } from '../dom.js';
import type { El } from '../env.js';
import { href } from '../router.js';

/** Links between the pages of one section, the current one marked. */
export function tabs(label: string, ws: string, current: string, items: readonly (readonly [page: string, rest: string[], text: string])[]): El {
  return h('nav', { class: 'tabs', 'aria-label': label }, h('ul', {}, ...items.map(([page, rest, text]) => {
    const here = `${page}/${rest.join('/')}` === current;
    return h('li', {}, h('a', { href: href(ws, page, rest), 'aria-current': here ? 'page' : null }, text));
  })));
}

export const eventTabs = (ws: string, current: 'events' | 'rejections'): El =>
  tabs('Events and rejections', ws, `${current}/`, [['events', [], 'Events'], ['rejections', [], 'Rejections']]);
