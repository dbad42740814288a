import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testApp, type TestApp } from '../helpers/app.js';

type Body = Record<string, unknown>;
const VISITOR = '550e8400-e29b-41d4-a716-446655440000';

/** The reference's single-event example. */
const purchase = (over: Body = {}): Body => ({
  name: 'purchase',
  payload: { order_id: 'ORD-1234', amount: '49.99', currency: 'USD', plan: 'pro' },
  visitor_id: VISITOR,
  url: 'https://example.com/checkout',
  ...over,
});

describe('webanalyzer dialect', () => {
  let t: TestApp;
  let n = 0;
  before(async () => { t = await testApp(); });
  after(async () => { await t.close(); });

  async function workspace(settings?: Parameters<TestApp['workspace']>[1]) {
    const ws = await t.workspace(`wa-${++n}`, settings);
    const bearer = { authorization: `Bearer ${ws.serverKey}` };
    const track = (payload: unknown, headers: Record<string, string> = bearer, website = ws.id) =>
      t.call({ method: 'POST', url: `/api/v1/websites/${website}/track`, headers, payload: payload as Body });
    const batch = (events: unknown[], headers: Record<string, string> = bearer, website = ws.id) =>
      t.call({ method: 'POST', url: `/api/v1/websites/${website}/track/batch`, headers, payload: { events } });
    const events = async (): Promise<Body[]> => (await t.admin('GET', `/admin/v1/workspaces/${ws.id}/events?limit=1000`)).body.events as Body[];
    const ids = async () => (await events()).map((e) => e.id as number).reverse();
    const patch = (settings: Body) => t.admin('PATCH', `/admin/v1/workspaces/${ws.id}`, { settings });
    return { ...ws, bearer, track, batch, events, ids, patch };
  }

  const validation = (message: string, field?: string) => ({ ok: false, error: 'validation_error', message, ...(field !== undefined ? { field } : {}) });

  describe('POST /api/v1/websites/{websiteId}/track', () => {
    it('stores the reference example and answers its event id', async () => {
      const ws = await workspace();
      const res = await ws.track(purchase());
      assert.equal(res.status, 200);
      const [e] = await ws.events();
      assert.deepEqual(res.body, { ok: true, event_id: e!.id });
      assert.deepEqual(e, {
        id: e!.id, workspaceId: ws.id, type: 'conversion', name: 'purchase', occurredAt: t.clock.now(), receivedAt: t.clock.now(),
        idempotencyKey: null, visitorId: VISITOR, sessionId: null, userDomain: null, userId: null, optimization: null, variation: null,
        value: 49.99, currency: 'USD', properties: { order_id: 'ORD-1234', amount: '49.99', currency: 'USD', plan: 'pro' },
        userData: null, context: { url: 'https://example.com/checkout' }, source: 'webanalyzer',
      });
    });

    it('stores an event with only a name', async () => {
      const ws = await workspace();
      const res = await ws.track({ name: 'signup' });
      assert.equal(res.status, 200);
      const [e] = await ws.events();
      assert.deepEqual([e!.name, e!.properties, e!.visitorId, e!.context], ['signup', null, null, null]);
    });

    it('accepts a name of 128 characters and refuses 129 or none', async () => {
      const ws = await workspace();
      assert.equal((await ws.track({ name: 'n'.repeat(128) })).status, 200);
      const long = await ws.track({ name: 'n'.repeat(129) });
      assert.equal(long.status, 400);
      assert.deepEqual(long.body, validation('name must be at most 128 characters long.', 'name'));
      const empty = await ws.track({ name: '' });
      assert.deepEqual([empty.status, empty.body], [400, validation('name must not be empty.', 'name')]);
      const missing = await ws.track({ payload: { a: '1' } });
      assert.deepEqual([missing.status, missing.body], [400, validation('name is required.', 'name')]);
    });

    it('casts numbers and booleans in the payload to strings', async () => {
      const ws = await workspace();
      await ws.track({ name: 'sensor_reading', payload: { temperature: 21.5, count: 3, active: true, off: false, label: 'x' } });
      assert.deepEqual((await ws.events())[0]!.properties, { temperature: '21.5', count: '3', active: 'true', off: 'false', label: 'x' });
    });

    it('accepts 10 payload keys and refuses 11', async () => {
      const ws = await workspace();
      const keys = (k: number) => Object.fromEntries(Array.from({ length: k }, (_, i) => [`k${i}`, 'v']));
      assert.equal((await ws.track({ name: 'e', payload: keys(10) })).status, 200);
      const res = await ws.track({ name: 'e', payload: keys(11) });
      assert.deepEqual([res.status, res.body], [400, validation('payload may have at most 10 keys.', 'payload')]);
    });

    it('accepts payload values of 255 characters and refuses 256', async () => {
      const ws = await workspace();
      assert.equal((await ws.track({ name: 'e', payload: { note: 'x'.repeat(255) } })).status, 200);
      const res = await ws.track({ name: 'e', payload: { note: 'x'.repeat(256) } });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'validation_error');
      assert.equal(res.body.field, 'payload.note');
    });

    it('refuses a nested payload', async () => {
      const ws = await workspace();
      for (const nested of [{ customer: { id: 1 } }, { items: ['a', 'b'] }]) {
        const res = await ws.track({ name: 'purchase', payload: nested });
        assert.equal(res.status, 400);
        assert.equal(res.body.error, 'validation_error');
        assert.match(res.body.message, /^payload\.(customer|items) must be a string, number or boolean \(payloads are flat: no nested objects or arrays\)/);
      }
      assert.deepEqual(await ws.events(), []);
    });

    it('requires visitor_id to be a UUID, and stores it in lower case', async () => {
      const ws = await workspace();
      const res = await ws.track({ name: 'purchase', visitor_id: 'visitor-42' });
      assert.equal(res.status, 400);
      assert.equal(res.body.field, 'visitor_id');
      assert.match(res.body.message, /^visitor_id must be a UUID/);
      assert.equal((await ws.track({ name: 'purchase', visitor_id: VISITOR.toUpperCase() })).status, 200);
      assert.equal((await ws.events())[0]!.visitorId, VISITOR);
    });

    it('accepts null where the reference\'s PHP examples send null', async () => {
      const ws = await workspace();
      const res = await ws.track({ name: 'purchase', visitor_id: null, url: null, payload: { order_id: 'cs_1', customer: null } });
      assert.equal(res.status, 200);
      const [e] = await ws.events();
      assert.deepEqual([e!.visitorId, e!.context, e!.properties], [null, null, { order_id: 'cs_1' }]);
    });
  });

  describe('POST /api/v1/websites/{websiteId}/track/batch', () => {
    it('stores the reference batch and answers processed and event_ids', async () => {
      const ws = await workspace();
      const res = await ws.batch([
        { name: 'purchase', payload: { order_id: 'ORD-1001', amount: '29.99' }, visitor_id: VISITOR },
        { name: 'purchase', payload: { order_id: 'ORD-1002', amount: '59.99' }, visitor_id: '7c9e6679-7425-40de-944b-e07fc1f90ae7' },
        { name: 'signup', payload: { source: 'landing_page', plan: 'free' } },
      ]);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { ok: true, processed: 3, event_ids: await ws.ids() });
      assert.deepEqual((await ws.events()).map((e) => e.name), ['signup', 'purchase', 'purchase']);
    });

    it('accepts 25 events and refuses 26', async () => {
      const ws = await workspace();
      const ok = await ws.batch(Array.from({ length: 25 }, (_, i) => ({ name: `e${i}` })));
      assert.equal(ok.status, 200);
      assert.equal(ok.body.processed, 25);
      const tooMany = await ws.batch(Array.from({ length: 26 }, () => ({ name: 'e' })));
      assert.deepEqual([tooMany.status, tooMany.body], [400, validation('events holds 26 events; at most 25 are allowed per request.', 'events')]);
      assert.equal((await ws.events()).length, 25);
    });

    it('refuses an empty batch', async () => {
      const ws = await workspace();
      const res = await ws.batch([]);
      assert.deepEqual([res.status, res.body], [400, validation('events must hold at least one event.', 'events')]);
    });

    it('stores the valid events and lists the rejected ones', async () => {
      const ws = await workspace();
      const res = await ws.batch([{ name: 'a' }, { name: '' }, { name: 'c' }, { payload: {} }]);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        ok: true, processed: 2, event_ids: await ws.ids(),
        rejected: [
          { index: 1, error: 'validation_error', message: 'events[1].name must not be empty.' },
          { index: 3, error: 'validation_error', message: 'events[3].name is required.' },
        ],
      });
    });

    it('answers 400 when every event is invalid', async () => {
      const ws = await workspace();
      const res = await ws.batch([{ name: '' }, { name: 'x', visitor_id: 'nope' }]);
      assert.equal(res.status, 400);
      assert.equal(res.body.ok, false);
      assert.equal(res.body.error, 'validation_error');
      assert.deepEqual(res.body.rejected.map((r: Body) => r.index), [0, 1]);
      assert.deepEqual(await ws.events(), []);
    });
  });

  describe('error codes', () => {
    it('answers 401 unauthorized without a valid server key', async () => {
      const ws = await workspace();
      const cases: Record<string, string>[] = [{}, { authorization: 'Bearer YOUR_API_KEY' }, { authorization: `Bearer ${ws.browserKey}` }];
      for (const headers of cases) {
        const res = await ws.track(purchase(), headers);
        assert.equal(res.status, 401);
        assert.equal(res.body.ok, false);
        assert.equal(res.body.error, 'unauthorized');
        assert.equal(typeof res.body.message, 'string');
      }
    });

    it('answers 404 website_not_found when the website is not the key\'s', async () => {
      const ws = await workspace();
      const other = await workspace();
      for (const website of [other.id, 'no-such-site']) {
        const res = await ws.track(purchase(), ws.bearer, website);
        assert.equal(res.status, 404);
        assert.deepEqual(res.body, { ok: false, error: 'website_not_found', message: `Workspace "${website}" was not found for this API key.` });
        const batch = await ws.batch([purchase()], ws.bearer, website);
        assert.equal(batch.status, 404);
      }
      assert.deepEqual(await other.events(), []);
    });

    it('answers 402 monthly_limit_reached once the monthly quota is used', async () => {
      const ws = await workspace();
      assert.equal((await ws.patch({ monthlyQuota: 3 })).status, 200);
      assert.equal((await ws.batch([{ name: 'a' }, { name: 'b' }])).status, 200);
      const tooMany = await ws.batch([{ name: 'c' }, { name: 'd' }]);
      assert.equal(tooMany.status, 402);
      assert.deepEqual(tooMany.body, {
        ok: false, error: 'monthly_limit_reached',
        message: `Workspace "${ws.id}" has used 2 of its 3 events this month (monthlyQuota); 2 more do not fit.`,
      });
      assert.equal((await ws.track({ name: 'c' })).status, 200);
      const res = await ws.track({ name: 'd' });
      assert.equal(res.status, 402);
      assert.equal(res.body.error, 'monthly_limit_reached');
      assert.equal((await ws.events()).length, 3);
    });

    it('answers 403 plan_required when server-side ingestion is disabled', async () => {
      const ws = await workspace({ serverSideEnabled: false });
      const res = await ws.track(purchase());
      assert.equal(res.status, 403);
      assert.deepEqual(res.body, {
        ok: false, error: 'plan_required',
        message: `Server-side ingestion is disabled for workspace "${ws.id}" (setting serverSideEnabled).`,
      });
      assert.deepEqual(await ws.events(), []);
    });

    it('answers 429 rate_limit_exceeded with retry_after and a Retry-After header', async () => {
      const ws = await workspace({ rateLimitPerMinute: 2 });
      assert.equal((await ws.track({ name: 'a' })).status, 200);
      const res = await ws.track({ name: 'b' });
      assert.equal(res.status, 429);
      assert.deepEqual(res.body, {
        ok: false, error: 'rate_limit_exceeded', message: 'This key is limited to 2 requests per minute; retry in 30 s.', retry_after: 30,
      });
      assert.equal(res.headers['retry-after'], '30');
      assert.equal((await ws.events()).length, 1);
    });
  });

  describe('idempotency', () => {
    it('dedupes by the Idempotency-Key header', async () => {
      const ws = await workspace();
      const headers = { ...ws.bearer, 'idempotency-key': 'webhook-evt-1' };
      const first = await ws.track(purchase(), headers);
      t.clock.advance(60_000);
      const again = await ws.track(purchase(), headers);
      assert.deepEqual(again.body, first.body);
      assert.equal((await ws.events()).length, 1);
      const other = await ws.track(purchase({ name: 'refund' }), headers);
      assert.equal(other.status, 409);
      assert.deepEqual(other.body.fields, ['name']);
    });
  });
});
