import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testApp, type TestApp } from '../helpers/app.js';

type Body = Record<string, unknown>;
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const EVENT_ID = /^evt_(\d+)_([0-9a-z]{6,})$/;

/** The reference's /v1/track example, with the time made relative to now. */
const purchase = (now: number, over: Body = {}): Body => ({
  event_type: 'purchase',
  timestamp: new Date(now - 60_000).toISOString(),
  session_id: 'sess_abc123',
  user_id: 'user_12345',
  properties: { order_id: 'ORD-12345', value: 99.99, currency: 'USD' },
  user_data: { email: 'customer@example.com', phone: '+1234567890' },
  context: { ip: '203.0.113.77', user_agent: 'Mozilla/5.0...', page_url: 'https://yoursite.com/checkout' },
  ...over,
});

describe('convultra dialect', () => {
  let t: TestApp;
  let n = 0;
  before(async () => { t = await testApp(); });
  after(async () => { await t.close(); });

  async function workspace(settings?: Parameters<TestApp['workspace']>[1]) {
    const ws = await t.workspace(`cv-${++n}`, settings);
    const bearer = { authorization: `Bearer ${ws.serverKey}` };
    const track = (payload: unknown, headers: Record<string, string> = bearer, query = '') =>
      t.call({ method: 'POST', url: `/v1/track${query}`, headers, payload: payload as Body });
    const batch = (events: unknown[], headers: Record<string, string> = bearer) =>
      t.call({ method: 'POST', url: '/v1/track/batch', headers, payload: { events } });
    const events = async (): Promise<Body[]> => (await t.admin('GET', `/admin/v1/workspaces/${ws.id}/events?limit=1000`)).body.events as Body[];
    return { ...ws, bearer, track, batch, events };
  }

  /** The event id Convultra clients get for a stored event. */
  const eventIdOf = (e: Body) => `evt_${String(e.receivedAt)}_${(e.id as number).toString(36).padStart(6, '0')}`;

  describe('POST /v1/track', () => {
    it('answers success with an evt_<ms>_<suffix> event id', async () => {
      const ws = await workspace();
      const res = await ws.track(purchase(t.clock.now()));
      assert.equal(res.status, 200);
      const [e] = await ws.events();
      assert.deepEqual(res.body, { success: true, event_id: eventIdOf(e!) });
      assert.match(res.body.event_id, EVENT_ID);
      assert.equal(EVENT_ID.exec(res.body.event_id)![1], String(t.clock.now()));
    });

    it('stores the event with its fields mapped onto the canonical event', async () => {
      const ws = await workspace();
      const now = t.clock.now();
      await ws.track(purchase(now, {
        properties: { order_id: 'ORD-12345', value: 99.99, currency: 'usd', items: [{ sku: 'A', qty: 2 }], coupon: 'WINTER' },
        context: {
          ip: '203.0.113.77', user_agent: 'Mozilla/5.0...', page_url: 'https://yoursite.com/checkout', referrer: 'https://search.example/',
          gclid: 'g-1', fbclid: 'f-1', msclkid: 'm-1',
        },
      }));
      const [e] = await ws.events();
      assert.deepEqual(e, {
        id: e!.id, workspaceId: ws.id, type: 'conversion', name: 'purchase', occurredAt: now - 60_000, receivedAt: now,
        idempotencyKey: 'ORD-12345', visitorId: null, sessionId: 'sess_abc123', userDomain: 'default', userId: 'user_12345',
        optimization: null, variation: null, value: 99.99, currency: 'USD',
        properties: { order_id: 'ORD-12345', items: '[{"sku":"A","qty":2}]', coupon: 'WINTER' },
        userData: { email: sha256('customer@example.com'), phone: sha256('1234567890') },
        context: {
          ip: '203.0.113.0', userAgent: 'Mozilla/5.0...', url: 'https://yoursite.com/checkout', referrer: 'https://search.example/',
          gclid: 'g-1', fbclid: 'f-1', msclkid: 'm-1',
        },
        source: 'convultra',
      });
    });

    it('takes the session from context.session_id, as the reference\'s code example sends it', async () => {
      const ws = await workspace();
      await ws.track({ event_type: 'purchase', properties: { order_id: 'o1', value: 10, currency: 'USD' }, context: { session_id: 'sess_ctx', ip: '198.51.100.9' } });
      const [e] = await ws.events();
      assert.equal(e!.sessionId, 'sess_ctx');
      assert.deepEqual(e!.context, { ip: '198.51.100.0' });
    });

    it('defaults the time to now when timestamp is left out', async () => {
      const ws = await workspace();
      await ws.track({ event_type: 'signup' });
      const [e] = await ws.events();
      assert.equal(e!.occurredAt, t.clock.now());
      assert.equal(e!.name, 'signup');
    });

    it('reads an ISO 8601 timestamp with an offset', async () => {
      const ws = await workspace();
      const local = new Date(t.clock.now() - 3_600_000 + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
      await ws.track({ event_type: 'signup', timestamp: local });
      assert.equal((await ws.events())[0]!.occurredAt, t.clock.now() - 3_600_000);
    });

    it('refuses a timestamp that is not ISO 8601 with a zone', async () => {
      const ws = await workspace();
      const res = await ws.track({ event_type: 'signup', timestamp: '2024-01-15 14:30:45' });
      assert.equal(res.status, 400);
      assert.equal(res.body.success, false);
      assert.equal(res.body.code, 'timestamp_invalid');
      assert.match(res.body.error, /^timestamp must be an ISO 8601 time with a zone/);
    });

    it('refuses an event without event_type', async () => {
      const ws = await workspace();
      const res = await ws.track({ properties: { value: 1 } });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, { success: false, error: 'event_type is required.', code: 'field_required' });
    });

    it('accepts a value sent as a numeric string', async () => {
      const ws = await workspace();
      await ws.track({ event_type: 'purchase', properties: { value: '49.90', currency: 'EUR' } });
      assert.equal((await ws.events())[0]!.value, 49.9);
    });

    it('refuses a currency that is not 3 letters', async () => {
      const ws = await workspace();
      const res = await ws.track({ event_type: 'purchase', properties: { value: 1, currency: 'EURO' } });
      assert.equal(res.status, 400);
      assert.equal(res.body.success, false);
      assert.match(res.body.error, /^properties\.currency must be a 3-letter ISO 4217 code such as "USD"/);
    });

    it('ignores fields the reference does not define, as the vendor does', async () => {
      const ws = await workspace();
      const res = await ws.track({ event_type: 'signup', channel: 'web' });
      assert.equal(res.status, 200);
    });
  });

  describe('authentication', () => {
    it('accepts the key as ?api_key=', async () => {
      const ws = await workspace();
      const res = await ws.track({ event_type: 'signup' }, {}, `?api_key=${ws.serverKey}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.success, true);
    });

    it('answers 401 in the Convultra shape to a missing, unknown or browser key', async () => {
      const ws = await workspace();
      const cases: [Record<string, string>, string][] = [
        [{}, ''],
        [{ authorization: 'Bearer YOUR_SERVER_API_KEY' }, ''],
        [{}, '?api_key=YOUR_SERVER_API_KEY'],
        [{ authorization: `Bearer ${ws.browserKey}` }, ''],
      ];
      for (const [headers, query] of cases) {
        const res = await ws.track({ event_type: 'signup' }, headers, query);
        assert.equal(res.status, 401, JSON.stringify([headers, query]));
        assert.equal(res.body.success, false);
        assert.equal(res.body.code, 'unauthorized');
        assert.equal(typeof res.body.error, 'string');
      }
      assert.deepEqual(await ws.events(), []);
    });

    it('answers 401 to a revoked key', async () => {
      const ws = await workspace();
      await t.admin('DELETE', `/admin/v1/workspaces/${ws.id}/keys/${ws.serverKeyId}`);
      const res = await ws.track({ event_type: 'signup' }, {}, `?api_key=${ws.serverKey}`);
      assert.equal(res.status, 401);
    });
  });

  describe('POST /v1/track/batch', () => {
    it('stores each event and answers event_ids in order', async () => {
      const ws = await workspace();
      const res = await ws.batch([
        { event_type: 'purchase', properties: { order_id: 'ORD-001', value: 99.99 } },
        { event_type: 'purchase', properties: { order_id: 'ORD-002', value: 149.99 } },
      ]);
      assert.equal(res.status, 200);
      const [second, first] = await ws.events();
      assert.deepEqual(res.body, {
        success: true,
        event_id: eventIdOf(first!),
        event_ids: [eventIdOf(first!), eventIdOf(second!)],
        results: [{ index: 0, success: true, event_id: eventIdOf(first!) }, { index: 1, success: true, event_id: eventIdOf(second!) }],
      });
      assert.deepEqual([first!.idempotencyKey, second!.idempotencyKey], ['ORD-001', 'ORD-002']);
    });

    it('accepts 100 events and refuses 101', async () => {
      const ws = await workspace();
      const ok = await ws.batch(Array.from({ length: 100 }, (_, i) => ({ event_type: 'page_event', properties: { i } })));
      assert.equal(ok.status, 200);
      assert.equal(ok.body.event_ids.length, 100);
      const tooMany = await ws.batch(Array.from({ length: 101 }, () => ({ event_type: 'page_event' })));
      assert.equal(tooMany.status, 400);
      assert.deepEqual(tooMany.body, { success: false, error: 'events holds 101 events; at most 100 are allowed per request.', code: 'batch_too_large' });
      assert.equal((await ws.events()).length, 100);
    });

    it('refuses an empty batch', async () => {
      const ws = await workspace();
      const res = await ws.batch([]);
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, { success: false, error: 'events must hold at least one event.', code: 'batch_empty' });
    });

    it('refuses a batch body without an events array', async () => {
      const ws = await workspace();
      const res = await t.call({ method: 'POST', url: '/v1/track/batch', headers: ws.bearer, payload: { event_type: 'purchase' } });
      assert.equal(res.status, 400);
      assert.equal(res.body.code, 'invalid_body');
    });

    it('stores the valid events of a batch and reports the invalid ones by index', async () => {
      const ws = await workspace();
      const res = await ws.batch([{ event_type: 'signup' }, { properties: {} }, { event_type: 'lead', timestamp: 'soon' }]);
      assert.equal(res.status, 200);
      const [e] = await ws.events();
      assert.deepEqual(res.body, {
        success: true,
        event_id: eventIdOf(e!),
        event_ids: [eventIdOf(e!), null, null],
        results: [
          { index: 0, success: true, event_id: eventIdOf(e!) },
          { index: 1, success: false, error: 'events[1].event_type is required.', code: 'field_required' },
          { index: 2, success: false, error: 'events[2].timestamp must be an ISO 8601 time with a zone, such as 2024-01-15T14:30:45Z; got "soon".', code: 'timestamp_invalid' },
        ],
      });
    });

    it('answers 400 when every event of a batch is invalid', async () => {
      const ws = await workspace();
      const res = await ws.batch([{}, { event_type: '' }]);
      assert.equal(res.status, 400);
      assert.equal(res.body.success, false);
      assert.equal(res.body.error, 'events[0].event_type is required.');
      assert.deepEqual(res.body.results.map((r: Body) => [r.index, r.success, r.code]), [[0, false, 'field_required'], [1, false, 'field_invalid']]);
      assert.deepEqual(await ws.events(), []);
    });
  });

  describe('user_data', () => {
    it('stores only SHA-256 hashes of the normalised values', async () => {
      const ws = await workspace();
      await ws.track({
        event_type: 'purchase',
        user_data: {
          email: '  Customer@Example.COM ', phone: '+1 (234) 567-890', first_name: 'Mary', last_name: 'Smith',
          city: 'South San Francisco', state: 'CA', postal_code: '94035', country: 'US',
        },
      });
      const [e] = await ws.events();
      assert.deepEqual(e!.userData, {
        email: sha256('customer@example.com'), phone: sha256('1234567890'), firstName: sha256('mary'), lastName: sha256('smith'),
        city: sha256('southsanfrancisco'), state: sha256('ca'), postalCode: sha256('94035'), country: sha256('us'),
      });
    });

    it('keeps a value already hashed by the sender', async () => {
      const ws = await workspace();
      const hashed = sha256('customer@example.com');
      await ws.track({ event_type: 'purchase', user_data: { email: hashed } });
      assert.deepEqual((await ws.events())[0]!.userData, { email: hashed });
    });

    it('never writes a raw email or phone to disk, not even for a rejected event', async () => {
      const ws = await workspace();
      const email = 'leak.check.4711@example.org';
      const phone = '+44 7700 900471';
      await ws.track({ event_type: 'purchase', user_data: { email, phone }, properties: { note: email } });
      await ws.track({ event_type: 'purchase', timestamp: 'not a time', user_data: { email, phone } });
      await ws.batch([{ event_type: 'purchase', user_data: { email } }, { user_data: { email, phone } }]);
      // Every byte SQLite keeps for this service: the database file and its write-ahead log.
      const bytes = fs.readdirSync(t.dir).filter((f) => f.startsWith('closeloop.db'))
        .map((f) => fs.readFileSync(path.join(t.dir, f)).toString('latin1')).join('\n');
      assert.ok(bytes.length > 0);
      for (const raw of [email, '447700900471', '7700 900471', 'leak.check']) assert.equal(bytes.includes(raw), false, `${raw} reached disk`);
      assert.ok(bytes.includes(sha256(email)), 'the hash is stored');
    });
  });

  describe('properties.order_id idempotency', () => {
    it('answers a repeated purchase with the same event id and stores it once', async () => {
      const ws = await workspace();
      const body = purchase(t.clock.now());
      const first = await ws.track(body);
      t.clock.advance(60_000);
      const again = await ws.track(body);
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, first.body);
      assert.equal((await ws.events()).length, 1);
    });

    it('answers 409 naming the differing fields when an order_id comes back with other content', async () => {
      const ws = await workspace();
      const body = purchase(t.clock.now());
      await ws.track(body);
      const res = await ws.track({ ...body, properties: { order_id: 'ORD-12345', value: 89.99, currency: 'USD' } });
      assert.equal(res.status, 409);
      assert.deepEqual(res.body, {
        success: false,
        error: 'properties.order_id "ORD-12345" was already used for a different event; these fields differ: properties.value. Send a new properties.order_id for a new event.',
        code: 'idempotency_conflict',
        fields: ['properties.value'],
      });
      assert.equal((await ws.events()).length, 1);
    });

    it('dedupes purchase-like events by order_id inside one batch', async () => {
      const ws = await workspace();
      const event = { event_type: 'order_completed', properties: { order_id: 'ORD-9', value: 5 } };
      const res = await ws.batch([event, event]);
      assert.equal(res.status, 200);
      assert.equal(res.body.event_ids[0], res.body.event_ids[1]);
      assert.deepEqual(res.body.results[1], { index: 1, success: true, event_id: res.body.event_ids[0], duplicate: true });
      assert.equal((await ws.events()).length, 1);
    });

    it('does not key a refund on the order it refunds', async () => {
      const ws = await workspace();
      await ws.track({ event_type: 'purchase', properties: { order_id: 'ORD-7', value: 50 } });
      const refund = await ws.track({ event_type: 'refund', properties: { order_id: 'ORD-7', value: -50 } });
      assert.equal(refund.status, 200);
      const events = await ws.events();
      assert.deepEqual(events.map((e) => [e.name, e.idempotencyKey]), [['refund', null], ['purchase', 'ORD-7']]);
    });

    it('stores two non-purchase events with the same order_id separately', async () => {
      const ws = await workspace();
      await ws.track({ event_type: 'page_view', properties: { order_id: 'ORD-8' } });
      await ws.track({ event_type: 'page_view', properties: { order_id: 'ORD-8' } });
      assert.equal((await ws.events()).length, 2);
    });
  });
});
