import { ApiError, enc } from '../api.js';
import type { Page } from '../context.js';
import { button, field, form, h, input, notice, table } from '../dom.js';
import type { El } from '../env.js';
import { fmtTime } from '../format.js';
import type { Goal } from '../types.js';

const message = (err: unknown) => (err instanceof ApiError ? err.message : String(err));

/** A goal's names, oldest first, each with the interval it was valid in. */
function history(g: Goal): El {
  return h('ol', { class: 'history' }, ...g.history.map((n) => h('li', {}, h('code', {}, n.apiName), ' ',
    h('span', { class: 'muted' }, n.validTo === null ? `since ${fmtTime(n.validFrom)} (current)` : `${fmtTime(n.validFrom)} – ${fmtTime(n.validTo)}`))));
}

/** Goals: create, rename (the old name stays in the history), and their name history. */
export const goalsSettings: Page = async (ctx) => {
  const base = `/workspaces/${enc(ctx.ws)}/goals`;
  const { goals } = await ctx.api.get<{ goals: Goal[] }>(base);
  const apiName = input({ required: true, autocomplete: 'off', spellcheck: 'false' });
  const name = input({ autocomplete: 'off' });
  const status = h('div', { 'aria-live': 'polite' });
  const create = async () => {
    try {
      await ctx.api.post<Goal>(base, { apiName: apiName.value.trim(), ...(name.value.trim() !== '' ? { name: name.value.trim() } : {}) });
      ctx.reload();
    } catch (err) {
      status.replaceChildren(notice('error', message(err)));
    }
  };
  const renameForm = (g: Goal): El => {
    const next = input({ autocomplete: 'off', spellcheck: 'false', value: g.apiName ?? '' });
    const out = h('div', { 'aria-live': 'polite' });
    return form(() => {
      ctx.api.patch<Goal>(`${base}/${g.id}`, { apiName: next.value.trim() }).then(() => ctx.reload(), (err: unknown) => out.replaceChildren(notice('error', message(err))));
    }, { class: 'inline-form compact', 'aria-label': `Rename goal ${g.name}` }, field(`New API name for ${g.name}`, next), button('Rename', () => {}, { type: 'submit' }), out);
  };
  return h('div', {},
    h('h2', {}, 'New goal'),
    h('p', { class: 'muted' }, 'A conversion counts for a goal when its name (eventName, apiName, event_type, name) is the goal\'s API name at the time it happened.'),
    form(() => void create(), { class: 'inline-form', 'aria-label': 'New goal' }, field('API name', apiName, 'as your conversions are named, e.g. application-accepted'), field('Display name (optional)', name), button('Create goal', () => {}, { type: 'submit' })),
    status,
    h('h2', {}, 'Goals'),
    goals.length === 0 ? h('p', {}, 'No goals yet.') : table('Goals', ['Goal', 'API name', 'Name history', 'Rename'],
      goals.map((g) => [h('span', {}, g.name, h('span', { class: 'muted' }, ` #${g.id}`)), h('code', {}, g.apiName ?? '—'), history(g), renameForm(g)])));
};
