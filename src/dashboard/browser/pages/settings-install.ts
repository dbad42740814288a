import { enc } from '../api.js';
import type { Page } from '../context.js';
import { button, codeBlock, field, h, input } from '../dom.js';
import { w, type El } from '../env.js';
import type { Key } from '../types.js';
import { secretBox } from './settings-keys.js';

interface Guide {
  baseUrl: string; serverKeyPlaceholder: string; browserKeyPlaceholder: string;
  snippetTag: string; queueStub: string; examples: { dialect: string; command: string }[];
}

const TITLES: Record<string, string> = { native: 'closeloop\'s own API', optimize: 'Optimize off-site conversions', convultra: 'Convultra Server API', webanalyzer: 'Web Analyzer Measurement Protocol' };

/** The snippet tag and a ready-to-run curl example per dialect, with the keys the user pastes or creates here. */
export const installSettings: Page = async (ctx) => {
  const base = `/workspaces/${enc(ctx.ws)}`;
  const guide = await ctx.api.get<Guide>(`${base}/install`, { baseUrl: w.location.origin });
  const serverKey = input({ autocomplete: 'off', spellcheck: 'false', placeholder: guide.serverKeyPlaceholder });
  const browserKey = input({ autocomplete: 'off', spellcheck: 'false', placeholder: guide.browserKeyPlaceholder });
  const blocks = h('div', {});
  const created = h('div', { 'aria-live': 'polite' });
  const render = () => {
    const sk = serverKey.value.trim() || guide.serverKeyPlaceholder;
    const pk = browserKey.value.trim() || guide.browserKeyPlaceholder;
    blocks.replaceChildren(
      h('h2', {}, 'The snippet'),
      h('p', {}, 'Put this tag in every page that runs optimizations. It records pageviews, views and identities with a browser key.'),
      codeBlock('snippet tag', guide.snippetTag.replace(guide.browserKeyPlaceholder, pk)),
      h('p', {}, 'Optional, before the tag: keeps calls such as closeloop.setUserId(domain, id) made before the snippet has loaded.'),
      codeBlock('queue stub', guide.queueStub),
      h('h2', {}, 'Send a conversion from your backend'),
      h('p', {}, 'Each command is ready to run with a server key; the timestamps are the server\'s now.'),
      ...guide.examples.map((e): El => h('section', { class: 'example' }, h('h3', {}, TITLES[e.dialect] ?? e.dialect), codeBlock(`${e.dialect} example`, e.command.split(guide.serverKeyPlaceholder).join(sk)))));
  };
  serverKey.addEventListener('input', render);
  browserKey.addEventListener('input', render);
  const createKey = (kind: 'server' | 'browser') => () => {
    ctx.api.post<Key & { key: string }>(`${base}/keys`, { name: `${kind} key (install page)`, kind }).then((k) => {
      (kind === 'server' ? serverKey : browserKey).value = k.key;
      created.replaceChildren(secretBox(k));
      render();
    }, (err: unknown) => created.replaceChildren(String(err)));
  };
  render();
  return h('div', { class: 'install' },
    h('p', {}, `closeloop is reached at ${guide.baseUrl}. Keys are shown only when created: paste yours below, or create new ones, and the examples fill in.`),
    h('div', { class: 'key-inputs' },
      h('div', {}, field('Server key for the examples', serverKey), button('Create a server key', createKey('server'), { class: 'secondary' })),
      h('div', {}, field('Browser key for the tag', browserKey), button('Create a browser key', createKey('browser'), { class: 'secondary' }))),
    created, blocks);
};
