import { ApiError, enc } from '../api.js';
import type { Page } from '../context.js';
import { append, badge, button, field, form, h, input, link, notice, table } from '../dom.js';
import type { El } from '../env.js';
import { fmtTime } from '../format.js';
import { go, href } from '../router.js';
import type { ConversionAnswer, Journey, StoredEvent } from '../types.js';
import { describeVisitorSessions } from './sessions.js';

const OUTCOME_LABEL = { attributed: 'Attributed', not_attributed: 'Not attributed', pending: 'Pending' } as const;

function conversionFacts(c: StoredEvent, ws: string): El {
  const row = (term: string, value: El | string | null) => (value === null ? null : h('div', {}, h('dt', {}, term), h('dd', {}, value)));
  return h('dl', { class: 'facts' },
    row('Name', c.name ?? '—'),
    row('Happened', fmtTime(c.occurredAt)),
    row('Received', fmtTime(c.receivedAt)),
    row('Dialect', c.source),
    row('Visitor', c.visitorId === null ? null : link(href(ws, 'journeys', [], { visitor: c.visitorId }), c.visitorId)),
    row('Session', c.sessionId),
    row('User', c.userDomain === null || c.userId === null ? null : link(href(ws, 'journeys', [], { domain: c.userDomain, user: c.userId }), `${c.userDomain} / ${c.userId}`)),
    row('Value', c.value === null ? null : `${c.value}${c.currency ? ` ${c.currency}` : ''}`),
    row('Event id', String(c.id)));
}

/** The journey of whoever the conversion names, to show the views and sessions that decided it. */
async function journeyOf(ctx: Parameters<Page>[0], c: StoredEvent): Promise<Journey | null> {
  const base = `/workspaces/${enc(ctx.ws)}`;
  if (c.userDomain !== null && c.userId !== null) return ctx.api.get<Journey>(`${base}/users/${enc(c.userDomain)}/${enc(c.userId)}`);
  if (c.visitorId !== null) return ctx.api.get<Journey>(`${base}/visitors/${enc(c.visitorId)}`);
  return null;
}

/** Look up a conversion by its idempotency key and say, in words, why it was or was not attributed. */
export const explainPage: Page = async (ctx) => {
  const key = ctx.route.query.get('key') ?? '';
  const keyInput = input({ value: key, autocomplete: 'off', spellcheck: 'false', required: true });
  const lookup = form(() => { if (keyInput.value.trim() !== '') go(href(ctx.ws, 'explain', [], { key: keyInput.value.trim() })); }, { class: 'inline-form', role: 'search', 'aria-label': 'Explain a conversion' },
    field('Idempotency key', keyInput, 'The conversion\'s actionId (Optimize), idempotencyKey (native) or order_id (Convultra, Web Analyzer).'),
    button('Explain', () => {}, { type: 'submit' }));
  const page = h('section', { class: 'explain' }, h('h1', {}, 'Explain a conversion'), lookup);
  if (key === '') return page;

  let answer: ConversionAnswer;
  try {
    answer = await ctx.api.get<ConversionAnswer>(`/workspaces/${enc(ctx.ws)}/conversions/${enc(key)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      page.append(notice('error', `No conversion has the idempotency key "${key}" in this workspace. Check the key, or look for it in `, link(href(ctx.ws, 'events', [], { type: 'conversion' }), 'the recent conversions'), '.'));
      return page;
    }
    throw err;
  }
  const c = answer.conversion;
  const journey = await journeyOf(ctx, c);
  append(page,
    h('div', { class: `outcome ${answer.outcome}` },
      h('p', { class: 'outcome-head' }, badge(OUTCOME_LABEL[answer.outcome], answer.outcome), answer.reason === null ? null : h('code', { class: 'reason' }, answer.reason)),
      h('p', { class: 'lead' }, answer.explanation)),
    h('h2', {}, 'The conversion'),
    conversionFacts(c, ctx.ws),
    answer.attributions.length === 0 ? null : table('Attributed to', ['Optimization', 'Variation', 'Viewed at', 'Visitor'],
      answer.attributions.map((a) => [link(href(ctx.ws, 'optimizations', [a.optimization]), a.optimization), a.variation, fmtTime(a.viewedAt), a.visitorId ?? '—'])),
    h('h2', {}, 'The views and sessions that decided it'),
    journey === null
      ? h('p', {}, 'The conversion names only a session id, so there is no visitor to show; its session\'s visitor is what attribution used.')
      : describeVisitorSessions(journey, answer, ctx.ws));
  return page;
};
