import { enc, type Query } from '../api.js';
import type { Ctx, Page } from '../context.js';
import { badge, button, field, form, h, input, link, select, table, type Child } from '../dom.js';
import { w, type El } from '../env.js';
import { fmtTime } from '../format.js';
import { go, href } from '../router.js';
import type { StoredEvent } from '../types.js';
import { eventTabs } from './tabs.js';

const TYPES = ['pageview', 'view', 'identify', 'conversion', 'custom'];
const DIALECTS = ['native', 'optimize', 'convultra', 'webanalyzer', 'collect'];
const FILTERS = ['type', 'name', 'dialect', 'visitorId', 'userDomain', 'userId'] as const;
const PAGE = 100;
/** How often the live tail asks for new events. */
const LIVE_EVERY_MS = 5000;

function detail(e: StoredEvent, ws: string): Child {
  const parts: Child[] = [];
  if (e.optimization !== null) parts.push(`${e.optimization} / ${e.variation ?? '?'}`);
  if (e.value !== null) parts.push(`${e.value}${e.currency ? ` ${e.currency}` : ''}`);
  if (e.idempotencyKey !== null) parts.push(e.type === 'conversion' || e.type === 'custom' ? link(href(ws, 'explain', [], { key: e.idempotencyKey }), `key ${e.idempotencyKey}`) : `key ${e.idempotencyKey}`);
  if (e.context?.url) parts.push(e.context.url);
  return h('span', { class: 'detail' }, ...parts.flatMap((p, i) => (i === 0 ? [p] : [' · ', p])));
}

function rows(events: StoredEvent[], ws: string, newerThan: number): Child[][] {
  return events.map((e) => [
    h('span', { class: e.id > newerThan ? 'new' : null }, fmtTime(e.occurredAt)),
    badge(e.type, 'type'), e.name ?? '—', e.source,
    e.visitorId === null ? '—' : link(href(ws, 'journeys', [], { visitor: e.visitorId }), e.visitorId),
    e.userDomain === null || e.userId === null ? '—' : link(href(ws, 'journeys', [], { domain: e.userDomain, user: e.userId }), `${e.userDomain} / ${e.userId}`),
    detail(e, ws), fmtTime(e.receivedAt)]);
}

function filterForm(ctx: Ctx, q: Query): El {
  const type = select([['', 'any type'], ...TYPES.map((t) => [t, t] as const)], String(q.type ?? ''));
  const dialect = select([['', 'any dialect'], ...DIALECTS.map((d) => [d, d] as const)], String(q.dialect ?? ''));
  const text = (k: string) => input({ value: String(q[k] ?? ''), autocomplete: 'off', spellcheck: 'false' });
  const [name, visitorId, userDomain, userId] = [text('name'), text('visitorId'), text('userDomain'), text('userId')];
  const apply = () => go(href(ctx.ws, 'events', [], { type: type.value, name: name.value.trim(), dialect: dialect.value, visitorId: visitorId.value.trim(), userDomain: userDomain.value.trim(), userId: userId.value.trim() }));
  return form(apply, { class: 'filters', 'aria-label': 'Filter events' },
    field('Type', type), field('Name', name), field('Dialect', dialect), field('Visitor id', visitorId), field('User domain', userDomain), field('User id', userId),
    h('div', { class: 'actions' }, button('Apply filters', () => {}, { type: 'submit' }), link(href(ctx.ws, 'events'), 'Clear')));
}

/** A live tail of the newest events, filtered; older pages on demand. */
export const eventsPage: Page = async (ctx) => {
  const q: Query = Object.fromEntries(FILTERS.map((k) => [k, ctx.route.query.get(k) ?? undefined]));
  const path = `/workspaces/${enc(ctx.ws)}/events`;
  const load = (after?: number) => ctx.api.get<{ events: StoredEvent[]; next: number | null }>(path, { ...q, limit: PAGE, after });
  let first = await load();
  let older: StoredEvent[] = [];
  let next = first.next;
  let newest = first.events[0]?.id ?? 0;
  let seen = newest;
  const list = h('div', { 'aria-live': 'off' });
  const status = h('p', { class: 'muted', role: 'status' });
  const more = button('Load older events', () => {
    if (next === null) return;
    void load(next).then((p) => { older = [...older, ...p.events]; next = p.next; render(); });
  }, { class: 'secondary' });
  const render = () => {
    const all = [...first.events, ...older];
    list.replaceChildren(all.length === 0
      ? h('p', {}, 'No events match.')
      : table('Events, newest first', ['Happened', 'Type', 'Name', 'Dialect', 'Visitor', 'User', 'Detail', 'Received'], rows(all, ctx.ws, seen)));
    more.hidden = next === null;
    status.textContent = `${all.length} event${all.length === 1 ? '' : 's'} shown${live ? '; new ones appear every 5 seconds' : ''}.`;
  };
  let live = true;
  let timer: number | undefined;
  const refresh = async () => {
    const page = await load();
    seen = newest;
    newest = Math.max(newest, page.events[0]?.id ?? 0);
    first = page;
    render();
  };
  const toggle = button('Pause live updates', () => {
    live = !live;
    toggle.textContent = live ? 'Pause live updates' : 'Resume live updates';
    toggle.setAttribute('aria-pressed', String(!live));
    if (live) { void refresh(); timer = w.setInterval(() => void refresh(), LIVE_EVERY_MS); } else w.clearInterval(timer);
    render();
  }, { class: 'secondary', 'aria-pressed': 'false' });
  timer = w.setInterval(() => void refresh(), LIVE_EVERY_MS);
  ctx.onLeave(() => w.clearInterval(timer));
  render();
  return h('section', {}, h('h1', {}, 'Events'), eventTabs(ctx.ws, 'events'), filterForm(ctx, q),
    h('div', { class: 'toolbar' }, toggle, button('Refresh now', () => void refresh(), { class: 'secondary' })), status, list, more);
};
