import { enc } from '../api.js';
import type { Page } from '../context.js';
import { badge, button, h, notice } from '../dom.js';
import type { El } from '../env.js';
import { fmtTime } from '../format.js';
import type { Rejection } from '../types.js';
import { eventTabs } from './tabs.js';

interface ReplayResult { id: number; status: 'stored' | 'duplicate' | 'rejected' | 'skipped'; eventIds?: number[]; error?: { code: string; message: string }; reason?: string }
interface ReplayAnswer { replayed: number; stored: number; duplicates: number; rejected: number; skipped: number; results: ReplayResult[] }

/** One replay's result in words. */
function said(r: ReplayResult): El {
  switch (r.status) {
    case 'stored': return notice('ok', `Replayed: stored as event ${r.eventIds?.join(', ') ?? '?'}.`);
    case 'duplicate': return notice('ok', `Replayed: it was already stored (event ${r.eventIds?.join(', ') ?? '?'}); nothing stored twice.`);
    case 'rejected': return notice('error', `Still rejected: ${r.error?.message ?? ''} (${r.error?.code ?? '?'})`);
    case 'skipped': return notice('info', `Skipped: ${r.reason ?? ''}`);
  }
}

const pretty = (body: unknown): string => (typeof body === 'string' ? body : JSON.stringify(body, null, 2));

/** The quarantine: every rejected event with its reason and body, and a replay button. */
export const rejectionsPage: Page = async (ctx) => {
  const base = `/workspaces/${enc(ctx.ws)}/rejections`;
  const { rejections } = await ctx.api.get<{ rejections: Rejection[] }>(base, { limit: 200 });
  const overall = h('div', { 'aria-live': 'polite' });
  const replayAll = button('Replay all pending', () => {
    replayAll.disabled = true;
    ctx.api.post<ReplayAnswer>(`${base}/replay`).then((a) => {
      overall.replaceChildren(notice(a.rejected > 0 ? 'warn' : 'ok', `Replayed ${a.replayed}: ${a.stored} stored, ${a.duplicates} already stored, ${a.rejected} still rejected, ${a.skipped} skipped.`), button('Show the updated list', ctx.reload, { class: 'secondary' }));
    }, (err: unknown) => { overall.replaceChildren(notice('error', String(err instanceof Error ? err.message : err))); replayAll.disabled = false; });
  }, { class: 'secondary' });

  const card = (r: Rejection): El => {
    const result = h('div', { 'aria-live': 'polite' });
    const replay = button('Replay', () => {
      replay.disabled = true;
      ctx.api.post<ReplayAnswer>(`${base}/replay`, { ids: [r.id] }).then((a) => {
        const one = a.results[0];
        result.replaceChildren(one === undefined ? notice('info', 'Nothing was replayed.') : said(one));
        if (one?.status === 'stored' || one?.status === 'duplicate') state.replaceChildren(badge(`replayed as event ${one.eventIds?.[0] ?? '?'}`, 'attributed'));
        else replay.disabled = false;
      }, (err: unknown) => { result.replaceChildren(notice('error', String(err instanceof Error ? err.message : err))); replay.disabled = false; });
    }, { 'aria-label': `Replay rejection ${r.id}` });
    const state = h('span', {}, r.replayedAt === null ? badge('pending', 'pending') : badge(`replayed as event ${r.replayedEventId ?? '?'} at ${fmtTime(r.replayedAt)}`, 'attributed'));
    if (r.replayedAt !== null) replay.disabled = true;
    return h('li', { class: 'rejection' },
      h('article', { 'aria-labelledby': `rej-${r.id}` },
        h('h2', { id: `rej-${r.id}`, class: 'rej-head' }, h('code', { class: 'reason' }, r.code), ' ', h('span', { class: 'muted' }, `#${r.id} · ${r.dialect} · ${r.endpoint}${r.index === null ? '' : ` · event ${r.index} of the batch`}`)),
        h('p', {}, r.message, r.field === null ? null : h('span', { class: 'muted' }, ` (field ${r.field})`)),
        h('p', { class: 'muted' }, `Received ${fmtTime(r.receivedAt)} · `, state),
        h('details', {}, h('summary', {}, 'Raw body'), h('pre', { tabindex: 0 }, pretty(r.body))),
        h('div', { class: 'toolbar' }, replay), result));
  };

  const pending = rejections.filter((r) => r.replayedAt === null).length;
  return h('section', {}, h('h1', {}, 'Rejections'), eventTabs(ctx.ws, 'rejections'),
    h('p', {}, 'Every event closeloop refused is kept here with its reason and what was sent (PII hashed). Fix the cause — a goal, a setting, a quota — then replay it.'),
    rejections.length === 0 ? h('p', {}, 'Nothing was rejected.') : h('div', { class: 'toolbar' }, h('span', {}, `${rejections.length} shown, ${pending} pending.`), pending > 0 ? replayAll : null),
    overall,
    h('ul', { class: 'rejections' }, ...rejections.map(card)));
};
