import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { percentiles } from '../../src/attribution/quality.js';
import { T0, testApp, type TestApp } from '../helpers/app.js';

describe('data quality and journeys', () => {
  let t: TestApp;
  let key: string;
  const native = (payload: object) => t.call({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${key}` }, payload });
  const optimize = (payload: object) => t.call({ method: 'POST', url: '/event', headers: { authorization: `ApiKey ${key}` }, payload: { customerId: 'dq', ...payload } });

  before(async () => {
    t = await testApp();
    key = (await t.workspace('dq')).serverKey;
    await t.admin('POST', '/admin/v1/workspaces/dq/goals', { apiName: 'signup' });
    await t.admin('POST', '/admin/v1/workspaces/dq/optimizations', { key: 'hero', variations: [{ key: 'control' }, { key: 'bold' }], goals: ['signup'] });
    t.clock.set(T0 + 1000);
    // One user on two devices: a laptop that saw "bold" and a phone that only identified.
    assert.equal((await native({ events: [
      { type: 'view', visitorId: 'laptop', sessionId: 'l1', optimization: 'hero', variation: 'bold', timestamp: T0 + 100 },
      { type: 'identify', visitorId: 'laptop', sessionId: 'l1', userDomain: 'crm', userId: 'u1', timestamp: T0 + 200 },
      { type: 'identify', visitorId: 'phone', sessionId: 'p1', userDomain: 'crm', userId: 'u1', timestamp: T0 + 300 },
    ] })).status, 200);
    t.clock.set(T0 + 10 * 60_000);
    assert.equal((await optimize({ eventName: 'signup', userDomain: 'crm', userId: 'u1', actionId: 'a1', actionTimestamp: T0 + 5 * 60_000, value: 10 })).status, 200);
    assert.equal((await optimize({ eventName: 'signup', userDomain: 'crm', userId: 'stranger', actionId: 'a2', actionTimestamp: T0 + 5 * 60_000 })).status, 200);
    assert.equal((await optimize({ eventName: 'signup', userDomain: 'crm', userId: 'u1', actionId: 'a3', actionTimestamp: 1_000_000 })).status, 400);
    await t.app.runner.run('dq');
  });
  after(async () => { await t.close(); });

  it('reports the match rate per userDomain and dialect, the ingestion lag and rejections by reason', async () => {
    const res = await t.admin('GET', '/admin/v1/workspaces/dq/data-quality');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.matchRate, {
      overall: { conversions: 2, matched: 1, matchRate: 0.5 },
      byUserDomain: { crm: { conversions: 2, matched: 1, matchRate: 0.5 } },
      byDialect: { optimize: { conversions: 2, matched: 1, matchRate: 0.5 } },
    });
    assert.deepEqual(res.body.ingestionLagMs, { optimize: { p50: 5 * 60_000, p90: 5 * 60_000, p99: 5 * 60_000, max: 5 * 60_000 } });
    assert.deepEqual(res.body.rejections, { timestamp_in_seconds: 1 });
    const [run] = (await t.admin('GET', '/admin/v1/workspaces/dq/attribution/runs')).body.runs;
    assert.deepEqual([res.body.asOf, res.body.computedAt], [{ runId: run.id, until: run.until }, run.finishedAt], 'as of the latest run');
  });

  it('shows a user\'s journey across both devices, with the conversion and its outcome in time order', async () => {
    const res = await t.admin('GET', '/admin/v1/workspaces/dq/users/crm/u1');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.visitors.map((v: { visitorId: string }) => v.visitorId), ['laptop', 'phone']);
    assert.deepEqual(res.body.events.map((e: { type: string; visitorId: string | null }) => [e.type, e.visitorId]),
      [['view', 'laptop'], ['identify', 'laptop'], ['identify', 'phone'], ['conversion', null]]);
    assert.deepEqual(res.body.events[3].outcome, { outcome: 'attributed', reason: null, attributions: [{ optimization: 'hero', variation: 'bold', viewedAt: T0 + 100, visitorId: 'laptop' }] });
  });

  it('shows a visitor\'s sessions with how each ended', async () => {
    const res = await t.admin('GET', '/admin/v1/workspaces/dq/visitors/phone');
    assert.deepEqual(res.body.visitors, [{ visitorId: 'phone', sessions: [{ start: T0 + 300, end: T0 + 300 + 30 * 60_000, endedBy: 'inactivity' }] }]);
  });

  it('says why a browser custom event named as no goal is not a conversion', async () => {
    assert.equal((await native({ type: 'custom', name: 'newsletter', visitorId: 'laptop', idempotencyKey: 'c1', timestamp: T0 + 60_000 })).status, 200);
    await t.app.runner.run('dq');
    const res = await t.admin('GET', '/admin/v1/workspaces/dq/conversions/c1');
    assert.deepEqual([res.body.outcome, res.body.reason], ['not_attributed', 'unknown_goal']);
    assert.match(res.body.explanation, /^No goal has ever been called "newsletter"/);
  });

  it('keeps one workspace\'s journeys out of another\'s', async () => {
    await t.workspace('other');
    const res = await t.admin('GET', '/admin/v1/workspaces/other/users/crm/u1');
    assert.deepEqual([res.body.visitors, res.body.events], [[], []]);
  });
});

describe('ingestion lag percentiles', () => {
  it('are the nearest-rank values (rounded down) a full sort gives, with duplicates and in any order', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 20 }), fc.double({ min: 0, max: 1e9, noNaN: true })), { maxLength: 300 }), (xs) => {
      const sorted = Float64Array.from(xs).sort();
      const ps = [0, 0.5, 0.9, 0.99, 1];
      // Reference: sort everything, then take the element at floor(p * n), the last one for p = 1.
      const expected = ps.map((p) => (xs.length === 0 ? null : sorted[Math.min(xs.length - 1, Math.floor(p * xs.length))]!));
      assert.deepEqual(percentiles(Float64Array.from(xs), ps), expected);
    }), { numRuns: 500 });
  });
});
