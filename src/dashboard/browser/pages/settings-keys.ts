import { ApiError, enc } from '../api.js';
import type { Page } from '../context.js';
import { badge, button, codeBlock, field, form, h, input, notice, select, table } from '../dom.js';
import type { El } from '../env.js';
import { fmtTime } from '../format.js';
import type { Key } from '../types.js';

interface CreatedKey extends Key { key: string }

const message = (err: unknown) => (err instanceof ApiError ? err.message : String(err));

/** The secret of a key just created: shown here once, never again. */
export function secretBox(k: CreatedKey): El {
  return notice('ok', h('p', {}, h('strong', {}, `Key "${k.name}" created. `), 'Copy it now: this is the only time closeloop shows it (it keeps only its hash).'),
    codeBlock(`${k.kind} key`, k.key));
}

/** Keys: create (the secret shown once) and revoke. */
export const keysSettings: Page = async (ctx) => {
  const base = `/workspaces/${enc(ctx.ws)}/keys`;
  const { keys } = await ctx.api.get<{ keys: Key[] }>(base);
  const name = input({ required: true, autocomplete: 'off', maxlength: 200 });
  const kind = select([['server', 'Server key (backends, cl_sk_…)'], ['browser', 'Browser key (the snippet, cl_pk_…)']], 'server');
  const created = h('div', { 'aria-live': 'polite' });
  const create = async () => {
    if (name.value.trim() === '') { created.replaceChildren(notice('error', 'Give the key a name, e.g. "CRM webhook".')); name.focus(); return; }
    try {
      const k = await ctx.api.post<CreatedKey>(base, { name: name.value.trim(), kind: kind.value });
      name.value = '';
      created.replaceChildren(secretBox(k));
      list.replaceChildren(keyTable([k, ...current]));
      current = [k, ...current];
    } catch (err) {
      created.replaceChildren(notice('error', message(err)));
    }
  };
  let current = keys;
  const revokeCell = (k: Key): El => {
    const cell = h('span', { class: 'revoke' });
    const ask = button('Revoke', () => {
      const confirm = button(`Revoke ${k.name} now`, () => {
        ctx.api.del<Key>(`${base}/${enc(k.id)}`).then((done) => {
          current = current.map((x) => (x.id === k.id ? done : x));
          list.replaceChildren(keyTable(current));
        }, (err: unknown) => cell.replaceChildren(notice('error', message(err))));
      }, { class: 'danger' });
      const cancel = button('Cancel', () => { cell.replaceChildren(ask); ask.focus(); }, { class: 'secondary' });
      cell.replaceChildren(h('span', {}, 'Requests with it will be refused at once. '), confirm, cancel);
      confirm.focus();
    }, { class: 'secondary', 'aria-label': `Revoke key ${k.name}` });
    cell.append(ask);
    return cell;
  };
  const keyTable = (list: readonly Key[]): El => (list.length === 0 ? h('p', {}, 'No keys yet.') : table('Keys', ['Name', 'Kind', 'Starts with', 'Created', 'Status', ''],
    list.map((k) => [k.name, k.kind, h('code', {}, `${k.prefix}…`), fmtTime(k.createdAt), k.status === 'active' ? badge('active', 'attributed') : badge(`revoked ${fmtTime(k.revokedAt)}`, 'muted'), k.status === 'active' ? revokeCell(k) : ''])));
  const list = h('div', {}, keyTable(keys));
  return h('div', {},
    h('h2', {}, 'New key'),
    form(() => void create(), { class: 'inline-form', 'aria-label': 'New key' }, field('Key name', name), field('Kind', kind), button('Create key', () => {}, { type: 'submit' })),
    created,
    h('h2', {}, 'Keys'),
    list);
};
