import { ApiError, createApi } from '../api.js';
import { button, field, form, h, input, notice, uid } from '../dom.js';
import { w, type El } from '../env.js';

/** Where the admin token is kept: this tab only (sessionStorage), or this device (localStorage). */
export const TOKEN_KEY = 'closeloop.adminToken';

/** The sign-in form; checks the token against the API before keeping it. */
export function signInPage(signedIn: (token: string) => void): El {
  const token = input({ type: 'password', autocomplete: 'current-password', spellcheck: 'false', required: true });
  const remember = input({ type: 'checkbox', id: uid('remember') });
  const status = h('div', { 'aria-live': 'polite' });
  const submit = button('Sign in', () => {}, { type: 'submit' });
  const check = async () => {
    const value = token.value.trim();
    if (value === '') { status.replaceChildren(notice('error', 'Enter the admin token.')); token.focus(); return; }
    submit.disabled = true;
    try {
      await createApi(value, () => {}).get('/workspaces');
      (remember.checked ? w.localStorage : w.sessionStorage).setItem(TOKEN_KEY, value);
      signedIn(value);
    } catch (err) {
      const text = err instanceof ApiError && err.status === 401 ? 'closeloop refused this token. Check it and try again.' : err instanceof Error ? err.message : String(err);
      status.replaceChildren(notice('error', text));
      token.focus();
    } finally {
      submit.disabled = false;
    }
  };
  return h('main', { id: 'main', class: 'sign-in' },
    h('h1', {}, 'closeloop'),
    h('p', {}, 'Sign in with the admin token to see your optimizations, conversions and data quality.'),
    form(() => void check(), { 'aria-label': 'Sign in' },
      field('Admin token', token, 'Printed once by `closeloop init` or the first `closeloop serve`, or the CLOSELOOP_ADMIN_TOKEN you set.'),
      h('div', { class: 'check' }, remember, h('label', { for: remember.id }, 'Remember on this device')),
      submit,
      status));
}
