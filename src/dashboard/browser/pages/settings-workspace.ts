import { ApiError, enc } from '../api.js';
import type { Page } from '../context.js';
import { button, field, form, h, input, notice, uid, type Child } from '../dom.js';
import type { El, Field, Input } from '../env.js';
import type { Workspace, WorkspaceSettings } from '../types.js';

type Key = keyof WorkspaceSettings;
interface Control { key: Key; read(): unknown; el: El }

const message = (err: unknown) => (err instanceof ApiError ? err.message : String(err));

function numberControl(key: Key, label: string, value: number | null, hint: string, nullable = false): Control {
  const el = input({ type: 'number', inputmode: 'numeric', value: value === null ? '' : String(value), min: 0 });
  return { key, el: field(label, el, hint), read: () => (el.value.trim() === '' && nullable ? null : Number(el.value)) };
}

function checkControl(key: Key, label: string, value: boolean, hint: string): Control {
  const el = input({ type: 'checkbox', id: uid('c'), checked: value });
  const hintId = uid('hint');
  el.setAttribute('aria-describedby', hintId);
  return { key, el: h('div', { class: 'check' }, el, h('label', { for: el.id }, label), h('small', { id: hintId, class: 'hint' }, hint)), read: () => (el as Input).checked };
}

function textControl(key: Key, label: string, value: string, hint: string): Control {
  const el = input({ value, autocomplete: 'off', spellcheck: 'false' });
  return { key, el: field(label, el, hint), read: () => el.value.trim() };
}

function originsControl(value: string[]): Control {
  const el = h('textarea', { rows: 3, spellcheck: 'false' }, value.join('\n')) as Field;
  return { key: 'allowedOrigins', el: field('Allowed origins', el, 'one per line, e.g. https://shop.example.com or https://*.example.com; empty: any origin'), read: () => el.value.split(/\s+/).filter((x) => x !== '') };
}

const group = (legend: string, ...controls: Control[]): Child => h('fieldset', {}, h('legend', {}, legend), ...controls.map((c) => c.el));

/** Workspace settings: limits, session rules, allowed origins and the attribution schedule. Only changed values are sent. */
export const workspaceSettings: Page = async (ctx) => {
  const path = `/workspaces/${enc(ctx.ws)}`;
  const ws = await ctx.api.get<Workspace>(path);
  const s = ws.settings;
  const name = input({ value: ws.name, autocomplete: 'off' });
  const limits = [
    numberControl('maxEventAgeDays', 'Oldest event accepted (days)', s.maxEventAgeDays, 'older events are refused (Optimize endpoints: 2 days unless set here)'),
    numberControl('maxClockSkewMs', 'Future tolerance (ms)', s.maxClockSkewMs, 'how far ahead of the server clock an event may be stamped'),
    numberControl('rateLimitPerMinute', 'Rate limit (requests per minute per key)', s.rateLimitPerMinute, 'a key may set its own'),
    numberControl('monthlyQuota', 'Monthly quota (events)', s.monthlyQuota, 'empty: no quota', true),
  ];
  const ingestion = [checkControl('serverSideEnabled', 'Accept server-side events', s.serverSideEnabled, 'off: every server dialect answers 403')];
  const sessions = [
    numberControl('sessionTimeoutMinutes', 'Session timeout (minutes)', s.sessionTimeoutMinutes, 'a new session starts after this long without activity'),
    numberControl('sessionMaxHours', 'Longest session (hours)', s.sessionMaxHours, 'a session never lasts longer'),
  ];
  const browser = [originsControl(s.allowedOrigins), checkControl('honorGlobalPrivacyControl', 'Honour Global Privacy Control', s.honorGlobalPrivacyControl, 'record nothing from browsers that send it')];
  const schedule = [
    textControl('attributionSchedule', 'Full attribution run (cron, UTC)', s.attributionSchedule, '"0 0 * * *": every midnight'),
    numberControl('attributionIntervalSeconds', 'Incremental run every (seconds)', s.attributionIntervalSeconds, 'empty: none; 10 to 86400', true),
  ];
  const all = [...limits, ...ingestion, ...sessions, ...browser, ...schedule];
  const status = h('div', { 'aria-live': 'polite' });
  const save = async () => {
    const changed: Record<string, unknown> = {};
    for (const c of all) if (JSON.stringify(c.read()) !== JSON.stringify(s[c.key])) changed[c.key] = c.read();
    const body = { ...(name.value.trim() !== ws.name ? { name: name.value.trim() } : {}), ...(Object.keys(changed).length > 0 ? { settings: changed } : {}) };
    if (Object.keys(body).length === 0) { status.replaceChildren(notice('info', 'Nothing changed.')); return; }
    try {
      await ctx.api.patch<Workspace>(path, body);
      status.replaceChildren(notice('ok', `Saved: ${[...(body.name ? ['name'] : []), ...Object.keys(changed)].join(', ')}.`));
      Object.assign(s, changed);
      ws.name = name.value.trim();
    } catch (err) {
      status.replaceChildren(notice('error', message(err)));
    }
  };
  return form(() => void save(), { class: 'stack-form settings-form', 'aria-label': 'Workspace settings' },
    h('p', { class: 'muted' }, `Workspace ${ws.id}. The values shown are those in force, defaults included.`),
    field('Name', name),
    group('Limits', ...limits), group('Server-side ingestion', ...ingestion), group('Sessions', ...sessions), group('Browser snippet', ...browser), group('Attribution schedule', ...schedule),
    button('Save settings', () => {}, { type: 'submit' }), status);
};
