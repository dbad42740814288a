import { ApiError, type Api } from '../api.js';
import { button, field, form, h, input, link, notice } from '../dom.js';
import type { El } from '../env.js';
import { go, href } from '../router.js';

interface Workspace { id: string; name: string; createdAt: number }

/** The workspace picker, and a form to create one. */
export async function workspacesPage(api: Api, changed: () => void): Promise<El> {
  const { workspaces } = await api.get<{ workspaces: Workspace[] }>('/workspaces');
  const id = input({ required: true, pattern: '[A-Za-z0-9_-]{1,64}', autocomplete: 'off' });
  const name = input({ autocomplete: 'off' });
  const status = h('div', { 'aria-live': 'polite' });
  const create = async () => {
    try {
      await api.post('/workspaces', { id: id.value.trim(), ...(name.value.trim() !== '' ? { name: name.value.trim() } : {}) });
      changed();
      go(href(id.value.trim(), 'settings', ['install']));
    } catch (err) {
      status.replaceChildren(notice('error', err instanceof ApiError ? err.message : String(err)));
    }
  };
  return h('main', { id: 'main', class: 'narrow' },
    h('h1', {}, 'Workspaces'),
    workspaces.length === 0
      ? h('p', {}, 'There are no workspaces yet. Create one below (or with `closeloop init`).')
      : h('ul', { class: 'cards' }, ...workspaces.map((x) => h('li', {}, link(href(x.id, 'optimizations'), h('strong', {}, x.name), x.name !== x.id ? h('span', { class: 'muted' }, ` (${x.id})`) : null)))),
    h('h2', {}, 'New workspace'),
    form(() => void create(), { 'aria-label': 'New workspace' },
      field('Workspace id', id, '1 to 64 letters, digits, _ or -; the Optimize customerId or Web Analyzer website id if you use those.'),
      field('Name (optional)', name),
      button('Create workspace', () => {}, { type: 'submit' }),
      status));
}
