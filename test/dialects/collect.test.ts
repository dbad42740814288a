import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { T0, testApp, type TestApp } from '../helpers/app.js';

type Body = Record<string, unknown>;
const HOUR = 3_600_000;
const VISITOR = '0f8fad5b-d9cb-469f-a165-70867728950e';
const PAGE = 'https://shop.example';

let seq = 0;
const eventId = () => `evt-${String(++seq).padStart(8, '0')}`;
const pageview = (over: Body = {}): Body => ({ id: eventId(), type: 'pageview', time: T0 - 1000, url: `${PAGE}/pricing`, ...over });

/** The event as the store keeps it, with every canonical field. */
const stored = (over: Body): Body => ({
  workspaceId: 'ws', type: 'pageview', name: null, occurredAt: T0, receivedAt: T0, idempotencyKey: null,
  visitorId: VISITOR, sessionId: 's1', userDomain: null, userId: null, optimization: null, variation: null,
  value: null, currency: null, properties: null, userData: null, context: null, source: 'collect', ...over,
});

describe('collect dialect: POST /collect', () => {
  let t: TestApp;
  let n = 0;
  before(async () => { t = await testApp(); });
  after(async () => { await t.close(); });

  async function workspace(settings?: Parameters<TestApp['workspace']>[1]) {
    const ws = await t.workspace(`collect-${++n}`, settings);
    /** A batch from the page, as the snippet sends it (text/plain, like sendBeacon). */
    const send = (body: Body | string, opts: { headers?: Record<string, string>; query?: string; key?: string | null; ip?: string } = {}) => t.call({
      method: 'POST', url: `/collect${opts.query ?? ''}`,
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: PAGE, ...opts.headers },
      ...(opts.ip !== undefined ? { remoteAddress: opts.ip } : {}),
      payload: typeof body === 'string' ? body : JSON.stringify(opts.key === null ? body : { key: opts.key ?? ws.browserKey, ...body }),
    });
    const batch = (events: Body[], over: Body = {}): Body => ({ visitorId: VISITOR, sessionId: 's1', sentAt: T0, events, ...over });
    const events = async (): Promise<Body[]> => (await t.admin('GET', `/admin/v1/workspaces/${ws.id}/events?limit=1000`)).body.events.reverse();
    const rejections = async (): Promise<Body[]> => (await t.admin('GET', `/admin/v1/workspaces/${ws.id}/rejections`)).body.rejections;
    return { ...ws, send, batch, events, rejections };
  }

  describe('storing', () => {
    it('stores pageview, view, identify and custom events with the page\'s address truncated and its browser', async () => {
      const ws = await workspace();
      const res = await ws.send(ws.batch([
        pageview({ id: 'e-pageview', referrer: 'https://search.example/' }),
        { id: 'e-view-01', type: 'view', time: T0 - 900, optimization: 'hero', variation: 'bold' },
        { id: 'e-ident-01', type: 'identify', time: T0 - 800, userDomain: 'salesforce', userId: '72349876' },
        { id: 'e-custom-1', type: 'custom', time: T0 - 700, name: 'signup-clicked', properties: { plan: 'pro', seats: 3 } },
      ]), { headers: { 'user-agent': 'Mozilla/5.0 Test' }, ip: '203.0.113.77' });
      assert.equal(res.status, 200, res.raw);
      assert.deepEqual(res.body, { ok: true, stored: 4, duplicates: 0, rejected: [] });
      const context = { ip: '203.0.113.0', userAgent: 'Mozilla/5.0 Test' };
      const [a, b, c, d] = await ws.events();
      assert.deepEqual([a, b, c, d], [
        stored({ id: a!.id, workspaceId: ws.id, occurredAt: T0 - 1000, idempotencyKey: `collect:${VISITOR}:e-pageview`, context: { ...context, url: `${PAGE}/pricing`, referrer: 'https://search.example/' } }),
        stored({ id: b!.id, workspaceId: ws.id, type: 'view', occurredAt: T0 - 900, idempotencyKey: `collect:${VISITOR}:e-view-01`, optimization: 'hero', variation: 'bold', context }),
        stored({ id: c!.id, workspaceId: ws.id, type: 'identify', occurredAt: T0 - 800, idempotencyKey: `collect:${VISITOR}:e-ident-01`, userDomain: 'salesforce', userId: '72349876', context }),
        stored({ id: d!.id, workspaceId: ws.id, type: 'custom', name: 'signup-clicked', occurredAt: T0 - 700, idempotencyKey: `collect:${VISITOR}:e-custom-1`, properties: { plan: 'pro', seats: 3 }, context }),
      ]);
    });

    it('corrects the browser\'s clock: occurredAt = receivedAt − (sentAt − time)', async () => {
      const ws = await workspace();
      // The browser's clock runs 3 h fast: it says it sent at T0 + 3 h an event 5 s old.
      const res = await ws.send(ws.batch([pageview({ time: T0 + 3 * HOUR - 5000 })], { sentAt: T0 + 3 * HOUR }));
      assert.equal(res.status, 200, res.raw);
      // …and 2 days slow, for an event 1 min old.
      await ws.send(ws.batch([pageview({ time: T0 - 48 * HOUR - 60_000 })], { sentAt: T0 - 48 * HOUR }));
      assert.deepEqual((await ws.events()).map((e) => [e.occurredAt, e.receivedAt]), [[T0 - 5000, T0], [T0 - 60_000, T0]]);
    });

    it('never places an event after the request arrived (a time later than sentAt)', async () => {
      const ws = await workspace();
      await ws.send(ws.batch([pageview({ time: T0 + 10_000 })], { sentAt: T0 }));
      assert.deepEqual((await ws.events()).map((e) => e.occurredAt), [T0]);
    });

    it('stores a retried batch once, whatever its new sentAt (event ids are idempotency keys)', async () => {
      const ws = await workspace();
      const events = [pageview(), pageview()];
      assert.deepEqual((await ws.send(ws.batch(events))).body, { ok: true, stored: 2, duplicates: 0, rejected: [] });
      t.clock.advance(30_000);
      const retry = await ws.send(ws.batch([...events, pageview()], { sentAt: T0 + 30_000 }));
      t.clock.set(T0);
      assert.deepEqual(retry.body, { ok: true, stored: 1, duplicates: 2, rejected: [] });
      assert.equal((await ws.events()).length, 3);
    });

    it('takes visitorId, sessionId and sentAt from the batch unless an event gives its own', async () => {
      const ws = await workspace();
      const other = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
      await ws.send(ws.batch([pageview(), pageview({ visitorId: other.toUpperCase(), sessionId: 's2', sentAt: T0 - 1000 })]));
      assert.deepEqual((await ws.events()).map((e) => [e.visitorId, e.sessionId, e.occurredAt]), [[VISITOR, 's1', T0 - 1000], [other, 's2', T0]]);
    });

    it('accepts application/json and the key as ?key=', async () => {
      const ws = await workspace();
      const res = await t.call({ method: 'POST', url: `/collect?key=${ws.browserKey}`, headers: { origin: PAGE }, payload: ws.batch([pageview()]) });
      assert.equal(res.status, 200, res.raw);
      assert.equal((await ws.events()).length, 1);
    });

    it('stores nothing on a dry run and says what it would store', async () => {
      const ws = await workspace();
      const res = await ws.send(ws.batch([pageview()]), { query: '?dryRun=true' });
      assert.equal(res.status, 200);
      assert.equal(res.body.dryRun.wouldStore.length, 1);
      assert.deepEqual(await ws.events(), []);
    });

    it('accepts browser events when server-side ingestion is disabled (they are not server-side)', async () => {
      const ws = await workspace({ serverSideEnabled: false });
      assert.equal((await ws.send(ws.batch([pageview()]))).status, 200);
    });
  });

  describe('validation', () => {
    it('judges each event on its own, naming the field and the rule, and quarantines the refused ones', async () => {
      const ws = await workspace();
      const res = await ws.send(ws.batch([
        pageview(),
        { id: 'bad-custom', type: 'custom', time: T0 },
        { id: 'bad-type-1', type: 'conversion', time: T0, name: 'purchase' },
        { id: 'bad-view-1', type: 'view', time: T0, optimization: 'hero' },
        { id: 'bad-ident1', type: 'identify', time: T0, userDomain: 'crm' },
        { id: 'bad-secs-1', type: 'pageview', time: Math.floor(T0 / 1000) },
        { id: 'bad-old-01', type: 'pageview', time: T0 - 8 * 24 * HOUR },
        { id: 'bad-field1', type: 'pageview', time: T0, colour: 'red' },
        { id: 'x', type: 'pageview', time: T0 },
      ]));
      assert.equal(res.status, 200, res.raw);
      assert.equal(res.body.stored, 1);
      assert.deepEqual(res.body.rejected.map((r: Body) => [r.index, r.code, r.field]), [
        [1, 'field_required', 'events[1].name'],
        [2, 'field_type', 'events[2].type'],
        [3, 'field_required', 'events[3].variation'],
        [4, 'field_required', 'events[4].userId'],
        [5, 'timestamp_in_seconds', 'events[5].time'],
        [6, 'timestamp_too_old', 'events[6].time'],
        [7, 'unknown_field', 'events[7].colour'],
        [8, 'field_invalid', 'events[8].id'],
      ]);
      assert.equal(res.body.rejected[0].message, 'events[1].name is required for a custom event.');
      assert.match(res.body.rejected[1].message, /^events\[2\]\.type must be one of "pageview", "view", "identify", "custom"/);
      assert.match(res.body.rejected[4].message, /looks like UNIX seconds/);
      assert.match(res.body.rejected[5].message, /older than this workspace's limit of 7 days \(maxEventAgeDays\)/);
      const quarantined = await ws.rejections();
      assert.equal(quarantined.length, 8);
      assert.ok(quarantined.every((r) => r.dialect === 'collect' && r.endpoint === '/collect'));
      assert.ok(!JSON.stringify(quarantined).includes(ws.browserKey), 'the key is never kept');
      // The quarantined event stands on its own: the batch's visitor and times are in it.
      assert.deepEqual(quarantined.find((r) => r.index === 1)!.body, { visitorId: VISITOR, sessionId: 's1', sentAt: T0, id: 'bad-custom', type: 'custom', time: T0 });
    });

    it('stores a quarantined browser event on replay once the rule it broke is relaxed', async () => {
      const ws = await workspace();
      const res = await ws.send(ws.batch([pageview(), { id: 'old-page-1', type: 'pageview', time: T0 - 8 * 24 * HOUR }]));
      assert.deepEqual(res.body.rejected.map((r: Body) => r.code), ['timestamp_too_old']);
      assert.equal((await t.admin('PATCH', `/admin/v1/workspaces/${ws.id}`, { settings: { maxEventAgeDays: 30 } })).status, 200);
      const replay = await t.admin('POST', `/admin/v1/workspaces/${ws.id}/rejections/replay`, {});
      assert.equal(replay.status, 200, JSON.stringify(replay.body));
      assert.deepEqual(replay.body.results.map((r: Body) => r.status), ['stored'], JSON.stringify(replay.body));
      const replayed = (await ws.events()).at(-1)!;
      assert.deepEqual([replayed.occurredAt, replayed.visitorId, replayed.idempotencyKey], [T0 - 8 * 24 * HOUR, VISITOR, `collect:${VISITOR}:old-page-1`]);
    });

    it('answers 400 when every event is refused, with each one\'s reason', async () => {
      const ws = await workspace();
      const res = await ws.send(ws.batch([{ id: 'no-time-01', type: 'pageview' }]));
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, {
        ok: false,
        error: { code: 'field_required', message: 'events[0].time is required.', index: 0, field: 'events[0].time' },
        rejected: [{ code: 'field_required', message: 'events[0].time is required.', index: 0, field: 'events[0].time' }],
      });
    });

    it('refuses a body that is not a batch, or a batch field of the wrong type, and quarantines it', async () => {
      const ws = await workspace();
      const shape = await ws.send({ visitorId: VISITOR, sentAt: T0 });
      assert.deepEqual([shape.status, shape.body.error.code, shape.body.error.field], [400, 'invalid_body', 'events']);
      const field = await ws.send(ws.batch([pageview()], { sentAt: 'now' }));
      assert.deepEqual([field.status, field.body.error], [400, { code: 'field_type', message: 'sentAt must be a whole number.', field: 'sentAt' }]);
      const visitor = await ws.send(ws.batch([pageview()], { visitorId: 'v1' }));
      assert.deepEqual([visitor.status, visitor.body.error.code, visitor.body.error.field], [400, 'field_invalid', 'visitorId']);
      const missing = await ws.send(ws.batch([pageview()], { visitorId: undefined }));
      assert.deepEqual([missing.status, missing.body.error.field], [400, 'events[0].visitorId']);
      const json = await ws.send('{"key": "' + ws.browserKey + '", "events": [', { key: null });
      // An unreadable body carries no readable key: it is refused for what is wrong with it, and not kept (no workspace is known).
      assert.deepEqual([json.status, json.body.error.code], [400, 'invalid_json']);
      assert.equal((await ws.rejections()).length, 4);
    });

    it('refuses a batch of more than 100 events', async () => {
      const ws = await workspace();
      const res = await ws.send(ws.batch(Array.from({ length: 101 }, () => pageview())));
      assert.deepEqual([res.status, res.body.error.code], [400, 'batch_too_large']);
    });

    it('refuses a body over maxBodyBytes with 413 in its own shape, readable by the page', async () => {
      const small = await testApp({ maxBodyBytes: 2048 });
      try {
        const ws = await small.workspace('big');
        const res = await small.call({ method: 'POST', url: '/collect', headers: { 'content-type': 'text/plain', origin: PAGE }, payload: JSON.stringify({ key: ws.browserKey, events: [pageview({ url: 'x'.repeat(3000) })] }) });
        assert.deepEqual([res.status, res.body.ok, res.body.error.code, res.headers['access-control-allow-origin']], [413, false, 'body_too_large', PAGE]);
      } finally {
        await small.close();
      }
    });
  });

  describe('keys', () => {
    it('refuses a server key, which must never be in a web page', async () => {
      const ws = await workspace();
      const res = await ws.send(ws.batch([pageview()]), { key: ws.serverKey });
      assert.equal(res.status, 401);
      assert.deepEqual(res.body.error, { code: 'unauthorized', message: 'The key is not valid here: it is unknown, revoked, or not a browser key (cl_pk_…). Never put a server key in a web page.' });
      assert.deepEqual(await ws.events(), []);
    });

    it('refuses a request without a key, and a revoked browser key', async () => {
      const ws = await workspace();
      assert.equal((await ws.send(ws.batch([pageview()]), { key: null })).status, 401);
      const keys = (await t.admin('GET', `/admin/v1/workspaces/${ws.id}/keys`)).body.keys as Body[];
      await t.admin('DELETE', `/admin/v1/workspaces/${ws.id}/keys/${keys.find((k) => k.kind === 'browser')!.id}`);
      assert.equal((await ws.send(ws.batch([pageview()]))).status, 401);
    });

    it('refuses the browser key on the server dialects', async () => {
      const ws = await workspace();
      const res = await t.call({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${ws.browserKey}` }, payload: { type: 'pageview', visitorId: 'v1' } });
      assert.deepEqual([res.status, res.body.error.code], [401, 'unauthorized']);
    });
  });

  describe('CORS', () => {
    it('lets any page read the answer when the workspace lists no origins', async () => {
      const ws = await workspace();
      const res = await ws.send(ws.batch([pageview()]), { headers: { origin: 'https://anywhere.example' } });
      assert.deepEqual([res.status, res.headers['access-control-allow-origin'], res.headers.vary], [200, 'https://anywhere.example', 'Origin']);
    });

    it('admits only allowedOrigins (and subdomains of a *. entry); refuses others with 403, storing and keeping nothing', async () => {
      const ws = await workspace({ allowedOrigins: [PAGE, 'https://*.example.org'] });
      const ok = await ws.send(ws.batch([pageview()]));
      assert.deepEqual([ok.status, ok.headers['access-control-allow-origin']], [200, PAGE]);
      const sub = await ws.send(ws.batch([pageview()]), { headers: { origin: 'https://www.example.org' } });
      assert.deepEqual([sub.status, sub.headers['access-control-allow-origin']], [200, 'https://www.example.org']);
      for (const origin of ['https://evil.example', 'http://shop.example', 'https://example.org.evil.test', 'null']) {
        const res = await ws.send(ws.batch([pageview()]), { headers: { origin } });
        assert.deepEqual([res.status, res.body.error.code, res.headers['access-control-allow-origin']], [403, 'origin_not_allowed', undefined], origin);
        assert.match(res.body.error.message, /accepts browser events only from its allowedOrigins \(https:\/\/shop\.example, https:\/\/\*\.example\.org\)/);
      }
      const none = await t.call({ method: 'POST', url: '/collect', headers: { 'content-type': 'text/plain' }, payload: JSON.stringify({ key: ws.browserKey, ...ws.batch([pageview()]) }) });
      assert.deepEqual([none.status, none.body.error.code], [403, 'origin_not_allowed']);
      assert.equal((await ws.events()).length, 2);
      assert.deepEqual(await ws.rejections(), []);
    });

    it('answers a preflight with the methods and headers a page may use', async () => {
      const res = await t.call({ method: 'OPTIONS', url: '/collect', headers: { origin: PAGE, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
      assert.equal(res.status, 204);
      assert.deepEqual(
        [res.headers['access-control-allow-origin'], res.headers['access-control-allow-methods'], res.headers['access-control-allow-headers'], res.headers['access-control-max-age']],
        [PAGE, 'GET, POST, OPTIONS', 'content-type', '86400'],
      );
    });
  });

  describe('Global Privacy Control', () => {
    it('stores nothing from a browser that sends it when the workspace honours it', async () => {
      const ws = await workspace({ honorGlobalPrivacyControl: true });
      const header = await ws.send(ws.batch([pageview()]), { headers: { 'sec-gpc': '1' } });
      assert.deepEqual([header.status, header.body.error.code], [403, 'privacy_opt_out']);
      const flag = await ws.send(ws.batch([pageview()], { gpc: true }));
      assert.deepEqual([flag.status, flag.body.error.code], [403, 'privacy_opt_out']);
      assert.equal((await ws.send(ws.batch([pageview()]))).status, 200, 'a browser without the signal is recorded');
      assert.equal((await ws.events()).length, 1);
      assert.deepEqual(await ws.rejections(), [], 'nothing of an opted-out visitor is kept, not even in the quarantine');
    });

    it('records as usual when the workspace does not honour it (the default)', async () => {
      const ws = await workspace();
      assert.equal((await ws.send(ws.batch([pageview()]), { headers: { 'sec-gpc': '1' } })).status, 200);
    });

    it('is a boolean workspace setting, false by default', async () => {
      const ws = await workspace();
      assert.equal((await t.admin('GET', `/admin/v1/workspaces/${ws.id}`)).body.settings.honorGlobalPrivacyControl, false);
      const bad = await t.admin('PATCH', `/admin/v1/workspaces/${ws.id}`, { settings: { honorGlobalPrivacyControl: 'yes' } });
      assert.equal(bad.status, 400);
      assert.equal((await t.admin('PATCH', `/admin/v1/workspaces/${ws.id}`, { settings: { honorGlobalPrivacyControl: true } })).body.settings.honorGlobalPrivacyControl, true);
    });
  });

  describe('rate limit', () => {
    it('applies the browser key\'s limit per client address', async () => {
      const ws = await workspace({ rateLimitPerMinute: 1 });
      assert.equal((await ws.send(ws.batch([pageview()]), { ip: '198.51.100.1' })).status, 200);
      const limited = await ws.send(ws.batch([pageview()]), { ip: '198.51.100.1' });
      assert.deepEqual([limited.status, limited.body.error.code, limited.headers['retry-after']], [429, 'rate_limited', '60']);
      assert.equal((await ws.send(ws.batch([pageview()]), { ip: '198.51.100.2' })).status, 200, 'another visitor is not held back');
    });
  });
});
