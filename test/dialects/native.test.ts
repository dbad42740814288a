import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { T0, testApp, type TestApp } from '../helpers/app.js';

const DAY = 86_400_000;
type Body = Record<string, unknown>;

const conversion = (over: Body = {}): Body => ({ type: 'conversion', name: 'signup', visitorId: 'v1', ...over });
const pageview = (over: Body = {}): Body => ({ type: 'pageview', visitorId: 'v1', ...over });

/** The event as the store keeps it, with every canonical field. */
const stored = (over: Body): Body => ({
  workspaceId: 'ws', type: 'conversion', name: null, occurredAt: T0, receivedAt: T0, idempotencyKey: null,
  visitorId: null, sessionId: null, userDomain: null, userId: null, optimization: null, variation: null,
  value: null, currency: null, properties: null, userData: null, context: null, source: 'native', ...over,
});

describe('native dialect: POST /v1/events', () => {
  let t: TestApp;
  let n = 0;
  before(async () => { t = await testApp(); });
  after(async () => { await t.close(); });

  /** A fresh workspace per test, so counts and idempotency keys never leak between tests. */
  async function workspace(settings?: Parameters<TestApp['workspace']>[1]) {
    const ws = await t.workspace(`native-${++n}`, settings);
    const send = (payload: unknown, headers: Record<string, string> = {}, query = '') => t.call({
      method: 'POST', url: `/v1/events${query}`,
      headers: { authorization: `Bearer ${ws.serverKey}`, ...headers },
      payload: payload as Body,
    });
    const events = async (): Promise<Body[]> => {
      const res = await t.admin('GET', `/admin/v1/workspaces/${ws.id}/events?limit=1000`);
      assert.equal(res.status, 200);
      return res.body.events as Body[];
    };
    /** Stored event ids, oldest first. */
    const ids = async (): Promise<number[]> => (await events()).map((e) => e.id as number).reverse();
    return { ...ws, send, events, ids };
  }

  describe('single events and batches', () => {
    it('stores a single conversion with every field it carries', async () => {
      const ws = await workspace();
      const res = await ws.send(conversion({
        name: 'purchase', timestamp: T0 - 60_000, sessionId: 's1', userDomain: 'crm', userId: 'u1', value: 49.5, currency: 'eur',
        idempotencyKey: 'order-1', url: 'https://shop.example/checkout', referrer: 'https://search.example/', properties: { plan: 'pro', seats: 3, trial: false },
      }));
      assert.equal(res.status, 200);
      const [id] = await ws.ids();
      assert.deepEqual(res.body, { ok: true, ids: [id], duplicates: 0 });
      assert.deepEqual(await ws.events(), [stored({
        id, workspaceId: ws.id, name: 'purchase', occurredAt: T0 - 60_000, idempotencyKey: 'order-1', visitorId: 'v1', sessionId: 's1',
        userDomain: 'crm', userId: 'u1', value: 49.5, currency: 'EUR', properties: { plan: 'pro', seats: 3, trial: false },
        context: { url: 'https://shop.example/checkout', referrer: 'https://search.example/' },
      })]);
    });

    it('stores a batch and answers one id per event, with per-event results', async () => {
      const ws = await workspace();
      const res = await ws.send({ events: [pageview(), conversion(), pageview()] });
      assert.equal(res.status, 200);
      const [a, b, c] = await ws.ids();
      assert.deepEqual(res.body, {
        ok: true, ids: [a, b, c], duplicates: 0,
        results: [{ index: 0, status: 'stored', id: a }, { index: 1, status: 'stored', id: b }, { index: 2, status: 'stored', id: c }],
      });
      assert.deepEqual((await ws.events()).reverse().map((e) => e.type), ['pageview', 'conversion', 'pageview']);
    });

    it('accepts a batch of 500 events', async () => {
      const ws = await workspace();
      const res = await ws.send({ events: Array.from({ length: 500 }, (_, i) => pageview({ visitorId: `v${i}` })) });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.ids, await ws.ids());
      assert.equal(res.body.ids.length, 500);
    });

    it('refuses an empty batch with batch_empty', async () => {
      const ws = await workspace();
      const res = await ws.send({ events: [] });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, { ok: false, error: { code: 'batch_empty', message: 'events must hold at least one event.', field: 'events' } });
    });

    it('refuses a batch of 501 events with batch_too_large and stores none of them', async () => {
      const ws = await workspace();
      const res = await ws.send({ events: Array.from({ length: 501 }, () => pageview()) });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, {
        ok: false,
        error: { code: 'batch_too_large', message: 'events holds 501 events; at most 500 are allowed per request.', field: 'events' },
      });
      assert.deepEqual(await ws.events(), []);
    });

    it('refuses a batch body with a field other than events', async () => {
      const ws = await workspace();
      const res = await ws.send({ events: [pageview()], source: 'crm' });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'unknown_field');
      assert.equal(res.body.error.field, 'source');
    });

    it('refuses a body that is neither an event nor a batch', async () => {
      const ws = await workspace();
      const res = await ws.send([pageview()]);
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'invalid_body');
    });
  });

  describe('required fields per event type', () => {
    const cases: { why: string; event: Body; field: string; code?: string }[] = [
      { why: 'a conversion without name', event: { type: 'conversion', visitorId: 'v1' }, field: 'name' },
      { why: 'a custom event without name', event: { type: 'custom', visitorId: 'v1' }, field: 'name' },
      { why: 'a view without optimization', event: { type: 'view', visitorId: 'v1', variation: 'b' }, field: 'optimization' },
      { why: 'a view without variation', event: { type: 'view', visitorId: 'v1', optimization: 'hero' }, field: 'variation' },
      { why: 'an identify without userDomain', event: { type: 'identify', visitorId: 'v1', userId: 'u1' }, field: 'userDomain' },
      { why: 'an identify without userId', event: { type: 'identify', visitorId: 'v1', userDomain: 'crm' }, field: 'userId' },
      { why: 'an identify with neither', event: { type: 'identify', visitorId: 'v1' }, field: 'userDomain' },
      { why: 'a conversion with userDomain but no userId', event: { type: 'conversion', name: 'x', userDomain: 'crm' }, field: 'userId' },
      { why: 'an event without type', event: { name: 'x', visitorId: 'v1' }, field: 'type' },
    ];
    for (const c of cases) {
      it(`refuses ${c.why} with field_required naming ${c.field}`, async () => {
        const ws = await workspace();
        const res = await ws.send(c.event);
        assert.equal(res.status, 400);
        assert.equal(res.body.ok, false);
        assert.equal(res.body.error.code, 'field_required');
        assert.equal(res.body.error.field, c.field);
        assert.match(res.body.error.message, new RegExp(`^${c.field} is required`));
        assert.deepEqual(await ws.events(), []);
      });
    }

    it('refuses a conversion that cannot be linked to a visitor with not_linkable', async () => {
      const ws = await workspace();
      const res = await ws.send({ type: 'conversion', name: 'signup', value: 10 });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, {
        ok: false,
        error: { code: 'not_linkable', message: 'a conversion must carry visitorId, sessionId, or userDomain and userId, so it can be linked to a visitor.', field: 'visitorId' },
      });
    });

    it('names the event in a batch whose conversion cannot be linked', async () => {
      const ws = await workspace();
      const res = await ws.send({ events: [pageview(), { type: 'conversion', name: 'signup' }] });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.results[1], {
        index: 1, status: 'rejected',
        error: { code: 'not_linkable', message: 'events[1]: a conversion must carry visitorId, sessionId, or userDomain and userId, so it can be linked to a visitor.', index: 1, field: 'events[1].visitorId' },
      });
    });

    it('links a conversion by visitorId, by sessionId, or by userDomain and userId', async () => {
      const ws = await workspace();
      const res = await ws.send({ events: [
        { type: 'conversion', name: 'a', visitorId: 'v1' },
        { type: 'conversion', name: 'b', sessionId: 's1' },
        { type: 'conversion', name: 'c', userDomain: 'crm', userId: 'u1' },
      ] });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.ids, await ws.ids());
      assert.deepEqual((await ws.events()).map((e) => e.name), ['c', 'b', 'a']);
    });

    it('stores every event type when its required fields are present', async () => {
      const ws = await workspace();
      const res = await ws.send({ events: [
        { type: 'pageview' },
        { type: 'view', visitorId: 'v1', optimization: 'hero', variation: 'b' },
        { type: 'identify', visitorId: 'v1', userDomain: 'crm', userId: 'u1' },
        { type: 'conversion', name: 'signup', visitorId: 'v1' },
        { type: 'custom', name: 'scrolled', visitorId: 'v1' },
      ] });
      assert.equal(res.status, 200);
      const byId = (await ws.events()).reverse();
      assert.deepEqual(byId.map((e) => [e.type, e.name, e.optimization, e.variation, e.userDomain, e.userId]), [
        ['pageview', null, null, null, null, null],
        ['view', null, 'hero', 'b', null, null],
        ['identify', null, null, null, 'crm', 'u1'],
        ['conversion', 'signup', null, null, null, null],
        ['custom', 'scrolled', null, null, null, null],
      ]);
    });
  });

  describe('timestamps', () => {
    it('reads epoch milliseconds', async () => {
      const ws = await workspace();
      await ws.send(conversion({ timestamp: T0 - 5000 }));
      assert.equal((await ws.events())[0]!.occurredAt, T0 - 5000);
    });

    it('reads ISO 8601 with a zone', async () => {
      const ws = await workspace();
      await ws.send(conversion({ timestamp: '2026-01-15T13:30:00+02:00' }));
      assert.equal((await ws.events())[0]!.occurredAt, T0 - 30 * 60_000);
    });

    it('defaults to the time the event was received', async () => {
      const ws = await workspace();
      t.clock.advance(1234);
      await ws.send(conversion());
      const [e] = await ws.events();
      assert.equal(e!.occurredAt, e!.receivedAt);
      assert.equal(e!.occurredAt, t.clock.now());
    });

    it('rejects a timestamp in seconds', async () => {
      const ws = await workspace();
      const seconds = Math.floor(t.clock.now() / 1000);
      const res = await ws.send(conversion({ timestamp: seconds }));
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'timestamp_in_seconds');
      assert.equal(res.body.error.field, 'timestamp');
      assert.match(res.body.error.message, /looks like UNIX seconds/);
    });

    it('rejects a timestamp more than 60 s in the future', async () => {
      const ws = await workspace();
      const now = t.clock.now();
      assert.equal((await ws.send(conversion({ timestamp: now + 60_000 }))).status, 200);
      const res = await ws.send(conversion({ timestamp: now + 60_001 }));
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'timestamp_in_future');
    });

    it('rejects a timestamp older than 7 days by default', async () => {
      const ws = await workspace();
      const now = t.clock.now();
      assert.equal((await ws.send(conversion({ timestamp: now - 7 * DAY }))).status, 200);
      const res = await ws.send(conversion({ timestamp: now - 7 * DAY - 1 }));
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'timestamp_too_old');
      assert.match(res.body.error.message, /7 days \(maxEventAgeDays\)/);
    });

    it('rejects a timestamp that is not ms or ISO with a zone', async () => {
      const ws = await workspace();
      const res = await ws.send(conversion({ timestamp: '2026-01-15 12:00:00' }));
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'timestamp_invalid');
    });
  });

  describe('field types and lengths', () => {
    it('refuses an unknown field and names it', async () => {
      const ws = await workspace();
      const res = await ws.send(conversion({ orderId: 'o-1' }));
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, { ok: false, error: { code: 'unknown_field', message: 'orderId is not a field this endpoint knows; check its spelling.', field: 'orderId' } });
    });

    it('names an unknown field inside userData by its path', async () => {
      const ws = await workspace();
      const res = await ws.send(conversion({ userData: { email: 'a@b.co', dob: '1990-01-01' } }));
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'unknown_field');
      assert.equal(res.body.error.field, 'userData.dob');
    });

    it('names the JSON path of a wrongly typed field in a batch', async () => {
      const ws = await workspace();
      const res = await ws.send({ events: [pageview(), pageview(), conversion({ value: '12' })] });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.results[2], {
        index: 2, status: 'rejected',
        error: { code: 'field_type', message: 'events[2].value must be a number, got string.', index: 2, field: 'events[2].value' },
      });
    });

    it('refuses an unknown event type', async () => {
      const ws = await workspace();
      const res = await ws.send({ type: 'purchase', name: 'x', visitorId: 'v1' });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.field, 'type');
      assert.match(res.body.error.message, /^type must be one of "pageview", "view", "identify", "conversion", "custom"/);
    });

    it('refuses a name longer than 255 characters and accepts 255', async () => {
      const ws = await workspace();
      assert.equal((await ws.send(conversion({ name: 'n'.repeat(255) }))).status, 200);
      const res = await ws.send(conversion({ name: 'n'.repeat(256) }));
      assert.equal(res.status, 400);
      assert.deepEqual(res.body.error, { code: 'field_too_long', message: 'name must be at most 255 characters long.', field: 'name' });
    });

    it('refuses a visitorId longer than 128 characters', async () => {
      const ws = await workspace();
      const res = await ws.send(conversion({ visitorId: 'v'.repeat(129) }));
      assert.equal(res.status, 400);
      assert.deepEqual(res.body.error, { code: 'field_too_long', message: 'visitorId must be at most 128 characters long.', field: 'visitorId' });
    });

    it('refuses an empty name', async () => {
      const ws = await workspace();
      const res = await ws.send(conversion({ name: '' }));
      assert.equal(res.status, 400);
      assert.deepEqual(res.body.error, { code: 'field_invalid', message: 'name must not be empty.', field: 'name' });
    });

    it('refuses nested properties and names the key', async () => {
      const ws = await workspace();
      const res = await ws.send(conversion({ properties: { cart: { items: 2 } } }));
      assert.equal(res.status, 400);
      assert.equal(res.body.error.field, 'properties.cart');
      assert.equal(res.body.error.code, 'field_type');
    });

    it('refuses a value beyond ±1e12', async () => {
      const ws = await workspace();
      const res = await ws.send(conversion({ value: 1e13 }));
      assert.equal(res.status, 400);
      assert.deepEqual(res.body.error, { code: 'field_invalid', message: 'value must be at most 1000000000000.', field: 'value' });
    });
  });

  describe('currency', () => {
    it('stores a 3-letter code in upper case', async () => {
      const ws = await workspace();
      await ws.send(conversion({ value: 10, currency: 'usd' }));
      assert.equal((await ws.events())[0]!.currency, 'USD');
    });

    for (const bad of ['US', 'EURO', '$$$', '']) {
      it(`refuses currency "${bad}"`, async () => {
        const ws = await workspace();
        const res = await ws.send(conversion({ value: 10, currency: bad }));
        assert.equal(res.status, 400);
        assert.deepEqual(res.body.error, { code: 'field_invalid', message: 'currency must be a 3-letter ISO 4217 code such as "USD".', field: 'currency' });
      });
    }
  });

  describe('idempotency', () => {
    it('answers an identical repeat with the same ids and stores it once', async () => {
      const ws = await workspace();
      const event = conversion({ idempotencyKey: 'order-1', value: 10, timestamp: T0 - 1000 });
      const first = await ws.send(event);
      t.clock.advance(3_600_000);
      const again = await ws.send(event);
      const [id] = await ws.ids();
      assert.deepEqual(first.body, { ok: true, ids: [id], duplicates: 0 });
      assert.deepEqual(again.body, { ok: true, ids: [id], duplicates: 1 });
      assert.equal((await ws.ids()).length, 1);
    });

    it('keeps an idempotency key for longer than 24 hours', async () => {
      const ws = await workspace();
      const event = conversion({ idempotencyKey: 'order-1' });
      await ws.send(event);
      t.clock.advance(3 * DAY);
      const again = await ws.send(event);
      assert.deepEqual(again.body, { ok: true, ids: await ws.ids(), duplicates: 1 });
    });

    it('answers 409 naming the fields that differ when a key is reused for other content', async () => {
      const ws = await workspace();
      await ws.send(conversion({ idempotencyKey: 'order-1', value: 10, timestamp: T0 - 1000 }));
      const res = await ws.send(conversion({ idempotencyKey: 'order-1', value: 12, timestamp: T0 - 2000 }));
      assert.equal(res.status, 409);
      assert.deepEqual(res.body, {
        ok: false,
        error: {
          code: 'idempotency_conflict',
          message: 'idempotencyKey "order-1" was already used for a different event; these fields differ: timestamp, value. Send a new idempotencyKey for a new event.',
          field: 'idempotencyKey',
          fields: ['timestamp', 'value'],
        },
      });
      assert.equal((await ws.events()).length, 1);
    });

    it('treats a retry that leaves out the timestamp as the same event', async () => {
      const ws = await workspace();
      await ws.send(conversion({ idempotencyKey: 'order-1', timestamp: T0 - 1000 }));
      const again = await ws.send(conversion({ idempotencyKey: 'order-1' }));
      assert.deepEqual(again.body, { ok: true, ids: await ws.ids(), duplicates: 1 });
    });

    it('keys a batch event by its idempotencyKey and reports duplicates inside the batch', async () => {
      const ws = await workspace();
      const res = await ws.send({ events: [conversion({ idempotencyKey: 'k' }), conversion({ idempotencyKey: 'k' }), conversion({ idempotencyKey: 'k', value: 1 })] });
      assert.equal(res.status, 200);
      const [id] = await ws.ids();
      assert.deepEqual(res.body.ids, [id, id, null]);
      assert.equal(res.body.duplicates, 1);
      assert.equal(res.body.results[2].error.code, 'idempotency_conflict');
      assert.deepEqual(res.body.results[2].error.fields, ['value']);
      assert.equal(res.body.results[2].error.index, 2);
    });

    it('uses the Idempotency-Key header as the key of a single event', async () => {
      const ws = await workspace();
      const first = await ws.send(conversion(), { 'idempotency-key': 'hdr-1' });
      const again = await ws.send(conversion(), { 'idempotency-key': 'hdr-1' });
      const other = await ws.send(conversion({ value: 5 }), { 'idempotency-key': 'hdr-1' });
      const [id] = await ws.ids();
      assert.deepEqual(first.body, { ok: true, ids: [id], duplicates: 0 });
      assert.deepEqual(again.body, { ok: true, ids: [id], duplicates: 1 });
      assert.equal(other.status, 409);
      assert.equal((await ws.events())[0]!.idempotencyKey, 'hdr-1');
    });

    it('prefers the body idempotencyKey over the header', async () => {
      const ws = await workspace();
      await ws.send(conversion({ idempotencyKey: 'body-1' }), { 'idempotency-key': 'hdr-1' });
      assert.equal((await ws.events())[0]!.idempotencyKey, 'body-1');
    });

    it('does not apply the Idempotency-Key header to the events of a batch', async () => {
      const ws = await workspace();
      const res = await ws.send({ events: [conversion(), conversion({ value: 3 })] }, { 'idempotency-key': 'hdr-1' });
      assert.deepEqual(res.body.ids, await ws.ids());
      assert.deepEqual((await ws.events()).map((e) => e.idempotencyKey), [null, null]);
    });

    it('scopes idempotency keys to the workspace', async () => {
      const a = await workspace();
      const b = await workspace();
      await a.send(conversion({ idempotencyKey: 'shared' }));
      const res = await b.send(conversion({ idempotencyKey: 'shared', value: 99 }));
      assert.equal(res.status, 200);
      assert.equal(res.body.duplicates, 0);
    });
  });

  describe('partial batches', () => {
    it('stores the valid events and reports the invalid ones by index', async () => {
      const ws = await workspace();
      const res = await ws.send({ events: [conversion({ name: 'a' }), { type: 'conversion', visitorId: 'v1' }, conversion({ name: 'c' })] });
      assert.equal(res.status, 200);
      const [a, c] = await ws.ids();
      assert.deepEqual(res.body, {
        ok: true, ids: [a, null, c], duplicates: 0,
        results: [
          { index: 0, status: 'stored', id: a },
          { index: 1, status: 'rejected', error: { code: 'field_required', message: 'events[1].name is required for a conversion event (the goal\'s API name).', index: 1, field: 'events[1].name' } },
          { index: 2, status: 'stored', id: c },
        ],
      });
      assert.deepEqual((await ws.events()).map((e) => e.name), ['c', 'a']);
    });

    it('answers 400 when every event of a batch is invalid, with each one reported', async () => {
      const ws = await workspace();
      const res = await ws.send({ events: [{ type: 'view' }, conversion({ timestamp: 1 })] });
      assert.equal(res.status, 400);
      assert.equal(res.body.ok, false);
      assert.equal(res.body.error.code, 'field_required');
      assert.equal(res.body.error.index, 0);
      assert.deepEqual(res.body.results.map((r: Body) => [r.index, r.status, (r.error as Body).code]), [
        [0, 'rejected', 'field_required'],
        [1, 'rejected', 'timestamp_in_seconds'],
      ]);
      assert.deepEqual(await ws.events(), []);
    });
  });

  describe('authentication', () => {
    const unauthorized = (message: string) => ({ ok: false, error: { code: 'unauthorized', message } });
    const invalid = 'The API key is not valid: it is unknown, revoked, or not a server key (cl_sk_…).';

    it('answers 401 when no key is sent', async () => {
      await workspace();
      const res = await t.call({ method: 'POST', url: '/v1/events', payload: conversion() });
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, unauthorized('No API key was sent; send your server key in the Authorization header.'));
    });

    it('answers 401 to an unknown key', async () => {
      const res = await t.call({ method: 'POST', url: '/v1/events', headers: { authorization: 'Bearer cl_sk_0123456789abcdefghijklmnopqrstuvwxyzABCD' }, payload: conversion() });
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, unauthorized(invalid));
    });

    it('answers 401 to a revoked key, at once', async () => {
      const ws = await workspace();
      assert.equal((await ws.send(conversion())).status, 200);
      const revoked = await t.admin('DELETE', `/admin/v1/workspaces/${ws.id}/keys/${ws.serverKeyId}`);
      assert.equal(revoked.status, 200);
      const res = await ws.send(conversion());
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, unauthorized(invalid));
    });

    it('answers 401 to a browser key', async () => {
      const ws = await workspace();
      const res = await t.call({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${ws.browserKey}` }, payload: conversion() });
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, unauthorized(invalid));
      assert.deepEqual(await ws.events(), []);
    });

    it('answers 401 to a server key sent with another scheme', async () => {
      const ws = await workspace();
      const res = await t.call({ method: 'POST', url: '/v1/events', headers: { authorization: `ApiKey ${ws.serverKey}` }, payload: conversion() });
      assert.equal(res.status, 401);
    });
  });

  describe('dry run', () => {
    it('validates and describes the events without storing anything', async () => {
      const ws = await workspace();
      const res = await ws.send(conversion({ value: 10, currency: 'usd', idempotencyKey: 'dry-1' }), {}, '?dryRun=true');
      assert.equal(res.status, 200);
      assert.equal(res.body.ok, true);
      assert.deepEqual(res.body.dryRun.wouldStore, [stored({
        workspaceId: ws.id, name: 'signup', visitorId: 'v1', value: 10, currency: 'USD', idempotencyKey: 'dry-1', occurredAt: t.clock.now(), receivedAt: t.clock.now(),
      })]);
      assert.deepEqual(await ws.events(), []);
    });

    it('does not use up an idempotency key', async () => {
      const ws = await workspace();
      await ws.send(conversion({ idempotencyKey: 'dry-1' }), {}, '?dryRun=true');
      const real = await ws.send(conversion({ idempotencyKey: 'dry-1', value: 5 }));
      assert.deepEqual(real.body, { ok: true, ids: await ws.ids(), duplicates: 0 });
    });

    it('answers a dry run with the refusal a real request would get', async () => {
      const ws = await workspace();
      const res = await ws.send({ type: 'conversion', visitorId: 'v1' }, {}, '?dryRun=true');
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'field_required');
      const rejections = await t.admin('GET', `/admin/v1/workspaces/${ws.id}/rejections`);
      assert.deepEqual(rejections.body.rejections, []);
    });

    it('answers a dry run of a conflicting repeat with 409, as a real request would be', async () => {
      const ws = await workspace();
      await ws.send(conversion({ idempotencyKey: 'k1', value: 1 }));
      const res = await ws.send(conversion({ idempotencyKey: 'k1', value: 2 }), {}, '?dryRun=true');
      assert.equal(res.status, 409);
      assert.deepEqual(res.body.error.fields, ['value']);
    });
  });
});
