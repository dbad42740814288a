import type { Clock } from '../core/index.js';
import { eventAt, REF, stringAt, typeCode, type DataQualityFigures, type ScannedEvent, type Store } from '../store/index.js';
import { ActivityIndex, ACTIVITY_TYPES } from './activity.js';
import { resolveVisitors } from './engine.js';
import { eachEventOf, IdSet } from './scan.js';
import { domainKey, QualityTally } from './quality.js';
import { loadWorkspace, workspaceRules } from './load.js';

/**
 * GET …/data-quality: how many conversions could be tied to a visitor, per userDomain and per
 * dialect, and how late conversions arrive (received − occurred), as the workspace's latest
 * attribution run found them (`asOf`: that run; every run tallies them as it judges, see
 * QualityTally); and why events were refused, as of now. Before the first run, the figures are
 * computed here from the whole workspace (`asOf` null).
 */
export async function dataQuality(store: Store, clock: Clock, workspaceId: string) {
  const stored = await store.attribution.dataQuality(workspaceId);
  let figures: DataQualityFigures;
  if (stored !== null) figures = stored.figures;
  else {
    const loaded = await loadWorkspace(store, workspaceId, clock.now());
    const tally = new QualityTally();
    for (const c of loaded.conversions) tally.add(domainKey(c.userDomain, c.sessionId !== null, c.visitorId !== null), c.source, resolveVisitors(c, loaded.ctx.activity).length > 0, c.receivedAt - c.occurredAt);
    figures = tally.figures();
  }
  return {
    workspace: workspaceId,
    computedAt: stored === null ? clock.now() : stored.run.finishedAt,
    asOf: stored === null ? null : { runId: stored.run.id, until: stored.run.until },
    ...figures,
    rejections: await store.rejections.countByCode(workspaceId),
  };
}

const { name: NAME, visitorId: VISITOR, sessionId: SESSION, userDomain: DOMAIN, userId: USER } = REF;
const IDENTIFY = typeCode('identify');
const CONVERSION = typeCode('conversion');
const CUSTOM = typeCode('custom');

/**
 * A journey (GET …/visitors/{id} and …/users/{domain}/{id}): the visitors' sessions, and their
 * views, identities and conversions in time order, each conversion with its recorded outcome.
 *
 * Found by reading the workspace's columns a few times, matching ids by their bytes, not by
 * loading the workspace: a journey of one visitor among ten million views took 39 s that way
 * (an object per event), and the server answers nothing else meanwhile. The visitors' own
 * activity goes into an index of its own, which is all that deciding whether a conversion names
 * them needs (it resolves a conversion's visitors as a run does, and only these can be among them).
 */
export async function journey(store: Store, clock: Clock, workspaceId: string, who: { visitorId: string } | { userDomain: string; userId: string }) {
  const until = clock.now();
  const { rules, isConversion } = await workspaceRules(store, workspaceId);

  // The visitors: the one asked for, or every visitor identified as the user.
  const candidates = new Set<string>();
  if ('visitorId' in who) candidates.add(who.visitorId);
  else {
    const [domains, users] = [new IdSet([who.userDomain]), new IdSet([who.userId])];
    await store.attribution.readColumns(workspaceId, until, (c) => {
      const [isDomain, isUser] = [domains.matcher(c), users.matcher(c)];
      for (let i = 0; i < c.n; i++) {
        if (c.type[i] === IDENTIFY && c.refs[VISITOR * c.n + i] !== 0 && isUser(c.refs[USER * c.n + i]!) && isDomain(c.refs[DOMAIN * c.n + i]!)) {
          candidates.add(stringAt(c, c.refs[VISITOR * c.n + i]!));
        }
      }
    }, 0, users.wanted());
  }

  // Their events, and their browser activity in an index of their own.
  const activity = new ActivityIndex(rules);
  const byId = new Map<number, ScannedEvent & { outcome?: unknown }>();
  await eachEventOf(store, workspaceId, until, new IdSet(candidates), (e) => {
    byId.set(e.id, e);
    activity.add(e);
  });
  activity.build();
  const visitors = [...candidates].filter((v) => activity.hasVisitor(v)).sort();
  const mine = new Set(visitors);
  for (const [id, e] of byId) if (!mine.has(e.visitorId!)) byId.delete(id);

  // The conversions that name them (by visitor, session or identity), or the user asked for.
  const named = new IdSet(visitors);
  for (const e of byId.values()) {
    if (e.sessionId !== null && ACTIVITY_TYPES.has(e.type)) named.add(e.sessionId);
    if (e.userId !== null && e.type === 'identify') named.add(e.userId);
  }
  if ('userId' in who) named.add(who.userId);
  const conversionIds: number[] = [];
  if (named.size > 0) {
    await store.attribution.readColumns(workspaceId, until, (c) => {
      const isNamed = named.matcher(c);
      for (let i = 0; i < c.n; i++) {
        const type = c.type[i]!;
        if ((type !== CONVERSION && type !== CUSTOM) || c.refs[NAME * c.n + i] === 0) continue;
        if (!isNamed(c.refs[VISITOR * c.n + i]!) && !isNamed(c.refs[SESSION * c.n + i]!) && !isNamed(c.refs[USER * c.n + i]!)) continue;
        const e = eventAt(c, i);
        if (!isConversion(e.type, e.name!, e.occurredAt)) continue;
        const asked = 'userId' in who && e.userDomain === who.userDomain && e.userId === who.userId;
        if (!asked && !resolveVisitors({ ...e, name: e.name! }, activity).some((v) => mine.has(v))) continue;
        conversionIds.push(e.id);
        byId.set(e.id, e);
      }
    }, 0, named.wanted());
  }
  const outcomes = await store.attribution.outcomesOf(workspaceId, conversionIds);
  for (const id of conversionIds) {
    const o = outcomes.get(id);
    byId.get(id)!.outcome = o === undefined ? 'pending' : { outcome: o.outcome, reason: o.reason, attributions: o.attributions };
  }
  const events = [...byId.values()].sort((a, b) => a.occurredAt - b.occurredAt || a.id - b.id);
  return {
    ...who,
    visitors: visitors.map((v) => {
      const s = activity.sessions(v);
      return { visitorId: v, sessions: s.starts.map((start, i) => ({ start, end: s.ends[i]!, endedBy: s.capped[i] ? 'max_duration' : 'inactivity' })) };
    }),
    events,
  };
}
