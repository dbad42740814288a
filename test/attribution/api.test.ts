import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { refreshKeptResults } from '../../src/attribution/index.js';
import { T0, testApp, type TestApp } from '../helpers/app.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
type Body = Record<string, unknown>;

describe('attribution admin API', () => {
  let t: TestApp;
  let n = 0;
  before(async () => { t = await testApp(); });
  after(async () => { await t.close(); });

  /**
   * A fresh workspace (created at `createdAt`, default T0) with goals "signup" and "newsletter" and
   * optimization "hero" (control, bold) listing both, "signup" primary. The clock is left at T0.
   */
  async function workspace(createdAt = T0) {
    t.clock.set(createdAt);
    const ws = await t.workspace(`attr-${++n}`);
    const url = `/admin/v1/workspaces/${ws.id}`;
    const admin = async (method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown) => t.admin(method, `${url}${path}`, body);
    const goal = async (apiName: string) => {
      const res = await admin('POST', '/goals', { apiName });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as number;
    };
    const signup = await goal('signup');
    const newsletter = await goal('newsletter');
    const created = await admin('POST', '/optimizations', { key: 'hero', variations: [{ key: 'control' }, { key: 'bold' }], goals: ['signup', 'newsletter'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    t.clock.set(T0);
    /** Sends native events as they are, whatever the clock says. Answers the stored ids. */
    const post = async (...events: Body[]): Promise<number[]> => {
      const res = await t.call({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${ws.serverKey}` }, payload: { events } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.ok((res.body.ids as unknown[]).every((id) => id !== null), JSON.stringify(res.body));
      return res.body.ids as number[];
    };
    /** Sends events once they have happened: the clock moves on to the latest of them, never back. */
    const send = async (...events: Body[]): Promise<number[]> => {
      t.clock.set(Math.max(t.clock.now(), ...events.map((e) => e.timestamp as number)));
      return post(...events);
    };
    const run = async (body: Body = {}) => {
      const res = await admin('POST', '/attribution/run', body);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as { runId: number; conversionsProcessed: number; attributed: number; notAttributed: number; durationMs: number };
    };
    const conversionOf = (key: string) => admin('GET', `/conversions/${encodeURIComponent(key)}`);
    const results = async (query = '') => {
      const res = await admin('GET', `/optimizations/hero/results${query}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as { goal: string; from: number | null; to: number; computedAt: number | null; variations: Body[] };
    };
    return { ...ws, url, admin, goal, ids: { signup, newsletter }, post, send, run, conversionOf, results };
  }

  const view = (visitorId: string, variation: string, timestamp: number): Body => ({ type: 'view', visitorId, optimization: 'hero', variation, timestamp });
  const convert = (key: string, timestamp: number, over: Body = {}): Body => ({ type: 'conversion', name: 'signup', visitorId: 'v1', idempotencyKey: key, timestamp, ...over });
  /** The per-variation counts a reader compares. */
  const counts = (variations: Body[]) => variations.map(({ key, visitors, converters, conversions, value }) => ({ key, visitors, converters, conversions, value }));

  describe('POST …/attribution/run', () => {
    it('answers with the run id and how many conversions it judged and attributed', async () => {
      const ws = await workspace();
      await ws.send(view('v1', 'bold', T0), convert('won', T0 + MIN), convert('lost', T0 + MIN, { visitorId: 'stranger' }));
      const { durationMs, runId, ...rest } = await ws.run();
      assert.deepEqual(rest, { conversionsProcessed: 2, attributed: 1, notAttributed: 1, changed: 2, newlyAttributed: 1, unattributed: 0 });
      assert.ok(Number.isInteger(runId) && runId > 0);
      assert.ok(Number.isInteger(durationMs) && durationMs >= 0);
      const runs = (await ws.admin('GET', '/attribution/runs')).body.runs as Body[];
      assert.deepEqual(runs.map((r) => r.id), [runId]);
    });

    it('judges only the conversions received up to `until`, given as an ISO time', async () => {
      const ws = await workspace();
      await ws.send(view('v1', 'bold', T0), convert('early', T0));
      t.clock.set(T0 + 10 * MIN);
      await ws.send(convert('later', T0 + 5 * MIN));
      const summary = await ws.run({ until: new Date(T0 + 5 * MIN).toISOString() });
      assert.equal(summary.conversionsProcessed, 1);
      assert.deepEqual([(await ws.conversionOf('early')).body.outcome, (await ws.conversionOf('later')).body.outcome], ['attributed', 'pending']);
      const runs = (await ws.admin('GET', '/attribution/runs')).body.runs as Body[];
      assert.equal(runs[0]!.until, T0 + 5 * MIN);
    });

    it('refuses an unknown workspace and a caller without the admin token', async () => {
      assert.equal((await t.admin('POST', '/admin/v1/workspaces/nowhere/attribution/run', {})).status, 404);
      const ws = await workspace();
      const res = await t.call({ method: 'POST', url: `${ws.url}/attribution/run`, headers: { authorization: `Bearer ${ws.serverKey}` }, payload: {} });
      assert.equal(res.status, 401);
    });
  });

  describe('GET …/attribution/runs and …/runs/{id}: what each run changed', () => {
    it('lists the runs newest first', async () => {
      const ws = await workspace();
      const first = await ws.run();
      t.clock.advance(MIN);
      const second = await ws.run();
      const runs = (await ws.admin('GET', '/attribution/runs')).body.runs as Body[];
      assert.deepEqual(runs.map((r) => [r.id, r.finishedAt]), [[second.runId, T0 + MIN], [first.runId, T0]]);
    });

    it('shows only the new conversion in a second run after it arrived', async () => {
      const ws = await workspace();
      await ws.send(view('v1', 'bold', T0), convert('first', T0 + MIN));
      await ws.run();
      t.clock.advance(5 * MIN);
      const [id] = await ws.send(convert('second', T0 + 4 * MIN));
      const { runId } = await ws.run();
      const res = await ws.admin('GET', `/attribution/runs/${runId}`);
      assert.equal(res.status, 200);
      const bold = [{ optimization: 'hero', variation: 'bold', viewedAt: T0, visitorId: 'v1' }];
      assert.deepEqual(res.body.changes, [{ eventId: id, before: null, after: { outcome: 'attributed', reason: null, attributions: bold } }]);
      assert.deepEqual(res.body.deltas, [{ optimization: 'hero', variation: 'bold', conversions: 1 }]);
      assert.deepEqual([res.body.conversionsProcessed, res.body.changed, res.body.newlyAttributed, res.body.unattributed], [2, 1, 1, 0]);
    });

    it('pages through what a run changed, filtered by optimization, with deltas and a total of the whole run', async () => {
      const ws = await workspace();
      // Seven conversions in hero (five on bold, two on control) and three no view ever reached.
      const events: Body[] = [view('v1', 'bold', T0), view('v2', 'control', T0)];
      for (let i = 0; i < 10; i++) events.push(convert(`c${i}`, T0 + MIN + i, { visitorId: i < 5 ? 'v1' : i < 7 ? 'v2' : 'nobody' }));
      await ws.send(...events);
      const { runId } = await ws.run();
      const whole = (await ws.admin('GET', `/attribution/runs/${runId}`)).body;
      assert.deepEqual([whole.changes.length, whole.changesTotal, whole.nextAfter], [10, 10, null]);
      assert.deepEqual(whole.deltas, [{ optimization: 'hero', variation: 'bold', conversions: 5 }, { optimization: 'hero', variation: 'control', conversions: 2 }]);
      const paged: Body[] = [];
      let after: number | null = 0;
      while (after !== null) {
        const page = (await ws.admin('GET', `/attribution/runs/${runId}?optimization=hero&limit=3&after=${after}`)).body as { changes: Body[]; changesTotal: number; deltas: unknown; nextAfter: number | null };
        assert.equal(page.changesTotal, 7, 'the changes that concern hero, all pages together');
        assert.deepEqual(page.deltas, whole.deltas, 'deltas are the whole run\'s on every page');
        assert.ok(page.changes.length <= 3);
        paged.push(...page.changes);
        after = page.nextAfter;
      }
      assert.deepEqual(paged, whole.changes.filter((c: Body) => (c.after as { attributions: unknown[] }).attributions.length > 0));
      assert.equal((await ws.admin('GET', `/attribution/runs/${runId}?optimization=pricing`)).body.changesTotal, 0);
      const refused = await ws.admin('GET', `/attribution/runs/${runId}?limit=5000`);
      assert.equal(refused.status, 400);
      assert.match(JSON.stringify(refused.body), /limit/);
    });

    it('records nothing changed when a run finds nothing new', async () => {
      const ws = await workspace();
      await ws.send(view('v1', 'bold', T0), convert('c1', T0 + MIN));
      const first = await ws.run();
      const again = await ws.run();
      const res = await ws.admin('GET', `/attribution/runs/${again.runId}`);
      assert.deepEqual([res.body.changed, res.body.changes, res.body.deltas], [0, [], []]);
      assert.equal((await ws.conversionOf('c1')).body.runId, first.runId);
    });

    it('shows a view received late moving a conversion from one variation to another', async () => {
      const ws = await workspace();
      const [, id] = await ws.send(view('v1', 'control', T0), convert('c1', T0 + 10 * MIN));
      await ws.run();
      t.clock.advance(HOUR);
      await ws.send(view('v1', 'bold', T0 + 5 * MIN)); // happened before the conversion, arrived after the run
      const { runId } = await ws.run();
      const res = await ws.admin('GET', `/attribution/runs/${runId}`);
      assert.deepEqual(res.body.changes, [{
        eventId: id,
        before: { outcome: 'attributed', reason: null, attributions: [{ optimization: 'hero', variation: 'control', viewedAt: T0, visitorId: 'v1' }] },
        after: { outcome: 'attributed', reason: null, attributions: [{ optimization: 'hero', variation: 'bold', viewedAt: T0 + 5 * MIN, visitorId: 'v1' }] },
      }]);
      assert.deepEqual(res.body.deltas, [{ optimization: 'hero', variation: 'bold', conversions: 1 }, { optimization: 'hero', variation: 'control', conversions: -1 }]);
      assert.deepEqual([res.body.changed, res.body.newlyAttributed, res.body.unattributed], [1, 0, 0]);
    });

    it('shows a view received late turning no_view_before_conversion into an attribution', async () => {
      const ws = await workspace();
      const [, id] = await ws.send({ type: 'pageview', visitorId: 'v1', timestamp: T0 }, convert('c1', T0 + 10 * MIN));
      await ws.run();
      t.clock.advance(HOUR);
      await ws.send(view('v1', 'bold', T0 + 5 * MIN));
      const { runId } = await ws.run();
      const res = await ws.admin('GET', `/attribution/runs/${runId}`);
      assert.deepEqual(res.body.changes, [{
        eventId: id,
        before: { outcome: 'not_attributed', reason: 'no_view_before_conversion', attributions: [] },
        after: { outcome: 'attributed', reason: null, attributions: [{ optimization: 'hero', variation: 'bold', viewedAt: T0 + 5 * MIN, visitorId: 'v1' }] },
      }]);
      assert.deepEqual(res.body.deltas, [{ optimization: 'hero', variation: 'bold', conversions: 1 }]);
    });

    it('shows a goal rename changing why a conversion was not attributed', async () => {
      const ws = await workspace();
      const [, id] = await ws.send(view('v1', 'bold', T0), convert('c1', T0 + MIN, { name: 'registration' }));
      await ws.run();
      t.clock.advance(HOUR);
      assert.equal((await ws.admin('PATCH', `/goals/${ws.ids.signup}`, { apiName: 'registration' })).status, 200);
      const { runId } = await ws.run();
      const res = await ws.admin('GET', `/attribution/runs/${runId}`);
      assert.deepEqual(res.body.changes, [{
        eventId: id,
        before: { outcome: 'not_attributed', reason: 'unknown_goal', attributions: [] },
        after: { outcome: 'not_attributed', reason: 'goal_renamed', attributions: [] },
      }]);
      assert.deepEqual(res.body.deltas, []);
    });

    it('shows a rename taking a conversion away from its variation when the old name no longer held at its time', async () => {
      const ws = await workspace();
      t.clock.set(T0 + MIN);
      // Stamped 30 s ahead of the clock (within maxClockSkewMs); the rename at T0 + 1 min comes before it.
      const [, id] = await ws.post(view('v1', 'bold', T0), convert('c1', T0 + MIN + 30_000));
      await ws.run();
      assert.equal((await ws.admin('PATCH', `/goals/${ws.ids.signup}`, { apiName: 'registration' })).status, 200);
      const { runId } = await ws.run();
      const res = await ws.admin('GET', `/attribution/runs/${runId}`);
      assert.deepEqual(res.body.changes, [{
        eventId: id,
        before: { outcome: 'attributed', reason: null, attributions: [{ optimization: 'hero', variation: 'bold', viewedAt: T0, visitorId: 'v1' }] },
        after: { outcome: 'not_attributed', reason: 'goal_renamed', attributions: [] },
      }]);
      assert.deepEqual(res.body.deltas, [{ optimization: 'hero', variation: 'bold', conversions: -1 }]);
      assert.deepEqual([res.body.newlyAttributed, res.body.unattributed], [0, 1]);
    });

    it('answers 404 for a run that does not exist', async () => {
      const ws = await workspace();
      const res = await ws.admin('GET', '/attribution/runs/999999');
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'not_found');
    });
  });

  describe('GET …/conversions/{key}', () => {
    it('answers pending, with the stored conversion, before any run has seen it', async () => {
      const ws = await workspace();
      const [id] = await ws.send(convert('order-1', T0, { value: 49.5 }));
      const res = await ws.conversionOf('order-1');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        conversion: {
          id, workspaceId: ws.id, type: 'conversion', name: 'signup', occurredAt: T0, receivedAt: T0, idempotencyKey: 'order-1', visitorId: 'v1',
          sessionId: null, userDomain: null, userId: null, optimization: null, variation: null, value: 49.5, currency: null,
          properties: null, userData: null, context: null, source: 'native',
        },
        outcome: 'pending', attributions: [], reason: null,
        explanation: 'No attribution run has seen this conversion yet; run `closeloop attribute` or wait for the schedule.',
      });
    });

    it('answers attributed with the variation, when it was viewed, and an explanation', async () => {
      const ws = await workspace();
      await ws.send(view('v1', 'bold', T0), convert('order-1', T0 + 5 * MIN));
      const { runId } = await ws.run();
      const { conversion, ...rest } = (await ws.conversionOf('order-1')).body;
      assert.equal(conversion.idempotencyKey, 'order-1');
      assert.deepEqual(rest, {
        outcome: 'attributed', reason: null, runId,
        attributions: [{ optimization: 'hero', variation: 'bold', viewedAt: T0, visitorId: 'v1' }],
        explanation: 'Attributed to variation "bold" of "hero" (viewed 2026-01-15T12:00:00Z by visitor v1): the view came at or before the conversion at 2026-01-15T12:05:00Z, in the same session.',
      });
    });

    it('counts a browser custom event named as a goal as a conversion', async () => {
      const ws = await workspace();
      await ws.send(view('v1', 'bold', T0), { type: 'custom', name: 'signup', visitorId: 'v1', idempotencyKey: 'clicked-signup', timestamp: T0 + MIN });
      await ws.run();
      const res = await ws.conversionOf('clicked-signup');
      assert.deepEqual([res.body.outcome, res.body.attributions], ['attributed', [{ optimization: 'hero', variation: 'bold', viewedAt: T0, visitorId: 'v1' }]]);
      assert.deepEqual(counts((await ws.results()).variations)[1], { key: 'bold', visitors: 1, converters: 1, conversions: 1, value: 0 });
    });

    it('gives each reason a conversion was not attributed with a sentence that says what to do', async () => {
      const ws = await workspace(T0 - 30 * HOUR);
      t.clock.set(T0 - 30 * HOUR);
      const trial = await ws.goal('trial');
      await ws.goal('unused');
      t.clock.set(T0 - 29 * HOUR);
      await ws.admin('PATCH', `/goals/${trial}`, { apiName: 'trial-started' });
      await ws.admin('POST', '/optimizations', { key: 'pricing', variations: [{ key: 'cheap' }, { key: 'dear' }], goals: ['trial-started'] });
      t.clock.set(T0);
      await ws.goal('upgrade');
      const keepAlive = Array.from({ length: 76 }, (_, i) => ({ type: 'pageview', visitorId: 'marathon', timestamp: T0 - 26 * HOUR + i * 20 * MIN }));
      await ws.send(
        view('idle', 'bold', T0 - 3 * HOUR),
        { type: 'pageview', visitorId: 'browsing', timestamp: T0 - HOUR },
        view('marathon', 'control', T0 - 26 * HOUR), ...keepAlive,
        convert('unknown-goal', T0 - 2 * HOUR, { name: 'purchase', visitorId: 'idle' }),
        convert('not-created-yet', T0 - HOUR, { name: 'upgrade', visitorId: 'idle' }),
        convert('renamed', T0 - 2 * HOUR, { name: 'trial', visitorId: 'idle' }),
        convert('unknown-user', T0 - 2 * HOUR, { visitorId: undefined, userDomain: 'crm', userId: 'ghost' }),
        convert('no-optimization', T0 - 2 * HOUR, { name: 'unused', visitorId: 'idle' }),
        convert('no-view', T0 - 50 * MIN, { visitorId: 'browsing' }),
        convert('expired', T0 - 2 * HOUR, { visitorId: 'idle' }),
        convert('capped', T0 - 90 * MIN, { visitorId: 'marathon' }),
      );
      await ws.run();
      const expected: [key: string, reason: string, action: RegExp][] = [
        ['unknown-goal', 'unknown_goal', /create one with that API name \(closeloop goals create purchase\)/],
        ['not-created-yet', 'goal_not_created_yet', /was created after this conversion .*: create a goal before its conversions happen\.$/],
        ['renamed', 'goal_renamed', /send the name that was valid at the time of the conversion\.$/],
        ['unknown-user', 'unknown_user', /^No visitor matches setUserId\("crm", "ghost"\): call setUserId with the same domain and id/],
        ['no-optimization', 'goal_not_in_any_optimization', /"unused" is not a goal of any optimization; add it to the optimization's goals\.$/],
        ['no-view', 'no_view_before_conversion', /^The visitor \(browsing\) saw no variation .*: check that the page sends the view/],
        ['expired', 'session_expired', /ended at 2026-01-15T09:30:00Z after 30 min without activity.*raise the workspace's sessionTimeoutMinutes\.$/],
        ['capped', 'session_max_duration', /started 2026-01-14T10:00:00Z and reached its 24\.0 h maximum at 2026-01-15T10:00:00Z.*raise the workspace's sessionMaxHours\.$/],
      ];
      for (const [key, reason, action] of expected) {
        const res = await ws.conversionOf(key);
        assert.equal(res.status, 200);
        assert.deepEqual([res.body.outcome, res.body.reason, res.body.attributions], ['not_attributed', reason, []], key);
        assert.match(res.body.explanation, action, key);
      }
    });

    it('follows the workspace\'s session settings', async () => {
      const ws = await workspace();
      await ws.send(view('v1', 'bold', T0), convert('c1', T0 + 15 * MIN));
      await ws.run();
      assert.equal((await ws.conversionOf('c1')).body.outcome, 'attributed');
      assert.equal((await t.admin('PATCH', ws.url, { settings: { sessionTimeoutMinutes: 10 } })).status, 200);
      await ws.run();
      const res = await ws.conversionOf('c1');
      assert.equal(res.body.reason, 'session_expired');
      assert.match(res.body.explanation, /after 10 min without activity, 5 min before the conversion/);
    });

    it('answers 404 for a key no conversion has', async () => {
      const ws = await workspace();
      const res = await ws.conversionOf('never-sent');
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, { error: { code: 'not_found', message: `No conversion with idempotency key "never-sent" in workspace "${ws.id}".` } });
    });
  });

  describe('GET …/optimizations/{key}/results', () => {
    it('counts distinct viewers, converters, conversions and value per variation', async () => {
      const ws = await workspace();
      await ws.send(
        view('a', 'control', T0), view('a', 'control', T0 + MIN), view('b', 'control', T0),
        view('c', 'bold', T0), view('d', 'bold', T0), view('e', 'bold', T0),
        convert('a1', T0 + 5 * MIN, { visitorId: 'a', value: 7.5 }),
        convert('c1', T0 + 5 * MIN, { visitorId: 'c', value: 10 }),
        convert('c2', T0 + 6 * MIN, { visitorId: 'c', value: 5 }),
        convert('d1', T0 + 5 * MIN, { visitorId: 'd', value: 20 }),
        convert('e1', T0 + HOUR, { visitorId: 'e', value: 99 }), // session over: not attributed
        convert('n1', T0 + 5 * MIN, { visitorId: 'b', name: 'newsletter', value: 1 }), // another goal
      );
      t.clock.set(T0 + 2 * HOUR);
      const { runId } = await ws.run();
      const res = await ws.results();
      const run = (await ws.admin('GET', `/attribution/runs/${runId}`)).body;
      assert.deepEqual([res.goal, res.from, res.computedAt], ['signup', null, run.finishedAt]);
      assert.deepEqual(res.variations.map(({ key, visitors, converters, conversions, conversionRate, value, valuePerVisitor }) => ({ key, visitors, converters, conversions, conversionRate, value, valuePerVisitor })), [
        { key: 'control', visitors: 2, converters: 1, conversions: 1, conversionRate: 0.5, value: 7.5, valuePerVisitor: 3.75 },
        { key: 'bold', visitors: 3, converters: 2, conversions: 3, conversionRate: 2 / 3, value: 35, valuePerVisitor: 35 / 3 },
      ]);
    });

    it('keeps what it counted between queries, adds the events stored since, and counts again as soon as a run changes an outcome', async () => {
      const ws = await workspace();
      await ws.send(view('a', 'control', T0), view('c', 'bold', T0), convert('c1', T0 + MIN, { visitorId: 'c', value: 10 }));
      await ws.run();
      assert.deepEqual(counts((await ws.results()).variations), [
        { key: 'control', visitors: 1, converters: 0, conversions: 0, value: 0 },
        { key: 'bold', visitors: 1, converters: 1, conversions: 1, value: 10 },
      ]);
      // Outcomes are read (attributedTo) only when they changed: the store's own method, counted.
      const store = t.store.attribution;
      const attributedTo = store.attributedTo.bind(store);
      let reads = 0;
      store.attributedTo = async (...args) => { reads++; return attributedTo(...args); };
      try {
        await ws.send(view('b', 'control', T0 + 2 * MIN), convert('a1', T0 + 3 * MIN, { visitorId: 'a', value: 5 }));
        assert.deepEqual(counts((await ws.results()).variations)[0], { key: 'control', visitors: 2, converters: 0, conversions: 0, value: 0 },
          'the new view counted at once; the conversion waits for a run');
        assert.equal(reads, 0, 'the kept tally read only the new events');
        await ws.run();
        assert.equal(reads, 1, 'counting again began as the run committed, before anyone asked');
        await refreshKeptResults(t.store, ws.id); // waits for the refresh the run set off
        assert.equal(reads, 1);
        assert.deepEqual(counts((await ws.results()).variations)[0], { key: 'control', visitors: 2, converters: 1, conversions: 1, value: 5 });
        await ws.run(); // nothing new: no outcome written
        await refreshKeptResults(t.store, ws.id);
        await ws.results();
        assert.equal(reads, 1, 'a run that changed no outcome leaves the tally standing');
      } finally {
        store.attributedTo = attributedTo;
      }
    });

    it('keeps at most four tallies, letting the least recently asked go first', async () => {
      const ws = await workspace();
      await ws.send(view('a', 'control', T0), convert('a1', T0 + MIN, { visitorId: 'a', value: 1 }));
      await ws.run();
      const store = t.store.attribution;
      const attributedTo = store.attributedTo.bind(store);
      let reads = 0;
      store.attributedTo = async (...args) => { reads++; return attributedTo(...args); };
      try {
        // Five starts: five tallies asked for, one after the other.
        for (let k = 0; k < 5; k++) await ws.results(`?from=${new Date(T0 - k * HOUR).toISOString()}`);
        assert.equal(reads, 5);
        await ws.results(`?from=${new Date(T0 - 4 * HOUR).toISOString()}`);
        await ws.results(`?from=${new Date(T0 - HOUR).toISOString()}`);
        assert.equal(reads, 5, 'the four most recent are kept');
        await ws.results(`?from=${new Date(T0).toISOString()}`);
        assert.equal(reads, 6, 'the least recently asked was let go, and is counted again');
      } finally {
        store.attributedTo = attributedTo;
      }
    });

    it('counts only the conversions of the goal asked for with goal=', async () => {
      const ws = await workspace();
      await ws.send(
        view('a', 'control', T0), view('c', 'bold', T0),
        convert('s1', T0 + MIN, { visitorId: 'c', value: 10 }),
        convert('n1', T0 + MIN, { visitorId: 'a', name: 'newsletter', value: 3 }),
        convert('n2', T0 + 2 * MIN, { visitorId: 'a', name: 'newsletter', value: 4 }),
      );
      await ws.run();
      const secondary = await ws.results('?goal=newsletter');
      assert.equal(secondary.goal, 'newsletter');
      assert.deepEqual(counts(secondary.variations), [
        { key: 'control', visitors: 1, converters: 1, conversions: 2, value: 7 },
        { key: 'bold', visitors: 1, converters: 0, conversions: 0, value: 0 },
      ]);
      assert.deepEqual(counts((await ws.results()).variations), [
        { key: 'control', visitors: 1, converters: 0, conversions: 0, value: 0 },
        { key: 'bold', visitors: 1, converters: 1, conversions: 1, value: 10 },
      ]);
    });

    it('finds a renamed goal by its current name', async () => {
      const ws = await workspace();
      await ws.send(view('c', 'bold', T0), convert('s1', T0 + MIN, { visitorId: 'c' }));
      t.clock.advance(HOUR);
      await ws.admin('PATCH', `/goals/${ws.ids.newsletter}`, { apiName: 'digest' });
      await ws.run();
      assert.equal((await ws.results('?goal=digest')).goal, 'digest');
      assert.equal((await ws.admin('GET', '/optimizations/hero/results?goal=newsletter')).status, 400);
    });

    it('counts views and conversions by when they happened, `from` included and `to` excluded', async () => {
      const ws = await workspace(T0 - 3 * DAY);
      const day1 = T0 - 2 * DAY;
      const day2 = T0 - DAY;
      await ws.send(
        view('v1', 'bold', day1), convert('k1', day1 + 10 * MIN, { visitorId: 'v1', value: 1 }),
        view('v2', 'bold', day2), convert('k2', day2 + 10 * MIN, { visitorId: 'v2', value: 2 }),
        view('v3', 'control', day2 + HOUR), view('v4', 'control', day2 + 10 * MIN),
      );
      await ws.run();
      const range = async (from: number, to: number) => counts((await ws.results(`?from=${new Date(from).toISOString()}&to=${to}`)).variations);
      assert.deepEqual(await range(day2, day2 + DAY), [
        { key: 'control', visitors: 2, converters: 0, conversions: 0, value: 0 },
        { key: 'bold', visitors: 1, converters: 1, conversions: 1, value: 2 },
      ]);
      assert.deepEqual(await range(day1, day2 + 10 * MIN), [
        { key: 'control', visitors: 0, converters: 0, conversions: 0, value: 0 },
        { key: 'bold', visitors: 2, converters: 1, conversions: 1, value: 1 },
      ]);
      const answer = await ws.results(`?from=${day1}&to=${day2}`);
      assert.deepEqual([answer.from, answer.to], [day1, day2]);
    });

    it('counts a converter whose view fell before `from` among the variation\'s visitors, so the rate never passes 1', async () => {
      const ws = await workspace(T0 - DAY);
      await ws.send(view('v1', 'bold', T0 - 10 * MIN), convert('k1', T0 + 10 * MIN, { visitorId: 'v1' }));
      t.clock.set(T0 + HOUR);
      await ws.run();
      const bold = (await ws.results(`?from=${T0}`)).variations[1]!;
      assert.deepEqual([bold.visitors, bold.converters, bold.conversionRate], [1, 1, 1]);
    });

    it('answers 400 for a goal the optimization does not have, naming its goals', async () => {
      const ws = await workspace();
      await ws.goal('purchase');
      for (const goal of ['purchase', 'no-such-goal']) {
        const res = await ws.admin('GET', `/optimizations/hero/results?goal=${goal}`);
        assert.equal(res.status, 400);
        assert.deepEqual(res.body, { error: { code: 'field_invalid', message: `"${goal}" is not a goal of optimization "hero"; its goals are signup, newsletter.` } });
      }
    });

    it('answers 404 for an optimization that does not exist', async () => {
      const ws = await workspace();
      const res = await ws.admin('GET', '/optimizations/footer/results');
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'not_found');
    });
  });

  describe('tenant isolation', () => {
    it('keeps one workspace\'s conversions, runs and results out of another\'s', async () => {
      const a = await workspace();
      const b = await workspace();
      await a.send(view('v1', 'bold', T0), convert('shared-key', T0 + MIN), convert('only-a', T0 + MIN));
      const runA = await a.run();

      // B sees none of A's conversions, runs or results.
      assert.equal((await b.conversionOf('only-a')).status, 404);
      assert.equal((await b.conversionOf('shared-key')).status, 404);
      assert.deepEqual((await b.admin('GET', '/attribution/runs')).body, { runs: [] });
      assert.equal((await b.admin('GET', `/attribution/runs/${runA.runId}`)).status, 404);
      assert.deepEqual(counts((await b.results()).variations).map((v) => v.conversions), [0, 0]);

      // B's run judges only B's events; the same idempotency key is B's own conversion there.
      await b.send(convert('shared-key', T0 + 2 * MIN, { visitorId: 'someone-else' }));
      const runB = await b.run();
      assert.deepEqual([runB.conversionsProcessed, runB.attributed], [1, 0]);
      assert.equal((await b.conversionOf('shared-key')).body.reason, 'unknown_user');
      assert.equal((await a.conversionOf('shared-key')).body.outcome, 'attributed');
      assert.equal((await a.admin('GET', `/attribution/runs/${runB.runId}`)).status, 404);
      assert.deepEqual(counts((await a.results()).variations).map((v) => v.conversions), [0, 2]);
    });
  });
});
