/** The frame around every workspace page: skip link, header, workspace switcher, navigation. */
import { button, h, select, uid } from './dom.js';
import type { El } from './env.js';
import { go, href } from './router.js';

/** The main sections; `match` lists the pages that belong to each. */
export const SECTIONS = [
  { page: 'optimizations', label: 'Optimizations', match: ['optimizations'] },
  { page: 'explain', label: 'Explain', match: ['explain'] },
  { page: 'events', label: 'Events', match: ['events', 'rejections'] },
  { page: 'journeys', label: 'Journeys', match: ['journeys'] },
  { page: 'quality', label: 'Data quality', match: ['quality'] },
  { page: 'settings', label: 'Settings', match: ['settings'] },
] as const;

export interface ShellParts {
  root: El;
  main: El;
}

/** The page frame for workspace `ws`, with `page` marked as the current section. */
export function shell(ws: string, page: string, workspaces: readonly string[], signOut: () => void): ShellParts {
  const main = h('main', { id: 'main', tabindex: -1 });
  const switchId = uid('ws');
  const picker = select(workspaces.map((id) => [id, id] as const), ws, { id: switchId });
  picker.addEventListener('change', () => go(href(picker.value, page === 'settings' ? 'settings' : page)));
  const nav = h('nav', { 'aria-label': 'Sections' }, h('ul', {}, ...SECTIONS.map((s) => h('li', {},
    h('a', { href: href(ws, s.page), 'aria-current': (s.match as readonly string[]).includes(page) ? 'page' : null }, s.label)))));
  const header = h('header', { class: 'top' },
    h('a', { class: 'brand', href: '#/' }, 'closeloop'),
    h('div', { class: 'ws-switch' }, h('label', { for: switchId }, 'Workspace'), picker),
    button('Sign out', signOut, { class: 'secondary sign-out' }),
    nav);
  const skip = h('a', { class: 'skip', href: '#main' }, 'Skip to content');
  // The skip link must move focus, not the route: hash links are routes here.
  skip.addEventListener('click', (e) => { e.preventDefault(); main.focus(); });
  const root = h('div', { class: 'app' }, skip, header, main);
  return { root, main };
}
