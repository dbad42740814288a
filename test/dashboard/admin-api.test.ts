import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { curlExamples } from '../../src/admin/index.js';
import { T0, testApp, type TestApp } from '../helpers/app.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

describe('admin API for the dashboard', () => {
  let t: TestApp;
  let key: string;
  const send = async (events: unknown[]) => {
    const res = await t.call({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${key}` }, payload: { events } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  };

  before(async () => {
    t = await testApp();
    key = (await t.workspace('ws')).serverKey;
    await send([
      { type: 'view', visitorId: 'v1', optimization: 'hero', variation: 'bold', timestamp: T0 - 10 * MIN },
      { type: 'identify', visitorId: 'v1', userDomain: 'crm', userId: 'u1', timestamp: T0 - 9 * MIN },
      { type: 'view', visitorId: 'v2', optimization: 'hero', variation: 'control', timestamp: T0 - 8 * MIN },
      { type: 'conversion', name: 'purchase', userDomain: 'crm', userId: 'u1', idempotencyKey: 'c1', timestamp: T0 - 5 * MIN },
    ]);
    const opt = await t.call({ method: 'POST', url: '/customer/ws/event', headers: { authorization: `ApiKey ${key}` }, payload: { eventName: 'purchase', userDomain: 'crm', userId: 'u2', actionId: 'a1', actionTimestamp: T0 - MIN } });
    assert.equal(opt.status, 200);
  });
  after(async () => { await t.close(); });

  describe('GET …/events filters', () => {
    const ids = async (query: string) => ((await t.admin('GET', `/admin/v1/workspaces/ws/events?${query}`)).body.events as { idempotencyKey: string | null; type: string; visitorId: string | null }[])
      .map((e) => e.idempotencyKey ?? `${e.type}:${e.visitorId}`);

    it('filters by dialect, visitor, user domain and user id, alone or together', async () => {
      assert.deepEqual(await ids('dialect=optimize'), ['a1']);
      assert.deepEqual(await ids('dialect=native&type=conversion'), ['c1']);
      assert.deepEqual(await ids('visitorId=v1'), ['identify:v1', 'view:v1']);
      assert.deepEqual(await ids('userDomain=crm'), ['a1', 'c1', 'identify:v1']);
      assert.deepEqual(await ids('userDomain=crm&userId=u1'), ['c1', 'identify:v1']);
      assert.deepEqual(await ids('visitorId=v1&limit=1&after=1000'), ['identify:v1']);
      assert.deepEqual(await ids('type=view&visitorId=&userId='), ['view:v2', 'view:v1'], 'empty filters are ignored');
    });

    it('refuses a dialect it does not know, naming the parameter', async () => {
      const res = await t.admin('GET', '/admin/v1/workspaces/ws/events?dialect=segment');
      assert.equal(res.status, 400);
      assert.match(res.body.error.message, /dialect/);
    });
  });

  describe('GET …/optimizations/{key}/results/series', () => {
    before(async () => {
      await t.admin('POST', '/admin/v1/workspaces/ws/goals', { apiName: 'later-goal' });
      await t.admin('POST', '/admin/v1/workspaces/ws/optimizations', { key: 'hero', variations: [{ key: 'control' }, { key: 'bold' }], goals: ['later-goal'] });
    });

    it('answers the cumulative results at the end of each day since the optimization was created, up to now', async () => {
      t.clock.advance(2 * DAY);
      const res = await t.admin('GET', '/admin/v1/workspaces/ws/optimizations/hero/results/series');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const day0 = Math.floor(T0 / DAY) * DAY;
      assert.deepEqual(res.body.points.map((p: { at: number }) => p.at), [day0 + DAY, day0 + 2 * DAY, T0 + 2 * DAY]);
      assert.deepEqual([res.body.optimization, res.body.goal, res.body.interval, res.body.from, res.body.to], ['hero', 'later-goal', 'day', null, T0 + 2 * DAY]);
      const last = res.body.points.at(-1);
      const results = (await t.admin('GET', `/admin/v1/workspaces/ws/optimizations/hero/results?to=${T0 + 2 * DAY}`)).body;
      assert.deepEqual(last.variations, results.variations.map((v: { key: string; visitors: number; converters: number; conversionRate: number }) =>
        ({ key: v.key, visitors: v.visitors, converters: v.converters, conversionRate: v.conversionRate })));
      assert.deepEqual(last.variations.map((v: { visitors: number }) => v.visitors), [1, 1]);
    });

    it('takes an hourly interval and a range, and refuses one with too many points', async () => {
      const hourly = await t.admin('GET', `/admin/v1/workspaces/ws/optimizations/hero/results/series?interval=hour&from=${T0 - 3 * HOUR}&to=${T0}`);
      assert.deepEqual(hourly.body.points.map((p: { at: number }) => p.at), [T0 - 2 * HOUR, T0 - HOUR, T0]);
      const tooMany = await t.admin('GET', `/admin/v1/workspaces/ws/optimizations/hero/results/series?interval=hour&from=${T0 - 30 * DAY}&to=${T0}`);
      assert.deepEqual([tooMany.status, tooMany.body.error.code], [400, 'field_invalid']);
      assert.match(tooMany.body.error.message, /at most 400 points/);
      const notAGoal = await t.admin('GET', '/admin/v1/workspaces/ws/optimizations/hero/results/series?goal=nope');
      assert.deepEqual([notAGoal.status, notAGoal.body.error.code], [400, 'field_invalid']);
    });
  });

  describe('GET …/install', () => {
    it('gives the snippet tag and the curl example per dialect that `closeloop init` prints, at the server\'s now', async () => {
      const res = await t.admin('GET', '/admin/v1/workspaces/ws/install?baseUrl=https://track.example.com');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        workspace: 'ws', baseUrl: 'https://track.example.com',
        serverKeyPlaceholder: 'cl_sk_YOUR_SERVER_KEY', browserKeyPlaceholder: 'cl_pk_YOUR_BROWSER_KEY',
        snippetTag: '<script async src="https://track.example.com/t.js" data-key="cl_pk_YOUR_BROWSER_KEY"></script>',
        queueStub: res.body.queueStub,
        examples: curlExamples('https://track.example.com', 'ws', 'cl_sk_YOUR_SERVER_KEY', t.clock.now()),
      });
      assert.match(res.body.queueStub, /^<script>.*closeloop.*<\/script>$/);
    });

    it('defaults the base URL to the one the request came to, and refuses one with a path', async () => {
      const res = await t.call({ method: 'GET', url: '/admin/v1/workspaces/ws/install', headers: { authorization: 'Bearer cl_admin_test_token_0123456789abcdefghijklmnop', host: 'closeloop.internal:8080' } });
      assert.equal(res.body.baseUrl, 'http://closeloop.internal:8080');
      assert.equal((await t.admin('GET', '/admin/v1/workspaces/ws/install?baseUrl=https://x.example/path')).status, 400);
      assert.equal((await t.admin('GET', '/admin/v1/workspaces/nope/install')).status, 404);
    });

  });

  it('documents the new endpoints and parameters in /openapi.json', async () => {
    const doc = (await t.call({ method: 'GET', url: '/openapi.json' })).body;
    const params = (path: string) => (doc.paths[path]?.get?.parameters ?? []).map((p: { name: string }) => p.name).sort();
    assert.deepEqual(params('/admin/v1/workspaces/{ws}/events'), ['after', 'dialect', 'limit', 'name', 'type', 'userDomain', 'userId', 'visitorId', 'ws']);
    assert.deepEqual(params('/admin/v1/workspaces/{ws}/optimizations/{key}/results/series'), ['from', 'goal', 'interval', 'key', 'to', 'ws']);
    assert.deepEqual(params('/admin/v1/workspaces/{ws}/install'), ['baseUrl', 'ws']);
  });
});
