import { enc } from '../api.js';
import type { Page } from '../context.js';
import { badge, button, field, form, h, input, link } from '../dom.js';
import type { El } from '../env.js';
import { fmtDuration, fmtTime } from '../format.js';
import { go, href } from '../router.js';
import type { Journey, JourneyEvent } from '../types.js';

function describe(e: JourneyEvent, ws: string): El {
  switch (e.type) {
    case 'view': return h('span', {}, 'viewed ', h('strong', {}, e.variation ?? '?'), ` of ${e.optimization ?? '?'}`);
    case 'identify': return h('span', {}, `identified as ${e.userDomain ?? '?'} / ${e.userId ?? '?'}`);
    case 'pageview': return h('span', {}, 'viewed a page');
    default: {
      const o = e.outcome;
      const outcome = o === undefined ? null : o === 'pending'
        ? badge('pending', 'pending')
        : o.outcome === 'attributed'
          ? badge(`attributed to ${o.attributions.map((a) => `${a.optimization}/${a.variation}`).join(', ')}`, 'attributed')
          : badge(`not attributed: ${o.reason ?? '?'}`, 'not_attributed');
      const name = e.idempotencyKey === null ? h('strong', {}, e.name ?? '?') : link(href(ws, 'explain', [], { key: e.idempotencyKey }), h('strong', {}, e.name ?? '?'));
      return h('span', {}, name, e.value === null || e.value === undefined ? null : ` (${e.value})`, ' ', outcome);
    }
  }
}

/** Everything in time order, session starts and ends among the events. */
function timeline(j: Journey, ws: string): El {
  type Item = { at: number; order: number; el: El };
  const items: Item[] = [];
  for (const v of j.visitors) {
    v.sessions.forEach((s, i) => {
      const mark = (at: number, text: string) => h('li', { class: 'session-mark' }, h('time', {}, fmtTime(at)), ' ', text);
      items.push({ at: s.start, order: 0, el: mark(s.start, `Session ${i + 1} of ${v.visitorId} starts`) });
      items.push({ at: s.end, order: 2, el: mark(s.end, `Session ${i + 1} of ${v.visitorId} ends (${s.endedBy === 'max_duration' ? 'maximum length' : 'inactivity'}, after ${fmtDuration(s.end - s.start)})`) });
    });
  }
  for (const e of j.events) {
    items.push({ at: e.occurredAt, order: 1, el: h('li', { class: `ev ${e.type}` }, h('time', {}, fmtTime(e.occurredAt)), ' ', badge(e.type, 'type'), ' ',
      j.visitors.length > 1 && e.visitorId !== null ? h('span', { class: 'muted' }, `${e.visitorId}: `) : null, describe(e, ws)) });
  }
  items.sort((a, b) => a.at - b.at || a.order - b.order);
  return h('ol', { class: 'timeline' }, ...items.map((i) => i.el));
}

/** A visitor's or a user's journey: sessions, views, identities and conversions in time order. */
export const journeysPage: Page = async (ctx) => {
  const q = ctx.route.query;
  const visitor = q.get('visitor') ?? '';
  const domain = q.get('domain') ?? '';
  const user = q.get('user') ?? '';
  const visitorIn = input({ value: visitor, autocomplete: 'off', spellcheck: 'false' });
  const domainIn = input({ value: domain, autocomplete: 'off', spellcheck: 'false' });
  const userIn = input({ value: user, autocomplete: 'off', spellcheck: 'false' });
  const page = h('section', {}, h('h1', {}, 'Journeys'),
    h('div', { class: 'two-forms' },
      form(() => go(href(ctx.ws, 'journeys', [], { visitor: visitorIn.value.trim() })), { role: 'search', 'aria-label': 'A visitor\'s journey' },
        h('h2', {}, 'A visitor (one browser)'), field('Visitor id', visitorIn), button('Show visitor', () => {}, { type: 'submit' })),
      form(() => go(href(ctx.ws, 'journeys', [], { domain: domainIn.value.trim(), user: userIn.value.trim() })), { role: 'search', 'aria-label': 'A user\'s journey' },
        h('h2', {}, 'A user (every browser they used)'), field('User domain', domainIn, 'as in setUserId(domain, id), e.g. salesforce'), field('User id', userIn), button('Show user', () => {}, { type: 'submit' }))));
  const base = `/workspaces/${enc(ctx.ws)}`;
  let j: Journey;
  if (visitor !== '') j = await ctx.api.get<Journey>(`${base}/visitors/${enc(visitor)}`);
  else if (domain !== '' && user !== '') j = await ctx.api.get<Journey>(`${base}/users/${enc(domain)}/${enc(user)}`);
  else return page;
  const who = visitor !== '' ? `visitor ${visitor}` : `user ${domain} / ${user}`;
  const sessions = j.visitors.reduce((n, v) => n + v.sessions.length, 0);
  page.append(h('h2', {}, `Journey of ${who}`),
    h('p', {}, j.visitors.length === 0 && j.events.length === 0
      ? 'Nothing is known about them yet.'
      : `${j.visitors.length} visitor${j.visitors.length === 1 ? '' : 's'} (${j.visitors.map((v) => v.visitorId).join(', ') || 'none'}), ${sessions} session${sessions === 1 ? '' : 's'}, ${j.events.length} event${j.events.length === 1 ? '' : 's'}.`),
    timeline(j, ctx.ws));
  return page;
};
