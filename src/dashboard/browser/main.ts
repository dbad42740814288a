/**
 * The dashboard: sign in with the admin token, pick a workspace, and read it through the admin
 * API (spec/api.md §8), which is all it uses. Plain DOM, no framework: see dom.ts.
 */
import './styles.css';
import { ApiError, createApi, type Api } from './api.js';
import type { Ctx, Page } from './context.js';
import { h, notice } from './dom.js';
import { w, type El } from './env.js';
import { parseRoute } from './router.js';
import { shell, SECTIONS } from './shell.js';
import { explainPage } from './pages/explain.js';
import { eventsPage } from './pages/events.js';
import { journeysPage } from './pages/journeys.js';
import { optimizationsPage } from './pages/optimizations.js';
import { qualityPage } from './pages/quality.js';
import { rejectionsPage } from './pages/rejections.js';
import { resultsPage } from './pages/results.js';
import { settingsPage } from './pages/settings.js';
import { signInPage, TOKEN_KEY } from './pages/sign-in.js';
import { workspacesPage } from './pages/workspaces.js';

const PAGES: Record<string, Page> = {
  optimizations: (ctx) => (ctx.route.rest[0] !== undefined ? resultsPage(ctx) : optimizationsPage(ctx)),
  explain: explainPage,
  events: eventsPage,
  rejections: rejectionsPage,
  journeys: journeysPage,
  quality: qualityPage,
  settings: settingsPage,
};

const root = w.document.getElementById('app')!;
let api: Api | null = null;
let workspaces: string[] | null = null;
let leaving: (() => void)[] = [];
/** Each draw's number: an answer that arrives after the user moved on is dropped. */
let drawn = 0;

function signOut(): void {
  w.sessionStorage.removeItem(TOKEN_KEY);
  w.localStorage.removeItem(TOKEN_KEY);
  api = null;
  workspaces = null;
  void draw();
}

function signedIn(token: string): Api {
  return createApi(token, () => {
    if (api !== null) signOut();
  });
}

const failure = (err: unknown): El => notice('error', err instanceof ApiError ? `${err.message} (${err.code})` : `Something went wrong: ${String(err)}`);

async function draw(): Promise<void> {
  const n = ++drawn;
  for (const fn of leaving) fn();
  leaving = [];
  const token = w.sessionStorage.getItem(TOKEN_KEY) ?? w.localStorage.getItem(TOKEN_KEY);
  if (token === null) {
    w.document.title = 'Sign in · closeloop';
    root.replaceChildren(signInPage((t) => { api = signedIn(t); void draw(); }));
    return;
  }
  api ??= signedIn(token);
  const route = parseRoute(w.location.hash);
  try {
    if (route.ws === null || workspaces === null) workspaces = (await api.get<{ workspaces: { id: string }[] }>('/workspaces')).workspaces.map((x) => x.id);
  } catch (err) {
    if (n === drawn) root.replaceChildren(h('main', { id: 'main' }, failure(err)));
    return;
  }
  if (n !== drawn) return;
  if (route.ws === null) {
    w.document.title = 'Workspaces · closeloop';
    root.replaceChildren(await workspacesPage(api, () => { workspaces = null; }));
    return;
  }
  const ws = route.ws;
  const { root: frame, main } = shell(ws, route.page, workspaces.includes(ws) ? workspaces : [...workspaces, ws], signOut);
  const section = SECTIONS.find((s) => (s.match as readonly string[]).includes(route.page));
  w.document.title = `${section?.label ?? 'Not found'} · ${ws} · closeloop`;
  const hadFocus = root.getAttribute('data-drawn') !== null;
  root.replaceChildren(frame);
  root.setAttribute('data-drawn', '');
  main.replaceChildren(h('p', { class: 'loading', role: 'status' }, 'Loading…'));
  const page = PAGES[route.page];
  const ctx: Ctx = { api, ws, route, reload: () => void draw(), onLeave: (fn) => leaving.push(fn) };
  let content: El;
  try {
    content = page === undefined ? notice('error', `There is no page "${route.page}".`) : await page(ctx);
  } catch (err) {
    content = failure(err);
  }
  if (n !== drawn) return;
  main.replaceChildren(content);
  // After a navigation, a screen reader starts at the new content, not at the top of the page.
  if (hadFocus) main.focus();
}

w.addEventListener('hashchange', () => void draw());
void draw();
