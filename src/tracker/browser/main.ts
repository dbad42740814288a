/**
 * closeloop's browser snippet, served as /t.js (spec/api.md §7):
 *
 *   <script async src="https://HOST/t.js" data-key="cl_pk_…"></script>
 *
 * Gives every visitor a UUID (localStorage `cl_vid`, mirrored to `ot_vid`) and sessions,
 * records pageviews (single-page apps too), identities (setUserId), variation assignments and
 * views, and delivers them to POST /collect. Publishes one API as `closeloop`, and as
 * `intellimize` and `wf` (the Optimize docs' names), plus `Convultra.getSessionId()`.
 * Imports nothing from the server.
 */
import { assign } from './assign.js';
import { loadConfig, type TrackerConfig } from './config.js';
import { w } from './env.js';
import { rules, session, uuid, visitorId } from './identity.js';
import { watchHistory } from './spa.js';
import { getJson, setJson } from './storage.js';
import { beacon, configure, enqueue, flush } from './transport.js';

type Fn = (...args: any[]) => unknown;

const ASSIGNED = 'cl_a';
/** What this session already recorded once: views per optimization, and the identity. */
const SENT = 'cl_v';

/**
 * Off when the browser sends Global Privacy Control, unless the (cached) config says the
 * workspace does not honour it: then nothing is recorded or stored, and getVariation answers null.
 * A first page with no config cached yet records nothing (privacy first).
 */
let on = false;
let config: TrackerConfig | undefined;
/** Settles once the config is known (or out of reach). */
let ready: Promise<unknown>;

function record(type: string, fields: Record<string, unknown>): void {
  if (on) enqueue({ id: uuid(), type, time: Date.now(), visitorId: visitorId(), sessionId: session(true)[0], ...fields });
}

const doc = w.document;
const pageview = (referrer: string): void => record('pageview', { url: w.location.href, referrer });

/** Records an event unless this session already recorded `value` under `slot`. */
function oncePerSession(slot: string, value: string, type: string, fields: Record<string, unknown>): void {
  if (!on) return;
  const sid = session(false)[0];
  const sent = getJson<{ s: string; k: Record<string, string> }>(SENT);
  const k = sent?.s === sid ? sent.k : {};
  if (k[slot] === value) return;
  k[slot] = value;
  setJson(SENT, { s: sid, k });
  record(type, fields);
}

const text = (v: unknown): string => String(v ?? '');

/** Records that the visitor saw `variation` of `optimization` (once per session). */
const view = (optimization: unknown, variation: unknown): void => {
  const o = text(optimization);
  const v = text(variation);
  if (o && v) oncePerSession(o, v, 'view', { optimization: o, variation: v });
};

const api: Record<string, Fn> = {
  /**
   * Calls `fn` once the optimizations are known: getVariation answers from then on. Each callback
   * runs on its own, so one that throws (reported in the console) does not stop the others.
   */
  ready: (fn: Fn) => ready.then(fn),
  /** Links this visitor to a user of another system, e.g. setUserId("salesforce", "72349876"). Sent once per session. */
  setUserId(domain: unknown, id: unknown) {
    const d = text(domain);
    const u = text(id);
    if (d && u) oncePerSession('', `${d} ${u}`, 'identify', { userDomain: d, userId: u });
  },
  view,
  /** A custom event; one named as a goal counts as a conversion for attribution. */
  track(name: unknown, properties?: unknown) {
    if (text(name)) record('custom', { name: text(name), properties });
  },
  /**
   * The visitor's variation of a running optimization — sticky (kept in localStorage), weighted,
   * and the same as the server's assignment — and records the view (once per session). Null
   * when the optimization is not running or not known yet (call it inside ready()), or when the
   * visitor opted out: show the default experience.
   */
  getVariation(optimization: unknown) {
    const o = on ? config?.optimizations.find((x) => x.key === optimization) : undefined;
    if (!o) return null;
    const assigned = getJson<Record<string, string>>(ASSIGNED) ?? {};
    const v = o.variations.some((x) => x.key === assigned[o.key]) ? assigned[o.key]! : assign(visitorId(), o.key, o.variations)!;
    assigned[o.key] = v;
    setJson(ASSIGNED, assigned);
    view(o.key, v);
    return v;
  },
  /** The id a backend sends with a conversion (Convultra's session_id, or native sessionId). */
  getSessionId() {
    if (!on) return null;
    const [id, started] = session(false);
    // The server links a session id to its visitor through the session's events: give it one.
    if (started) pageview('');
    return id;
  },
  /** Sends what is buffered now; resolves when the server has answered (or a retry is scheduled). */
  flush,
};

function useConfig(c: TrackerConfig | undefined): void {
  if (!c) return;
  config = c;
  rules.timeout = c.sessionTimeoutMinutes * 60_000;
  rules.max = c.sessionMaxHours * 3_600_000;
}

function main(): void {
  const stub = w.closeloop as { q?: [string, unknown[]][]; getSessionId?: unknown } | undefined;
  if (stub?.getSessionId) return; // loaded twice: the first one stays in charge
  const script = (doc.currentScript ?? doc.querySelector('script[data-key]'))!;
  const key = script.dataset.key!;
  const src = new URL(script.getAttribute('src')!, w.location.href);
  configure(new URL('collect', src).href, key);

  w.closeloop = api;
  for (const name of ['intellimize', 'wf']) if (!w[name] || w[name] === stub) w[name] = api;
  w.Convultra ??= { getSessionId: api.getSessionId };

  const [cached, latest] = loadConfig(new URL(`collect/config?key=${encodeURIComponent(key)}`, src).href, key);
  useConfig(cached);
  ready = latest.then(useConfig);
  on = !w.navigator.globalPrivacyControl || cached?.honorGlobalPrivacyControl === false;
  pageview(doc.referrer);
  watchHistory(pageview);
  // The last moment a page is reliably told it may go away (tab closed, navigation, app switch).
  doc.addEventListener('visibilitychange', () => doc.visibilityState === 'hidden' && beacon());
  for (const [name, args] of stub?.q ?? []) api[name]?.(...args);
  void flush();
}

main();
