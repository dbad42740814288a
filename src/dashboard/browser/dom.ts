/** Small helpers that build the page from real elements: buttons are <button>, inputs have labels. */
import { w, type El, type Field, type Input } from './env.js';

export type Child = El | string | number | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | null | undefined>;

/** An element with attributes (`true`: present, `false`/null/undefined: absent) and children. */
export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): El {
  const el = w.document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === true) el.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  append(el, ...children);
  return el;
}

/** Appends what is not empty; numbers become text. */
export function append(el: El, ...children: Child[]): El {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
  return el;
}

let ids = 0;
/** A unique element id, to tie a label to its input. */
export const uid = (prefix: string): string => `${prefix}-${++ids}`;

/** A real button that runs `action` when pressed (click, Enter or Space). */
export function button(label: Child, action: () => void, attrs: Attrs = {}): Field {
  const b = h('button', { type: 'button', ...attrs }, label) as Field;
  b.addEventListener('click', action);
  return b;
}

export const link = (href: string, ...children: Child[]): El => h('a', { href }, ...children);

/** An input of `type` with a visible label; `hint` is read with it (aria-describedby). */
export function field(label: string, control: Field, hint?: string): El {
  const id = control.id || uid('f');
  control.id = id;
  const hintEl = hint === undefined ? null : h('small', { id: `${id}-hint`, class: 'hint' }, hint);
  if (hintEl !== null) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

export const input = (attrs: Attrs = {}): Input => h('input', { type: 'text', ...attrs }) as Input;

/** A <select> of [value, label] pairs. */
export function select(options: readonly (readonly [string, string])[], value = '', attrs: Attrs = {}): Field {
  const s = h('select', attrs, ...options.map(([v, label]) => h('option', { value: v, selected: v === value }, label))) as Field;
  s.value = value;
  return s;
}

/** A form whose submit (button or Enter) runs `onSubmit` instead of navigating. */
export function form(onSubmit: () => void, attrs: Attrs, ...children: Child[]): El {
  const f = h('form', { novalidate: true, ...attrs }, ...children);
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    onSubmit();
  });
  return f;
}

/** A table with a caption, header cells with scope, and right-aligned numeric columns. */
export function table(caption: string, headers: readonly string[], rows: readonly Child[][], numeric: readonly number[] = []): El {
  const cls = (i: number) => (numeric.includes(i) ? 'num' : null);
  return h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption },
    h('table', {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, ...headers.map((t, i) => h('th', { scope: 'col', class: cls(i) }, t)))),
      h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', { class: cls(i) }, c))))))));
}

/** A message box; errors and warnings are announced (role=alert), the rest politely (role=status). */
export function notice(kind: 'error' | 'warn' | 'info' | 'ok', ...children: Child[]): El {
  return h('div', { class: `notice ${kind}`, role: kind === 'error' || kind === 'warn' ? 'alert' : 'status' }, ...children);
}

export const badge = (text: string, kind = text): El => h('span', { class: `badge ${kind}` }, text);

/** A button that copies `text`; its label then says whether that worked (no timed message to miss). */
export function copyButton(text: () => string, label = 'Copy'): Field {
  const b = button(label, () => {
    const done = (ok: boolean) => { b.textContent = ok ? 'Copied' : 'Copy failed: select the text and copy it'; };
    const clip = w.navigator.clipboard;
    if (clip === undefined) { done(false); return; }
    clip.writeText(text()).then(() => done(true), () => done(false));
  }, { class: 'secondary' });
  return b;
}

/** Preformatted text with a copy button. */
export function codeBlock(label: string, text: string): El {
  const code = h('code', {}, text);
  return h('div', { class: 'code-block' }, h('pre', { tabindex: 0, 'aria-label': label }, code), copyButton(() => code.textContent ?? '', `Copy ${label}`));
}
