import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ACTIVITY_TYPES, ActivityIndex, attributeConversion, attributionPreviewer, explain, Fingerprint, indexGoalsByName, journey, judge, Judgement, loadWorkspace,
  optimizationResults, optimizationResultsUntil, outcomeFingerprint, resolveVisitors, toRef, type ActivityEvent, type ConversionInput, type EngineContext, type Outcome, type SessionRules,
} from '../../src/attribution/index.js';
import type { CanonicalEvent } from '../../src/core/index.js';
import { eventAt, type Goal, type OutcomeChange, type ScannedEvent, type StoredOutcome } from '../../src/store/index.js';
import { shareable } from '../../src/attribution/judge-thread.js';
import { loadForRun } from '../../src/attribution/snapshot.js';
import type { RunOptions } from '../../src/attribution/index.js';
import { T0, testApp, type TestApp } from '../helpers/app.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Histories live on a 5-minute grid, so ties and exact 30-minute gaps happen often. */
const STEP = 5 * MIN;
const STEPS = 48; // 4 h of activity
const MAX_DELAY = 24; // received up to 2 h after it happened
/** Histories happen two days before the test clock's T0. */
const B = T0 - 2 * DAY;
const at = (step: number) => B + step * STEP;
const END = at(STEPS + MAX_DELAY + 1);

const OPTIMIZATIONS = { hero: ['control', 'bold'], pricing: ['cheap', 'dear'] } as const;
type OptKey = keyof typeof OPTIMIZATIONS;

// ---------- random histories ----------

interface Act {
  type: 'pageview' | 'view' | 'identify' | 'custom';
  visitor: string;
  session: string | null;
  step: number;
  delay: number;
  optimization: OptKey;
  variation: 0 | 1;
  user: string;
  name: string;
}

interface Conv {
  name: string;
  step: number;
  delay: number;
  visitor: string | null;
  session: string | null;
  user: string | null;
  value: number;
}

interface History {
  /** Goal "signup" is created at this step and renamed "registration" at `renamed`. */
  created: number;
  renamed: number;
  timeoutMinutes: number;
  maxHours: number;
  activity: Act[];
  conversions: Conv[];
}

/** Stands for the goal's API name at the event's time ("signup" before the rename, "registration" after). */
const CURRENT = '<current>';
const step = fc.integer({ min: 0, max: STEPS });
const delay = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: MAX_DELAY }));
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 2 });

const actArb: fc.Arbitrary<Act> = fc.record({
  type: fc.constantFrom('pageview', 'pageview', 'view', 'view', 'view', 'identify', 'custom'),
  visitor: fc.constantFrom('v1', 'v2', 'v3é'),
  session: maybe(fc.constantFrom('s1', 's2')),
  step, delay,
  optimization: fc.constantFrom('hero', 'pricing'),
  variation: fc.constantFrom(0, 1),
  user: fc.constantFrom('u1', 'u2'),
  name: fc.constantFrom(CURRENT, CURRENT, 'signup', 'registration', 'clicked-faq'),
});

const convArb: fc.Arbitrary<Conv> = fc.record({
  name: fc.constantFrom(CURRENT, CURRENT, CURRENT, 'signup', 'registration', 'newsletter', 'purchase'),
  step, delay,
  visitor: maybe(fc.constantFrom('v1', 'v1', 'v2', 'v2', 'v3é', 'v3é', 'v9')),
  session: maybe(fc.constantFrom('s1', 's1', 's2', 's2', 's9')),
  user: maybe(fc.constantFrom('u1', 'u1', 'u2', 'u2', 'u9')),
  value: fc.integer({ min: 0, max: 100 }),
}).map((c) => (c.visitor === null && c.session === null && c.user === null ? { ...c, visitor: 'v1' } : c));

const historyArb: fc.Arbitrary<History> = fc.record({
  created: fc.integer({ min: 0, max: 12 }),
  renamed: fc.integer({ min: 1, max: STEPS }),
  timeoutMinutes: fc.constantFrom(30, 10, 60),
  maxHours: fc.constantFrom(24, 1, 1, 2),
  activity: fc.array(actArb, { minLength: 1, maxLength: 40 }),
  conversions: fc.array(convArb, { minLength: 1, maxLength: 8 }),
}).map((h) => ({ ...h, renamed: Math.max(h.renamed, h.created + 1) }));

/** Every event of a history, as the store would hold it, in the order it was received (ids follow it). */
function eventsOf(h: History, workspaceId: string): CanonicalEvent[] {
  const base = {
    workspaceId, name: null, idempotencyKey: null, visitorId: null, sessionId: null, userDomain: null, userId: null,
    optimization: null, variation: null, value: null, currency: null, properties: null, userData: null, context: null,
  } as const;
  const nameAt = (name: string, s: number) => (name !== CURRENT ? name : s < h.renamed ? 'signup' : 'registration');
  const acts = h.activity.map((a, i): CanonicalEvent => ({
    ...base, type: a.type, occurredAt: at(a.step), receivedAt: at(a.step + a.delay), idempotencyKey: `a${i}`,
    visitorId: a.visitor, sessionId: a.session, source: 'native',
    ...(a.type === 'view' ? { optimization: a.optimization, variation: OPTIMIZATIONS[a.optimization][a.variation] } : {}),
    ...(a.type === 'identify' ? { userDomain: 'crm', userId: a.user } : {}),
    ...(a.type === 'custom' ? { name: nameAt(a.name, a.step) } : {}),
  }));
  const convs = h.conversions.map((c, i): CanonicalEvent => ({
    ...base, type: 'conversion', name: nameAt(c.name, c.step), occurredAt: at(c.step), receivedAt: at(c.step + c.delay), idempotencyKey: `c${i}`,
    visitorId: c.visitor, sessionId: c.session, ...(c.user !== null ? { userDomain: 'crm', userId: c.user } : {}), value: c.value, source: 'optimize',
  }));
  // Stable sort: events received at the same instant keep the order they were generated in.
  return [...acts, ...convs].sort((a, b) => a.receivedAt - b.receivedAt);
}

// ---------- the pure engine ----------

function goalsOf(h: History): Goal[] {
  return [
    { id: 1, workspaceId: 'ws', name: 'Signup', createdAt: at(h.created), history: [
      { apiName: 'signup', validFrom: at(h.created), validTo: at(h.renamed) }, { apiName: 'registration', validFrom: at(h.renamed), validTo: null },
    ] },
    { id: 2, workspaceId: 'ws', name: 'Newsletter', createdAt: B - DAY, history: [{ apiName: 'newsletter', validFrom: B - DAY, validTo: null }] },
  ];
}
const PURE_OPTIMIZATIONS = [{ key: 'hero', goalIds: [1] }, { key: 'pricing', goalIds: [1, 2] }];
const rulesOf = (h: History): SessionRules => ({ timeoutMs: h.timeoutMinutes * MIN, maxMs: h.maxHours * HOUR });

const withIds = (events: CanonicalEvent[]) => events.map((e, i) => ({ ...e, id: i + 1 }));
/** Server conversions and every custom event (rule 1 decides whether its name is a goal). */
const conversionsOf = (events: (CanonicalEvent & { id: number })[]): ConversionInput[] =>
  events.filter((e) => e.type === 'conversion' || e.type === 'custom').map((e) => ({
    id: e.id, name: e.name!, occurredAt: e.occurredAt, receivedAt: e.receivedAt, visitorId: e.visitorId, sessionId: e.sessionId, userDomain: e.userDomain, userId: e.userId,
  }));

/** `a` in memory with room for `extra` more values after it, as a snapshot's arrays are read (snapshot.ts). */
function withRoom<A extends Int32Array | Float64Array | Uint8Array>(a: A, extra: number): A {
  const Kind = a.constructor as new (n: number) => A;
  const roomy = new Kind(a.length + extra);
  roomy.set(a);
  return roomy.subarray(0, a.length) as A;
}

/**
 * The engine's context for these events, added in this order; built (and then added to) after each
 * event whose position is in `buildsAfter` — `resumed`: each time taken apart and put together
 * again on arrays with room to grow, as a run resuming from a snapshot does (its rows then merged in place).
 */
function contextOf(h: History, events: ActivityEvent[], buildsAfter: ReadonlySet<number> = new Set(), resumed = false): EngineContext {
  let activity = new ActivityIndex(rulesOf(h));
  events.forEach((e, i) => {
    activity.add(e);
    if (!buildsAfter.has(i)) return;
    activity.build();
    if (resumed) activity = ActivityIndex.fromParts(rulesOf(h), activity.parts().map((a, k) => withRoom(a, k % 3 === 0 ? 64 : 1000)));
  });
  activity.build();
  return { goalsByName: indexGoalsByName(goalsOf(h)), optimizations: PURE_OPTIMIZATIONS, activity };
}

type Verdict =
  | { outcome: 'attributed'; visitors: string[]; attributions: { optimization: string; variation: string; viewedAt: number; visitorId: string }[] }
  | { outcome: 'not_attributed'; visitors: string[]; reason: string };

const verdictOf = (o: Outcome): Verdict => (o.outcome === 'attributed'
  ? { outcome: 'attributed', visitors: o.visitors, attributions: o.attributions }
  : { outcome: 'not_attributed', visitors: o.visitors, reason: o.reason });

/**
 * spec/attribution.md read literally, by brute force over every event: the reference the engine
 * (binary searches, per-visitor indexes) must agree with.
 */
function byTheBook(c: ConversionInput, events: ActivityEvent[], goals: Goal[], rules: SessionRules): Verdict {
  const tc = c.occurredAt;
  const fail = (reason: string, visitors: string[] = []): Verdict => ({ outcome: 'not_attributed', visitors, reason });
  // Rule 1
  const valid = (g: Goal) => g.history.some((n) => n.apiName === c.name && n.validFrom <= tc && (n.validTo === null || tc < n.validTo));
  const holder = goals.find(valid);
  if (holder === undefined) {
    const named = goals.filter((g) => g.history.some((n) => n.apiName === c.name));
    if (named.length === 0) return fail('unknown_goal');
    return fail(named.some((g) => g.createdAt > tc) ? 'goal_not_created_yet' : 'goal_renamed');
  }
  // Rule 2
  const acts = events.filter((e) => e.visitorId !== null && ACTIVITY_TYPES.has(e.type));
  const found = new Set<string>();
  for (const e of acts) {
    if (e.visitorId === c.visitorId) found.add(e.visitorId!);
    if (c.sessionId !== null && e.sessionId === c.sessionId) found.add(e.visitorId!);
    if (e.type === 'identify' && c.userDomain !== null && e.userDomain === c.userDomain && e.userId === c.userId && e.receivedAt <= c.receivedAt) found.add(e.visitorId!);
  }
  const visitors = [...found].sort();
  if (visitors.length === 0) return fail('unknown_user');
  // Rule 3
  const candidates = PURE_OPTIMIZATIONS.filter((o) => o.goalIds.includes(holder.id));
  if (candidates.length === 0) return fail('goal_not_in_any_optimization', visitors);
  // Rule 4: walk each visitor's activity in time order, giving every event its session.
  const session = new Map<ActivityEvent, { end: number; capped: boolean }>();
  for (const v of visitors) {
    const mine = acts.filter((e) => e.visitorId === v).sort((a, b) => a.occurredAt - b.occurredAt || a.id - b.id);
    let members: ActivityEvent[] = [];
    let start = 0;
    let last = 0;
    const close = () => {
      const s = { end: Math.min(last + rules.timeoutMs, start + rules.maxMs), capped: start + rules.maxMs < last + rules.timeoutMs };
      for (const m of members) session.set(m, s);
    };
    for (const e of mine) {
      if (members.length > 0 && (e.occurredAt - last > rules.timeoutMs || e.occurredAt - start > rules.maxMs)) {
        close();
        members = [];
      }
      if (members.length === 0) start = e.occurredAt;
      members.push(e);
      last = e.occurredAt;
    }
    if (members.length > 0) close();
  }
  // Rule 5: per candidate, the latest view at or before tc whose session covers tc, across the visitors.
  const latest = (list: ActivityEvent[]) => list.reduce<ActivityEvent | null>((m, e) => (m === null || e.occurredAt > m.occurredAt || (e.occurredAt === m.occurredAt && e.id > m.id) ? e : m), null);
  const attributions: Extract<Verdict, { outcome: 'attributed' }>['attributions'] = [];
  const seen: ActivityEvent[] = [];
  for (const o of candidates) {
    const views = acts.filter((e) => e.type === 'view' && e.optimization === o.key && visitors.includes(e.visitorId!) && e.occurredAt <= tc);
    seen.push(...views);
    const best = latest(views.filter((e) => tc < session.get(e)!.end));
    if (best !== null) attributions.push({ optimization: o.key, variation: best.variation!, viewedAt: best.occurredAt, visitorId: best.visitorId! });
  }
  if (attributions.length > 0) return { outcome: 'attributed', visitors, attributions };
  const mostRecent = latest(seen);
  if (mostRecent === null) return fail('no_view_before_conversion', visitors);
  return fail(session.get(mostRecent)!.capped ? 'session_max_duration' : 'session_expired', visitors);
}

describe('attributeConversion over random histories', () => {
  it('gives the same outcomes whatever order the events were added to the activity index in, and however often it was built meanwhile', () => {
    const arb = historyArb.chain((h) => {
      const n = eventsOf(h, 'ws').length;
      const ids = Array.from({ length: n }, (_, i) => i);
      return fc.tuple(fc.constant(h), fc.shuffledSubarray(ids, { minLength: n, maxLength: n }), fc.uniqueArray(fc.integer({ min: 0, max: Math.max(0, n - 1) }), { maxLength: 4 }));
    });
    fc.assert(fc.property(arb, ([h, order, builds]) => {
      const events = withIds(eventsOf(h, 'ws'));
      const inOrder = contextOf(h, events);
      // Built in pieces: later events are merged into what an earlier build() grouped (a run resuming from a snapshot does that).
      const shuffled = contextOf(h, order.map((i) => events[i]!), new Set(builds));
      const resumed = contextOf(h, order.map((i) => events[i]!), new Set(builds), true);
      for (const c of conversionsOf(events)) {
        assert.deepEqual(attributeConversion(c, shuffled), attributeConversion(c, inOrder));
        assert.deepEqual(attributeConversion(c, resumed), attributeConversion(c, inOrder));
      }
    }), { numRuns: 3000 });
  });

  it('fingerprints the judgement a run makes in numbers as it fingerprints the outcome it stands for', () => {
    // A run compares stored fingerprints with judge()'s, and makes the Outcome only when they differ.
    const j = new Judgement();
    const f = new Fingerprint();
    fc.assert(fc.property(historyArb, (h) => {
      const events = withIds(eventsOf(h, 'ws'));
      const ctx = contextOf(h, events);
      for (const c of conversionsOf(events)) {
        const o = judge(toRef(c, ctx.activity), ctx, j).outcome(ctx.activity);
        assert.deepEqual(o, attributeConversion(c, ctx));
        assert.equal(j.fingerprint(ctx.activity, f), outcomeFingerprint(o), `conversion ${c.id}`);
      }
    }), { numRuns: 1000 });
  });

  it('fingerprints as earlier builds did, so the fingerprints they stored still tell unchanged outcomes', () => {
    // The value is what Fingerprint gave at commit 014ec24 for the same feed (strings as text and
    // as UTF-8 bytes, non-ASCII ones, null and empty, integers, timestamps and fractions).
    const f = new Fingerprint().str('attributed').num(3).num(2).str('hero').bytes(Buffer.from('contrôl'), 0, 8).num(1767543553998)
      .str('ü-7 "quoted"').str(null).str('').num(null).num(10.25);
    assert.equal(f.value(), 8100968559604781);
  });

  it('agrees with a literal, brute-force reading of the rules', () => {
    fc.assert(fc.property(historyArb, (h) => {
      const events = withIds(eventsOf(h, 'ws'));
      const ctx = contextOf(h, events);
      for (const c of conversionsOf(events)) {
        assert.deepEqual(verdictOf(attributeConversion(c, ctx)), byTheBook(c, events, goalsOf(h), rulesOf(h)), `conversion ${c.id}`);
      }
    }), { numRuns: 3000 });
  });
});

// ---------- the runner over the real store ----------

describe('attribution runs over the real store', () => {
  let t: TestApp;
  let n = 0;
  before(async () => { t = await testApp(); });
  after(async () => { await t.close(); });

  /**
   * Plays a history into a fresh workspace as it would happen: events appended in the order they
   * were received, the goal renamed when the clock reaches the rename, and a run at each of
   * `untils` (sorted) and a last one at END.
   */
  /**
   * `between`: called after each batch is stored (before its run) and after each run, with the
   * workspace. `twoThreads`: the runs' (RunOptions); `shared` then counts the runs that start from a
   * snapshot in shared memory, as judging on two threads needs.
   */
  async function play(h: History, untils: number[], between?: (ws: string) => Promise<void>, twoThreads?: RunOptions['twoThreads'], shared?: { runs: number }) {
    const ws = `det-${++n}`;
    await t.app.admin.createWorkspace({ id: ws, settings: { sessionTimeoutMinutes: h.timeoutMinutes, sessionMaxHours: h.maxHours } });
    const signup = await t.store.goals.create(ws, 'signup', 'Signup', at(h.created));
    const newsletter = await t.store.goals.create(ws, 'newsletter', 'Newsletter', B - DAY);
    for (const [key, goalIds] of [['hero', [signup.id]], ['pricing', [newsletter.id, signup.id]]] as const) {
      await t.store.optimizations.create({
        workspaceId: ws, key, name: key, variations: OPTIMIZATIONS[key].map((v) => ({ key: v, name: v, weight: 1 })),
        goalIds: [...goalIds], primaryGoalId: goalIds[0], control: OPTIMIZATIONS[key][0], status: 'running', createdAt: B - DAY, updatedAt: B - DAY,
      });
    }
    const events = eventsOf(h, ws);
    const keyOf = new Map<number, string>();
    let next = 0;
    let renamed = false;
    const runs: number[] = [];
    for (const until of [...untils, END]) {
      if (!renamed && at(h.renamed) <= until) {
        await t.store.goals.rename(ws, signup.id, 'registration', at(h.renamed));
        renamed = true;
      }
      const batch: CanonicalEvent[] = [];
      while (next < events.length && events[next]!.receivedAt <= until) batch.push(events[next++]!);
      for (const r of batch.length > 0 ? await t.store.events.append({ events: batch, rejections: [] }) : []) keyOf.set(r.event.id, r.event.idempotencyKey!);
      await between?.(ws);
      t.clock.set(until);
      if (shared !== undefined) {
        const loaded = await loadForRun(t.store, ws, until, async () => null);
        if (shareable(loaded.ctx.activity, loaded.conversions)) shared.runs++;
      }
      runs.push((await t.app.runner.run(ws, { until, twoThreads })).runId);
      await between?.(ws);
    }
    return { ws, keyOf, runs };
  }

  /** Each conversion's recorded outcome by idempotency key: what a user sees. */
  async function outcomes(p: { ws: string; keyOf: Map<number, string> }) {
    const all = await t.store.attribution.outcomes(p.ws);
    return [...all.values()]
      .map((o) => ({ key: p.keyOf.get(o.eventId)!, outcome: o.outcome, reason: o.reason, attributions: o.attributions, detail: o.detail }))
      .sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  async function results(ws: string) {
    t.clock.set(END);
    const out: unknown[] = [];
    for (const query of ['hero/results', 'pricing/results', 'pricing/results?goal=registration', `hero/results?from=${at(12)}&to=${at(36)}`]) {
      const res = await t.admin('GET', `/admin/v1/workspaces/${ws}/optimizations/${query}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      out.push({ query, variations: res.body.variations, srm: res.body.srm });
    }
    return out;
  }

  const untilsArb = fc.uniqueArray(fc.integer({ min: 0, max: STEPS + MAX_DELAY }), { maxLength: 5 })
    .map((steps) => steps.sort((a, b) => a - b).map(at));

  it('ends with the same outcomes and results after any sequence of runs as after one full run', async () => {
    await fc.assert(fc.asyncProperty(historyArb, untilsArb, async (h, untils) => {
      const incremental = await play(h, untils);
      const full = await play(h, []);
      const final = await outcomes(incremental);
      assert.deepEqual(final, await outcomes(full));
      // Every conversion has an outcome (custom events named as no goal at the time are not conversions).
      assert.equal(final.filter((o) => o.key.startsWith('c')).length, h.conversions.length);
      assert.deepEqual(await results(incremental.ws), await results(full.ws));
    }), { numRuns: 150 });
  });

  /** What each run of a play restated, by idempotency key (event ids differ from one workspace to the next). */
  async function restatements(p: { ws: string; keyOf: Map<number, string>; runs: number[] }) {
    const out: unknown[] = [];
    for (const runId of p.runs) {
      const changes: OutcomeChange[] = [];
      assert.ok(await t.store.attribution.run(p.ws, runId, (chunk) => changes.push(...chunk)));
      out.push(changes.map(({ eventId, ...c }) => ({ key: p.keyOf.get(eventId), ...c })));
    }
    return out;
  }

  // The runs here are small: the first thread has claimed every chunk (or all but the last, when it
  // is kept for the second) before the second starts, so how chunks split between the threads is
  // the concern of two-threads.test.ts (any split).
  it('ends with the same outcomes, restatements, data quality and results on two threads as on one', async () => {
    const shared = { runs: 0 };
    await fc.assert(fc.asyncProperty(historyArb, untilsArb, fc.integer({ min: 1, max: 3 }), fc.boolean(), async (h, untils, chunk, keepLast) => {
      const one = await play(h, untils);
      const two = await play(h, untils, undefined, { from: 1, chunk, keepLast }, shared);
      assert.deepEqual(await outcomes(two), await outcomes(one));
      assert.deepEqual(await restatements(two), await restatements(one));
      assert.deepEqual((await t.store.attribution.dataQuality(two.ws))?.figures, (await t.store.attribution.dataQuality(one.ws))?.figures);
      assert.deepEqual(await results(two.ws), await results(one.ws));
    }), { numRuns: 60 });
    // Runs that start from a snapshot judge on two threads: most runs after a play's first.
    assert.ok(shared.runs >= 60, `${shared.runs} runs started from a snapshot in shared memory`);
  });

  it('keeps a restatement log that, replayed run by run, rebuilds the recorded outcomes', async () => {
    await fc.assert(fc.asyncProperty(historyArb, untilsArb, async (h, untils) => {
      const p = await play(h, untils);
      const state = new Map<number, Pick<StoredOutcome, 'outcome' | 'reason' | 'attributions'> | null>();
      for (const runId of p.runs) {
        const changes: OutcomeChange[] = [];
        assert.ok(await t.store.attribution.run(p.ws, runId, (chunk) => changes.push(...chunk)));
        for (const c of changes) {
          assert.deepEqual(c.before, state.get(c.eventId) ?? null, `run ${runId} says what conversion ${c.eventId} was before`);
          state.set(c.eventId, c.after);
        }
      }
      const recorded = await t.store.attribution.outcomes(p.ws);
      assert.deepEqual(
        [...state].sort(([a], [b]) => a - b),
        [...recorded.values()].sort((a, b) => a.eventId - b.eventId).map((o) => [o.eventId, { outcome: o.outcome, reason: o.reason, attributions: o.attributions }]),
      );
    }), { numRuns: 60 });
  });

  /**
   * A journey as it was computed before journeys scanned for their ids: the whole workspace loaded
   * into the engine's index, every event made an object. The scanning journey() must agree.
   */
  async function journeyFromWholeWorkspace(ws: string, who: { visitorId: string } | { userDomain: string; userId: string }) {
    const loaded = await loadWorkspace(t.store, ws, t.clock.now());
    const activity = loaded.ctx.activity;
    const visitors = 'visitorId' in who
      ? (activity.hasVisitor(who.visitorId) ? [who.visitorId] : [])
      : [...new Set(activity.visitorsOfUser(who.userDomain, who.userId, Number.POSITIVE_INFINITY))].sort();
    const mine = new Set(visitors);
    const conversionIds = new Set<number>();
    for (const c of loaded.conversions) {
      if (('userDomain' in who && c.userDomain === who.userDomain && c.userId === who.userId) || resolveVisitors(c, activity).some((v) => mine.has(v))) conversionIds.add(c.id);
    }
    const outcomes = await t.store.attribution.outcomesOf(ws, [...conversionIds]);
    const events: (ScannedEvent & { outcome?: unknown })[] = [];
    await t.store.attribution.readColumns(ws, t.clock.now(), (chunk) => Array.from({ length: chunk.n }, (_, i) => eventAt(chunk, i)).forEach((e) => {
      if (conversionIds.has(e.id)) {
        const o = outcomes.get(e.id);
        events.push({ ...e, outcome: o === undefined ? 'pending' : { outcome: o.outcome, reason: o.reason, attributions: o.attributions } });
      } else if (e.visitorId !== null && mine.has(e.visitorId)) events.push(e);
    }));
    events.sort((a, b) => a.occurredAt - b.occurredAt || a.id - b.id);
    return {
      ...who,
      visitors: visitors.map((v) => {
        const s = activity.sessions(v);
        return { visitorId: v, sessions: s.starts.map((start, i) => ({ start, end: s.ends[i]!, endedBy: s.capped[i] ? 'max_duration' : 'inactivity' })) };
      }),
      events,
    };
  }

  it('finds every visitor\'s and user\'s journey by scanning for their ids, as the whole workspace\'s index shows it', async () => {
    await fc.assert(fc.asyncProperty(historyArb, untilsArb, async (h, untils) => {
      const p = await play(h, untils);
      const whos = [
        ...['v1', 'v2', 'v3é', 'v9'].map((visitorId) => ({ visitorId })),
        ...['u1', 'u2', 'u9'].map((userId) => ({ userDomain: 'crm', userId })),
        { userDomain: 'other', userId: 'u1' },
      ];
      for (const who of whos) assert.deepEqual(await journey(t.store, t.clock, p.ws, who), await journeyFromWholeWorkspace(p.ws, who), JSON.stringify(who));
    }), { numRuns: 60 });
  });

  it('stores with each run the data quality that a reading of the whole workspace finds', async () => {
    await fc.assert(fc.asyncProperty(historyArb, untilsArb, async (h, untils) => {
      const p = await play(h, untils);
      const loaded = await loadWorkspace(t.store, p.ws, END);
      const byDomain = new Map<string, { conversions: number; matched: number }>();
      const byDialect = new Map<string, { conversions: number; matched: number }>();
      const lags = new Map<string, number[]>();
      for (const c of loaded.conversions) {
        const matched = resolveVisitors(c, loaded.ctx.activity).length > 0 ? 1 : 0;
        const domain = c.userDomain ?? (c.sessionId !== null ? '(sessionId)' : c.visitorId !== null ? '(visitorId)' : '(none)');
        for (const [map, key] of [[byDomain, domain], [byDialect, c.source]] as const) {
          const m = map.get(key) ?? { conversions: 0, matched: 0 };
          map.set(key, { conversions: m.conversions + 1, matched: m.matched + matched });
        }
        lags.set(c.source, [...(lags.get(c.source) ?? []), Math.max(0, c.receivedAt - c.occurredAt)]);
      }
      const rate = (m: { conversions: number; matched: number }) => ({ ...m, matchRate: m.conversions === 0 ? null : m.matched / m.conversions });
      const nearestRank = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
      const all = [...byDialect.values()].reduce((a, m) => ({ conversions: a.conversions + m.conversions, matched: a.matched + m.matched }), { conversions: 0, matched: 0 });
      const res = await t.admin('GET', `/admin/v1/workspaces/${p.ws}/data-quality`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.asOf, { runId: p.runs.at(-1), until: END });
      assert.deepEqual(res.body.matchRate, {
        overall: rate(all),
        byUserDomain: Object.fromEntries([...byDomain].map(([k, m]) => [k, rate(m)])),
        byDialect: Object.fromEntries([...byDialect].map(([k, m]) => [k, rate(m)])),
      });
      assert.deepEqual(res.body.ingestionLagMs, Object.fromEntries([...lags].map(([d, l]) => {
        const sorted = [...l].sort((a, b) => a - b);
        return [d, { p50: nearestRank(sorted, 0.5), p90: nearestRank(sorted, 0.9), p99: nearestRank(sorted, 0.99), max: sorted.at(-1) }];
      })));
    }), { numRuns: 60 });
  });

  it('previews a dry-run conversion from its visitors\' activity as the whole workspace\'s index judges it', async () => {
    const preview = attributionPreviewer(t.store, t.clock);
    await fc.assert(fc.asyncProperty(historyArb, untilsArb, fc.array(convArb, { minLength: 1, maxLength: 6 }), async (h, untils, asked) => {
      const p = await play(h, untils);
      const loaded = await loadWorkspace(t.store, p.ws, END);
      // Dry runs sent at END about conversions that happened during the history.
      const events = eventsOf({ ...h, activity: [], conversions: asked }, p.ws).map((e) => ({ ...e, receivedAt: END }));
      const got = await preview(p.ws, events);
      events.forEach((e, i) => {
        const input = { id: 0, name: e.name!, occurredAt: e.occurredAt, receivedAt: e.receivedAt, visitorId: e.visitorId, sessionId: e.sessionId, userDomain: e.userDomain, userId: e.userId };
        const o = attributeConversion(input, loaded.ctx);
        assert.deepEqual(got[i], {
          outcome: o.outcome,
          attributions: o.outcome === 'attributed' ? o.attributions.map(({ optimization, variation, viewedAt }) => ({ optimization, variation, viewedAt })) : [],
          reason: o.outcome === 'attributed' ? null : o.reason,
          explanation: explain(input, o, loaded.rules),
        }, JSON.stringify(e));
      });
    }), { numRuns: 60 });
  });

  /**
   * Checks the results of an optimization for a goal from `from`, a series of them at `tos` and
   * each point alone, against a brute-force reading of every event stored and every outcome.
   */
  async function checkResults(ws: string, key: keyof typeof OPTIMIZATIONS, goal: string, from: number | undefined, tos: (number | null)[]): Promise<void> {
    const events: ScannedEvent[] = [];
    await t.store.attribution.readColumns(ws, Number.POSITIVE_INFINITY, (chunk) => { for (let i = 0; i < chunk.n; i++) events.push(eventAt(chunk, i)); });
    const outcomes = await t.store.attribution.outcomes(ws);
    const o = (await t.store.optimizations.get(ws, key))!;
    const goalId = (await t.store.goals.list(ws)).find((g) => g.history.at(-1)!.apiName === goal)!.id;
    const series = await optimizationResultsUntil(t.store, o, { goal, ...(from !== undefined ? { from } : {}) }, tos);
    for (const [i, to] of tos.entries()) {
      const inRange = (time: number) => time >= (from ?? -Infinity) && time < (to ?? Infinity);
      const expected = OPTIMIZATIONS[key].map((variation) => {
        const viewers = new Set(events.filter((e) => e.type === 'view' && e.optimization === key && e.variation === variation && e.visitorId !== null && inRange(e.occurredAt)).map((e) => e.visitorId));
        const converted = events.flatMap((e) => {
          const oc = outcomes.get(e.id);
          const a = oc?.outcome === 'attributed' && oc.goalId === goalId ? oc.attributions.find((x) => x.optimization === key && x.variation === variation) : undefined;
          return a !== undefined && inRange(e.occurredAt) ? [{ visitor: a.visitorId, value: e.value ?? 0 }] : [];
        });
        for (const c of converted) viewers.add(c.visitor);
        return { key: variation, visitors: viewers.size, converters: new Set(converted.map((c) => c.visitor)).size, conversions: converted.length, value: converted.reduce((sum, c) => sum + c.value, 0) };
      });
      const got = series[i]!.variations.map(({ key: k, visitors, converters, conversions, value }) => ({ key: k, visitors, converters, conversions, value }));
      assert.deepEqual(got, expected, `${key} ${goal} [${from}, ${to})`);
      const single = await optimizationResults(t.store, o, { goal, ...(from !== undefined ? { from } : {}), ...(to !== null ? { to } : {}) });
      assert.deepEqual(single, series[i], 'a point of a series is the answer to its own query');
    }
  }

  it('counts results, and every point of a series, as a brute-force reading of the events and outcomes does', async () => {
    const rangeArb = fc.tuple(fc.option(fc.integer({ min: -2, max: STEPS + 2 }), { nil: undefined }), fc.uniqueArray(fc.integer({ min: 0, max: STEPS + 3 }), { minLength: 1, maxLength: 4 }));
    await fc.assert(fc.asyncProperty(historyArb, untilsArb, rangeArb, async (h, untils, [fromStep, toSteps]) => {
      const p = await play(h, untils);
      const from = fromStep === undefined ? undefined : at(fromStep);
      const tos = [...toSteps.sort((a, b) => a - b).map(at), null];
      for (const [key, goal] of [['hero', 'registration'], ['pricing', 'registration'], ['pricing', 'newsletter']] as const) await checkResults(p.ws, key, goal, from, tos);
    }), {
      numRuns: 80,
      // A converter whose only view falls before `from` still counts among the visitors (found by this property, once).
      examples: [[{
        created: 0, renamed: 1, timeoutMinutes: 30, maxHours: 24,
        activity: [{ type: 'view', visitor: 'v1', session: null, step: 0, delay: 0, optimization: 'hero', variation: 0, user: 'u1', name: CURRENT }],
        conversions: [{ name: CURRENT, step: 1, delay: 0, visitor: 'v1', session: null, user: null, value: 0 }],
      }, [], [1, [0]]]],
    });
  });

  it('counts results kept between queries as it counts them afresh, whatever events and runs came in between', async () => {
    // The same optimization, goal and start asked again and again while events are stored and
    // runs commit: the kept tally reads only the events since, and starts again after each run.
    const fromArb = fc.option(fc.integer({ min: -2, max: STEPS + 2 }), { nil: undefined });
    await fc.assert(fc.asyncProperty(historyArb, untilsArb, fromArb, async (h, untils, fromStep) => {
      const from = fromStep === undefined ? undefined : at(fromStep);
      const tos = [at(Math.floor(STEPS / 2)), null];
      await play(h, untils, async (ws) => {
        // The signup goal, by the name it has now (the history renames it on the way).
        const [signup, newsletter] = (await t.store.goals.list(ws)).map((g) => g.history.at(-1)!.apiName);
        for (const [key, goal] of [['hero', signup!], ['pricing', newsletter!]] as const) await checkResults(ws, key, goal, from, tos);
      });
    }), { numRuns: 60 });
  });

  it('gives identical outcomes when run again with nothing new', async () => {
    await fc.assert(fc.asyncProperty(historyArb, async (h) => {
      const p = await play(h, []);
      const before = await outcomes(p);
      const again = await t.app.runner.run(p.ws, { until: END });
      assert.deepEqual([again.changed, again.newlyAttributed, again.unattributed], [0, 0, 0]);
      assert.deepEqual(await outcomes(p), before);
    }), { numRuns: 30 });
  });
});

// ---------- late conversions, through the HTTP API ----------

describe('a late conversion', () => {
  let t: TestApp;
  let n = 0;
  before(async () => { t = await testApp(); });
  after(async () => { await t.close(); });

  /** Three days of traffic before T0's day, and T0's own day when the late conversion arrives. */
  const DAYS = [Date.UTC(2026, 0, 12), Date.UTC(2026, 0, 13), Date.UTC(2026, 0, 14), Date.UTC(2026, 0, 15)];

  const visitArb = fc.record({
    day: fc.integer({ min: 0, max: 2 }),
    hour: fc.integer({ min: 1, max: 21 }),
    variation: fc.constantFrom('control', 'bold'),
    converts: fc.boolean(),
    value: fc.integer({ min: 1, max: 500 }),
  });

  it('changes the results of the day it happened, not of the day it was received', async () => {
    await fc.assert(fc.asyncProperty(fc.array(visitArb, { maxLength: 8 }), visitArb, async (visits, late) => {
      const ws = await t.workspace(`late-${++n}`);
      const url = `/admin/v1/workspaces/${ws.id}`;
      const send = async (events: object[]) => {
        const res = await t.call({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${ws.serverKey}` }, payload: { events } });
        assert.equal(res.status, 200, JSON.stringify(res.body));
      };
      t.clock.set(DAYS[0]! - HOUR);
      await t.admin('POST', `${url}/goals`, { apiName: 'signup' });
      await t.admin('POST', `${url}/optimizations`, { key: 'hero', variations: [{ key: 'control' }, { key: 'bold' }], goals: ['signup'] });

      // Each day's traffic arrives that same day; the late visitor's view too, but not its conversion.
      for (let d = 0; d < 3; d++) {
        const events: object[] = [];
        visits.forEach((v, i) => {
          if (v.day !== d) return;
          const tv = DAYS[d]! + v.hour * HOUR;
          events.push({ type: 'view', visitorId: `x${i}`, optimization: 'hero', variation: v.variation, timestamp: tv });
          if (v.converts) events.push({ type: 'conversion', name: 'signup', visitorId: `x${i}`, value: v.value, timestamp: tv + 10 * MIN });
        });
        if (late.day === d) events.push({ type: 'view', visitorId: 'late', optimization: 'hero', variation: late.variation, timestamp: DAYS[d]! + late.hour * HOUR });
        t.clock.set(DAYS[d]! + 23 * HOUR);
        if (events.length > 0) await send(events);
      }
      t.clock.set(DAYS[3]! - MIN);
      await t.admin('POST', `${url}/attribution/run`, {});

      const byDay = async () => {
        const out = [];
        for (let d = 0; d < 4; d++) {
          const res = await t.admin('GET', `${url}/optimizations/hero/results?from=${DAYS[d]}&to=${DAYS[d]! + DAY}`);
          out.push(res.body.variations as { key: string; visitors: number; converters: number; conversions: number; value: number }[]);
        }
        return out;
      };
      const before = await byDay();

      t.clock.set(T0);
      await send([{ type: 'conversion', name: 'signup', visitorId: 'late', value: late.value, idempotencyKey: 'late', timestamp: DAYS[late.day]! + late.hour * HOUR + 10 * MIN }]);
      await t.admin('POST', `${url}/attribution/run`, {});
      const afterLate = await byDay();

      const expected = before.map((variations, d) => (d !== late.day ? variations : variations.map((v) => (v.key !== late.variation ? v : {
        ...v, converters: v.converters + 1, conversions: v.conversions + 1, value: v.value + late.value,
      }))));
      const counts = (days: typeof before) => days.map((vs) => vs.map(({ key, visitors, converters, conversions, value }) => ({ key, visitors, converters, conversions, value })));
      assert.deepEqual(counts(afterLate), counts(expected));
    }), { numRuns: 30 });
  });
});

// ---------- a known gap: a rename that un-makes a custom-event conversion ----------

describe('a custom event that stops being a conversion', () => {
  let t: TestApp;
  before(async () => { t = await testApp(); });
  after(async () => { await t.close(); });

  /**
   * A custom event stamped 30 s ahead (within maxClockSkewMs) is a conversion while "signup" is its
   * goal's name; the goal is renamed before that instant, so at its time "signup" names no goal
   * and it is no conversion at all. A fresh recompute has no outcome for it; a run that had
   * already judged it must not keep calling it attributed. (The runner writes outcomes only for
   * what is a conversion now, and the store has no way to withdraw one, so the old one stays.)
   */
  it('is not reported attributed after the rename, as a fresh recompute would not', async () => {
    const scenario = async (id: string, runBeforeRename: boolean) => {
      t.clock.set(T0);
      const ws = await t.workspace(id);
      const url = `/admin/v1/workspaces/${id}`;
      const goal = (await t.admin('POST', `${url}/goals`, { apiName: 'signup' })).body as { id: number };
      await t.admin('POST', `${url}/optimizations`, { key: 'hero', variations: [{ key: 'control' }, { key: 'bold' }], goals: ['signup'] });
      t.clock.set(T0 + MIN);
      const sent = await t.call({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${ws.serverKey}` }, payload: { events: [
        { type: 'view', visitorId: 'v1', optimization: 'hero', variation: 'bold', timestamp: T0 + MIN },
        { type: 'custom', name: 'signup', visitorId: 'v1', idempotencyKey: 'k1', timestamp: T0 + MIN + 30_000 },
      ] } });
      assert.equal(sent.status, 200);
      if (runBeforeRename) await t.admin('POST', `${url}/attribution/run`, {});
      await t.admin('PATCH', `${url}/goals/${goal.id}`, { apiName: 'registration' });
      await t.admin('POST', `${url}/attribution/run`, {});
      const answer = (await t.admin('GET', `${url}/conversions/k1`)).body;
      const bold = (await t.admin('GET', `${url}/optimizations/hero/results`)).body.variations[1];
      return { outcome: answer.outcome, attributions: answer.attributions, boldConversions: bold.conversions };
    };
    const fresh = await scenario('fresh', false);
    const incremental = await scenario('incremental', true);
    assert.deepEqual(fresh, { outcome: 'not_attributed', attributions: [], boldConversions: 0 });
    assert.deepEqual(incremental, fresh);
  });
});
