import { ApiError, enc } from '../api.js';
import type { Page } from '../context.js';
import { badge, button, field, form, h, input, link, notice, select, table, uid } from '../dom.js';
import type { El, Input } from '../env.js';
import { fmtTime } from '../format.js';
import { href } from '../router.js';
import type { Goal, Optimization } from '../types.js';

const message = (err: unknown) => (err instanceof ApiError ? err.message : String(err));
const STATUSES = [['running', 'running'], ['paused', 'paused'], ['ended', 'ended']] as const;

/** "control, bold:2" → variations with weights. */
export function parseVariations(text: string): { key: string; weight?: number }[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    const [key = '', weight] = s.split(':').map((x) => x.trim());
    return weight === undefined || weight === '' ? { key } : { key, weight: Number(weight) };
  });
}

/** Optimizations: create one, and change the status of each. */
export const optimizationsSettings: Page = async (ctx) => {
  const base = `/workspaces/${enc(ctx.ws)}`;
  const [{ optimizations }, { goals }] = await Promise.all([
    ctx.api.get<{ optimizations: Optimization[] }>(`${base}/optimizations`),
    ctx.api.get<{ goals: Goal[] }>(`${base}/goals`),
  ]);
  const names = goals.map((g) => g.apiName).filter((n): n is string => n !== null);
  const key = input({ required: true, autocomplete: 'off', spellcheck: 'false' });
  const name = input({ autocomplete: 'off' });
  const variations = input({ required: true, autocomplete: 'off', spellcheck: 'false', placeholder: 'control, bold' });
  const boxes = names.map((n) => [n, input({ type: 'checkbox', id: uid('goal'), value: n })] as const);
  const primary = select([['', 'the first goal ticked'], ...names.map((n) => [n, n] as const)], '');
  const status = h('div', { 'aria-live': 'polite' });
  const create = async () => {
    const ticked = boxes.filter(([, b]) => (b as Input).checked).map(([n]) => n);
    try {
      await ctx.api.post(`${base}/optimizations`, {
        key: key.value.trim(), ...(name.value.trim() !== '' ? { name: name.value.trim() } : {}), variations: parseVariations(variations.value),
        goals: ticked, ...(primary.value !== '' ? { primaryGoal: primary.value } : {}),
      });
      ctx.reload();
    } catch (err) {
      status.replaceChildren(notice('error', message(err)));
    }
  };
  const statusCell = (o: Optimization): El => {
    const pick = select(STATUSES, o.status, { 'aria-label': `Status of ${o.name}` });
    const out = h('span', { 'aria-live': 'polite' });
    pick.addEventListener('change', () => {
      ctx.api.patch<Optimization>(`${base}/optimizations/${enc(o.key)}`, { status: pick.value }).then(
        (u) => out.replaceChildren(badge(`saved: ${u.status}`, 'attributed')),
        (err: unknown) => out.replaceChildren(notice('error', message(err))));
    });
    return h('span', { class: 'status-cell' }, pick, out);
  };
  const goalPicker = names.length === 0
    ? h('p', {}, 'Create a goal first (Settings → Goals): every optimization needs at least one.')
    : h('fieldset', {}, h('legend', {}, 'Goals'), ...boxes.map(([n, b]) => h('div', { class: 'check' }, b, h('label', { for: b.id }, n))));
  return h('div', {},
    h('h2', {}, 'New optimization'),
    form(() => void create(), { class: 'stack-form', 'aria-label': 'New optimization' },
      field('Key', key, 'as the page sends it in view events, e.g. hero'), field('Name (optional)', name),
      field('Variations', variations, 'keys separated by commas, the control first; a weight after a colon (bold:2), else 1'),
      goalPicker, field('Primary goal', primary), button('Create optimization', () => {}, { type: 'submit' }), status),
    h('h2', {}, 'Optimizations'),
    optimizations.length === 0 ? h('p', {}, 'No optimizations yet.') : table('Optimizations', ['Optimization', 'Variations (weight)', 'Goals', 'Updated', 'Status'],
      optimizations.map((o) => [link(href(ctx.ws, 'optimizations', [o.key]), o.name), o.variations.map((v) => `${v.key} (${v.weight})`).join(', '), o.goals.join(', '), fmtTime(o.updatedAt), statusCell(o)])));
};
